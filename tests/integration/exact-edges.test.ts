/**
 * Behaviour at its exact edges, on the real module: a header present with an empty value, the
 * guard at exactly its error rate and exactly min_requests, the schedule at exactly not_before
 * and not_after, dry run beside budgets and room limits, and every policy past
 * max_labelled_policies.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { policy, respond, startHfi, startHfiWorkers } from "../helpers/hfi";

const ABORT = { percentage: 100, abort: { httpStatus: 503 } };
const text = (v: Uint8Array | undefined) => (v === undefined ? undefined : Buffer.from(v).toString());

test("a header sent with an empty value is present: it satisfies present: true and not present: false", async () => {
  const hfi = await startHfi({ policies: [
    policy("has-flag", { path: { prefix: "/p" }, headers: [{ name: "x-flag", present: true }] }, ABORT),
    policy("no-flag", { path: { prefix: "/a" }, headers: [{ name: "x-flag", present: false }] }, { percentage: 100, abort: { httpStatus: 500 } }),
  ] });
  assert.equal(hfi.request("GET", "/p", [["x-flag", ""]]).localReply?.status, 503, "present: true holds for an empty value");
  assert.equal(respond(hfi.request("GET", "/a", [["x-flag", ""]])).reply.status, 200, "present: false does not hold for an empty value");
  assert.equal(hfi.request("GET", "/a").localReply?.status, 500, "present: false holds when the header is absent");
  assert.equal(respond(hfi.request("GET", "/p")).reply.status, 200);
});

test("the guard trips above max_error_rate, not at it, and decides from exactly min_requests", async () => {
  const guard = { max_error_rate: 0.5, min_requests: 4, window_seconds: 30, cooldown_seconds: 60 };
  const hfi = await startHfiWorkers({ policies: [{ metadata: { name: "g" }, spec: { guard, rules: [{ match: {}, fault: { percentage: 100, delay: { fixed_delay_ms: 1 } } }] } }] }, { workers: 2 });
  const send = (w: number, status: number) => {
    const s = hfi.request(w, "GET", "/");
    hfi.clock.advance(1);
    respond(s, status);
  };
  // 2 of 4 failed: exactly the rate, not above it.
  send(0, 503); send(1, 503); send(0, 200); send(1, 200);
  hfi.clock.advance(1000);
  assert.equal(hfi.metric("hfi_faults_guard_trips_total"), 0, "0.5 is not above max_error_rate 0.5");
  // One more failure: 3 of 5 = 0.6.
  send(0, 503);
  hfi.clock.advance(1000);
  assert.equal(hfi.metric("hfi_faults_guard_trips_total"), 1, "0.6 is above 0.5");

  const fresh = await startHfiWorkers({ policies: [{ metadata: { name: "g" }, spec: { guard, rules: [{ match: {}, fault: { percentage: 100, delay: { fixed_delay_ms: 1 } } }] } }] }, { workers: 1 });
  const one = (status: number) => {
    const s = fresh.request(0, "GET", "/");
    fresh.clock.advance(1);
    respond(s, status);
  };
  for (let i = 0; i < 3; i++) one(503);
  fresh.clock.advance(1000);
  assert.equal(fresh.metric("hfi_faults_guard_trips_total"), 0, "3 requests: below min_requests 4, no decision");
  one(503);
  fresh.clock.advance(1000);
  assert.equal(fresh.metric("hfi_faults_guard_trips_total"), 1, "at exactly min_requests the guard decides");
});

test("a schedule window includes not_before and excludes not_after, to the millisecond", async () => {
  const start = Date.UTC(2025, 0, 1);
  const iso = (ms: number) => new Date(ms).toISOString();
  const hfi = await startHfi({ policies: [{ metadata: { name: "w" }, spec: { schedule: { not_before: iso(start + 1000), not_after: iso(start + 2000) }, rules: [{ match: {}, fault: ABORT }] } }] });
  const status = () => hfi.request("GET", "/").localReply?.status ?? 200;
  hfi.clock.advance(999);
  assert.equal(status(), 200, "1 ms before not_before");
  hfi.clock.advance(1);
  assert.equal(status(), 503, "at not_before: open");
  hfi.clock.advance(999);
  assert.equal(status(), 503, "1 ms before not_after");
  hfi.clock.advance(1);
  assert.equal(status(), 200, "at not_after: closed");
});

test("dry run spends no budget, takes no room and never acts, yet counts and marks every kind it would have", async () => {
  const hfi = await startHfi({
    mode: "dry_run",
    max_active_faults: 0,
    max_fault_percentage: 0,
    policies: [
      policy("budgeted", { path: { prefix: "/b" } }, { percentage: 100, max_injections: 1, abort: { httpStatus: 503 } }),
      policy("slow", { path: { prefix: "/s" } }, { percentage: 100, delay: { fixed_delay_ms: 100 }, abort: { httpStatus: 500 } }),
      policy("drop", { path: { prefix: "/d" } }, { percentage: 100, reset: true }),
      policy("rewrite", { path: { prefix: "/r" } }, { percentage: 100, response: { httpStatus: 502 } }),
    ],
  });
  for (const p of ["/b", "/b", "/b", "/s", "/d", "/r"]) {
    const s = hfi.request("GET", p);
    assert.ok(s.upstream.headers, `${p} reaches the upstream`);
    assert.equal(respond(s).reply.status, 200, `${p} answered by the upstream`);
    assert.match(text(s.filterState.get("hfi_fault")) ?? "", /^dry_run:/);
  }
  const m = (name: string) => hfi.metric(name);
  const dry = (p: string, k: string) => m(`hfi_faults_policy_dry_run_total.hfi_policy.${p}.hfi_fault.${k}`);
  assert.equal(dry("budgeted", "abort"), 3, "a dry run spends no budget: all three would have");
  assert.equal(dry("slow", "delay"), 1);
  assert.equal(dry("slow", "abort"), 1);
  assert.equal(dry("drop", "reset"), 1);
  assert.equal(dry("rewrite", "response"), 1);
  for (const t of ["aborts", "delays", "resets", "response_faults", "overflow", "budget_skipped"]) assert.equal(m(`hfi_faults_${t}_total`), 0, t);
});

test("max_labelled_policies 0: every policy counts under _other, guard series included, and no state is published for it", async () => {
  const guard = { max_error_rate: 0.5, min_requests: 2, window_seconds: 30, cooldown_seconds: 60 };
  const hfi = await startHfi({
    max_labelled_policies: 0,
    policies: [
      policy("a", { path: { prefix: "/a" } }, ABORT),
      { metadata: { name: "g" }, spec: { guard, rules: [{ match: { path: { prefix: "/g" } }, fault: { percentage: 100, delay: { fixed_delay_ms: 1 } } }] } },
    ],
  });
  hfi.request("GET", "/a");
  for (let i = 0; i < 2; i++) {
    const s = hfi.request("GET", "/g");
    hfi.clock.advance(1);
    respond(s, 503);
  }
  hfi.clock.advance(1000);
  const other = (m: string, k?: string) => hfi.stats.value(`wasmcustom.hfi_faults_policy_${m}.hfi_policy._other${k ? `.hfi_fault.${k}` : ""}`);
  assert.equal(other("matched_total"), 3);
  assert.equal(other("injected_total", "abort"), 1);
  assert.equal(other("injected_total", "delay"), 2);
  assert.equal(other("guard_trips_total"), 1);
  assert.equal(other("halted"), 1, "one policy under _other is halted");
  assert.equal(other("state"), undefined, "policies sharing a label share no state");
  assert.equal(hfi.stats.value("wasmcustom.hfi_faults_policy_matched_total.hfi_policy.a"), undefined);
});
