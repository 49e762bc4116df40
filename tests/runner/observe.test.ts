/**
 * Observability through `make run`'s runner: the access log shows policy and fault (from the
 * plugin's filter state), the admin answers /policies per worker (JSON and a table), and
 * /stats/prometheus carries the per-policy labels from the bootstrap's stats_tags.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { request, runner, type TestRunner } from "./harness";

describe("observability through the runner", () => {
  let r: TestRunner;
  before(async () => {
    r = await runner({ accessLog: true, workers: 2 });
  });
  after(async () => {
    await r.close();
  });

  test("the access log prints policy and fault for a faulted request, neither for others", async () => {
    assert.equal((await request(r.proxyPort, "/checkout")).status, 503);
    assert.equal((await request(r.proxyPort, "/anything")).status, 200);
    const checkout = r.lines.find((l) => l.includes('"GET /checkout"'));
    assert.match(checkout ?? "", /"GET \/checkout" 503 policy=checkout-fails fault=abort \d+ ms$/);
    const other = r.lines.find((l) => l.includes('"GET /anything"'));
    assert.match(other ?? "", /"GET \/anything" 200 \d+ ms$/);
  });

  test("/policies: every worker's policies in force, where they came from, the selector decision, counts", async () => {
    await request(r.proxyPort, "/checkout"); // the other worker serves one too
    const reply = await request(r.adminPort, "/policies");
    assert.match(reply.headers["content-type"] ?? "", /^application\/json/);
    const view = JSON.parse(reply.body);
    assert.equal(view.workers.length, 2, reply.body);
    for (const w of view.workers) {
      assert.deepEqual(w.policies.map((p: { name: string }) => p.name), ["checkout-fails", "slow-catalog", "flaky-api", "reviews-degraded", "drop-connections"]);
      const checkout = w.policies[0];
      assert.equal(checkout.source, "configuration");
      assert.equal(checkout.state, "active");
      assert.equal(checkout.timeLeftSeconds, null);
      assert.equal(checkout.why, "no selector: applies to every workload");
      assert.equal(checkout.counts.injected.abort, 2);
      assert.equal(checkout.counts.matched, 2);
      const flaky = w.policies[2];
      assert.match(flaky.why, /selector service "frontend", namespace "demo" (matches|does not match) workload/);
      assert.equal(flaky.state, flaky.applies ? "active" : "not for this workload");
    }
    const text = await request(r.adminPort, "/policies?format=text");
    assert.match(text.body, /^worker slot \d: workload/m);
    assert.match(text.body, /^ {2}POLICY +SOURCE +STATE +TIME LEFT +MATCHED +INJECTED +DRY RUN +OVERFLOW +WHY$/m);
    assert.match(text.body, /^ {2}checkout-fails +configuration +active +- +2 +abort 2 +0 +0 +no selector/m);
    const byAccept = await request(r.adminPort, "/policies", { headers: { accept: "text/plain" } });
    assert.equal(byAccept.body, text.body);
  });

  test("/stats/prometheus shows the labelled per-policy series", async () => {
    const prom = (await request(r.adminPort, "/stats/prometheus")).body;
    assert.match(prom, /^hfi_faults_policy_injected_total\{hfi_policy="checkout-fails",hfi_fault="abort"\} 2$/m);
    assert.match(prom, /^hfi_faults_policy_percentage_max\{hfi_policy="slow-catalog"\} 100$/m);
  });
});
