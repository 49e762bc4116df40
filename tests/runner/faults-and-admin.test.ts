/**
 * The policies of envoy/envoy.yaml through `make run`'s proxy, and the admin endpoints a user
 * checks them with.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { request, runner, stat, type TestRunner } from "./harness";

describe("envoy/envoy.yaml policies through the runner", () => {
  let r: TestRunner;
  before(async () => {
    r = await runner();
  });
  after(async () => {
    await r.close();
  });

  test("/ready answers LIVE once the plugin is configured", async () => {
    const ready = await request(r.adminPort, "/ready");
    assert.equal(ready.status, 200);
    assert.equal(ready.body, "LIVE\n");
  });

  test("/checkout is aborted with 503, x-fault-injected: abort and the configured body", async () => {
    const reply = await request(r.proxyPort, "/checkout");
    assert.equal(reply.status, 503);
    assert.equal(reply.headers["x-fault-injected"], "abort");
    assert.equal(reply.headers["x-hfi-policy"], "checkout-fails");
    assert.equal(reply.body, "checkout is down (injected by HFI)");
  });

  test("after one abort, /stats and /stats/prometheus count it", async () => {
    // The suite's only abort so far is the one above.
    const text = (await request(r.adminPort, "/stats")).body;
    assert.match(text, /^wasmcustom\.hfi_faults_aborts_total: 1$/m);
    const prom = await request(r.adminPort, "/stats/prometheus");
    assert.match(prom.headers["content-type"] ?? "", /^text\/plain/);
    assert.match(prom.body, /^# TYPE hfi_faults_aborts_total counter\nhfi_faults_aborts_total\{\} 1$/m);
    assert.doesNotMatch(prom.body, /wasmcustom/);
    const filtered = (await request(r.adminPort, "/stats?filter=aborts")).body;
    assert.equal(filtered, "wasmcustom.hfi_faults_aborts_total: 1\n");
  });

  test("/catalog is held about 1.5 s, then answered by the upstream marked as delayed", async () => {
    const reply = await request(r.proxyPort, "/catalog");
    assert.ok(reply.ms >= 1500, `held ${reply.ms} ms`);
    assert.ok(reply.ms < 3000, `held ${reply.ms} ms`);
    assert.equal(reply.status, 200);
    assert.equal(reply.headers["x-fault-injected"], "delay");
    assert.equal(JSON.parse(reply.body).path, "/catalog");
    assert.equal(await stat(r.adminPort, "wasmcustom.hfi_faults_delays_total"), 1);
    assert.equal(await stat(r.adminPort, "wasmcustom.hfi_faults_active"), 0);
  });

  test("a POST to /catalog is not delayed (the rule matches GET only)", async () => {
    const reply = await request(r.proxyPort, "/catalog", { method: "POST", body: "x" });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers["x-fault-injected"], undefined);
    assert.ok(reply.ms < 1000);
  });

  test("/config shows the plugin configuration in force", async () => {
    const reply = await request(r.adminPort, "/config");
    assert.equal(reply.status, 200);
    assert.equal(reply.headers["x-hfi-root-id"], "hfi-fault-injection");
    const config = JSON.parse(reply.body);
    assert.deepEqual(config.policies.map((p: { metadata: { name: string } }) => p.metadata.name), ["checkout-fails", "slow-catalog", "flaky-api", "reviews-degraded", "drop-connections"]);
  });

  test("the banner names the curl lines for the policies", () => {
    const banner = r.banner();
    assert.match(banner, new RegExp(`curl -i localhost:${r.proxyPort}/checkout +# checkout-fails: abort 503`));
    assert.match(banner, new RegExp(`curl -i localhost:${r.proxyPort}/catalog +# slow-catalog: delay 1500 ms`));
    assert.match(banner, new RegExp(`localhost:${r.adminPort}/stats`));
    // Every kind is named as the plugin applies it: a response fault and a reset are faults.
    assert.match(banner, new RegExp(`/reviews +# reviews-degraded: .*on the response: .*status 503`));
    assert.match(banner, new RegExp(`/drop +# drop-connections: reset the stream`));
    assert.doesNotMatch(banner, /# [^\n]*: no fault/);
  });

  test("the plugin's configure log reaches the console", () => {
    assert.ok(r.lines.some((l) => /\[info\] \[hfi w0\] .*configured: 5 policies/.test(l)), r.lines.join("\n"));
    assert.ok(r.lines.some((l) => /\[hfi w1\]/.test(l)), "both workers log");
  });

  test("the configuration canary configures first, in the same log, as Envoy does", () => {
    const configured = r.lines.filter((l) => /configured: 5 policies/.test(l));
    assert.equal(configured.length, 3, `the canary and two workers:\n${configured.join("\n")}`);
    assert.match(configured[0], /\[hfi canary\]/, "the canary comes first");
  });
});
