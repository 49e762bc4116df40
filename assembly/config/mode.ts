// `spec.mode` of a policy and the uniqueness of policy names, called from parse.ts.
import { JsonValue } from "../json/index";
import { Rule } from "../model/policy";
import { Diagnostics, policyWhere, show } from "./diagnostics";

/** 0 inject (the default), 1 dry_run, -1 an error (reported; the policy is dropped). */
export function parseMode(v: JsonValue | null, where: string, field: string, diag: Diagnostics): i32 {
  if (v === null) return 0;
  if (v.isString() && v.str == "inject") return 0;
  if (v.isString() && v.str == "dry_run") return 1;
  diag.error(where, field, 'must be "inject" or "dry_run", got ' + show(v));
  return -1;
}

export function markDryRun(rules: Rule[], mode: i32): void {
  for (let i = 0; i < rules.length; i++) unchecked(rules[i]).dryRun = mode == 1;
}

/** True (and an error naming both) when an earlier policy of the list has this name: policies
 * are tried in the order received, so the first one stays and this one is dropped. */
export function isDuplicate(name: string, position: i32, seen: Map<string, i32>, items: JsonValue[], diag: Diagnostics): bool {
  if (!seen.has(name)) {
    seen.set(name, position);
    return false;
  }
  let first = 0;
  while (first < position && nameOf(unchecked(items[first])) != name) first++;
  diag.error(policyWhere(name), "metadata.name", "policies[" + position.toString() + "] has the name of policies[" +
    first.toString() + "]; the later one is dropped");
  return true;
}

function nameOf(v: JsonValue): string {
  const m = v.isObject() ? v.get("metadata") : null;
  const n = m !== null && m.isObject() ? m.get("name") : null;
  return n !== null && n.isString() ? n.str : "";
}
