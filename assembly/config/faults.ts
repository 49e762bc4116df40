// Parsing of the fault fields beyond the contract: abort headers and grpcMessage, reset, response
// faults and exclusions. Same strictness and messages as parse.ts, which calls in here.
import { JsonValue } from "../json/index";
import { asciiLower } from "../util/ascii";
import { HeaderSlots } from "../match/request";
import { ResponseFault } from "../model/response";
import { prepare } from "../response/decide";
import { Abort, Fault, Match, Rule } from "../model/policy";
import { anyOf, Diagnostics, isBool, show, unknownField } from "./diagnostics";
import { RESPONSE_FIELDS, RESPONSE_HEADER_FIELDS } from "./fields";
import { milliseconds, ParseLimits } from "./limits";
import { parseMatch } from "./match";

const MAX_HEADERS = 16;
const MAX_NAME = 100;
const MAX_VALUE = 4096;
const MAX_EXCLUSIONS = 32;

/**
 * Headers a fault may not set. Envoy strips the hop-by-hop ones from every response
 * (ConnectionManagerUtility::mutateResponseHeaders: connection, upgrade, transfer-encoding,
 * keep-alive, proxy-connection), te belongs to requests, and Envoy computes content-length.
 */
const REFUSED = ",connection,keep-alive,proxy-connection,transfer-encoding,upgrade,te,content-length,";
const VALUE_RULE = "must be a string of at most 4096 characters without CR, LF or NUL, got ";

/** RFC 9110 tchar: letters, digits and !#$%&'*+-.^_`|~ . */
function isTokenChar(c: i32): bool {
  if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57)) return true;
  // "!#$%&'*+-.^_`|~" as bits: bit c for c < 64, bit c - 64 above.
  return c > 32 && c < 127 && ((c < 64 ? (<u64>0x6cfa00000000 >> <u64>c) : (<u64>0x50000001c0000000 >> <u64>(c - 64))) & 1) != 0;
}

/** Why `name` cannot be set (or removed, `removal`) by a fault; "" when it can. */
function headerNameProblem(name: string, removal: bool): string {
  if (name.startsWith(":")) return "pseudo-headers cannot be changed";
  if (name.length == 0 || name.length > MAX_NAME) return "must be 1 to 100 characters";
  for (let i = 0; i < name.length; i++) {
    if (!isTokenChar(name.charCodeAt(i))) return "is not a header name (RFC 9110 token)";
  }
  if (!removal && REFUSED.includes("," + asciiLower(name) + ",")) return "is hop-by-hop or computed by Envoy";
  return "";
}

/** A header value: at most MAX_VALUE characters, no NUL, CR or LF (Envoy refuses them). */
function isHeaderValue(v: JsonValue): bool {
  if (!v.isString() || v.str.length > MAX_VALUE) return false;
  const s = v.str;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 0 || c == 10 || c == 13) return false;
  }
  return true;
}

/** A header name at `field`, lower-cased; null (with an error) when refused. */
function headerName(v: JsonValue | null, where: string, field: string, removal: bool, diag: Diagnostics): string | null {
  if (v === null || !v.isString()) {
    diag.error(where, field, "must be a header name, got " + show(v));
    return null;
  }
  const problem = headerNameProblem(v.str, removal);
  if (problem.length > 0) {
    diag.error(where, field, problem + ", got " + show(v));
    return null;
  }
  return asciiLower(v.str);
}

function tooMany(v: JsonValue, max: i32, where: string, field: string, what: string, diag: Diagnostics): bool {
  if (v.isArray() && v.items.length <= max) return false;
  diag.error(where, field, "must be an array of at most " + max.toString() + " " + what + ", got " + show(v));
  return true;
}

/** `[{name, value}, ...]` → alternating names and values; null on error. */
export function parseHeaderPairs(v: JsonValue, where: string, field: string, diag: Diagnostics): string[] | null {
  if (tooMany(v, MAX_HEADERS, where, field, "{name, value}", diag)) return null;
  const pairs: string[] = [];
  for (let i = 0; i < v.items.length; i++) {
    const item = unchecked(v.items[i]);
    const at = field + "[" + i.toString() + "]";
    if (!item.isObject() || item.keys.length != 2 || !item.has("name") || !item.has("value")) {
      diag.error(where, at, "must be {name, value}, got " + show(item));
      return null;
    }
    const name = headerName(item.get("name"), where, at + ".name", false, diag);
    if (name === null) return null;
    const value = item.get("value");
    if (value === null || !isHeaderValue(value)) {
      diag.error(where, at + ".value", VALUE_RULE + show(value));
      return null;
    }
    pairs.push(name);
    pairs.push(value.str);
  }
  return pairs;
}

/** `abort.headers` and `abort.grpcMessage` (parseAbort has checked the keys). */
export function parseAbortExtras(v: JsonValue, abort: Abort, where: string, diag: Diagnostics): bool {
  const headers = v.get("headers");
  if (headers !== null) {
    const pairs = parseHeaderPairs(headers, where, "fault.abort.headers", diag);
    if (pairs === null) return false;
    abort.headers = pairs;
  }
  const message = v.get("grpcMessage");
  if (message !== null) {
    if (!isHeaderValue(message)) {
      diag.error(where, "fault.abort.grpcMessage", VALUE_RULE + show(message));
      return false;
    }
    abort.grpcMessage = message.str;
  }
  return true;
}

