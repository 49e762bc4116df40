# HFI fault-injection plugin. `make run` and `make test` are the two commands users need;
# `make help` lists the others.
SHELL := /bin/bash
ASC := node_modules/.bin/asc
PLUGIN_SRC := $(shell find assembly shims -name '*.ts' -not -path '*/__tests__/*') asconfig.json package-lock.json

.PHONY: all build deps test unit integration typecheck bench clean size help

all: build

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deps: node_modules/.package-lock.json

build: build/plugin.wasm build/plugin.debug.wasm build/bench/stock-sdk.wasm ## compile the plugin: build/plugin.wasm, its debug build, the stock-SDK baseline

# The compiler's output, optimized once more (scripts/optimize.ts, docs/size.md).
build/plugin.wasm: node_modules/.package-lock.json $(PLUGIN_SRC) scripts/optimize.ts
	$(ASC) --target release
	node --import tsx scripts/optimize.ts build/plugin.compiled.wasm $@

# What an operator pays for the module: its bytes, gzip'd as an image layer carries it.
size: build/plugin.wasm ## print build/plugin.wasm's size, raw and gzip'd, against the 64 KiB bound
	@raw=$$(wc -c < build/plugin.wasm); gz=$$(gzip -9c build/plugin.wasm | wc -c); \
	  echo "build/plugin.wasm: $$raw bytes, $$gz bytes gzip'd (bound: 65536 gzip'd, $$((65536 - gz)) left)"

# build/plugin.wasm with binaryen's execution counter: each function entry and loop iteration
# calls env.log_execution, which the project's host counts (host/work.ts). Tests bound what a
# request or a configuration costs by that count rather than by a clock; make bench times them.
build/plugin.counted.wasm: build/plugin.wasm
	node_modules/.bin/wasm-opt -all --log-execution $< -o $@

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

test: build build/plugin.counted.wasm host-fixtures ## every test suite, one line each, then N passed, M failed (logs in build/test-logs/)
	@node --import tsx scripts/test-report.ts $(TEST_SUITES)

typecheck: deps ## tsc over the whole project
	node_modules/.bin/tsc -p tsconfig.json
	@echo "typecheck: 0 errors"

# as-pect prints binaryen's bundled source on some errors: keep lines readable.
unit: deps ## the plugin's unit tests (as-pect)
	@set -o pipefail; node_modules/.bin/asp --config as-pect.config.js --no-logo 2>&1 | awk 'length($$0) < 2000'

integration: build/plugin.wasm build/plugin.counted.wasm ## the plugin's integration tests on build/plugin.wasm
	node --import tsx --test tests/integration/*.test.ts

clean: ## remove build/
	rm -rf build

# The user-facing targets, each from the `## ` comment on its own line (here and in mk/*.mk),
# so that the list cannot drift from the rules. Targets without one are steps of others.
help: ## this list
	@echo "Usage: make [TARGET] [SETTING=value ...]  (no TARGET: build; settings in the comments of Makefile and mk/*.mk)"
	@awk '/^[a-zA-Z0-9_-]+:[^=]*## / { name = $$0; sub(/:.*/, "", name); text = $$0; sub(/^[^#]*## /, "", text); \
	  printf "  %-20s %s\n", name, text }' $(MAKEFILE_LIST)

# Rules owned by one area each (host fixtures, deployment, bench) live in mk/.
include $(wildcard mk/*.mk)
