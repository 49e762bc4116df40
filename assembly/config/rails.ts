// `spec.guard` and `spec.schedule` of a policy: read here, validated by the pure modules
// (guard/guard.ts, schedule/window.ts), kept on the policy's rules as their Rails.
import { JsonValue } from "../json/index";
import { guardConfig, GuardConfig } from "../guard/guard";
import { scheduleWindow, ScheduleWindow } from "../schedule/window";
import { anyOf, Diagnostics, show, unknownField } from "./diagnostics";
import { Policy, Rails } from "../model/policy";

const GUARD_KEYS: string[] = ["max_error_rate", "min_requests", "window_seconds", "cooldown_seconds"];
const SCHEDULE_KEYS: string[] = ["not_before", "not_after"];

/** Gives the policy's rules their guard and schedule; null (the policy dropped) on an error. */
export function withSafety(policy: Policy, spec: JsonValue, where: string, diag: Diagnostics): Policy | null {
  const g = spec.get("guard");
  const s = spec.get("schedule");
  if (g === null && s === null) return policy;
  let guard: GuardConfig | null = null;
  let window: ScheduleWindow | null = null;
  if (g !== null) {
    guard = readGuard(g, where, diag);
    if (guard === null) return null;
  }
  if (s !== null) {
    window = readSchedule(s, where, diag);
    if (window === null) return null;
  }
  const rails = new Rails(policy.name, policy.identity, guard, window);
  for (let i = 0; i < policy.rules.length; i++) unchecked(policy.rules[i]).rails = rails;
  return policy;
}

function checkKeys(v: JsonValue, field: string, known: string[], where: string, diag: Diagnostics): bool {
  if (!v.isObject()) {
    diag.error(where, field, "must be an object, got " + show(v));
    return false;
  }
  for (let k = 0; k < v.keys.length; k++) {
    const key = unchecked(v.keys[k]);
    if (!known.includes(key)) {
      unknownField(diag, where, field + "." + key, key, known, anyOf(known));
      return false;
    }
  }
  return true;
}

function number(v: JsonValue, key: string, fallback: f64, where: string, diag: Diagnostics): f64 {
  const n = v.get(key);
  if (n === null) return fallback;
  if (!n.isNumber()) {
    diag.error(where, "spec.guard." + key, "must be a number, got " + show(n));
    return NaN;
  }
  return n.num;
}

function readGuard(v: JsonValue, where: string, diag: Diagnostics): GuardConfig | null {
  if (!checkKeys(v, "spec.guard", GUARD_KEYS, where, diag)) return null;
  if (v.get("max_error_rate") === null) {
    diag.error(where, "spec.guard.max_error_rate", "is required (0 to 1)");
    return null;
  }
  const before = diag.errors.length;
  const rate = number(v, "max_error_rate", 0, where, diag);
  const minRequests = number(v, "min_requests", 20, where, diag);
  const windowSeconds = number(v, "window_seconds", 30, where, diag);
  const cooldownSeconds = number(v, "cooldown_seconds", 300, where, diag);
  if (diag.errors.length > before) return null;
  const r = guardConfig(rate, minRequests, windowSeconds, cooldownSeconds);
  if (r.config === null) diag.errors.push(where + ": " + r.error);
  return r.config;
}

function readSchedule(v: JsonValue, where: string, diag: Diagnostics): ScheduleWindow | null {
  if (!checkKeys(v, "spec.schedule", SCHEDULE_KEYS, where, diag)) return null;
  const from = v.get("not_before");
  const to = v.get("not_after");
  if ((from !== null && !from.isString()) || (to !== null && !to.isString())) {
    diag.error(where, "spec.schedule", "must hold RFC 3339 strings, got " + show(v));
    return null;
  }
  const r = scheduleWindow(from === null ? null : from.str, to === null ? null : to.str);
  if (r.window === null) diag.errors.push(where + ": " + r.error);
  return r.window;
}
