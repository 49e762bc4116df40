// Every metric the plugin reports, in one table. Names are base names: Envoy files them under
// its `wasmcustom` namespace itself (`wasmcustom.hfi_faults_aborts_total` in /stats,
// `hfi_faults_aborts_total` in /stats/prometheus); the optional metric_prefix setting is for
// hosts that do not. Never put `wasmcustom.` into a name here (Envoy would double it).
import { defineMetric, defineMetricBytes, getMetric, incrementMetric, MetricType, recordMetric } from "./glue/host";
import { ByteBuffer } from "./util/bytes";

export const enum Metric {
  Aborts = 0,
  Delays = 1,
  DelayDuration = 2,
  Active = 3,
  Overflow = 4,
  ConfigErrors = 5,
  FetchFailures = 6,
  PolicyUpdates = 7,
  ConfigProblems = 8,
  Resets = 9,
  ResponseFaults = 10,
  BudgetsExhausted = 11,
  BudgetSkipped = 12,
  GuardTrips = 13,
  LeaseExpired = 14,
  Count = 15,
}

const NAMES: string[] = [
  "hfi_faults_aborts_total",
  "hfi_faults_delays_total",
  "hfi_faults_delay_duration_milliseconds",
  "hfi_faults_active",
  "hfi_faults_overflow_total",
  "hfi_faults_config_errors_total",
  "hfi_faults_policy_fetch_failures_total",
  "hfi_faults_policy_updates_total",
  "hfi_faults_config_problems",
  "hfi_faults_resets_total",
  "hfi_faults_response_faults_total",
  "hfi_faults_budget_exhausted_total",
  "hfi_faults_budget_skipped_total",
  "hfi_faults_guard_trips_total",
  "hfi_faults_policy_lease_expired_total",
];

const TYPES: MetricType[] = [
  MetricType.Counter,
  MetricType.Counter,
  MetricType.Histogram,
  MetricType.Gauge,
  MetricType.Counter,
  MetricType.Counter,
  MetricType.Counter,
  MetricType.Counter,
  MetricType.Gauge,
  MetricType.Counter,
  MetricType.Counter,
  MetricType.Counter,
  MetricType.Counter,
  MetricType.Counter,
  MetricType.Counter,
];

/** Per-policy metrics, named `<name>.hfi_policy.<policy>` (and `.hfi_fault.<kind>` for
 * Injected and DryRun) when a policy set is assembled (observe/policy-metrics.ts); Envoy's
 * stats_tags turn those segments into labels (docs/metrics.md). */
export const enum PolicyMetric {
  Matched = 0,
  Injected = 1,
  DryRun = 2,
  Overflow = 3,
  PercentageMax = 4,
  Halted = 5,
  GuardTrips = 6,
  State = 7,
  StateUntil = 8,
}

/** Each per-policy metric's name; Injected and DryRun carry an `hfi_fault` segment too. */
const POLICY_NAMES: string[] = [
  "hfi_faults_policy_matched_total",
  "hfi_faults_policy_injected_total",
  "hfi_faults_policy_dry_run_total",
  "hfi_faults_policy_overflow_total",
  "hfi_faults_policy_percentage_max",
  "hfi_faults_policy_halted",
  "hfi_faults_policy_guard_trips_total",
  "hfi_faults_policy_state",
  "hfi_faults_policy_state_until_seconds",
];

const POLICY_TYPES: MetricType[] = [
  MetricType.Counter,
  MetricType.Counter,
  MetricType.Counter,
  MetricType.Counter,
  MetricType.Gauge,
  MetricType.Gauge,
  MetricType.Counter,
  MetricType.Gauge,
  MetricType.Gauge,
];

/** Host ids of the defined metrics; -1 where the host refused (the metric is then skipped). */
export class Metrics {
  private ids: StaticArray<i64> = new StaticArray<i64>(Metric.Count);
  private prefix: string = "\u0000"; // nothing defined yet
  private readonly name: ByteBuffer = new ByteBuffer(256);

  constructor() {
    for (let i = 0; i < <i32>Metric.Count; i++) unchecked((this.ids[i] = -1));
  }

  /** Defines every metric under `prefix` (once per distinct prefix). */
  define(prefix: string): void {
    if (prefix == this.prefix) return;
    this.prefix = prefix;
    for (let i = 0; i < <i32>Metric.Count; i++) {
      unchecked((this.ids[i] = defineMetric(unchecked(TYPES[i]), prefix + unchecked(NAMES[i]))));
    }
  }

  /** Defines a per-policy metric for one policy label (and fault kind, or ""); its id, or -1.
   * The name is built in one reused buffer: a set of thousands of long labels defines tens of
   * thousands of names in one callback, where every intermediate string would stay garbage. */
  definePolicy(metric: PolicyMetric, label: string, fault: string): i64 {
    const b = this.name;
    b.length = 0;
    b.append(this.prefix);
    b.append(unchecked(POLICY_NAMES[metric]));
    b.append(".hfi_policy.");
    b.append(label);
    if (fault.length > 0) {
      b.append(".hfi_fault.");
      b.append(fault);
    }
    return defineMetricBytes(unchecked(POLICY_TYPES[metric]), b.ptr, b.length);
  }

  /** Adds `delta` to a counter, or a signed delta to a gauge. */
  add(metric: Metric, delta: i64): void {
    const id = unchecked(this.ids[metric]);
    if (id >= 0 && delta != 0) incrementMetric(<u32>id, delta);
  }

  /** Records a histogram sample. */
  record(metric: Metric, value: u64): void {
    const id = unchecked(this.ids[metric]);
    if (id >= 0) recordMetric(<u32>id, value);
  }

  /** Sets a gauge: for values every VM computes alike, so whichever writes last is right. */
  set(metric: Metric, value: i64): void {
    const id = unchecked(this.ids[metric]);
    if (id >= 0) recordMetric(<u32>id, <u64>value);
  }

  /** Current value (shared across worker VMs), or -1 if unavailable. */
  value(metric: Metric): i64 {
    const id = unchecked(this.ids[metric]);
    return id >= 0 ? getMetric(<u32>id) : -1;
  }
}
