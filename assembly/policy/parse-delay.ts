// `fault.delay` (issue 13 item 3): exactly one form. `fixed_delay_ms` keeps its meaning (a whole
// number of ms, clamped to max_delay_ms with a warning); the other forms become a
// DelayDistribution (distributions/delay.ts) drawn per faulted request, every draw clamped to
// max_delay_ms.
import { JsonValue } from "../json/index";
import {
  DelayResult, fixedDelay, lognormalDelay, normalDelay, percentilesDelay, uniformDelay,
} from "../distributions/delay";
import { Fault } from "./model";
import { Diagnostics, show } from "./diagnostics";
import { milliseconds, ParseLimits } from "./parse";

const FORMS = "fixed_delay_ms, uniform, normal, lognormal, percentiles";
const FORM_LIST: string[] = ["fixed_delay_ms", "uniform", "normal", "lognormal", "percentiles"];

/** Parses `fault.delay` into `f`; false (with an error in `diag`) when it is refused. */
export function parseDelay(v: JsonValue, f: Fault, where: string, limits: ParseLimits, diag: Diagnostics): bool {
  if (v.isObject()) {
    for (let k = 0; k < v.keys.length; k++) {
      const key = unchecked(v.keys[k]);
      if (!FORM_LIST.includes(key)) {
        diag.error(where, "fault.delay." + key, "unknown field (expected one of " + FORMS + ")");
        return false;
      }
    }
  }
  if (!v.isObject() || v.keys.length != 1) {
    diag.error(where, "fault.delay", "needs exactly one of " + FORMS + "; got " + show(v));
    return false;
  }
  const form = unchecked(v.keys[0]);
  const value = unchecked(v.values[0]);
  const field = "fault.delay." + form;
  if (form == "fixed_delay_ms") {
    const ms = milliseconds(value, where, field, limits, diag);
    if (ms < 0) return false;
    f.delayMs = ms;
    return true;
  }
  const cap = limits.maxDelayMs;
  let r: DelayResult;
  let top: f64 = 0; // the form's largest intended delay, for the clamp warning
  if (form == "percentiles") {
    if (!value.isArray() || value.items.length == 0) {
      diag.error(where, field, "must be a non-empty array of {p, ms}, got " + show(value));
      return false;
    }
    const ps: f64[] = [];
    const ms: f64[] = [];
    for (let i = 0; i < value.items.length; i++) {
      const point = unchecked(value.items[i]);
      const at = field + "[" + i.toString() + "]";
      if (!pair(point, "p", "ms", at, where, diag)) return false;
      ps.push(point.get("p")!.num);
      ms.push(point.get("ms")!.num);
    }
    r = percentilesDelay(ps, ms, cap);
    top = ms[ms.length - 1];
  } else {
    let a = "", b = "";
    if (form == "uniform") { a = "min_ms"; b = "max_ms"; }
    else if (form == "normal") { a = "mean_ms"; b = "stddev_ms"; }
    else { a = "median_ms"; b = "p99_ms"; }
    if (!pair(value, a, b, field, where, diag)) return false;
    const x = value.get(a)!.num;
    const y = value.get(b)!.num;
    if (form == "uniform") { r = uniformDelay(x, y, cap); top = y; }
    else if (form == "normal") { r = normalDelay(x, y, cap); top = x; }
    else { r = lognormalDelay(x, y, cap); top = y; }
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
  if (!v.isObject()) {
    diag.error(where, field, "must be an object with " + a + " and " + b + ", got " + show(v));
    return false;
  }
  for (let k = 0; k < v.keys.length; k++) {
    const key = unchecked(v.keys[k]);
    if (key != a && key != b) {
      diag.error(where, field + "." + key, "unknown field (expected " + a + " and " + b + ")");
      return false;
    }
  }
  const x = v.get(a);
  const y = v.get(b);
  const bad = x === null || !x.isNumber() ? a : y === null || !y.isNumber() ? b : "";
  if (bad.length > 0) {
    diag.error(where, field + "." + bad, "must be a number, got " + show(v.get(bad)));
    return false;
  }
  return true;
}
