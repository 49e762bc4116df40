/**
 * The one account every combined test checks: the totals equal the sums of the per-policy
 * series, which equal the access-log marks of the requests, which equal what /policies shows
 * (on every worker), which equals what hfi status shows; and each policy's state is the same in
 * /policies and hfi status.
 */
import assert from "node:assert/strict";
import type { HttpStream, Plugin, StatsStore } from "../../host/index";
import { effectivePolicies, type WorkerView } from "../../host/runner/effective-policies";
import { FAULT_KINDS } from "../../host/plugin-vocabulary";
import { parsePrometheus, snapshot, type StatusSnapshot } from "../../cli/status";

const TOTAL: Record<string, string> = {
  delay: "hfi_faults_delays_total", abort: "hfi_faults_aborts_total", reset: "hfi_faults_resets_total", response: "hfi_faults_response_faults_total",
};

export interface AccountInput {
  workers: Plugin[];
  stats: StatsStore;
  streams: HttpStream[];
  /** Every policy in force. */
  names: string[];
  /** A `wasmcustom.<name>` stat. */
  metric(name: string): number;
  now: number;
  /** Each policy's expected state, when the test knows it. */
  states?: Record<string, string>;
}

/** Checks the account and returns the series reader and the two views, for further checks. */
export function assertOneAccount(a: AccountInput): { series: (m: string, p: string, k?: string) => number; view: { workers: WorkerView[] }; status: StatusSnapshot } {
  const { metric, names } = a;
  // 1. The access-log marks of every request, by policy and kind.
  const text = (v: Uint8Array | undefined) => (v === undefined ? undefined : Buffer.from(v).toString());
  const marked = new Map<string, Record<string, number>>();
  for (const s of a.streams) {
    const p = text(s.filterState.get("hfi_policy"));
    const f = text(s.filterState.get("hfi_fault"));
    if (p === undefined || f === undefined) continue;
    const dry = f.startsWith("dry_run:");
    const row = marked.get(p) ?? {};
    for (const k of (dry ? f.slice(8) : f).split(",")) row[`${dry ? "dry_run" : "injected"}:${k}`] = (row[`${dry ? "dry_run" : "injected"}:${k}`] ?? 0) + 1;
    marked.set(p, row);
  }
  // 2. The per-policy series and the totals.
  const series = (m: string, p: string, k?: string) => metric(`hfi_faults_policy_${m}.hfi_policy.${p}${k ? `.hfi_fault.${k}` : ""}`);
  for (const k of FAULT_KINDS) {
    const sum = names.reduce((acc, p) => acc + series("injected_total", p, k), 0);
    assert.equal(metric(TOTAL[k]), sum, `${k}: total ${metric(TOTAL[k])}, per-policy ${sum}`);
    const marks = [...marked.values()].reduce((acc, r) => acc + (r[`injected:${k}`] ?? 0), 0);
    assert.equal(marks, sum, `${k}: marks ${marks}, per-policy ${sum}`);
    for (const p of names) {
      assert.equal(marked.get(p)?.[`injected:${k}`] ?? 0, series("injected_total", p, k), `${p} ${k}: marks vs series`);
      assert.equal(marked.get(p)?.[`dry_run:${k}`] ?? 0, series("dry_run_total", p, k), `${p} ${k}: dry-run marks vs series`);
    }
  }
  for (const p of marked.keys()) assert.ok(names.includes(p), `a mark names ${p}, which is not a policy in force`);
  assert.equal(metric("hfi_faults_overflow_total"), names.reduce((acc, p) => acc + series("overflow_total", p), 0));

  // 3. /policies (every worker) and hfi status show the same counts and the same state.
  const view = effectivePolicies(a.workers[0].vm, a.stats, a.now);
  assert.equal(view.workers.length, a.workers.length, JSON.stringify(view.workers.map((x) => x.slot)));
  const status = snapshot(parsePrometheus(a.stats.renderPrometheus()), undefined, a.now);
  for (const worker of view.workers) {
    for (const p of worker.policies) {
      if (a.states) assert.equal(p.state, a.states[p.name], `/policies worker ${worker.slot}: ${p.name}`);
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
    assert.equal(row.dryRun, Object.values(p.counts.dryRun).reduce((x, y) => x + y, 0));
    for (const k of FAULT_KINDS) assert.equal(row.byFault[k] ?? 0, p.counts.injected[k], `hfi status ${row.policy} ${k}`);
    if (p.timeLeftSeconds === null) assert.equal(row.timeLeftSeconds, null, row.policy);
    else assert.ok(Math.abs((row.timeLeftSeconds ?? -1) - p.timeLeftSeconds) <= 1, `${row.policy}: ${row.timeLeftSeconds} vs ${p.timeLeftSeconds}`);
  }
  assert.deepEqual(status.policies.map((r) => r.policy).sort(), [...names].sort());
  return { series, view, status };
}
