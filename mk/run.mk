# `make run`: the plugin in the local runner (host/runner/), an HTTP proxy in front of an echo
# upstream, with Envoy-like admin endpoints. Settings pass through the environment:
#   make run PORT=10000 ADMIN_PORT=9901 CONFIG=envoy/envoy.yaml UPSTREAM=http://host:port \
#            POLICY_DIR=examples/policies WORKERS=2 LOG_LEVEL=info TARGET=envoy
# TARGET is the proxy the runner plays: envoy (plain Envoy, as CONFIG describes it; default),
# sidecar (requests the workload receives), sidecar-outbound (calls the workload makes, to the
# service its Host names: -H 'Host: reviews:9080'), waypoint or gateway (routed by Host the same way).
# CONFIG is an Envoy bootstrap (.yaml, the one docker-compose uses), a WasmPlugin (.yaml) or the
# plugin configuration itself (.json); it is re-applied when it changes.

.PHONY: run test-runner

# Empty means the runner's default (see host/runner/main.ts).
RUN_SETTINGS := PORT ADMIN_PORT CONFIG UPSTREAM POLICY_DIR CONTROL_PLANE_PORT WORKERS LOG_LEVEL BIND ACCESS_LOG TARGET

run: build/plugin.wasm ## the plugin in the local runner: a proxy on PORT, admin on ADMIN_PORT (settings: mk/run.mk)
	@$(foreach v,$(RUN_SETTINGS),$(v)='$($(v))') node --import tsx host/runner/main.ts

# The runner's own tests: real servers on free loopback ports.
test-runner: build/plugin.wasm ## the local runner's tests
	node --import tsx --test tests/runner/*.test.ts
