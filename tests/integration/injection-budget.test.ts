/**
 * max_injections on the real module: one count per proxy in shared data,
 * taken by compare-and-swap, across worker VMs (startHfiWorkers: N workers and the canary share
 * shared data, stats, log and clock, as in Envoy).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ClusterReply } from "../../host/index";
import { policy, startHfi, startHfiWorkers } from "../helpers/hfi";

const budgeted = (max: number, extra: object = {}) =>
  policy("first-n", { path: { prefix: "/api" } }, { percentage: 100, abort: { httpStatus: 503 }, max_injections: max, ...extra });

test("a rule with max_injections 100 aborts exactly 100 requests across 4 workers, then lets every request through", async () => {
  const hfi = await startHfiWorkers({ policies: [budgeted(100)] }, { workers: 4 });
  let aborted = 0;
  for (let i = 0; i < 1000; i++) {
    const s = hfi.request(i % 4, "GET", "/api/orders");
    if (s.localReply) aborted++;
    else assert.ok(s.upstream.headers, "a request past the budget reaches the upstream");
  }
  assert.equal(aborted, 100);
  assert.equal(hfi.metric("hfi_faults_aborts_total"), 100);
  assert.equal(hfi.metric("hfi_faults_budget_skipped_total"), 900, "sampled but left alone because the budget is spent");
  assert.equal(hfi.metric("hfi_faults_overflow_total"), 0, "a spent budget is not overflow");
  assert.equal(hfi.metric("hfi_faults_budget_exhausted_total"), 1, "one budget ran out, counted once for the proxy");
  const lines = hfi.logs("warn").filter((l) => l.includes("max_injections"));
  assert.deepEqual(lines, ['hfi: policy first-n rule 0: max_injections 100 reached; no more faults until the policy changes'], "logged once per proxy");
});

test("held requests count too: 3 workers, a delay with max_injections 10, requests interleaved while others are held", async () => {
  const hfi = await startHfiWorkers({
    policies: [policy("slow-n", {}, { percentage: 100, delay: { fixed_delay_ms: 1000 }, max_injections: 10 })],
  }, { workers: 3 });
  const streams = Array.from({ length: 60 }, (_, i) => hfi.request(i % 3, "GET", "/"));
  const held = streams.filter((s) => s.upstream.headers === undefined);
  assert.equal(held.length, 10, "exactly 10 held");
  assert.equal(hfi.metric("hfi_faults_active"), 10);
  hfi.clock.advance(1000);
  assert.ok(streams.every((s) => s.upstream.headers), "all reach the upstream");
  assert.equal(hfi.metric("hfi_faults_delays_total"), 10);
});

test("the count survives a reconfiguration that keeps the policy and starts over for a changed policy", async () => {
  const hfi = await startHfiWorkers({ policies: [budgeted(10)] }, { workers: 2 });
  const abortedOf = (n: number) => Array.from({ length: n }, (_, i) => hfi.request(i % 2, "GET", "/api/x")).filter((s) => s.localReply).length;
  assert.equal(abortedOf(6), 6);
  // Same policy (plus another one): same identity, same budget: 4 left.
  const r = hfi.reconfigure({ policies: [budgeted(10), policy("other", { path: { prefix: "/other" } }, { percentage: 100, abort: { httpStatus: 500 } })] });
  assert.ok(r.ok);
  assert.equal(abortedOf(20), 4);
  assert.equal(hfi.metric("hfi_faults_budget_exhausted_total"), 1);
  // A changed policy (another status) is a new experiment: a fresh budget of 10.
  assert.ok(hfi.reconfigure({ policies: [budgeted(10, { abort: { httpStatus: 500 } })] }).ok);
  assert.equal(abortedOf(30), 10);
  assert.equal(hfi.metric("hfi_faults_budget_exhausted_total"), 2);
  assert.equal(hfi.logs("warn").filter((l) => l.includes("max_injections 10 reached")).length, 2, "each exhausted budget logged once");
});

test("a request that overflows max_active_faults does not spend the budget", async () => {
  const hfi = await startHfiWorkers({
    max_active_faults: 2,
    policies: [policy("slow-n", {}, { percentage: 100, delay: { fixed_delay_ms: 100 }, max_injections: 3 })],
  }, { workers: 2 });
  const first = Array.from({ length: 5 }, (_, i) => hfi.request(i % 2, "GET", "/"));
  assert.equal(first.filter((s) => s.upstream.headers === undefined).length, 2, "2 held, 3 overflow");
  assert.equal(hfi.metric("hfi_faults_overflow_total"), 3);
  hfi.clock.advance(100);
  const second = Array.from({ length: 4 }, (_, i) => hfi.request(i % 2, "GET", "/"));
  assert.equal(second.filter((s) => s.upstream.headers === undefined).length, 1, "the third and last injection");
  assert.equal(hfi.metric("hfi_faults_budget_skipped_total"), 3, "the other 3 of the second batch");
});

test("control-plane re-polls of an unchanged policy keep the count; a changed policy from the control plane starts over", async () => {
  const CLUSTER = "outbound|8080||hfi-control-plane.boifi.svc.cluster.local";
  let served: object[] = [budgeted(3)];
  const reply = (): ClusterReply => ({ status: 200, headers: [["content-type", "application/json"]], body: JSON.stringify({ policies: served }) });
  const hfi = await startHfi({ control_plane: { cluster: CLUSTER, authority: "cp:8080", poll_interval_ms: 1000 } }, { clusters: { [CLUSTER]: reply } });
  const aborted = (n: number) => Array.from({ length: n }, () => hfi.request("GET", "/api/x")).filter((s) => s.localReply).length;
  hfi.clock.advance(1000);
  assert.equal(hfi.metric("hfi_faults_policy_updates_total"), 1);
  assert.equal(aborted(2), 2);
  hfi.clock.advance(5000); // several re-polls of the same answer
  assert.equal(aborted(5), 1, "one injection was left");
  served = [budgeted(3, { abort: { httpStatus: 502 } })];
  hfi.clock.advance(1000);
  assert.equal(aborted(5), 3, "a changed policy is a fresh budget");
});
