// Runs a module pulled out of the image in the project's Proxy-Wasm host, as Envoy would load
// it from Istio: same root id, a policy that aborts everything, one request.
// (Imports the host's loader and plugin modules directly; switch to host/index.ts once it exists.)
import assert from "node:assert/strict";
import { load } from "../../../host/loader";
import { startPlugin } from "../../../host/plugin";
import { ROOT_ID } from "./project";

const ABORT_EVERYTHING = {
  policies: [
    {
      metadata: { name: "image-roundtrip-abort" },
      spec: { rules: [{ match: { path: { prefix: "/" } }, fault: { percentage: 100, abort: { httpStatus: 503 } } }] },
    },
  ],
};

export async function expectAbortPerPolicy(module: Uint8Array): Promise<void> {
  // Fail open, as k8s/base/wasmplugin.yaml does: a module that fails to load or dies passes the
  // request through instead of producing a 503 that would look like an injected abort.
  const vm = await load(module, { failStrategy: "open" });
  const plugin = startPlugin(vm, { rootId: ROOT_ID, name: ROOT_ID, configuration: ABORT_EVERYTHING });
  assert.ok(plugin.ok, `plugin rejected at ${plugin.result.stage}: ${plugin.result.failure ?? ""} ${JSON.stringify(plugin.result.logs)}`);
  const stream = plugin.newStream();
  stream.sendRequestHeaders({ ":method": "GET", ":path": "/", ":authority": "frontend.demo", ":scheme": "http" }, true);
  assert.equal(stream.localReply?.status, 503, `expected an injected 503, got ${JSON.stringify(stream.reply)}`);
  assert.equal(stream.upstream.headers, undefined, "the aborted request must not reach the upstream");
}
