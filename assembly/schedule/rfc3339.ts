// RFC 3339 timestamps (section 5.6) to milliseconds since the Unix epoch, strictly:
//   full-date "T" full-time, e.g. 2026-12-01T14:00:00Z, 2026-12-01T16:00:00.250+02:00
//   - 4-digit year 0000-9999, month 01-12, day 01 to the month's length (February 29 only in
//     leap years: divisible by 4, not by 100 unless by 400);
//   - hour 00-23, minute 00-59, second 00-59, or 60 for a leap second (below);
//   - optional fraction: "." and 1 or more digits; milliseconds are kept, further digits are
//     checked and dropped (truncation, never rounding into the next second);
//   - offset "Z" or "+hh:mm" / "-hh:mm" (hh 00-23, mm 00-59); "-00:00" is UTC as well;
//   - "T" and "Z" may be lower case (RFC 3339 5.6 NOTE); a space instead of "T" (allowed by the
//     RFC's note for readability) is refused, as is anything before or after the timestamp.
// Leap seconds: second 60 is accepted only where RFC 3339 5.7 allows one, at 23:59:60 UTC
// (after applying the offset). Epoch milliseconds have no leap seconds, so it maps to
// 23:59:59.999 of that day: still before the next day's midnight, so windows keep their order.
// Errors name the field and the value: `spec.schedule.not_before: "2026-13-01T00:00:00Z": month
// 13 is not in 01-12`. Parsing runs at configuration time only; it reads characters in place
// (no substring, no split) and allocates only the message of an error.

export class ParsedTime {
  constructor(public ms: i64, public error: string) {}
  get ok(): bool { return this.error.length == 0; }
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function daysFromCivil(year: i64, month: i64, day: i64): i64 {
  const y = month <= 2 ? year - 1 : year;
  const era = (y >= 0 ? y : y - 399) / 400;
  const yoe = y - era * 400;
  const mp = month > 2 ? month - 3 : month + 9;
  const doy = (153 * mp + 2) / 5 + day - 1;
  const doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

export function isLeapYear(y: i32): bool {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

export function daysInMonth(y: i32, m: i32): i32 {
  if (m == 2) return isLeapYear(y) ? 29 : 28;
  return m == 4 || m == 6 || m == 9 || m == 11 ? 30 : 31;
}

/** The number of `n` digits at `at`, or -1 when any of them is not a digit. */
function digits(s: string, at: i32, n: i32): i32 {
  if (at + n > s.length) return -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(at + i);
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
}

function expectChar(s: string, at: i32, c: i32): bool {
  return at < s.length && s.charCodeAt(at) == c;
}

// One message for every malformed shape (each hint cost ~100 bytes of UTF-16 in the module).
const SHAPE = "is not an RFC 3339 time like 2026-12-01T14:00:00Z";

function fail(field: string, value: string, why: string): ParsedTime {
  return new ParsedTime(0, field + ": \"" + value + "\": " + why);
}

/** `field` is the configuration path used in errors, e.g. "spec.schedule.not_before". */
export function parseRfc3339(field: string, s: string): ParsedTime {
  const year = digits(s, 0, 4);
  if (year < 0 || !expectChar(s, 4, 45)) return fail(field, s, SHAPE);
  const month = digits(s, 5, 2);
  if (month < 0 || !expectChar(s, 7, 45)) return fail(field, s, SHAPE);
  const day = digits(s, 8, 2);
  if (day < 0) return fail(field, s, SHAPE);
  if (month < 1 || month > 12) return fail(field, s, "month " + pad2(month) + " is not in 01-12");
  const dim = daysInMonth(year, month);
  if (day < 1 || day > dim) {
    return fail(field, s, "day " + pad2(day) + " is not in 01-" + dim.toString() + " for " + year.toString() + "-" + pad2(month));
  }
  const t = s.length > 10 ? s.charCodeAt(10) : -1;
  if (t != 84 && t != 116) return fail(field, s, SHAPE);
  const hour = digits(s, 11, 2);
  const minute = expectChar(s, 13, 58) ? digits(s, 14, 2) : -1;
  const second = expectChar(s, 16, 58) ? digits(s, 17, 2) : -1;
  if (hour < 0 || minute < 0 || second < 0) return fail(field, s, SHAPE);
  if (hour > 23) return fail(field, s, "hour " + pad2(hour) + " is not in 00-23");
  if (minute > 59) return fail(field, s, "minute " + pad2(minute) + " is not in 00-59");
  if (second > 60) return fail(field, s, "second " + pad2(second) + " is not in 00-60");
  let at = 19;
  let millis = 0;
  if (expectChar(s, at, 46)) {
    at++;
    const start = at;
    while (at < s.length) {
      const c = s.charCodeAt(at);
      if (c < 48 || c > 57) break;
      if (at - start < 3) millis = millis * 10 + (c - 48);
      at++;
    }
    if (at == start) return fail(field, s, SHAPE);
    for (let k = at - start; k < 3; k++) millis *= 10;
  }
  let offsetMinutes = 0;
  const z = at < s.length ? s.charCodeAt(at) : -1;
  if (z == 90 || z == 122) {
    at++;
  } else if (z == 43 || z == 45) {
    const oh = digits(s, at + 1, 2);
    const om = expectChar(s, at + 3, 58) ? digits(s, at + 4, 2) : -1;
    if (oh < 0 || om < 0) return fail(field, s, SHAPE);
    if (oh > 23) return fail(field, s, "offset hour " + pad2(oh) + " is not in 00-23");
    if (om > 59) return fail(field, s, "offset minute " + pad2(om) + " is not in 00-59");
    offsetMinutes = (oh * 60 + om) * (z == 45 ? -1 : 1);
    at += 6;
  } else {
    return fail(field, s, SHAPE);
  }
  if (at != s.length) return fail(field, s, SHAPE);
  const localMinutes = <i64>hour * 60 + <i64>minute;
  let utcMs = (daysFromCivil(year, month, day) * 1440 + localMinutes - <i64>offsetMinutes) * 60000;
  if (second == 60) {
    const minuteOfDay = ((utcMs / 60000) % 1440 + 1440) % 1440;
    if (minuteOfDay != 1439) {
      return fail(field, s, "second 60 (a leap second) is only valid at 23:59:60 UTC");
    }
    return new ParsedTime(utcMs + 59999, "");
  }
  return new ParsedTime(utcMs + <i64>second * 1000 + <i64>millis, "");
}

function pad2(v: i32): string {
  return v < 10 ? "0" + v.toString() : v.toString();
}

/** Epoch milliseconds as "YYYY-MM-DDThh:mm:ss.sssZ" (for log lines; allocates). */
export function formatUtc(ms: i64): string {
  let days = ms / 86400000;
  let rem = ms % 86400000;
  if (rem < 0) { rem += 86400000; days--; }
  // H. Hinnant's civil_from_days
  const z = days + 719468;
  const era = (z >= 0 ? z : z - 146096) / 146097;
  const doe = z - era * 146097;
  const yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const mp = (5 * doy + 2) / 153;
  const d = doy - (153 * mp + 2) / 5 + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const msPart = <i32>(rem % 1000);
  const secs = <i32>(rem / 1000);
  return y.toString().padStart(4, "0") + "-" + pad2(<i32>m) + "-" + pad2(<i32>d) + "T" +
    pad2(secs / 3600) + ":" + pad2((secs / 60) % 60) + ":" + pad2(secs % 60) + "." +
    msPart.toString().padStart(3, "0") + "Z";
}
