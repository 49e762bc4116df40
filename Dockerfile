# The "compat" Wasm image Istio pulls: FROM scratch, a single layer holding plugin.wasm.
# Build the module first (make build); `make image IMG=...` does both.
FROM scratch
COPY build/plugin.wasm /plugin.wasm
