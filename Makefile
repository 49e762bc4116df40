# HFI fault-injection plugin. `make run` and `make test` are the two commands users need.
SHELL := /bin/bash
ASC := node_modules/.bin/asc
PLUGIN_SRC := $(shell find assembly shims -name '*.ts' -not -path '*/__tests__/*') asconfig.json package-lock.json

.PHONY: all build deps test unit integration typecheck bench clean

all: build

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deps: node_modules/.package-lock.json

build: build/plugin.wasm build/plugin.debug.wasm build/bench/stock-sdk.wasm

# The compiler's output, optimized once more, its static data packed into one segment
# (docs/size.md).
build/plugin.wasm: node_modules/.package-lock.json $(PLUGIN_SRC) scripts/pack-data.ts
	$(ASC) --target release
	node --import tsx scripts/pack-data.ts --optimize-again build/plugin.unpacked.wasm $@

build/plugin.debug.wasm: node_modules/.package-lock.json $(PLUGIN_SRC)
	$(ASC) --target debug

# proxy-runtime's own exports, compiled through our --lib shims: the stock-SDK baseline.
build/bench/stock-sdk.wasm: node_modules/.package-lock.json bench/modules/stock-sdk.ts $(wildcard shims/*/*.ts)
	$(ASC) bench/modules/stock-sdk.ts --lib shims --runtime incremental -O3 \
	  --use abort=abort_proc_exit --exportStart _initialize -o $@

# Everything: a type check, unit tests (as-pect), the host's conformance tests, the plugin's
# integration tests on build/plugin.wasm, the local runner, the deployment checks and the hfi
# CLI. Every suite runs even when one fails; one line each, the failures again with file:line,
# and `N passed, M failed` last (scripts/test-report.ts; full output in build/test-logs/).
# A new suite is one more name here, or `TEST_SUITES += name` in its own mk/*.mk file.
TEST_SUITES := typecheck unit test-host integration test-differential test-runner test-deploy test-observability test-cli

test: build host-fixtures
	@node --import tsx scripts/test-report.ts $(TEST_SUITES)

typecheck: deps
	node_modules/.bin/tsc -p tsconfig.json
	@echo "typecheck: 0 errors"

# as-pect prints binaryen's bundled source on some errors: keep lines readable.
unit: deps
	@set -o pipefail; node_modules/.bin/asp --config as-pect.config.js --no-logo 2>&1 | awk 'length($$0) < 2000'

integration: build/plugin.wasm
	node --import tsx --test tests/integration/*.test.ts

clean:
	rm -rf build

# Rules owned by one area each (host fixtures, deployment, bench) live in mk/.
include $(wildcard mk/*.mk)
