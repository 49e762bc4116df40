/**
 * Every fault is counted once, the same way everywhere: the total, the policy's series and the
 * access-log marks move together, whatever gate refused or which source (rule or
 * x-envoy-fault-* headers) planned the fault. Each test here reproduces a disagreement between
 * those numbers.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { policy, respond, startHfi, startHfiWorkers } from "../helpers/hfi";

const text = (v: Uint8Array | undefined) => (v === undefined ? undefined : Buffer.from(v).toString());
const per = (metric: string, p: string, kind?: string) => `hfi_faults_policy_${metric}.hfi_policy.${p}${kind ? `.hfi_fault.${kind}` : ""}`;

test("a response fault without a delay sets the access-log marks, and they agree with its counts", async () => {
  const hfi = await startHfi({ policies: [policy("rewrite", { path: { prefix: "/r" } }, { percentage: 100, response: { httpStatus: 503 } })] });
  const s = hfi.request("GET", "/r");
  assert.equal(respond(s).reply.status, 503);
  assert.equal(text(s.filterState.get("hfi_policy")), "rewrite");
  assert.equal(text(s.filterState.get("hfi_fault")), "response");
  assert.equal(hfi.metric("hfi_faults_response_faults_total"), 1);
  assert.equal(hfi.metric(per("injected_total", "rewrite", "response")), 1);
});

test("a fault refused by max_fault_percentage counts in the policy's overflow series as in the total", async () => {
  const hfi = await startHfi({ max_fault_percentage: 10, policies: [policy("all", { path: { prefix: "/" } }, { percentage: 100, abort: { httpStatus: 503 } })] });
  for (let i = 0; i < 30; i++) {
    const s = hfi.request("GET", "/x");
    if (!s.localReply) respond(s);
  }
  const overflow = hfi.metric("hfi_faults_overflow_total");
  assert.ok(overflow > 0, "the cap refused some");
  assert.equal(hfi.metric(per("overflow_total", "all")), overflow);
  assert.equal(hfi.metric("hfi_faults_aborts_total") + overflow, 30, "every matched, sampled request is either injected or overflow");
  assert.equal(hfi.metric(per("matched_total", "all")), 30);
});

test("the blast-radius cap is charged only for faults that happen: delays refused by max_active_faults take no share", async () => {
  const hfi = await startHfi({
    max_fault_percentage: 50,
    max_active_faults: 0,
    policies: [
      policy("slow", { path: { prefix: "/slow" } }, { percentage: 100, delay: { fixed_delay_ms: 100 } }),
      policy("fail", { path: { prefix: "/fail" } }, { percentage: 100, abort: { httpStatus: 503 } }),
    ],
  });
  // The cap's own arithmetic, over the requests seen so far and the faults really injected:
  // 10 requests no policy matches, 5 delays (refused: no room to hold), then 6 aborts.
  const order = [...Array(10).fill("/other"), ...Array(5).fill("/slow"), ...Array(6).fill("/fail")];
  let requests = 0;
  let faults = 0;
  for (const p of order) {
    const s = hfi.request("GET", p);
    requests++;
    if (p === "/fail" && (faults + 1) * 100 <= 50 * requests) faults++;
    if (!s.localReply) respond(s);
  }
  assert.equal(hfi.metric("hfi_faults_delays_total"), 0, "max_active_faults: 0 refuses every delay");
  assert.equal(faults, 6, "every abort fits under the cap when refused delays take no share");
  assert.equal(hfi.metric("hfi_faults_aborts_total"), faults, `the cap allows ${faults} aborts in ${requests} requests`);
  assert.equal(hfi.metric("hfi_faults_overflow_total"), 5, "the 5 delays overflow, no abort does");
  assert.equal(hfi.metric(per("overflow_total", "slow")) + hfi.metric(per("overflow_total", "fail")), hfi.metric("hfi_faults_overflow_total"));
});

test("guard series carry the policy's label, escaped like every other per-policy series", async () => {
  const name = "pay_rq_500";
  const hfi = await startHfiWorkers({
    policies: [{
      metadata: { name },
      spec: { guard: { max_error_rate: 0.5, min_requests: 10, window_seconds: 30, cooldown_seconds: 60 }, rules: [{ match: { path: { prefix: "/pay" } }, fault: { percentage: 100, delay: { fixed_delay_ms: 10 } } }] },
    }],
  }, { workers: 2 });
  for (let i = 0; i < 10; i++) {
    const s = hfi.request(i % 2, "GET", "/pay");
    hfi.clock.advance(10);
    respond(s, 503);
  }
  hfi.clock.advance(2000);
  assert.equal(hfi.metric("hfi_faults_guard_trips_total"), 1);
  const label = "pay_rq%5F500"; // Envoy's response-code extractor would cut a raw `_rq_500`
  assert.ok(hfi.stats.value(`wasmcustom.${per("matched_total", label)}`) !== undefined);
  assert.equal(hfi.metric(per("halted", label)), 1);
  assert.equal(hfi.metric(per("guard_trips_total", label)), 1);
  assert.equal(hfi.stats.value(`wasmcustom.${per("halted", name)}`), undefined, "no series under the raw name");
});

test("a delay asked for by x-envoy-fault-delay-request is marked and counted as a delay", async () => {
  const hfi = await startHfi({ policies: [policy("hdr", { path: { prefix: "/h" } }, { percentage: 100, from_headers: true })] });
  const s = hfi.request("GET", "/h", [["x-envoy-fault-delay-request", "50"]]);
  assert.equal(s.upstream.headers, undefined, "held");
  hfi.clock.advance(50);
  respond(s);
  assert.equal(text(s.filterState.get("hfi_fault")), "delay");
  assert.equal(hfi.metric("hfi_faults_delays_total"), 1);
  assert.equal(hfi.metric(per("injected_total", "hdr", "delay")), 1);
  assert.equal(hfi.metric(per("injected_total", "hdr", "abort")), 0);
  const a = hfi.request("GET", "/h", [["x-envoy-fault-abort-request", "503"]]);
  assert.equal(a.localReply?.status, 503);
  assert.equal(text(a.filterState.get("hfi_fault")), "abort");
  assert.equal(hfi.metric(per("injected_total", "hdr", "abort")), 1);
  assert.equal(hfi.metric("hfi_faults_aborts_total"), 1);
});
