// Turns the JSON policy list (plugin configuration or control-plane body) into the policy
// model. Strict: every field is checked, every problem is reported with where it is, and a
// broken rule is dropped while the rest of the set still applies.
import { JsonValue } from "../json/index";
import { compileRegex } from "../regex/index";
import { asciiLower } from "../util/ascii";
import { HeaderSlots } from "../match/request";
import { Abort, Fault, HeaderMatch, Match, NO_GRPC_STATUS, Policy, Rule, Selector, StringMatch, StringMatchKind } from "./model";
import { Diagnostics, policyWhere, ruleWhere, show } from "./diagnostics";
import { isSafetyKey, withSafety } from "./parse-safety";

export class ParseLimits {
  /** Delays (and start delays) above this are clamped, with a warning. */
  maxDelayMs: i64 = 30000;
}

const STRING_MATCH_KEYS: string[] = ["exact", "prefix", "suffix", "contains", "regex"];

/** Parses `[Policy, ...]`. Policies keep their order; broken rules are dropped. */
export function parsePolicies(list: JsonValue, slots: HeaderSlots, limits: ParseLimits, diag: Diagnostics): Policy[] {
  const policies: Policy[] = [];
  if (!list.isArray()) {
    diag.error("configuration", "policies", "must be an array of policies, got " + show(list));
    return policies;
  }
  const items = list.items;
  for (let i = 0; i < items.length; i++) {
    const p = parsePolicy(unchecked(items[i]), i, slots, limits, diag);
    if (p !== null) policies.push(p);
  }
  return policies;
}

function parsePolicy(v: JsonValue, position: i32, slots: HeaderSlots, limits: ParseLimits, diag: Diagnostics): Policy | null {
  const anonymous = "policies[" + position.toString() + "]";
  if (!v.isObject()) {
    diag.error(anonymous, "policy", "must be an object, got " + show(v));
    return null;
  }
  const metadata = v.get("metadata");
  let name = "";
  if (metadata === null || !metadata.isObject()) {
    diag.error(anonymous, "metadata", "must be an object with a name, got " + show(metadata));
    return null;
  }
  const nameValue = metadata.get("name");
  if (nameValue === null || !nameValue.isString() || nameValue.str.length == 0) {
    diag.error(anonymous, "metadata.name", "must be a non-empty string, got " + show(nameValue));
    return null;
  }
  name = nameValue.str;
  const where = policyWhere(name);

  const spec = v.get("spec");
  if (spec === null || !spec.isObject()) {
    diag.error(where, "spec", "must be an object, got " + show(spec));
    return null;
  }
  for (let k = 0; k < spec.keys.length; k++) {
    const key = unchecked(spec.keys[k]);
    if (key != "selector" && key != "rules" && !isSafetyKey(key)) diag.warn(where, "spec." + key, "unknown field, ignored");
  }

  const selector = parseSelector(spec.get("selector"), where, diag);
  if (selector === null) return null;

  const rulesValue = spec.get("rules");
  if (rulesValue === null || !rulesValue.isArray() || rulesValue.items.length == 0) {
    diag.error(where, "spec.rules", "must be a non-empty array of rules, got " + show(rulesValue));
    return null;
  }
  const rules: Rule[] = [];
  const items = rulesValue.items;
  for (let i = 0; i < items.length; i++) {
    const rule = parseRule(unchecked(items[i]), name, i, slots, limits, diag);
    if (rule !== null) rules.push(rule);
  }
  if (rules.length == 0) return null;
  // Same name and same content (in any member order) = same policy, same expiry clock.
  return withSafety(new Policy(name, v.contentHash(), selector, rules), spec, where, diag);
}

