/**
 * Every capability at once, on the real .wasm with two worker VMs and Envoy's canary: a guard
 * that trips, a schedule window, a spent budget, a reset, a response fault, a dry run, delays,
 * aborts and overflow by max_active_faults and max_fault_percentage. Whatever happens, one
 * account: the totals equal the sums of the per-policy series, which equal the access-log marks
 * of the requests, which equal what /policies shows, which equals what hfi status shows; and the
 * state of each policy is the same in /policies, hfi status and the plugin's gauges.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { StatsStore, type HttpStream } from "../../host/index";
import { effectivePolicies } from "../../host/runner/effective-policies";
import { FAULT_KINDS } from "../../host/plugin-vocabulary";
import { parsePrometheus, snapshot } from "../../cli/status";
import { respond, startHfiWorkers } from "../helpers/hfi";

const ENVOY_YAML = path.resolve(__dirname, "..", "..", "envoy", "envoy.yaml");
const taggedStats = (): StatsStore => new StatsStore({ tags: parse(readFileSync(ENVOY_YAML, "utf8")).stats_config });

const rule = (prefix: string, fault: object) => ({ match: { path: { prefix } }, fault });
const policy = (name: string, spec: object) => ({ metadata: { name }, spec });
const HOUR = 3_600_000;

test("one account: totals = per-policy series = access-log marks = /policies = hfi status, with every capability at once", async () => {
  const stats = taggedStats();
  const start = Date.UTC(2026, 5, 1, 12);
  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");
  const hfi = await startHfiWorkers({
    max_active_faults: 2,
    max_fault_percentage: 60,
    policies: [
      policy("guarded", { guard: { max_error_rate: 0.5, min_requests: 4, window_seconds: 30, cooldown_seconds: 120 }, rules: [rule("/g", { percentage: 100, delay: { fixed_delay_ms: 10 } })] }),
      policy("later", { schedule: { not_before: iso(start + HOUR) }, rules: [rule("/later", { percentage: 100, abort: { httpStatus: 503 } })] }),
      policy("budgeted", { rules: [rule("/b", { percentage: 100, max_injections: 3, abort: { httpStatus: 500 } })] }),
      policy("dropper", { rules: [rule("/d", { percentage: 100, reset: true })] }),
      policy("rewriter", { rules: [rule("/r", { percentage: 100, response: { httpStatus: 502, body: "x" } })] }),
      policy("slow-then-fail", { rules: [rule("/sf", { percentage: 100, delay: { fixed_delay_ms: 50 }, abort: { httpStatus: 504 } })] }),
      policy("preview", { mode: "dry_run", rules: [rule("/preview", { percentage: 100, delay: { fixed_delay_ms: 5 }, abort: { httpStatus: 503 } })] }),
      policy("header-driven", { rules: [rule("/h", { percentage: 100, from_headers: true })] }),
    ],
  }, { workers: 2, stats, logLevel: "info", clock: undefined });
  hfi.clock.stepWall(start - hfi.clock.now());
  const streams: HttpStream[] = [];
  let w = 0;
  const send = (p: string, headers: Array<[string, string]> = []) => {
    const s = hfi.request(w++ % 2, "GET", p, headers);
    streams.push(s);
    return s;
  };
  const settle = (s: HttpStream, status = 200) => {
    if (!s.finished && !s.localReply && s.state === "open" && s.upstream.headers) respond(s, status);
  };
  // Plain traffic, so the 60 % cap has room for the faults below.
  for (let i = 0; i < 60; i++) settle(send(`/other/${i}`));
  // The guard: 4 matched requests whose upstream fails trip it; then it is halted.
  for (let i = 0; i < 4; i++) {
    const s = send("/g");
    hfi.clock.advance(10);
    settle(s, 503);
  }
  hfi.clock.advance(1000);
  hfi.clock.advance(1000);
  for (let i = 0; i < 2; i++) settle(send("/g"));
  // The window: not yet started, nothing injected.
  for (let i = 0; i < 3; i++) settle(send("/later"));
  // The budget: 3 injections, then spent.
  for (let i = 0; i < 5; i++) settle(send("/b"));
  // Resets, response faults, a delay then an abort (one client leaves during it), a dry run.
  for (let i = 0; i < 2; i++) settle(send("/d"));
  for (let i = 0; i < 2; i++) settle(send("/r"));
  const held = [send("/sf"), send("/sf"), send("/sf")]; // max_active_faults 2: the third overflows
  held[0].reset();
  hfi.clock.advance(50);
  for (const s of held) settle(s);
  for (let i = 0; i < 2; i++) settle(send("/preview"));
  // Header-controlled: a delay, an abort.
  const hd = send("/h", [["x-envoy-fault-delay-request", "20"]]);
  hfi.clock.advance(20);
  settle(hd);
  settle(send("/h", [["x-envoy-fault-abort-request", "429"]]));
  hfi.clock.advance(1000); // a tick: every worker publishes what changed
  stats.flush();

  // 1. The access-log marks of every request, by policy and kind.
  const text = (v: Uint8Array | undefined) => (v === undefined ? undefined : Buffer.from(v).toString());
  const marked = new Map<string, Record<string, number>>();
  for (const s of streams) {
    const p = text(s.filterState.get("hfi_policy"));
    const f = text(s.filterState.get("hfi_fault"));
    if (p === undefined || f === undefined) continue;
    const dry = f.startsWith("dry_run:");
    const row = marked.get(p) ?? {};
    for (const k of (dry ? f.slice(8) : f).split(",")) row[`${dry ? "dry_run" : "injected"}:${k}`] = (row[`${dry ? "dry_run" : "injected"}:${k}`] ?? 0) + 1;
    marked.set(p, row);
  }
  // 2. The per-policy series and the totals.
  const metric = (name: string) => hfi.metric(name);
  const series = (m: string, p: string, k?: string) => metric(`hfi_faults_policy_${m}.hfi_policy.${p}${k ? `.hfi_fault.${k}` : ""}`);
  const names = ["guarded", "later", "budgeted", "dropper", "rewriter", "slow-then-fail", "preview", "header-driven"];
  const TOTAL: Record<string, string> = { delay: "hfi_faults_delays_total", abort: "hfi_faults_aborts_total", reset: "hfi_faults_resets_total", response: "hfi_faults_response_faults_total" };
  for (const k of FAULT_KINDS) {
    const sum = names.reduce((a, p) => a + series("injected_total", p, k), 0);
    assert.equal(metric(TOTAL[k]), sum, `${k}: total ${metric(TOTAL[k])}, per-policy ${sum}`);
    const marks = [...marked.values()].reduce((a, r) => a + (r[`injected:${k}`] ?? 0), 0);
    assert.equal(marks, sum, `${k}: marks ${marks}, per-policy ${sum}`);
    for (const p of names) {
      assert.equal(marked.get(p)?.[`injected:${k}`] ?? 0, series("injected_total", p, k), `${p} ${k}: marks vs series`);
      assert.equal(marked.get(p)?.[`dry_run:${k}`] ?? 0, series("dry_run_total", p, k), `${p} ${k}: dry-run marks vs series`);
    }
  }
  assert.equal(metric("hfi_faults_overflow_total"), names.reduce((a, p) => a + series("overflow_total", p), 0));
  // What happened, so that the sums above are not sums of zeros.
  assert.equal(series("injected_total", "guarded", "delay"), 4, "the guard's four requests before it tripped");
  assert.equal(series("injected_total", "later", "abort"), 0);
  assert.equal(series("injected_total", "budgeted", "abort"), 3);
  assert.equal(metric("hfi_faults_budget_skipped_total"), 2);
  assert.equal(series("injected_total", "dropper", "reset"), 2);
  assert.equal(series("injected_total", "rewriter", "response"), 2);
  assert.equal(series("injected_total", "slow-then-fail", "delay"), 2);
  assert.equal(series("injected_total", "slow-then-fail", "abort"), 1, "the client that left got no abort");
  assert.ok(series("overflow_total", "slow-then-fail") >= 1);
  assert.equal(series("dry_run_total", "preview", "delay"), 2);
  assert.equal(series("injected_total", "header-driven", "delay"), 1);
  assert.equal(series("injected_total", "header-driven", "abort"), 1);
  assert.equal(metric("hfi_faults_guard_trips_total"), 1);

  // 3. /policies (every worker) and hfi status show the same counts and the same state.
  const now = hfi.clock.now();
  const view = effectivePolicies(hfi.workers[0].vm, stats, now);
  assert.equal(view.workers.length, 2, JSON.stringify(view.workers.map((x) => x.slot)));
  const status = snapshot(parsePrometheus(stats.renderPrometheus()), undefined, now);
  const expectedState: Record<string, string> = {
    guarded: "halted", later: "not yet started", budgeted: "budget exhausted", dropper: "active", rewriter: "active",
    "slow-then-fail": "active", preview: "dry run", "header-driven": "active",
  };
  for (const worker of view.workers) {
    for (const p of worker.policies) {
      assert.equal(p.state, expectedState[p.name], `/policies worker ${worker.slot}: ${p.name}`);
      assert.equal(p.counts.matched, series("matched_total", p.name));
      assert.equal(p.counts.overflow, series("overflow_total", p.name));
      for (const k of FAULT_KINDS) {
        assert.equal(p.counts.injected[k], series("injected_total", p.name, k), `/policies ${p.name} ${k}`);
        assert.equal(p.counts.dryRun[k], series("dry_run_total", p.name, k));
      }
    }
  }
  for (const row of status.policies) {
    const p = view.workers[0].policies.find((x) => x.name === row.policy);
    assert.ok(p, `hfi status shows ${row.policy}`);
    assert.equal(row.state, p.state, `hfi status vs /policies: ${row.policy}`);
    assert.equal(row.matched, p.counts.matched);
    assert.equal(row.overflow, p.counts.overflow);
    assert.equal(row.dryRun, Object.values(p.counts.dryRun).reduce((a, b) => a + b, 0));
    for (const k of FAULT_KINDS) assert.equal(row.byFault[k] ?? 0, p.counts.injected[k], `hfi status ${row.policy} ${k}`);
    if (p.timeLeftSeconds === null) assert.equal(row.timeLeftSeconds, null, row.policy);
    else assert.ok(Math.abs((row.timeLeftSeconds ?? -1) - p.timeLeftSeconds) <= 1, `${row.policy}: ${row.timeLeftSeconds} vs ${p.timeLeftSeconds}`);
  }
  assert.deepEqual(status.policies.map((r) => r.policy).sort(), [...names].sort());
  // The halted policy's time left is its cooldown, not its schedule or duration.
  const guarded = view.workers[0].policies.find((p) => p.name === "guarded")!;
  assert.ok(guarded.timeLeftSeconds !== null && guarded.timeLeftSeconds > 100 && guarded.timeLeftSeconds <= 120, `${guarded.timeLeftSeconds}`);
  const later = view.workers[0].policies.find((p) => p.name === "later")!;
  assert.equal(later.timeLeftSeconds, Math.round((start + HOUR - now) / 1000));
});
