// The real plugin on several workers with Envoy's configuration canary (tests/helpers/hfi.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { policy, startHfiWorkers } from "../helpers/hfi";

const abort = (path: string) => policy("abort-" + path.slice(1), { path: { prefix: path } }, { percentage: 100, abort: { httpStatus: 503 } });

test("the canary configures first, then each worker, all in one log; requests on every worker see the configuration", async () => {
  const hfi = await startHfiWorkers({ policies: [abort("/a")] }, { workers: 3 });
  assert.ok(hfi.workers.every((w) => w.ok));
  const configured = hfi.log.entries.filter((e) => /configured:/.test(e.message)).map((e) => e.vm);
  assert.deepEqual(configured, ["canary", "worker0", "worker1", "worker2"]);
  assert.equal(hfi.canary.runs, 1, "one canary for three workers");
  for (let w = 0; w < 3; w++) assert.equal(hfi.request(w, "GET", "/a/x").localReply?.status, 503, `worker ${w}`);
  assert.equal(hfi.metric("hfi_faults_aborts_total"), 3, "counters add up across workers");
});

test("a configuration the canary refuses reaches no worker; an accepted one reaches all, canaried once", async () => {
  const hfi = await startHfiWorkers({ policies: [abort("/a")] }, { workers: 2 });
  const refused = hfi.reconfigure("{ not json");
  assert.equal(refused.ok, false);
  assert.equal(refused.canary, true, "refused by the canary");
  assert.deepEqual(hfi.logs("trace", "worker0").filter((l) => /not valid JSON/.test(l)), [], "worker 0 never saw it");
  assert.equal(hfi.request(1, "GET", "/a").localReply?.status, 503, "the old configuration stays in force");
  assert.ok(hfi.reconfigure({ policies: [abort("/b")] }).ok);
  assert.equal(hfi.canary.runs, 3);
  assert.equal(hfi.request(0, "GET", "/b").localReply?.status, 503);
  assert.equal(hfi.request(1, "GET", "/b").localReply?.status, 503);
});
