// Defines the per-policy metrics of an assembled policy set and hands each rule its tally.
// Runs when a set is assembled (configuration, control-plane update), never per request.
// Every per-policy series, the guard's included, is named through policyLabel and the
// max_labelled_policies cap here.
import { LogLevel } from "../config/settings";
import { recordMetric } from "../glue/host";
import { Logger } from "../log";
import { Metrics, PolicyMetric } from "../metrics";
import { Kind, KIND_COUNT, KIND_NAMES } from "../model/kinds";
import { Fault, Rule } from "../model/policy";
import { RESERVED_LABEL } from "../config/policies";
import { firstToReport } from "../problems";
import { policyLabel } from "./label";
import { RuleTally } from "./tally";

/** The label policies beyond `max_labelled_policies` share (no policy may be named so). */
export const OTHER_LABEL = RESERVED_LABEL;

/**
 * A hash of the label as Prometheus shows it without stats_tags: Envoy turns every character
 * outside [a-zA-Z0-9_] of a stat name into `_` (prometheus_stats.cc, sanitizeName), so `a-b` and
 * `a_b` would be one series. Hashed in place: thousands of labels are checked in one callback.
 */
function flatHash(label: string): u64 {
  let h: u64 = 0xcbf29ce484222325;
  for (let i = 0; i < label.length; i++) {
    const c = label.charCodeAt(i);
    const keep = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95;
    h = (h ^ <u64>(keep ? c : 95)) * 0x100000001b3;
  }
  return h;
}

/** A label whose flattened form no other label of the set has: the policy's own, or that with
 * an escaped `~N` after it. Distinct policies never share a series, with or without stats_tags. */
function uniqueLabel(label: string, used: Map<u64, i32>): string {
  let candidate = label;
  let flat = flatHash(candidate);
  for (let k = 2; used.has(flat); k++) {
    candidate = label + "%7E" + k.toString();
    flat = flatHash(candidate);
  }
  used.set(flat, 0);
  return candidate;
}

/** The kinds a rule can inject: its own fault's, and a delay and an abort when the request's
 * x-envoy-fault-* headers may ask for them. */
export function possibleKinds(f: Fault): u8 {
  let kinds: u8 = 0;
  const response = f.response;
  if (f.delayMs > 0 || f.delay !== null || f.fromHeaders || (response !== null && response.delayMs > 0)) kinds |= <u8>Kind.Delay;
  if (f.abort !== null || f.fromHeaders) kinds |= <u8>Kind.Abort;
  if (f.reset) kinds |= <u8>Kind.Reset;
  if (response !== null) kinds |= <u8>Kind.Response;
  return kinds;
}

/** The ids of one label's metrics; a kind's are defined when a rule first needs them. */
class LabelIds {
  matched: i64;
  overflow: i64;
  percentageMax: i64;
  /** The state gauges (named labels only). */
  state: i64 = -1;
  stateUntil: i64 = -1;
  /** The guard's series, defined when a guarded policy first needs them (-2: not yet). */
  halted: i64 = -2;
  guardTrips: i64 = -2;
  injected: StaticArray<i64> = [-2, -2, -2, -2];
  dryRun: StaticArray<i64> = [-2, -2, -2, -2];
  /** Highest percentage among the rules counted under this label. */
  percentage: f64 = 0;
  constructor(public label: string, private metrics: Metrics) {
    this.matched = metrics.definePolicy(PolicyMetric.Matched, label, "");
    this.overflow = metrics.definePolicy(PolicyMetric.Overflow, label, "");
    this.percentageMax = metrics.definePolicy(PolicyMetric.PercentageMax, label, "");
  }

  /** Defines (once) the injected and dry-run counters of the kinds in `kinds`. */
  define(kinds: u8): void {
    for (let k = 0; k < KIND_COUNT; k++) {
      if ((<i32>kinds & (1 << k)) == 0 || unchecked(this.injected[k]) != -2) continue;
      const name = unchecked(KIND_NAMES[k]);
      unchecked((this.injected[k] = this.metrics.definePolicy(PolicyMetric.Injected, this.label, name)));
      unchecked((this.dryRun[k] = this.metrics.definePolicy(PolicyMetric.DryRun, this.label, name)));
    }
  }

  defineGuard(): void {
    if (this.halted != -2) return;
    this.halted = this.metrics.definePolicy(PolicyMetric.Halted, this.label, "");
    this.guardTrips = this.metrics.definePolicy(PolicyMetric.GuardTrips, this.label, "");
  }

  /** hfi_faults_policy_percentage_max, rounded up to a whole percent: the same value from every
   * VM, so set, never added to. */
  publish(): void {
    if (this.percentageMax >= 0) recordMetric(<u32>this.percentageMax, <u64>Math.ceil(this.percentage));
  }
}

/**
 * The ids of each rule's policy's metrics, by rule position (`rules` in evaluation order, a
 * policy's rules together); the first `cap` policies get their own label, the rest share
 * `_other` (one warning per proxy). A guarded policy gets its guard series here too.
 */
export function tallyRules(rules: Rule[], metrics: Metrics, cap: i32, log: Logger): RuleTally[] {
  const tallies = new Array<RuleTally>(rules.length);
  let l: LabelIds | null = null;
  let other: LabelIds | null = null;
  let named = 0;
  let beyond = 0;
  const used = new Map<u64, i32>();
  used.set(flatHash(OTHER_LABEL), 0);
  for (let i = 0; i < rules.length; i++) {
    const rule = unchecked(rules[i]);
    const name = rule.policyName;
    if (l === null || i == 0 || unchecked(rules[i - 1]).policyName != name) {
      if (l !== null && l !== other) l.publish();
      if (named < cap) {
        const ids = new LabelIds(uniqueLabel(policyLabel(name), used), metrics);
        ids.state = metrics.definePolicy(PolicyMetric.State, ids.label, "");
        ids.stateUntil = metrics.definePolicy(PolicyMetric.StateUntil, ids.label, "");
        l = ids;
        named++;
      } else {
        if (other === null) other = new LabelIds(OTHER_LABEL, metrics);
        l = other;
        beyond++;
      }
    }
    const ids = changetype<LabelIds>(l); // set just above
    const fault = rule.fault;
    ids.define(possibleKinds(fault));
    const t = new RuleTally();
    t.label = ids.label;
    t.matched = ids.matched;
    t.overflow = ids.overflow;
    t.state = ids.state;
    t.stateUntil = ids.stateUntil;
    for (let k = 0; k < KIND_COUNT; k++) {
      const id = unchecked(ids.injected[k]);
      if (id == -2) continue;
      unchecked((t.injected[k] = id));
      unchecked((t.dryRun[k] = unchecked(ids.dryRun[k])));
    }
    t.policyMark = String.UTF8.encode(name);
    const rails = rule.rails;
    if (rails !== null && rails.guard !== null) {
      ids.defineGuard();
      t.halted = ids.halted;
      t.guardTrips = ids.guardTrips;
    }
    if (fault.percentage > ids.percentage) ids.percentage = fault.percentage;
    unchecked((tallies[i] = t));
  }
  if (l !== null && l !== other) l.publish();
  if (other !== null) {
    other.publish();
    const line = beyond.toString() + ' policies over max_labelled_policies: hfi_policy="_other"';
    if (firstToReport("labels", String.UTF8.encode(line))) log.write(LogLevel.Warn, line);
  }
  return tallies;
}
