// Turns the JSON policy list (plugin configuration or control-plane body) into the policy
// model. Strict: every field is checked, every problem is reported with where it is, and a
// policy with any problem is refused while the rest of the set still applies.
import { JsonValue } from "../json/index";
import { compileRegex } from "../regex/index";
import { asciiLower } from "../util/ascii";
import { HeaderSlots } from "../match/request";
import { Abort, Fault, HeaderMatch, Match, NO_GRPC_STATUS, Policy, Rule, Selector, StringMatch, StringMatchKind } from "../model/policy";
import { allOf, anyOf, Diagnostics, policyWhere, ruleWhere, show, unknownField } from "./diagnostics";
import {
  ABORT_FIELDS, FAULT_FIELDS, HEADER_MATCH_FIELDS, MATCH_FIELDS, RULE_FIELDS, SAMPLING_FIELDS, SELECTOR_FIELDS, SPEC_FIELDS,
  STRING_MATCH_FIELDS,
} from "./fields";
import {
  MAX_ABORT_BODY_BYTES, MAX_CONDITIONS_PER_RULE, MAX_HEADER_NAME_BYTES, MAX_HEADER_NAMES, MAX_LITERAL_BYTES,
  MAX_PATTERN_BYTES, MAX_POLICIES, MAX_POLICY_NAME_BYTES, MAX_REGEX_BYTES, MAX_REGEXES, MAX_RULES,
  MAX_RULES_PER_POLICY, MAX_SELECTOR_BYTES,
  isNonNegativeInteger, milliseconds, ParseLimits, reportTooLong, tooMany,
} from "./limits";
import { headerSlot, parseMatch } from "./match";
import { isDuplicate, markDryRun, parseMode } from "./mode";
import { checkFaultKinds, parseAbortExtras, parseExclusions, parseResetOrResponse } from "./faults";
import { parseDelay } from "./delay";
import { keyBudgets, parseBudgetOrHeaders } from "./fault-extras";
import { withSafety } from "./rails";
import { parseDestination, parseDirection } from "./scope";
import { Direction } from "../model/scope";



/**
 * Parses `[Policy, ...]`. Policies keep their order; broken rules are dropped. A list over a
 * count limit (policies, rules, distinct header names) sets `diag.refused` and yields nothing:
 * the caller refuses the whole document.
 */
/** The label the policies past max_labelled_policies share (observe/policy-metrics.ts). */
export const RESERVED_LABEL = "_other";

export function parsePolicies(list: JsonValue, slots: HeaderSlots, limits: ParseLimits, diag: Diagnostics): Policy[] {
  const policies: Policy[] = [];
  if (!list.isArray()) {
    diag.error("configuration", "policies", "must be an array of policies, got " + show(list));
    return policies;
  }
  const items = list.items;
  if (items.length > MAX_POLICIES) {
    diag.refuse("configuration", "policies", tooMany(items.length, "policies", MAX_POLICIES));
    return policies;
  }
  const totalRules = countRules(items);
  if (totalRules > MAX_RULES) {
    diag.refuse("configuration", "policies", tooMany(totalRules, "rules in all", MAX_RULES));
    return policies;
  }
  const names = new Map<string, i32>(); // a string set (one map type in the module)
  for (let i = 0; i < items.length; i++) {
    const p = parsePolicy(unchecked(items[i]), i, slots, limits, diag);
    if (diag.refused.length > 0) return [];
    if (p !== null && !isDuplicate(p.name, i, names, items, diag)) policies.push(p);
  }
  return policies;
}

