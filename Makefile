# HFI fault-injection plugin. `make run` and `make test` are the two commands users need.
SHELL := /bin/bash
ASC := node_modules/.bin/asc
PLUGIN_SRC := $(shell find assembly shims -name '*.ts' -not -path '*/__tests__/*') asconfig.json package-lock.json

.PHONY: all build deps test unit integration typecheck run bench clean

all: build

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deps: node_modules/.package-lock.json

build: build/plugin.wasm build/plugin.debug.wasm build/bench/stock-sdk.wasm

build/plugin.wasm: node_modules/.package-lock.json $(PLUGIN_SRC)
	$(ASC) --target release

build/plugin.debug.wasm: node_modules/.package-lock.json $(PLUGIN_SRC)
	$(ASC) --target debug

# proxy-runtime's own exports, compiled through our --lib shims: the stock-SDK baseline.
build/bench/stock-sdk.wasm: node_modules/.package-lock.json bench/modules/stock-sdk.ts $(wildcard shims/*/*.ts)
	$(ASC) bench/modules/stock-sdk.ts --lib shims --runtime incremental -O3 \
	  --use abort=abort_proc_exit --exportStart _initialize -o $@

clean:
	rm -rf build

# Rules owned by one area each (host fixtures, deployment, bench) live in mk/.
include $(wildcard mk/*.mk)
