# The hfi CLI (cli/): `npx hfi --help`; its tests run it on build/plugin.wasm and the runner.
.PHONY: test-cli

test-cli: build/plugin.wasm ## the hfi CLI's tests
	node --import tsx --test tests/cli/*.test.ts
