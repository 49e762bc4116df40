// Deciding whether a rule matches a request: pure functions over the policy model and the
// request's attributes, with no host calls, so as-pect can test them directly.
import { HeaderMatch, Match, Rule, StringMatch, StringMatchKind } from "../policy/model";
import { RequestAttributes } from "./request";

/** Does `value` (null = absent) satisfy the condition? */
export function stringMatches(m: StringMatch, value: string | null): bool {
  const kind = m.kind;
  if (kind == StringMatchKind.Absent) return value === null;
  if (value === null) return false;
  const v = changetype<string>(value);
  switch (kind) {
    case StringMatchKind.Exact:
      return v == m.value;
    case StringMatchKind.Prefix:
      return v.startsWith(m.value);
    case StringMatchKind.Suffix:
      return v.endsWith(m.value);
    case StringMatchKind.Contains:
      return v.includes(m.value);
    case StringMatchKind.Regex: {
      const re = m.regex;
      return re !== null && re.matches(v);
    }
    case StringMatchKind.Present:
      return true;
    default:
      return false;
  }
}

export function headersMatch(conditions: HeaderMatch[], request: RequestAttributes): bool {
  const n = conditions.length;
  for (let i = 0; i < n; i++) {
    const h = unchecked(conditions[i]);
    if (!stringMatches(h.match, request.header(h.slot))) return false;
  }
  return true;
}

/** All conditions hold (AND); a missing condition holds. */
export function requestMatches(match: Match, request: RequestAttributes): bool {
  const path = match.path;
  if (path !== null && !stringMatches(path, request.path())) return false;
  const method = match.method;
  if (method !== null && !stringMatches(method, request.method())) return false;
  return headersMatch(match.headers, request);
}

/** Does the request match any of `exclusions` (spec.exclude or the global exclude)? Asked only
 * once a rule matched, so the request that matches nothing never pays for it. */
export function excluded(exclusions: Match[], request: RequestAttributes): bool {
  for (let i = 0; i < exclusions.length; i++) {
    if (requestMatches(unchecked(exclusions[i]), request)) return true;
  }
  return false;
}

/**
 * The first rule, in order, that is live at `nowMs`, whose conditions hold and whose policy does
 * not exclude the request; null if none.
 * Expired rules and rules at 0 % are skipped as if absent. This is the definition; the plugin
 * asks RuleIndex, which must give the same answer (tests compare the two).
 */
export function firstMatchingRule(rules: Rule[], request: RequestAttributes, nowMs: i64): Rule | null {
  const n = rules.length;
  for (let i = 0; i < n; i++) {
    const rule = unchecked(rules[i]);
    if (rule.fault.percentage <= 0) continue;
    if (!rule.isLive(nowMs)) continue;
    if (requestMatches(rule.match, request) && !excluded(rule.exclude, request)) return rule;
  }
  return null;
}