/** `fault.reset` and `fault.response`. */
export function parseResetOrResponse(key: string, v: JsonValue, f: Fault, where: string, limits: ParseLimits, diag: Diagnostics): bool {
  if (key == "reset") {
    if (!isBool(v, where, "fault.reset", diag)) return false;
    f.reset = v.bool;
    return true;
  }
  const r = parseResponse(v, where, limits, diag);
  f.response = r;
  return r !== null;
}

function parseResponse(v: JsonValue, where: string, limits: ParseLimits, diag: Diagnostics): ResponseFault | null {
  const field = "fault.response";
  if (!v.isObject() || v.keys.length == 0) {
    diag.error(where, field, "must be an object with delay_ms, httpStatus, body or headers; got " + show(v));
    return null;
  }
  const r = new ResponseFault();
  for (let k = 0; k < v.keys.length; k++) {
    const key = unchecked(v.keys[k]);
    const value = unchecked(v.values[k]);
    const at = field + "." + key;
    if (key == "delay_ms") {
      const ms = milliseconds(value, where, at, limits, diag);
      if (ms < 0) return null;
      r.delayMs = ms;
    } else if (key == "httpStatus") {
      if (!value.isNumber() || !value.isInteger || value.num < 200 || value.num > 599) {
        diag.error(where, at, "must be an HTTP status from 200 to 599, got " + show(value));
        return null;
      }
      r.httpStatus = <i32>value.num;
    } else if (key == "body") {
      if (!value.isString()) {
        diag.error(where, at, "must be a string, got " + show(value));
        return null;
      }
      r.body = String.UTF8.encode(value.str);
    } else if (key == "headers") {
      if (!parseResponseHeaders(value, r, where, diag)) return null;
    } else {
      unknownField(diag, where, at, key, RESPONSE_FIELDS, anyOf(RESPONSE_FIELDS));
      return null;
    }
  }
  return prepare(r);
}

/** `{ add: [{name, value}], remove: [name] }`. */
function parseResponseHeaders(v: JsonValue, r: ResponseFault, where: string, diag: Diagnostics): bool {
  const field = "fault.response.headers";
  if (!v.isObject()) {
    diag.error(where, field, "must be an object with add and/or remove, got " + show(v));
    return false;
  }
  for (let k = 0; k < v.keys.length; k++) {
    const key = unchecked(v.keys[k]);
    const value = unchecked(v.values[k]);
    const at = field + "." + key;
    if (key == "add") {
      const pairs = parseHeaderPairs(value, where, at, diag);
      if (pairs === null) return false;
      r.add = pairs;
    } else if (key == "remove") {
      if (tooMany(value, MAX_HEADERS, where, at, "header names", diag)) return false;
      const names: string[] = [];
      for (let i = 0; i < value.items.length; i++) {
        const name = headerName(unchecked(value.items[i]), where, at + "[" + i.toString() + "]", true, diag);
        if (name === null) return false;
        names.push(name);
      }
      r.remove = names;
    } else {
      unknownField(diag, where, at, key, RESPONSE_HEADER_FIELDS, anyOf(RESPONSE_HEADER_FIELDS));
      return false;
    }
  }
  return true;
}

/** A fault does something, and nothing that contradicts itself. */
export function checkFaultKinds(v: JsonValue, f: Fault, where: string, diag: Diagnostics): bool {
  let kinds: i32 = f.reset ? 1 : 0;
  if (f.abort !== null) kinds++;
  if (f.response !== null) kinds++;
  if (kinds > 1) {
    diag.error(where, "fault", "abort, reset and response exclude each other; got " + show(v));
    return false;
  }
  if (f.abort === null && !v.has("delay") && !f.reset && f.response === null && !f.fromHeaders) {
    diag.error(where, "fault", "needs an abort, a delay, a reset or a response (or from_headers: true); got " + show(v));
    return false;
  }
  return true;
}

/** `spec.exclude`: shared by every rule of the policy. False (policy dropped) on error. */
export function parseExclusions(v: JsonValue | null, where: string, rules: Rule[], slots: HeaderSlots, diag: Diagnostics): bool {
  const list = parseMatchList(v, where, "spec.exclude", slots, diag);
  if (list === null) return false;
  for (let i = 0; i < rules.length; i++) unchecked(rules[i]).exclude = list;
  return true;
}

/** `[Match, ...]` (spec.exclude, or the global `exclude` setting); null on error. */
export function parseMatchList(v: JsonValue | null, where: string, field: string, slots: HeaderSlots, diag: Diagnostics): Match[] | null {
  if (v === null || tooMany(v, MAX_EXCLUSIONS, where, field, "matches", diag)) return null;
  const list: Match[] = [];
  // Exclusion lists are short (MAX_EXCLUSIONS): their own budget for literal and regex limits.
  const limits = new ParseLimits();
  for (let i = 0; i < v.items.length; i++) {
    const m = parseMatch(unchecked(v.items[i]), where, slots, limits, diag, field + "[" + i.toString() + "]");
    if (m === null) return null;
    list.push(m);
  }
  return list;
}
