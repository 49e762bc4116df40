# The plugin's import layers (.dependency-cruiser.cjs): part of make test.
.PHONY: test-layers
TEST_SUITES += test-layers

test-layers: deps ## check that assembly/ imports only downward and has no import circle
	node --import tsx --test tests/layers/*.test.ts
