// The metric names dashboards and alerts may use: exactly what the plugin defines (its one table,
// assembly/metrics.ts, read by scripts/metrics-doc.ts). A name it does not define is a typo or a
// renamed series, and fails the dashboard and alert checks.
import { definedMetrics } from "../../../scripts/metrics-doc";

/** Base names the plugin defines (per-policy names without their label segments). */
export function definedByPlugin(): string[] {
  const d = definedMetrics();
  return [...d.totals, ...d.perPolicy].map((m) => m.name);
}

/** Prometheus series names an HFI metric can appear as (histograms add _bucket, _sum, _count). */
export function knownSeriesNames(): Set<string> {
  const names = new Set<string>();
  for (const n of definedByPlugin()) {
    names.add(n);
    for (const suffix of ["_bucket", "_sum", "_count"]) names.add(n + suffix);
  }
  return names;
}

/** The hfi_faults_* metric names a PromQL expression uses (not parts of recording-rule names). */
export function hfiNamesIn(expr: string): string[] {
  return [...expr.matchAll(/(?<![\w:])hfi_faults_[a-z_]+(?![\w:])/g)].map((m) => m[0]);
}
