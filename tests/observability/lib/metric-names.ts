// The metric names dashboards and alerts may use: what the plugin defines today (its one table,
// assembly/metrics.ts) plus the per-policy names of the agreed scheme (docs/metrics.md) that the
// plugin adds next. A name in neither is a typo.
import { readFileSync } from "node:fs";
import path from "node:path";
import { ROOT } from "./promtool";

/** Names agreed for the plugin but possibly not defined by it yet (Prometheus names). */
export const PLANNED = [
  "hfi_faults_policy_matched_total",
  "hfi_faults_policy_injected_total",
  "hfi_faults_policy_dry_run_total",
  "hfi_faults_policy_overflow_total",
  "hfi_faults_policy_halted",
  "hfi_faults_policy_guard_trips_total",
  "hfi_faults_config_problems",
  "hfi_faults_guard_trips_total",
  // Info gauge the percentage alert needs: the highest percentage among a policy's rules.
  "hfi_faults_policy_percentage_max",
];

/** Base names in the plugin's metric table (per-policy names are the part before the first "."). */
export function definedByPlugin(): string[] {
  const text = readFileSync(path.join(ROOT, "assembly", "metrics.ts"), "utf8");
  return [...new Set([...text.matchAll(/"(hfi_faults_[a-z_]+)/g)].map((m) => m[1]))];
}

/** Prometheus series names an HFI metric can appear as (histograms add _bucket, _sum, _count). */
export function knownSeriesNames(): Set<string> {
  const names = new Set<string>();
  for (const n of [...definedByPlugin(), ...PLANNED]) {
    names.add(n);
    for (const suffix of ["_bucket", "_sum", "_count"]) names.add(n + suffix);
  }
  return names;
}

/** The hfi_faults_* metric names a PromQL expression uses (not parts of recording-rule names). */
export function hfiNamesIn(expr: string): string[] {
  return [...expr.matchAll(/(?<![\w:])hfi_faults_[a-z_]+(?![\w:])/g)].map((m) => m[0]);
}
