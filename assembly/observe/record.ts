// The one place that records what the plugin did to a request: the proxy-wide totals, the
// policy's per-policy series and the access-log marks move together here, so a count can never
// disagree with a mark or another count. The request path calls it at the moment it acts
// (a hold starts, an abort is sent, a stream is reset, a response is rewritten), with the kind
// it acted on; a dry run records the kinds of its plan at once.
//
// Marks: Envoy stores proxy_set_property(key, value) as filter state `wasm.<key>` (context.cc,
// Context::setProperty), which access logs print with %FILTER_STATE(wasm.hfi_policy:PLAIN)%.
// hfi_policy is the policy's name; hfi_fault the kinds given so far ("delay,abort"), or
// "dry_run:<kinds>".
import { setProperty } from "../glue/host";
import { Metric, Metrics } from "../metrics";
import { KIND_COUNT, kindIndex, kindsText } from "../model/kinds";
import { count, RuleTally } from "./tally";

const POLICY_KEY = String.UTF8.encode("hfi_policy");
const FAULT_KEY = String.UTF8.encode("hfi_fault");
const KIND_SETS: i32 = 1 << KIND_COUNT;

/** The proxy-wide total of each kind, by kind index. */
const TOTALS: StaticArray<Metric> = [Metric.Delays, Metric.Aborts, Metric.Resets, Metric.ResponseFaults];

/** The encoded mark of every set of kinds, injected at [kinds], dry run at [KIND_SETS + kinds]. */
const MARKS = new StaticArray<ArrayBuffer>(2 * KIND_SETS);
for (let k = 0; k < KIND_SETS; k++) {
  const text = kindsText(<u8>k);
  unchecked((MARKS[k] = String.UTF8.encode(text)));
  unchecked((MARKS[KIND_SETS + k] = String.UTF8.encode("dry_run:" + text)));
}

/**
 * Records one fault acted on: its total, its policy's injected series and the marks. `given`
 * is what the stream was given before (0: nothing yet, so the policy mark is written too).
 * Returns what the stream has been given now.
 */
export function recordInjected(metrics: Metrics, t: RuleTally, kind: u8, given: u8): u8 {
  const k = kindIndex(kind);
  metrics.add(unchecked(TOTALS[k]), 1);
  count(unchecked(t.injected[k]));
  const now = given | kind;
  if (given == 0) setProperty(POLICY_KEY, t.policyMark);
  setProperty(FAULT_KEY, unchecked(MARKS[now]));
  return now;
}

/** A dry run: what the plan would have injected, counted per policy and marked; no totals. */
export function recordDryRun(t: RuleTally, kinds: u8): void {
  for (let k = 0; k < KIND_COUNT; k++) {
    if ((<i32>kinds & (1 << k)) != 0) count(unchecked(t.dryRun[k]));
  }
  setProperty(POLICY_KEY, t.policyMark);
  setProperty(FAULT_KEY, unchecked(MARKS[KIND_SETS + kinds]));
}

/** A fault refused for room (max_active_faults, max_fault_percentage): the total and the
 * policy's series, always together. */
export function recordOverflow(metrics: Metrics, t: RuleTally): void {
  metrics.add(Metric.Overflow, 1);
  count(t.overflow);
}

/** A matched request (excluded ones are not matched). */
@inline export function recordMatched(t: RuleTally): void {
  count(t.matched);
}

/** A hold started (a delay, a start delay or a response hold): the active gauge. */
export function recordHoldStarted(metrics: Metrics): void {
  metrics.add(Metric.Active, 1);
}

/** A hold ended (released, or the client left). A delay's hold is one histogram sample of the
 * time held; a start delay alone (before an abort or reset) is not a delay. */
export function recordHoldEnded(metrics: Metrics, heldMs: i64, wasDelay: bool): void {
  if (wasDelay) metrics.record(Metric.DelayDuration, <u64>max<i64>(heldMs, 0));
  metrics.add(Metric.Active, -1);
}
