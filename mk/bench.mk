# `make bench`: per-request cost against the floor module and the stock SDK, delay precision
# through the local runner, memory under 1,000,000 mixed requests, size and start-up time.
# Prints one table; writes build/bench/latest.json (untracked), or the committed record
# bench/results/latest.json with `make bench RECORD=1`. A few minutes on a 2-core machine.
.PHONY: bench

bench: build/plugin.wasm build/plugin.counted.wasm build/bench/stock-sdk.wasm build/bench/regex-engine.wasm ## cost, delay precision, memory, size, start-up (RECORD=1 to commit)
	RECORD='$(RECORD)' node --import tsx bench/main.ts

# The regex engine alone (compile + matchesBytes), for the regex case of `make bench`.
build/bench/regex-engine.wasm: node_modules/.package-lock.json bench/modules/regex-engine.ts $(wildcard assembly/regex/*.ts)
	$(ASC) bench/modules/regex-engine.ts --runtime minimal -O3 --shrinkLevel 1 \
	  --exportStart _initialize -o $@
