// The real plugin's workload selectors under each property mode (Envoy generation) of the host.
// The differential suite compares legacy, both and xds with proxy-wasm-cpp-host; pre-1.30 exists
// only here (cpphost-run has no such mode).
import { test } from "node:test";
import assert from "node:assert/strict";
import { istioNode, PROPERTY_MODES } from "../../host";
import { policy, startHfi } from "../helpers/hfi";

const policies = [
  policy("frontend-only", { path: { prefix: "/" } }, { percentage: 100, abort: { httpStatus: 503 } }, { service: "frontend", namespace: "demo" }),
];
const node = istioNode({ workloadName: "frontend", namespace: "demo" });

for (const mode of PROPERTY_MODES) {
  test(`propertyMode ${mode}: a selector-scoped policy fires for its workload`, async () => {
    const hfi = await startHfi({ policies }, { node, propertyMode: mode });
    assert.equal(hfi.request("GET", "/x").localReply?.status, 503, hfi.logs("info").join("\n"));
    const source = mode === "xds" || mode === "both" ? "xds.node" : "node"; // xds first where it answers at configuration
    assert.ok(hfi.workerLogs("info").some((l) => l.includes(`(identity from ${source})`)), `the configure line names ${source}`);
  });
}
