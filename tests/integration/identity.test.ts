/**
 * The proxy's identity for policy selectors, on the real module: `xds.node.metadata.*` first
 * (the only form Envoy 1.33+ answers), `node.metadata.*` second (Envoy before 1.30 answered
 * only that during configuration); the configure log line says which answered.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { istioNode, targets, type PropertyValue } from "../../host/index";
import { policy, respond, startHfi, type HfiOptions } from "../helpers/hfi";

const POLICIES = {
  policies: [
    policy("frontend-only", { path: { prefix: "/f" } }, { percentage: 100, abort: { httpStatus: 503 } }, { service: "frontend", namespace: "demo" }),
    policy("by-label", { path: { prefix: "/l" } }, { percentage: 100, abort: { httpStatus: 502 } }, { service: "shop" }),
    policy("everyone", { path: { prefix: "/e" } }, { percentage: 100, abort: { httpStatus: 500 } }),
  ],
};

/** A request the workload receives (a sidecar's inbound listener). */
const status = (hfi: Awaited<ReturnType<typeof startHfi>>, path: string) => {
  const s = hfi.request("GET", path, [], undefined, { traffic: targets.sidecarInbound(8080) });
  if (s.localReply) return s.localReply.status;
  respond(s);
  return s.reply.status;
};

const frontendNode = istioNode({ workloadName: "frontend", namespace: "demo", labels: { app: "shop" } });
const xds = (metadata: { [key: string]: PropertyValue }): HfiOptions["properties"] => ({ xds: { node: { id: "sidecar~1", metadata } } });
const frontendXds = xds({ WORKLOAD_NAME: "frontend", NAMESPACE: "demo", LABELS: { app: "shop" } });

const cases: Array<[string, HfiOptions, string, string]> = [
  ["Envoy before 1.33: node.metadata only", { node: frontendNode }, "node", ""],
  ["Envoy 1.33 and later: xds.node.metadata only", { properties: frontendXds }, "xds.node", " on a sidecar"],
  ["Envoy 1.30-1.32: both", { node: frontendNode, properties: frontendXds }, "xds.node", " on a sidecar"],
];

for (const [what, options, source, kind] of cases) {
  test(`selectors apply with the identity from ${source} (${what})`, async () => {
    const hfi = await startHfi(POLICIES, options);
    assert.equal(status(hfi, "/f"), 503, "service + namespace selector");
    assert.equal(status(hfi, "/l"), 502, "service selector matched by the app label");
    assert.equal(status(hfi, "/e"), 500);
    const line = `hfi: configured: 3 policies, 3 rules apply to workload 'frontend' in namespace 'demo'${kind} (identity from ${source})`;
    assert.ok(hfi.logs("info").includes(line), hfi.logs("info").join("\n"));
  });
}

test("xds.node wins when both answer and disagree", async () => {
  const other = istioNode({ workloadName: "backend", namespace: "prod" });
  const hfi = await startHfi(POLICIES, { node: other, properties: frontendXds });
  assert.equal(status(hfi, "/f"), 503);
  assert.ok(hfi.logs("info").some((l) => l.includes("workload 'frontend' in namespace 'demo' on a sidecar (identity from xds.node)")));
});

test("the canonical-name label under xds.node answers a service selector", async () => {
  const hfi = await startHfi(POLICIES, { properties: xds({ LABELS: { "service.istio.io/canonical-name": "shop" } }) });
  assert.equal(status(hfi, "/l"), 502);
  assert.equal(status(hfi, "/f"), 200, "no workload name or namespace: the frontend policy does not apply");
});

test("outside Istio only wildcard policies apply, and the log says no source answered", async () => {
  const hfi = await startHfi(POLICIES);
  assert.equal(status(hfi, "/f"), 200);
  assert.equal(status(hfi, "/l"), 200);
  assert.equal(status(hfi, "/e"), 500);
  assert.ok(hfi.logs("info").includes("hfi: configured: 3 policies, 1 rules apply to workload '' in namespace '' (identity from none)"), hfi.logs("info").join("\n"));
});

test("the identity is read once per configuration", async () => {
  // direction: any, so that the listener's direction is not read per request either.
  const anyDirection = { policies: POLICIES.policies.map((p) => {
    const { metadata, spec } = p as { metadata: object; spec: object };
    return { metadata, spec: { ...spec, direction: "any" } };
  }) };
  const hfi = await startHfi(anyDirection, { properties: frontendXds });
  hfi.vm.resetHostCallCounts();
  for (let i = 0; i < 20; i++) status(hfi, "/f");
  assert.equal(hfi.vm.hostCallCounts().proxy_get_property ?? 0, 0, "no property lookups per request");
});

test("the proxy kind comes from the node id and says what a policy without direction means", async () => {
  for (const [kind, words, outbound] of [["sidecar", " on a sidecar", 200], ["gateway", " on a gateway", 500], ["waypoint", " on a waypoint", 500], ["envoy", "", 500]] as const) {
    const hfi = await startHfi(POLICIES, { node: targets.proxyNode(kind, { name: "frontend", namespace: "demo" }), propertyMode: "xds" });
    assert.ok(hfi.logs("info").some((l) => l.includes(`in namespace 'demo'${words} (identity from xds.node)`)), hfi.logs("info").join("\n"));
    const s = hfi.request("GET", "/e", [], undefined, { traffic: targets.sidecarOutbound({ name: "reviews", namespace: "demo", port: 9080 }) });
    if (!s.localReply) respond(s);
    assert.equal(s.localReply?.status ?? s.reply.status, outbound, `${kind}: a call through an outbound listener`);
  }
});
