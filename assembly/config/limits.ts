// How a value over one of the limits (model/limits.ts) is refused: messages that name the limit,
// the field and the value's size.
import { JsonValue } from "../json/index";
import { Diagnostics, show } from "./diagnostics";

export * from "../model/limits";

/** "is 5000 bytes long, over the 253-byte limit" */
export function tooLong(bytes: i64, limit: i32): string {
  return "is " + bytes.toString() + " bytes long, over the " + limit.toString() + "-byte limit";
}

/** "has 20000 policies, over the limit of 10000" */
export function tooMany(count: i32, what: string, limit: i32): string {
  return "has " + count.toString() + " " + what + ", over the limit of " + limit.toString();
}

/**
 * Reports `field` when the string `value` is longer than `limit` UTF-8 bytes (measured without
 * encoding it); true when it is. The message shows the size, the limit and the value's start.
 */
export function reportTooLong(diag: Diagnostics, where: string, field: string, value: JsonValue, limit: i32): bool {
  const size = String.UTF8.byteLength(value.str);
  if (size <= limit) return false;
  diag.error(where, field, tooLong(size, limit) + ": " + show(value));
  return true;
}

/** Settings that bound a parse, and what one document has used of the document-wide budgets
 * (a new ParseLimits per document). */
export class ParseLimits {
  /** Delays (and start delays) above this are clamped, with a warning. */
  maxDelayMs: i64 = 30000;
  regexCount: i32 = 0;
  regexBytes: i32 = 0;
  /** Regex conditions per input (method, path, each header slot), made when first needed. */
  private regexesOn: Map<i32, i32> | null = null;

  /** Counts one more regex condition on `input`; the count now. */
  countRegexOn(input: i32): i32 {
    let m = this.regexesOn;
    if (m === null) this.regexesOn = m = new Map<i32, i32>();
    const n = (m.has(input) ? m.get(input) : 0) + 1;
    m.set(input, n);
    return n;
  }
}

/** A delay in ms: whole number >= 0, clamped to the limit with a warning. -1 on error. */
export function milliseconds(v: JsonValue | null, where: string, field: string, limits: ParseLimits, diag: Diagnostics): i64 {
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

export function isNonNegativeInteger(v: JsonValue): bool {
  return v.isNumber() && v.isInteger && v.num >= 0 && v.num <= 9007199254740991.0;
}
