# Host conformance fixtures: AssemblyScript modules in tests/fixtures/ compiled for the
# Proxy-Wasm host tests (tests/host/). The tests also compile a missing fixture on first use.
HOST_FIXTURES := $(patsubst tests/fixtures/%.ts,build/fixtures/%.wasm,$(wildcard tests/fixtures/*.ts))

build/fixtures/%.wasm: tests/fixtures/%.ts node_modules/.package-lock.json
	@mkdir -p $(dir $@)
	$(ASC) $< --runtime stub --use abort=fixture_abort -O1 -o $@

.PHONY: host-fixtures test-host
host-fixtures: $(HOST_FIXTURES)

# The host's own conformance tests (needs build/plugin.wasm for the smoke check).
test-host: build/plugin.wasm host-fixtures ## the host's conformance tests
	node --import tsx --test tests/host/*.test.ts
