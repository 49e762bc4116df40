// Deciding whether a rule matches a request: pure functions over the policy model and the
// request's attributes, with no host calls, so as-pect can test them directly. Every matcher
// compares raw bytes, as Envoy's do: the same bytes give the same answer in exact, prefix,
// suffix, contains and regex, valid UTF-8 or not, and nothing is decoded or allocated.
import { HeaderMatch, Match, Rule, StringMatch, StringMatchKind } from "../model/policy";
import { bytesContain, bytesEndWith, bytesEqual, bytesStartWith, ByteBuffer } from "../util/bytes";
import { ProxyKind } from "../model/scope";
import { RequestAttributes } from "./request";
import { effectiveDirection, inScope } from "./scope";

/** Does `value` (length -1 = absent) satisfy the condition? */
export function stringMatches(m: StringMatch, value: ByteBuffer): bool {
  const kind = m.kind;
  const length = value.length;
  if (kind == StringMatchKind.Absent) return length < 0;
  if (length < 0) return false;
  const ptr = value.ptr;
  switch (kind) {
    case StringMatchKind.Exact:
      return bytesEqual(ptr, length, m.bytes);
    case StringMatchKind.Prefix:
      return bytesStartWith(ptr, length, m.bytes);
    case StringMatchKind.Suffix:
      return bytesEndWith(ptr, length, m.bytes);
    case StringMatchKind.Contains:
      return bytesContain(ptr, length, m.bytes, m.borders);
    case StringMatchKind.Regex: {
      const re = m.regex;
      return re !== null && re.matchesBytes(ptr, length);
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
    if (!stringMatches(h.match, request.headerBytes(h.slot))) return false;
  }
  return true;
}

/** All conditions hold (AND); a missing condition holds. */
export function requestMatches(match: Match, request: RequestAttributes): bool {
  const path = match.path;
  if (path !== null && !stringMatches(path, request.pathBytes())) return false;
  const method = match.method;
  if (method !== null && !stringMatches(method, request.methodBytes())) return false;
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
 * Does `rule` take the request, in a proxy of `kind`? Its conditions first (header reads), then
 * its direction and destination (property reads, made only for a request the conditions
 * already took), then its policy's exclusions.
 */
export function ruleMatches(rule: Rule, kind: ProxyKind, request: RequestAttributes): bool {
  return requestMatches(rule.match, request) && inScope(effectiveDirection(rule, kind), rule.destination, request) &&
    !excluded(rule.exclude, request);
}

/**
 * The position of the first rule, in order, that is live at `nowMs` (its policy first seen at
 * `sinceMs` of the same position) and takes the request (ruleMatches); -1 if none.
 * Expired rules and rules at 0 % are skipped as if absent. This is the definition; the plugin
 * asks RuleIndex, which must give the same answer (tests compare the two).
 */
export function firstMatchingRule(rules: Rule[], sinceMs: i64[], request: RequestAttributes, nowMs: i64, kind: ProxyKind = ProxyKind.Other): i32 {
  const n = rules.length;
  for (let i = 0; i < n; i++) {
    const rule = unchecked(rules[i]);
    if (rule.fault.percentage <= 0) continue;
    if (!rule.isLive(unchecked(sinceMs[i]), nowMs)) continue;
    if (ruleMatches(rule, kind, request)) return i;
  }
  return -1;
}
