/**
 * The contract of build/plugin.wasm with Envoy: only imports Envoy registers for its ABI
 * version, its own malloc, the ABI marker, and a root context for whatever root id it gets.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { readPolicyDir } from "../../host/runner/policy-files";
import { PLUGIN_WASM, respond, startHfi } from "../helpers/hfi";

// What Envoy registers for ABI 0.2.0 (envoy-host.md): the common env functions plus
// proxy_continue_stream / proxy_close_stream, and the WASI functions.
const ENVOY_ENV_0_2_0 = new Set([
  "proxy_log", "proxy_get_status", "proxy_set_property", "proxy_get_property", "proxy_send_local_response",
  "proxy_get_shared_data", "proxy_set_shared_data", "proxy_register_shared_queue", "proxy_resolve_shared_queue",
  "proxy_dequeue_shared_queue", "proxy_enqueue_shared_queue", "proxy_get_header_map_value",
  "proxy_add_header_map_value", "proxy_replace_header_map_value", "proxy_remove_header_map_value",
  "proxy_get_header_map_pairs", "proxy_set_header_map_pairs", "proxy_get_header_map_size", "proxy_get_buffer_status",
  "proxy_get_buffer_bytes", "proxy_set_buffer_bytes", "proxy_http_call", "proxy_grpc_call", "proxy_grpc_stream",
  "proxy_grpc_close", "proxy_grpc_cancel", "proxy_grpc_send", "proxy_set_tick_period_milliseconds",
  "proxy_get_current_time_nanoseconds", "proxy_define_metric", "proxy_increment_metric", "proxy_record_metric",
  "proxy_get_metric", "proxy_set_effective_context", "proxy_done", "proxy_call_foreign_function",
  "pthread_equal", "emscripten_notify_memory_growth", "proxy_continue_stream", "proxy_close_stream",
]);
const WASI = new Set([
  "fd_write", "fd_read", "fd_seek", "fd_close", "fd_fdstat_get", "environ_get", "environ_sizes_get", "args_get",
  "args_sizes_get", "clock_time_get", "clock_res_get", "random_get", "sched_yield", "poll_oneoff", "proc_exit",
]);

const REPO = path.resolve(__dirname, "..", "..");
const module = new WebAssembly.Module(readFileSync(PLUGIN_WASM));

test("build/plugin.wasm imports only what Envoy registers for ABI 0.2.0", () => {
  const imports = WebAssembly.Module.imports(module);
  assert.ok(imports.length > 0);
  for (const imp of imports) {
    const known = imp.module === "env" ? ENVOY_ENV_0_2_0.has(imp.name)
      : (imp.module === "wasi_snapshot_preview1" || imp.module === "wasi_unstable") && WASI.has(imp.name);
    assert.ok(known, `import ${imp.module}.${imp.name} is not registered by Envoy for ABI 0.2.0`);
  }
  const names = imports.map((i) => `${i.module}.${i.name}`);
  for (const forbidden of ["env.abort", "env.seed", "env.trace", "env.proxy_clear_route_cache", "env.proxy_continue_request"]) {
    assert.ok(!names.includes(forbidden), `${forbidden} must not be imported`);
  }
});

test("build/plugin.wasm exports malloc, the ABI 0.2.0 marker and the stream callbacks", () => {
  const exports = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  for (const name of ["malloc", "memory", "proxy_abi_version_0_2_0", "proxy_on_context_create", "proxy_on_vm_start",
    "proxy_on_configure", "proxy_on_tick", "proxy_on_request_headers", "proxy_on_request_body",
    "proxy_on_response_headers", "proxy_on_http_call_response", "proxy_on_done", "proxy_on_log", "proxy_on_delete", "_initialize"]) {
    assert.ok(exports.has(name), `missing export ${name}`);
  }
  const markers = [...exports].filter((n) => n.startsWith("proxy_abi_version_"));
  assert.deepEqual(markers, ["proxy_abi_version_0_2_0"]);
});

const ABORT_ALL = { policies: [{ metadata: { name: "all" }, spec: { rules: [{ match: {}, fault: { percentage: 100, abort: { httpStatus: 503 } } }] } }] };

for (const rootId of ["", "hfi-fault-injection", "some-other-plugin-name"]) {
  test(`works under root id ${JSON.stringify(rootId)} (Istio's is empty unless pluginName is set)`, async () => {
    const hfi = await startHfi(ABORT_ALL, { rootId });
    const s = hfi.request("GET", "/");
    assert.equal(s.localReply?.status, 503);
    assert.equal(hfi.vm.failed, false);
  });
}

test("with no policies every request passes untouched and the VM stays healthy", async () => {
  const hfi = await startHfi({ policies: [] });
  for (let i = 0; i < 100; i++) {
    const s = respond(hfi.request("POST", `/items/${i}`, [["x-any", "1"]], "payload"));
    assert.ok(s.localReply === undefined);
    assert.equal(s.upstream.body.toString(), "payload");
    assert.equal(s.reply.status, 200);
  }
  assert.equal(hfi.vm.failed, false);
  assert.deepEqual(hfi.logs("warn"), []);
});

test("build/plugin.wasm is at most 64 KiB gzip'd (65,536 bytes): what an image layer transfers to every node", () => {
  const gzipped = gzipSync(readFileSync(PLUGIN_WASM), { level: 9 }).byteLength;
  assert.ok(gzipped <= 65_536, `build/plugin.wasm is ${gzipped} bytes gzip'd; the bound is 65,536 (docs/size.md says where the bytes go)`);
});

test("a VM configured with examples/policies, every selector applying, stays within 1 MiB of linear memory", async () => {
  const set = readPolicyDir(path.join(REPO, "examples", "policies"));
  assert.deepEqual(set.problems, []);
  assert.ok(set.policies.length >= 5, `examples/policies has ${set.policies.length} policies`);
  // Node metadata that makes every selector in the examples apply (the memory a real workload pays).
  const selectors = set.policies.map((p) => ((p.spec as { selector?: { service?: string; namespace?: string } }).selector ?? {}));
  const service = selectors.find((s) => s.service && s.service !== "*")?.service ?? "frontend";
  const namespace = selectors.find((s) => s.namespace && s.namespace !== "*")?.namespace ?? "default";
  for (const s of selectors) {
    assert.ok(!s.service || s.service === "*" || s.service === service, `selector service ${s.service}: pick metadata that makes it apply`);
    assert.ok(!s.namespace || s.namespace === "*" || s.namespace === namespace, `selector namespace ${s.namespace}`);
  }
  const hfi = await startHfi({ policies: set.policies }, { node: { metadata: { WORKLOAD_NAME: service, NAMESPACE: namespace } }, logLevel: "info" });
  for (let i = 0; i < 50; i++) {
    const s = hfi.request("GET", "/checkout");
    if (!s.finished && !s.localReply) respond(s);
  }
  const bytes = hfi.vm.module.memory.buffer.byteLength;
  assert.ok(bytes <= 1 << 20, `linear memory after configuring examples/policies: ${bytes} bytes; the bound is 1 MiB`);
});
