// `fault.delay`: exactly one form. `fixed_delay_ms` keeps its meaning (a whole
// number of ms, clamped to max_delay_ms with a warning); the other forms become a
// DelayDistribution (distributions/delay.ts) drawn per faulted request, every draw clamped to
// max_delay_ms.
import { JsonValue } from "../json/index";
import { DelayResult, lognormalDelay, normalDelay, percentilesDelay, uniformDelay } from "../distributions/delay";
import { Fault } from "../model/policy";
import { allOf, anyOf, Diagnostics, show, unknownField } from "./diagnostics";
import { milliseconds, ParseLimits } from "./limits";

const FORM_FIELDS: string[] = ["fixed_delay_ms", "uniform", "normal", "lognormal", "percentiles"];
/** The two numbers of uniform, normal, lognormal (in FORM_FIELDS order, from index 1). */
const PARAMS: string[] = ["min_ms", "max_ms", "mean_ms", "stddev_ms", "median_ms", "p99_ms"];

function formIndex(key: string): i32 {
  if (key == "fixed_delay_ms") return 0;
  if (key == "uniform") return 1;
  if (key == "normal") return 2;
  if (key == "lognormal") return 3;
  return key == "percentiles" ? 4 : -1;
}

function refuse(diag: Diagnostics, where: string, field: string, problem: string): bool {
  diag.error(where, field, problem);
  return false;
}

/** Parses `fault.delay` into `f`; false (with an error in `diag`) when it is refused. */
export function parseDelay(v: JsonValue, f: Fault, where: string, limits: ParseLimits, diag: Diagnostics): bool {
  const n = v.isObject() ? v.length : 0;
  for (let k = 0; k < n; k++) {
    const key = v.keyAt(k);
    if (formIndex(key) < 0) {
      unknownField(diag, where, "fault.delay." + key, key, FORM_FIELDS, "one of " + anyOf(FORM_FIELDS));
      return false;
    }
  }
  if (n != 1) return refuse(diag, where, "fault.delay", "needs exactly one of " + anyOf(FORM_FIELDS) + "; got " + show(v));
  const form = formIndex(v.keyAt(0));
  const value = v.valueAt(0);
  if (value === null) return false; // n == 1: never
  const field = "fault.delay." + v.keyAt(0);
  if (form == 0) {
    const ms = milliseconds(value, where, field, limits, diag);
    f.delayMs = ms;
    return ms >= 0;
  }
  const cap = limits.maxDelayMs;
  let r: DelayResult;
  let top: f64; // the form's largest intended delay, for the clamp warning
  if (form == 4) {
    const count = value.isArray() ? value.length : 0;
    if (count == 0) return refuse(diag, where, field, "needs {p, ms} points, got " + show(value));
    const ps: f64[] = [];
    const ms: f64[] = [];
    for (let i = 0; i < count; i++) {
      const point = unchecked(value.items[i]);
      if (!pair(point, "p", "ms", field + "[" + i.toString() + "]", where, diag)) return false;
      ps.push(num(point, "p"));
      ms.push(num(point, "ms"));
    }
    r = percentilesDelay(ps, ms, cap);
    top = unchecked(ms[count - 1]);
  } else {
    const a = unchecked(PARAMS[form * 2 - 2]);
    const b = unchecked(PARAMS[form * 2 - 1]);
    if (!pair(value, a, b, field, where, diag)) return false;
    const x = num(value, a);
    const y = num(value, b);
    r = form == 1 ? uniformDelay(x, y, cap) : form == 2 ? normalDelay(x, y, cap) : lognormalDelay(x, y, cap);
    top = form == 2 ? x : y;
  }
  const d = r.delay;
  if (d === null) {
    diag.errors.push(where + ": " + r.error);
    return false;
  }
  if (cap <= 0) d.capMs = 0; // max_delay_ms 0: no delay at all, as fixed_delay_ms is clamped to 0
  if (top > <f64>cap) diag.warn(where, field, "delays above max_delay_ms " + cap.toString() + " are clamped to it");
  f.delay = d;
  return true;
}

/** `{a: number, b: number}` and nothing else. */
function pair(v: JsonValue, a: string, b: string, field: string, where: string, diag: Diagnostics): bool {
  if (!v.isObject()) return refuse(diag, where, field, "must be an object with " + a + " and " + b + ", got " + show(v));
  for (let k = 0; k < v.length; k++) {
    const key = v.keyAt(k);
    if (key != a && key != b) {
      unknownField(diag, where, field + "." + key, key, [a, b], allOf([a, b]));
      return false;
    }
  }
  const bad = isNumber(v, a) ? isNumber(v, b) ? "" : b : a;
  return bad.length == 0 || refuse(diag, where, field + "." + bad, "must be a number, got " + show(v.get(bad)));
}

function isNumber(v: JsonValue, key: string): bool {
  const x = v.get(key);
  return x !== null && x.isNumber();
}

/** A member `pair` has checked to be a number. */
function num(v: JsonValue, key: string): f64 {
  const x = v.get(key);
  return x === null ? 0 : x.num;
}