function parseSelector(v: JsonValue | null, where: string, diag: Diagnostics): Selector | null {
  if (v === null || v.isNull()) return new Selector("", "");
  if (!v.isObject()) {
    diag.error(where, "spec.selector", "must be an object, got " + show(v));
    return null;
  }
  let service = "";
  let namespace = "";
  for (let k = 0; k < v.keys.length; k++) {
    const key = unchecked(v.keys[k]);
    const value = unchecked(v.values[k]);
    if (key != "service" && key != "namespace") {
      diag.error(where, "spec.selector." + key, "unknown field (expected service or namespace)");
      return null;
    }
    if (!value.isString()) {
      diag.error(where, "spec.selector." + key, "must be a string, got " + show(value));
      return null;
    }
    if (key == "service") service = value.str;
    else namespace = value.str;
  }
  return new Selector(service, namespace);
}

function parseRule(v: JsonValue, policyName: string, index: i32, slots: HeaderSlots, limits: ParseLimits, diag: Diagnostics): Rule | null {
  const where = ruleWhere(policyName, index);
  if (!v.isObject()) {
    diag.error(where, "rule", "must be an object with match and fault, got " + show(v));
    return null;
  }
  for (let k = 0; k < v.keys.length; k++) {
    const key = unchecked(v.keys[k]);
    if (key != "match" && key != "fault") {
      diag.error(where, key, "unknown field (expected match and fault)");
      return null;
    }
  }
  const match = parseMatch(v.get("match"), where, slots, diag);
  if (match === null) return null;
  const fault = parseFault(v.get("fault"), where, slots, limits, diag);
  if (fault === null) return null;
  return new Rule(policyName, index, match, fault);
}

function parseMatch(v: JsonValue | null, where: string, slots: HeaderSlots, diag: Diagnostics): Match | null {
  if (v === null || !v.isObject()) {
    diag.error(where, "match", "must be an object (use {} to match every request), got " + show(v));
    return null;
  }
  const m = new Match();
  for (let k = 0; k < v.keys.length; k++) {
    const key = unchecked(v.keys[k]);
    const value = unchecked(v.values[k]);
    if (key == "method") {
      const s = parseStringMatch(value, where, "match.method", false, diag);
      if (s === null) return null;
      m.method = s;
    } else if (key == "path") {
      const s = parseStringMatch(value, where, "match.path", false, diag);
      if (s === null) return null;
      m.path = s;
    } else if (key == "headers") {
      if (!value.isArray()) {
        diag.error(where, "match.headers", "must be an array, got " + show(value));
        return null;
      }
      const headers: HeaderMatch[] = [];
      for (let i = 0; i < value.items.length; i++) {
        const h = parseHeaderMatch(unchecked(value.items[i]), where, "match.headers[" + i.toString() + "]", slots, diag);
        if (h === null) return null;
        headers.push(h);
      }
      m.headers = headers;
    } else {
      diag.error(where, "match." + key, "unknown field (expected method, path or headers)");
      return null;
    }
  }
  return m;
}

/** `{exact|prefix|suffix|contains|regex: string}`, exactly one. Headers also allow `present`. */
function parseStringMatch(v: JsonValue, where: string, field: string, isHeader: bool, diag: Diagnostics): StringMatch | null {
  if (!v.isObject()) {
    diag.error(where, field, "must be an object with one of exact, prefix, suffix, contains, regex; got " + show(v));
    return null;
  }
  let found: StringMatch | null = null;
  let count = 0;
  for (let k = 0; k < v.keys.length; k++) {
    const key = unchecked(v.keys[k]);
    const value = unchecked(v.values[k]);
    if (isHeader && key == "name") continue;
    if (isHeader && key == "present") {
      if (!value.isBool()) {
        diag.error(where, field + ".present", "must be true or false, got " + show(value));
        return null;
      }
      count++;
      found = new StringMatch(value.bool ? StringMatchKind.Present : StringMatchKind.Absent, "", null);
      continue;
    }
    const kind = stringMatchKind(key);
    if (kind < 0) {
      const expected = isHeader ? "name and one of exact, prefix, suffix, contains, regex, present" : "one of exact, prefix, suffix, contains, regex";
      diag.error(where, field + "." + key, "unknown field (expected " + expected + ")");
      return null;
    }
    if (!value.isString()) {
      diag.error(where, field + "." + key, "must be a string, got " + show(value));
      return null;
    }
    count++;
    if (kind == StringMatchKind.Regex) {
      const compiled = compileRegex(value.str);
      const re = compiled.regex;
      if (re === null) {
        diag.error(where, field + ".regex", "invalid regex " + show(value) + ": " + compiled.error);
        return null;
      }
      found = new StringMatch(StringMatchKind.Regex, value.str, re);
    } else {
      found = new StringMatch(<StringMatchKind>kind, value.str, null);
    }
  }
  if (count != 1 || found === null) {
    const options = isHeader ? "exact, prefix, suffix, contains, regex, present" : "exact, prefix, suffix, contains, regex";
    diag.error(where, field, "needs exactly one of " + options + "; got " + show(v));
    return null;
  }
  return found;
}

