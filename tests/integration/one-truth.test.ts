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
import { assertOneAccount } from "../helpers/account";
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

  const names = ["guarded", "later", "budgeted", "dropper", "rewriter", "slow-then-fail", "preview", "header-driven"];
  const states: Record<string, string> = {
    guarded: "halted", later: "not yet started", budgeted: "budget exhausted", dropper: "active", rewriter: "active",
    "slow-then-fail": "active", preview: "dry run", "header-driven": "active",
  };
  const now = hfi.clock.now();
  const { series, view } = assertOneAccount({ workers: hfi.workers, stats, streams, names, metric: (n) => hfi.metric(n), now, states });
  const metric = (name: string) => hfi.metric(name);
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

  // The halted policy's time left is its cooldown, not its schedule or duration.
  const guarded = view.workers[0].policies.find((p) => p.name === "guarded")!;
  assert.ok(guarded.timeLeftSeconds !== null && guarded.timeLeftSeconds > 100 && guarded.timeLeftSeconds <= 120, `${guarded.timeLeftSeconds}`);
  const later = view.workers[0].policies.find((p) => p.name === "later")!;
  assert.equal(later.timeLeftSeconds, Math.round((start + HOUR - now) / 1000));
});
