// Defines the per-policy metrics of an assembled policy set and hands each rule its tally.
// Runs when a set is assembled (configuration, control-plane update), never per request.
import { LogLevel } from "../config/settings";
import { recordMetric } from "../glue/host";
import { Logger } from "../log";
import { Metrics, PolicyMetric } from "../metrics";
import { Rule } from "../policy/model";
import { firstToReport } from "../problems";
import { KIND_ABORT, KIND_DELAY, KIND_RESET, KIND_RESPONSE, RuleTally } from "./tally";

/** The `hfi_fault` kinds, by index: their injected counters at k, dry-run counters at k + 4. */
const KINDS: string[] = [KIND_ABORT, KIND_DELAY, KIND_RESET, KIND_RESPONSE];
import { policyLabel } from "./label";

/** The label policies beyond `max_labelled_policies` share. */
export const OTHER_LABEL = "_other";

/** The ids of one label's metrics; a kind's are defined when a rule first needs them. */
class LabelIds {
  matched: i64;
  overflow: i64;
  percentageMax: i64;
  /** injected abort, delay, reset, response, then the same dry-run; -2: not defined yet. */
  kinds: StaticArray<i64> = [-2, -2, -2, -2, -2, -2, -2, -2];
  /** Highest percentage among the rules counted under this label. */
  percentage: f64 = 0;
  constructor(public label: string, private metrics: Metrics) {
    this.matched = metrics.definePolicy(PolicyMetric.Matched, label, "");
    this.overflow = metrics.definePolicy(PolicyMetric.Overflow, label, "");
    this.percentageMax = metrics.definePolicy(PolicyMetric.PercentageMax, label, "");
  }

  /** Defines (once) the injected and dry-run counters of a kind (index into KINDS). */
  kind(k: i32): void {
    const ids = this.kinds;
    if (unchecked(ids[k]) != -2) return;
    const name = unchecked(KINDS[k]);
    unchecked((ids[k] = this.metrics.definePolicy(PolicyMetric.Injected, this.label, name)));
    unchecked((ids[k + 4] = this.metrics.definePolicy(PolicyMetric.DryRun, this.label, name)));
  }

  /** hfi_faults_policy_percentage_max, rounded up to a whole percent: the same value from every
   * VM, so set, never added to. */
  publish(): void {
    if (this.percentageMax >= 0) recordMetric(<u32>this.percentageMax, <u64>Math.ceil(this.percentage));
  }
}

/**
 * Gives every rule (in evaluation order, a policy's rules together) the ids of its policy's
 * metrics; the first `cap` policies get their own label, the rest share `_other` (one warning
 * per proxy).
 */
export function tallyRules(rules: Rule[], metrics: Metrics, cap: i32, log: Logger): void {
  let l: LabelIds | null = null;
  let other: LabelIds | null = null;
  let named = 0;
  let beyond = 0;
  for (let i = 0; i < rules.length; i++) {
    const rule = unchecked(rules[i]);
    const name = rule.policyName;
    if (l === null || i == 0 || unchecked(rules[i - 1]).policyName != name) {
      if (l !== null && l !== other) l.publish();
      if (named < cap) {
        l = new LabelIds(policyLabel(name), metrics);
        named++;
      } else {
        if (other === null) other = new LabelIds(OTHER_LABEL, metrics);
        l = other;
        beyond++;
      }
    }
    const ids = changetype<LabelIds>(l); // set just above
    const fault = rule.fault;
    const delay = fault.delayMs > 0 || fault.delay !== null;
    const abort = fault.abort !== null;
    const reset = fault.reset;
    const response = fault.response !== null;
    if (abort) ids.kind(0);
    if (delay) ids.kind(1);
    if (reset) ids.kind(2);
    if (response) ids.kind(3);
    const k = ids.kinds;
    const t = new RuleTally();
    t.label = ids.label;
    t.matched = ids.matched;
    t.overflow = ids.overflow;
    if (abort) {
      t.injectedAbort = unchecked(k[0]);
      t.dryRunAbort = unchecked(k[4]);
    }
    if (delay) {
      t.injectedDelay = unchecked(k[1]);
      t.dryRunDelay = unchecked(k[5]);
    }
    if (reset) {
      t.injectedReset = unchecked(k[2]);
      t.dryRunReset = unchecked(k[6]);
    }
    if (response) {
      t.injectedResponse = unchecked(k[3]);
      t.dryRunResponse = unchecked(k[7]);
    }
    // The access-log mark: what the rule does, in order (a delay first).
    const end = abort ? KIND_ABORT : reset ? KIND_RESET : response ? KIND_RESPONSE : "";
    const kinds = delay ? (end.length > 0 ? KIND_DELAY + "," + end : KIND_DELAY) : end.length > 0 ? end : KIND_ABORT;
    t.policyMark = String.UTF8.encode(name);
    t.faultMark = String.UTF8.encode(kinds);
    t.dryRunMark = String.UTF8.encode("dry_run:" + kinds);
    if (fault.percentage > ids.percentage) ids.percentage = fault.percentage;
    rule.tally = t;
  }
  if (l !== null && l !== other) l.publish();
  if (other !== null) {
    other.publish();
    const line = beyond.toString() + ' policies over max_labelled_policies: hfi_policy="_other"';
    if (firstToReport("labels", String.UTF8.encode(line))) log.write(LogLevel.Warn, line);
  }
}
