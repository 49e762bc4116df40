// `fault.max_injections` and `fault.from_headers`.
import { JsonValue } from "../json/index";
import { budgetKey } from "../budgets/injection-budget";
import { nameHash } from "../guard/guard";
import { Fault, Policy } from "../model/policy";
import { Diagnostics, isBool, show } from "./diagnostics";

/** Parses `max_injections` or `from_headers` into `f`; false (with an error in `diag`) when refused. */
export function parseBudgetOrHeaders(key: string, v: JsonValue, f: Fault, where: string, diag: Diagnostics): bool {
  if (key == "from_headers") {
    if (!isBool(v, where, "fault.from_headers", diag)) return false;
    f.fromHeaders = v.bool;
    return true;
  }
  if (!v.isNumber() || !v.isInteger || v.num < 1 || v.num > 9007199254740991.0) {
    diag.error(where, "fault.max_injections", "must be a whole number >= 1, got " + show(v));
    return false;
  }
  f.maxInjections = <u64>v.num;
  return true;
}

/** Keys each budget by the policy's identity and the rule's position: a re-poll or a
 * reconfiguration that keeps the policy keeps its count; a changed policy starts over. */
export function keyBudgets(p: Policy): void {
  for (let i = 0; i < p.rules.length; i++) {
    const rule = unchecked(p.rules[i]);
    if (!rule.fault.hasBudget) continue;
    rule.fault.budgetKey = String.UTF8.encode(budgetKey(nameHash(p.name), rule.index));
    rule.fault.budgetIdentity = p.identity;
  }
}
