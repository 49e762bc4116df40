# Differential tests: the scenarios in tests/differential/scenarios/ run through this project's
# host and through proxy-wasm-cpp-host (../shared/tools/cpphost/bin/cpphost-run), compared on what
# both observe. Where the tool is absent (a fresh clone without ../shared) the suite skips and
# says why; HFI_CPPHOST_RUN points it at another copy.
.PHONY: test-differential
test-differential: build/plugin.wasm ## the scenarios through this host and proxy-wasm-cpp-host, compared
	node --import tsx --test tests/differential/*.test.ts
