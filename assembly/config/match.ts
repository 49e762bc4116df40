// The `match` of a rule (and each entry of `spec.exclude` and the global `exclude`): method,
// path and header conditions, each a string match compiled once.
import { JsonValue } from "../json/index";
import { HeaderSlots } from "../match/request";
import { HeaderMatch, Match, StringMatch, StringMatchKind } from "../model/policy";
import { compileRegex } from "../regex/index";
import { asciiLower } from "../util/ascii";
import { anyOf, Diagnostics, isBool, show, unknownField } from "./diagnostics";
import { HEADER_MATCH_FIELDS, MATCH_FIELDS, STRING_MATCH_FIELDS } from "./fields";
import {
  MAX_CONDITIONS_PER_RULE, MAX_HEADER_NAME_BYTES, MAX_HEADER_NAMES, MAX_LITERAL_BYTES, MAX_PATTERN_BYTES, MAX_REGEX_BYTES, MAX_REGEXES,
  MAX_REGEXES_PER_INPUT,
  ParseLimits, reportTooLong, tooMany,
} from "./limits";

const STRING_MATCH_KEYS: string[] = ["exact", "prefix", "suffix", "contains", "regex"];

export function parseMatch(v: JsonValue | null, where: string, slots: HeaderSlots, limits: ParseLimits, diag: Diagnostics, field: string = "match"): Match | null {
  if (v === null || !v.isObject()) {
    diag.error(where, field, "must be an object (use {} to match every request), got " + show(v));
    return null;
  }
  const m = new Match();
  for (let k = 0; k < v.keys.length; k++) {
    const key = unchecked(v.keys[k]);
    const value = unchecked(v.values[k]);
    if (key == "method") {
      const s = parseStringMatch(value, where, field + ".method", INPUT_METHOD, "the method", limits, diag);
      if (s === null) return null;
      m.method = s;
    } else if (key == "path") {
      const s = parseStringMatch(value, where, field + ".path", INPUT_PATH, "the path", limits, diag);
      if (s === null) return null;
      m.path = s;
    } else if (key == "headers") {
      if (!value.isArray()) {
        diag.error(where, field + ".headers", "must be an array, got " + show(value));
        return null;
      }
      if (value.items.length > MAX_CONDITIONS_PER_RULE) {
        diag.error(where, "match.headers", tooMany(value.items.length, "header conditions", MAX_CONDITIONS_PER_RULE));
        return null;
      }
      const headers: HeaderMatch[] = [];
      for (let i = 0; i < value.items.length; i++) {
        const h = parseHeaderMatch(unchecked(value.items[i]), where, field + ".headers[" + i.toString() + "]", slots, limits, diag);
        if (h === null) return null;
        headers.push(h);
      }
      m.headers = headers;
    } else {
      unknownField(diag, where, field + "." + key, key, MATCH_FIELDS, anyOf(MATCH_FIELDS));
      return null;
    }
  }
  return m;
}

/** `{exact|prefix|suffix|contains|regex: string}`, exactly one. Headers also allow `present`. */
/** Which input a condition reads, for the per-input regex limit: the method, the path, or a
 * header by its slot (HEADER_INPUT + slot). */
const INPUT_METHOD: i32 = 0;
const INPUT_PATH: i32 = 1;
const HEADER_INPUT: i32 = 2;

function parseStringMatch(v: JsonValue, where: string, field: string, input: i32, inputName: string, limits: ParseLimits, diag: Diagnostics): StringMatch | null {
  const isHeader = input >= HEADER_INPUT;
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
      if (!isBool(value, where, field + ".present", diag)) return null;
      count++;
      found = new StringMatch(value.bool ? StringMatchKind.Present : StringMatchKind.Absent, "", null);
      continue;
    }
    const kind = stringMatchKind(key);
    if (kind < 0) {
      const expected = isHeader ? unchecked(HEADER_MATCH_FIELDS[0]) + " and one of " + anyOf(HEADER_MATCH_FIELDS.slice(1)) : "one of " + anyOf(STRING_MATCH_FIELDS);
      unknownField(diag, where, field + "." + key, key, isHeader ? HEADER_MATCH_FIELDS : STRING_MATCH_FIELDS, expected);
      return null;
    }
    if (!value.isString()) {
      diag.error(where, field + "." + key, "must be a string, got " + show(value));
      return null;
    }
    count++;
    const limit = kind == StringMatchKind.Regex ? MAX_PATTERN_BYTES : MAX_LITERAL_BYTES;
    if (reportTooLong(diag, where, field + "." + key, value, limit)) return null;
    if (kind == StringMatchKind.Regex) {
      if (++limits.regexCount > MAX_REGEXES) {
        diag.refuse(where, field + ".regex", "the document has more than " + MAX_REGEXES.toString() + " regex conditions (the limit)");
        return null;
      }
      if (limits.countRegexOn(input) > MAX_REGEXES_PER_INPUT) {
        diag.refuse(where, field + ".regex", "the document has more than " + MAX_REGEXES_PER_INPUT.toString() + " regex conditions on " + inputName +
          " (MAX_REGEXES_PER_INPUT: a request may be scanned by each of them)");
        return null;
      }
      limits.regexBytes += String.UTF8.byteLength(value.str);
      if (limits.regexBytes > MAX_REGEX_BYTES) {
        diag.refuse(where, field + ".regex", "the document's regex patterns are more than " + MAX_REGEX_BYTES.toString() + " bytes in all (the limit)");
        return null;
      }
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

function parseHeaderMatch(v: JsonValue, where: string, field: string, slots: HeaderSlots, limits: ParseLimits, diag: Diagnostics): HeaderMatch | null {
  if (!v.isObject()) {
    diag.error(where, field, "must be an object with name and a condition, got " + show(v));
    return null;
  }
  const name = v.get("name");
  if (name === null || !name.isString() || name.str.length == 0) {
    diag.error(where, field + ".name", "must be a non-empty header name, got " + show(name));
    return null;
  }
  const slot = headerSlot(name, slots, where, field + ".name", diag);
  if (slot < 0) return null;
  const m = parseStringMatch(v, where, field, HEADER_INPUT + slot, 'header "' + asciiLower(name.str) + '"', limits, diag);
  if (m === null) return null;
  return new HeaderMatch(slot, m);
}

/** The slot of a header name (checked against the limits); -1 after reporting a problem. */
export function headerSlot(name: JsonValue, slots: HeaderSlots, where: string, field: string, diag: Diagnostics): i32 {
  if (reportTooLong(diag, where, field, name, MAX_HEADER_NAME_BYTES)) return -1;
  const slot = slots.slotOf(asciiLower(name.str));
  if (slot < 0) diag.refuse(where, field, "the document names more than " + MAX_HEADER_NAMES.toString() + " distinct headers (the limit)");
  return slot;
}