/** Rules listed in all policies, counted before any is parsed. */
function countRules(items: JsonValue[]): i32 {
  let total = 0;
  for (let i = 0; i < items.length; i++) {
    const spec = unchecked(items[i]).get("spec");
    if (spec === null) continue;
    const rules = spec.get("rules");
    if (rules !== null && rules.isArray()) total += rules.items.length;
  }
  return total;
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
  if (reportTooLong(diag, anonymous, "metadata.name", nameValue, MAX_POLICY_NAME_BYTES)) return null;
  // A name goes into reply headers, logs and the /policies table: a control character (CR, LF)
  // would split or forge a line there.
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20 || c == 0x7f) {
      diag.error(anonymous, "metadata.name", "must not contain control characters (such as CR or LF), got " + show(nameValue));
      return null;
    }
  }
  if (name == RESERVED_LABEL) {
    diag.error(anonymous, "metadata.name", '"' + RESERVED_LABEL + '" is reserved: it labels the policies past max_labelled_policies');
    return null;
  }
  const where = policyWhere(name);

  const spec = v.get("spec");
  if (spec === null || !spec.isObject()) {
    diag.error(where, "spec", "must be an object, got " + show(spec));
    return null;
  }
  for (let k = 0; k < spec.keys.length; k++) {
    const key = unchecked(spec.keys[k]);
    if (!SPEC_FIELDS.includes(key)) {
      unknownField(diag, where, "spec." + key, key, SPEC_FIELDS, anyOf(SPEC_FIELDS));
      return null;
    }
  }

  const selector = parseSelector(spec.get("selector"), where, diag);
  if (selector === null) return null;
  const mode = parseMode(spec.get("mode"), where, "spec.mode", diag);
  if (mode < 0) return null;
  const direction = parseDirection(spec.get("direction"), where, diag);
  if (direction < 0) return null;
  const destination = parseDestination(spec.get("destination"), where, diag);
  if (!destination.ok) return null;

  const rulesValue = spec.get("rules");
  if (rulesValue === null || !rulesValue.isArray() || rulesValue.items.length == 0) {
    diag.error(where, "spec.rules", "must be a non-empty array of rules, got " + show(rulesValue));
    return null;
  }
  const items = rulesValue.items;
  if (items.length > MAX_RULES_PER_POLICY) {
    diag.error(where, "spec.rules", tooMany(items.length, "rules", MAX_RULES_PER_POLICY));
    return null;
  }
  const rules: Rule[] = [];
  for (let i = 0; i < items.length; i++) {
    const rule = parseRule(unchecked(items[i]), name, i, slots, limits, diag);
    if (rule !== null) rules.push(rule);
  }
  // A broken rule refuses its whole policy: the rest alone is not what the author asked for.
  if (rules.length < items.length) return null;
  markDryRun(rules, mode);
  for (let i = 0; i < rules.length; i++) {
    const rule = unchecked(rules[i]);
    rule.direction = <Direction>direction;
    rule.destination = destination.destination;
  }
  if (spec.has("exclude") && !parseExclusions(spec.get("exclude"), where, rules, slots, diag)) return null;
  // Same name and same content (in any member order) = same policy, same expiry clock.
  const policy = withSafety(new Policy(name, v.contentHash(), selector, rules), spec, where, diag);
  if (policy !== null) keyBudgets(policy);
  return policy;
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
      unknownField(diag, where, "spec.selector." + key, key, SELECTOR_FIELDS, anyOf(SELECTOR_FIELDS));
      return null;
    }
    if (!value.isString()) {
      diag.error(where, "spec.selector." + key, "must be a string, got " + show(value));
      return null;
    }
    if (reportTooLong(diag, where, "spec.selector." + key, value, MAX_SELECTOR_BYTES)) return null;
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
      unknownField(diag, where, key, key, RULE_FIELDS, allOf(RULE_FIELDS));
      return null;
    }
  }
  const match = parseMatch(v.get("match"), where, slots, limits, diag);
  if (match === null) return null;
  const fault = parseFault(v.get("fault"), where, slots, limits, diag);
  if (fault === null) return null;
  return new Rule(policyName, index, match, fault);
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
      if (!parseDelay(value, f, where, limits, diag)) return null;
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
    } else if (key == "reset" || key == "response") {
      if (!parseResetOrResponse(key, value, f, where, limits, diag)) return null;
    } else if (key == "max_injections" || key == "from_headers") {
      if (!parseBudgetOrHeaders(key, value, f, where, diag)) return null;
    } else {
      unknownField(diag, where, "fault." + key, key, FAULT_FIELDS, anyOf(FAULT_FIELDS));
      return null;
    }
  }
  if (!hasPercentage) {
    diag.error(where, "fault.percentage", "is required (0 to 100)");
    return null;
  }
  return checkFaultKinds(v, f, where, diag) ? f : null;
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
      // 0 is OK: an abort that says the call succeeded injects no fault at all.
      if (!value.isNumber() || !value.isInteger || value.num < 1 || value.num > 16) {
        diag.error(where, "fault.abort.grpcStatus", "must be a gRPC error status from 1 to 16 (0 is OK, not a fault), got " + show(value));
        return null;
      }
      grpcStatus = <i32>value.num;
    } else if (key == "body") {
      if (!value.isString()) {
        diag.error(where, "fault.abort.body", "must be a string, got " + show(value));
        return null;
      }
      if (reportTooLong(diag, where, "fault.abort.body", value, MAX_ABORT_BODY_BYTES)) return null;
      body = value.str;
    } else if (key != "headers" && key != "grpcMessage") {
      unknownField(diag, where, "fault.abort." + key, key, ABORT_FIELDS, anyOf(ABORT_FIELDS));
      return null;
    }
  }
  if (httpStatus == 0 && grpcStatus == NO_GRPC_STATUS) {
    diag.error(where, "fault.abort.httpStatus", "is required (or grpcStatus for gRPC-only aborts)");
    return null;
  }
  const abort = new Abort(httpStatus, grpcStatus, body);
  return parseAbortExtras(v, abort, where, diag) ? abort : null;
}

function parseSampling(v: JsonValue, f: Fault, where: string, slots: HeaderSlots, diag: Diagnostics): bool {
  if (!v.isObject()) {
    diag.error(where, "fault.sampling", 'must be an object like {"header": "x-request-id"}, got ' + show(v));
    return false;
  }
  for (let k = 0; k < v.keys.length; k++) {
    const key = unchecked(v.keys[k]);
    if (key != "header") {
      unknownField(diag, where, "fault.sampling." + key, key, SAMPLING_FIELDS, anyOf(SAMPLING_FIELDS));
      return false;
    }
  }
  const h = v.get("header");
  if (h === null || !h.isString() || h.str.length == 0) {
    diag.error(where, "fault.sampling.header", "must be a non-empty header name, got " + show(h));
    return false;
  }
  const slot = headerSlot(h, slots, where, "fault.sampling.header", diag);
  if (slot < 0) return false;
  f.samplingHeader = asciiLower(h.str);
  f.samplingSlot = slot;
  return true;
}


