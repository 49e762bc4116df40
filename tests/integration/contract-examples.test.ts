/**
 * The example policies of the policy contract, as users write them for hfi-cli (YAML), applied
 * unchanged to the real module: existing HFI policies must keep working.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseAllDocuments } from "yaml";
import { istioNode } from "../../host/index";
import { respond, startHfi } from "../helpers/hfi";

const CONTRACT_EXAMPLES = `
metadata: { name: frontend-delay }
spec:
  selector: { service: frontend, namespace: demo }
  rules:
    - match: { method: { exact: GET }, path: { prefix: / } }
      fault: { percentage: 50, delay: { fixed_delay_ms: 500 } }
---
metadata: { name: api-abort }
spec:
  rules:
    - match:
        path: { prefix: /api/ }
        headers: [ { name: x-user-id, regex: "^test-[0-9]+$" } ]
      fault: { percentage: 100, abort: { httpStatus: 503, body: "injected" } }
---
metadata: { name: late-failure }
spec:
  rules:
    - match: { path: { exact: /checkout } }
      fault: { percentage: 100, start_delay_ms: 200, abort: { httpStatus: 500 }, duration_seconds: 600 }
`;

const policies = parseAllDocuments(CONTRACT_EXAMPLES).map((d) => d.toJS());
const frontend = istioNode({ workloadName: "frontend", namespace: "demo", labels: { app: "frontend" } });

test("the contract's examples parse without a single error", async () => {
  const hfi = await startHfi({ policies }, { node: frontend });
  assert.deepEqual(hfi.logs("warn"), []);
  assert.equal(hfi.metric("hfi_faults_config_errors_total"), 0);
  assert.ok(hfi.logs("info").includes("hfi: configured: 3 policies, 3 rules apply to workload 'frontend' in namespace 'demo' (identity from node)"), hfi.logs().join("\n"));
});

test("frontend-delay: about half of the frontend's GETs are held 500 ms; POSTs and other services are not", async () => {
  const hfi = await startHfi({ policies }, { node: frontend });
  let held = 0;
  const n = 400;
  const streams = Array.from({ length: n }, (_, i) => hfi.request("GET", `/products/${i}`));
  for (const s of streams) if (s.upstream.headers === undefined) held++;
  assert.ok(held > n * 0.4 && held < n * 0.6, `${held} of ${n} held at 50 %`);
  hfi.clock.advance(499);
  assert.equal(streams.filter((s) => s.upstream.headers === undefined).length, held);
  hfi.clock.advance(1);
  assert.ok(streams.every((s) => s.upstream.headers !== undefined));
  const post = hfi.request("POST", "/products", [], "{}");
  assert.ok(post.upstream.headers, "POST is not matched by method exact GET");
  const backend = await startHfi({ policies }, { node: istioNode({ workloadName: "backend", namespace: "demo" }) });
  assert.ok(backend.request("GET", "/").upstream.headers, "the selector keeps the delay on frontend");
});

test("api-abort: test users on /api/ get 503 'injected'", async () => {
  const hfi = await startHfi({ policies }, { node: istioNode({ workloadName: "backend", namespace: "demo" }) });
  const s = hfi.request("GET", "/api/cart", [["x-user-id", "test-7"]]);
  assert.equal(s.localReply?.status, 503);
  assert.equal(s.localReply?.body, "injected");
  assert.equal(respond(hfi.request("GET", "/api/cart", [["x-user-id", "user-7"]])).reply.status, 200);
});

test("late-failure: /checkout waits 200 ms, then fails with 500, for 600 s", async () => {
  const hfi = await startHfi({ policies }, { node: istioNode({ workloadName: "backend", namespace: "demo" }) });
  const s = hfi.request("GET", "/checkout");
  const answered = () => s.localReply?.status;
  hfi.clock.advance(199);
  assert.equal(answered(), undefined);
  hfi.clock.advance(1);
  assert.equal(answered(), 500);
  hfi.clock.advance(600_000);
  assert.ok(hfi.request("GET", "/checkout").upstream.headers, "expired after 600 s");
});