function stringMatchKind(key: string): i32 {
  for (let i = 0; i < STRING_MATCH_KEYS.length; i++) {
    if (unchecked(STRING_MATCH_KEYS[i]) == key) return i; // order matches StringMatchKind
  }
  return -1;
}

function parseHeaderMatch(v: JsonValue, where: string, field: string, slots: HeaderSlots, diag: Diagnostics): HeaderMatch | null {
  if (!v.isObject()) {
    diag.error(where, field, "must be an object with name and a condition, got " + show(v));
    return null;
  }
  const name = v.get("name");
  if (name === null || !name.isString() || name.str.length == 0) {
    diag.error(where, field + ".name", "must be a non-empty header name, got " + show(name));
    return null;
  }
  const m = parseStringMatch(v, where, field, true, diag);
  if (m === null) return null;
  const lower = asciiLower(name.str);
  return new HeaderMatch(lower, slots.slotOf(lower), m);
}

function parseFault(v: JsonValue | null, where: string, slots: HeaderSlots, limits: ParseLimits, diag: Diagnostics): Fault | null {
  if (v === null || !v.isObject()) {
    diag.error(where, "fault", "must be an object, got " + show(v));
    return null;
  }
  const f = new Fault();
  let hasPercentage = false;
  for (let k = 0; k < v.keys.length; k++) {
    const key = unchecked(v.keys[k]);
    const value = unchecked(v.values[k]);
    if (key == "percentage") {
      if (!value.isNumber() || !(value.num >= 0 && value.num <= 100)) {
        diag.error(where, "fault.percentage", "must be a number from 0 to 100, got " + show(value));
        return null;
      }
      f.percentage = value.num;
      hasPercentage = true;
    } else if (key == "abort") {
      const a = parseAbort(value, where, diag);
      if (a === null) return null;
      f.abort = a;
    } else if (key == "delay") {
      if (!value.isObject()) {
        diag.error(where, "fault.delay", "must be an object with fixed_delay_ms, got " + show(value));
        return null;
      }
      for (let d = 0; d < value.keys.length; d++) {
        const dk = unchecked(value.keys[d]);
        if (dk != "fixed_delay_ms") {
          diag.error(where, "fault.delay." + dk, "unknown field (expected fixed_delay_ms)");
          return null;
        }
      }
      const ms = value.get("fixed_delay_ms");
      const delay = milliseconds(ms, where, "fault.delay.fixed_delay_ms", limits, diag);
      if (delay < 0) return null;
      f.delayMs = delay;
    } else if (key == "start_delay_ms") {
      const delay = milliseconds(value, where, "fault.start_delay_ms", limits, diag);
      if (delay < 0) return null;
      f.startDelayMs = delay;
    } else if (key == "duration_seconds") {
      if (!isNonNegativeInteger(value)) {
        diag.error(where, "fault.duration_seconds", "must be a whole number of seconds >= 0, got " + show(value));
        return null;
      }
      f.durationSeconds = <i64>value.num;
    } else if (key == "sampling") {
      if (!parseSampling(value, f, where, slots, diag)) return null;
    } else {
      diag.error(where, "fault." + key, "unknown field (expected percentage, abort, delay, start_delay_ms, duration_seconds, sampling)");
      return null;
    }
  }
  if (!hasPercentage) {
    diag.error(where, "fault.percentage", "is required (0 to 100)");
    return null;
  }
  if (f.abort === null && !v.has("delay")) {
    diag.error(where, "fault", "needs an abort, a delay, or both; got " + show(v));
    return null;
  }
  return f;
}

