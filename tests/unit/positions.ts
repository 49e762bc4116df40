// Rule positions and first-seen clocks, as the assembled set keeps them (policyset/store.ts).
import { Rule } from "../../assembly/model/policy";

/** First-seen clocks for `n` rules, all at `ms`. */
export function since(n: i32, ms: i64 = 0): i64[] {
  const out: i64[] = [];
  for (let i = 0; i < n; i++) out.push(ms);
  return out;
}

/** The policy of the rule at `at` ("(none)" for no match). */
export function nameAt(rules: Rule[], at: i32): string {
  return at < 0 ? "(none)" : rules[at].policyName;
}
