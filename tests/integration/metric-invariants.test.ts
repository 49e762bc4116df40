/**
 * The metric invariants of docs/metrics.md ("Invariants"), on the real .wasm with several
 * worker VMs (and Envoy's configuration canary): delays, the delay histogram, aborts and the
 * per-policy series add up, whatever mix of faults, start delays, dry runs, overflows and
 * clients that leave early.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { policy, respond, startHfiWorkers } from "../helpers/hfi";

const HISTOGRAM = "wasmcustom.hfi_faults_delay_duration_milliseconds";

test("every delay is one count and one histogram sample; aborts and overflows add up per policy", async () => {
  const hfi = await startHfiWorkers({
    max_active_faults: 4,
    policies: [
      policy("slow", { path: { prefix: "/slow" } }, { percentage: 100, delay: { fixed_delay_ms: 100 } }),
      policy("late-abort", { path: { prefix: "/late" } }, { percentage: 100, start_delay_ms: 50, abort: { httpStatus: 500 } }),
      policy("slow-abort", { path: { prefix: "/both" } }, { percentage: 100, delay: { fixed_delay_ms: 30 }, abort: { httpStatus: 503 } }),
      policy("fails", { path: { prefix: "/fail" } }, { percentage: 100, abort: { httpStatus: 503 } }),
      policy("half", { path: { prefix: "/half" } }, { percentage: 50, abort: { httpStatus: 503 } }),
      { metadata: { name: "preview" }, spec: { mode: "dry_run", rules: [{ match: { path: { prefix: "/look" } }, fault: { percentage: 100, delay: { fixed_delay_ms: 10 }, abort: { httpStatus: 500 } } }] } },
    ],
  }, { workers: 3, logLevel: "info" });
  let w = 0;
  const send = (p: string) => hfi.request(w++ % 3, "GET", p);
  // Six holds at once against a limit of four: two overflow.
  const held = ["/slow", "/slow", "/late", "/both", "/slow", "/both"].map(send);
  const gone = held[0];
  gone.reset(); // the client leaves while its delay is held
  hfi.clock.advance(100);
  for (const s of held) if (!s.finished && s.upstream.headers) respond(s);
  for (let i = 0; i < 5; i++) send("/fail");
  for (let i = 0; i < 40; i++) {
    const s = send("/half");
    if (!s.localReply) respond(s);
  }
  for (let i = 0; i < 3; i++) respond(send("/look"));
  hfi.clock.advance(200);
  hfi.stats.flush();

  const v = (name: string) => hfi.metric(name);
  const per = (metric: string, p: string, kind?: string) => v(`hfi_faults_policy_${metric}.hfi_policy.${p}${kind ? `.hfi_fault.${kind}` : ""}`);
  const names = ["slow", "late-abort", "slow-abort", "fails", "half", "preview"];
  const sum = (f: (p: string) => number) => names.reduce((a, p) => a + f(p), 0);

  assert.equal(v("hfi_faults_overflow_total"), 2, "two holds beyond max_active_faults");
  assert.equal(sum((p) => per("overflow_total", p)), 2);
  const delays = v("hfi_faults_delays_total");
  assert.ok(delays >= 2, `delays_total ${delays}`);
  assert.equal(hfi.stats.histogram(HISTOGRAM).cumulative.count, delays, "one histogram sample per injected delay (the client that left included)");
  assert.equal(sum((p) => per("injected_total", p, "delay")), delays);
  assert.equal(per("injected_total", "late-abort", "delay"), 0, "a start delay alone is not a delay");
  assert.equal(v("hfi_faults_aborts_total"), sum((p) => per("injected_total", p, "abort")));
  assert.ok(per("injected_total", "half", "abort") > 0 && per("injected_total", "half", "abort") < 40);
  assert.equal(per("dry_run_total", "preview", "delay"), 3);
  assert.equal(per("dry_run_total", "preview", "abort"), 3);
  for (const p of names) {
    for (const kind of ["abort", "delay"]) {
      const parts = per("injected_total", p, kind) + per("dry_run_total", p, kind) + per("overflow_total", p);
      assert.ok(per("matched_total", p) >= parts, `${p}/${kind}: matched ${per("matched_total", p)} < ${parts}`);
    }
  }
  assert.equal(per("matched_total", "half"), 40);
  assert.equal(v("hfi_faults_active"), 0);
});