function parseAbort(v: JsonValue, where: string, diag: Diagnostics): Abort | null {
  if (!v.isObject()) {
    diag.error(where, "fault.abort", "must be an object with httpStatus, got " + show(v));
    return null;
  }
  let httpStatus: i32 = 0;
  let grpcStatus: i32 = NO_GRPC_STATUS;
  let body = "";
  for (let k = 0; k < v.keys.length; k++) {
    const key = unchecked(v.keys[k]);
    const value = unchecked(v.values[k]);
    if (key == "httpStatus") {
      if (!value.isNumber() || !value.isInteger || value.num < 200 || value.num > 599) {
        diag.error(where, "fault.abort.httpStatus", "must be an HTTP status from 200 to 599, got " + show(value));
        return null;
      }
      httpStatus = <i32>value.num;
    } else if (key == "grpcStatus") {
      if (!value.isNumber() || !value.isInteger || value.num < 0 || value.num > 16) {
        diag.error(where, "fault.abort.grpcStatus", "must be a gRPC status code from 0 to 16, got " + show(value));
        return null;
      }
      grpcStatus = <i32>value.num;
    } else if (key == "body") {
      if (!value.isString()) {
        diag.error(where, "fault.abort.body", "must be a string, got " + show(value));
        return null;
      }
      body = value.str;
    } else {
      diag.error(where, "fault.abort." + key, "unknown field (expected httpStatus, grpcStatus, body)");
      return null;
    }
  }
  if (httpStatus == 0 && grpcStatus == NO_GRPC_STATUS) {
    diag.error(where, "fault.abort.httpStatus", "is required (or grpcStatus for gRPC-only aborts)");
    return null;
  }
  return new Abort(httpStatus, grpcStatus, body);
}

function parseSampling(v: JsonValue, f: Fault, where: string, slots: HeaderSlots, diag: Diagnostics): bool {
  if (!v.isObject()) {
    diag.error(where, "fault.sampling", 'must be an object like {"header": "x-request-id"}, got ' + show(v));
    return false;
  }
  for (let k = 0; k < v.keys.length; k++) {
    const key = unchecked(v.keys[k]);
    if (key != "header") {
      diag.error(where, "fault.sampling." + key, "unknown field (expected header)");
      return false;
    }
  }
  const h = v.get("header");
  if (h === null || !h.isString() || h.str.length == 0) {
    diag.error(where, "fault.sampling.header", "must be a non-empty header name, got " + show(h));
    return false;
  }
  f.samplingHeader = asciiLower(h.str);
  f.samplingSlot = slots.slotOf(f.samplingHeader);
  return true;
}

/** A delay in ms: whole number >= 0, clamped to the limit with a warning. -1 on error. */
function milliseconds(v: JsonValue | null, where: string, field: string, limits: ParseLimits, diag: Diagnostics): i64 {
  if (v === null || !isNonNegativeInteger(v)) {
    diag.error(where, field, "must be a whole number of milliseconds >= 0, got " + show(v));
    return -1;
  }
  const value = v.num;
  if (value > <f64>limits.maxDelayMs) {
    diag.warn(where, field, (<i64>value).toString() + " ms is above max_delay_ms; clamped to " + limits.maxDelayMs.toString() + " ms");
    return limits.maxDelayMs;
  }
  return <i64>value;
}

function isNonNegativeInteger(v: JsonValue): bool {
  return v.isNumber() && v.isInteger && v.num >= 0 && v.num <= 9007199254740991.0;
}
