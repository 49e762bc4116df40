import { parseJsonString } from "../../assembly/json/index";
import { HeaderSlots, RequestAttributes } from "../../assembly/match/request";
import { firstMatchingRule, requestMatches, stringMatches } from "../../assembly/match/matcher";
import { Policy, Rule, StringMatch, StringMatchKind } from "../../assembly/model/policy";
import { Diagnostics } from "../../assembly/config/diagnostics";
import { ParseLimits } from "../../assembly/config/limits";
import { parsePolicies } from "../../assembly/config/policies";
import { compileRegex } from "../../assembly/regex/index";
import { ByteBuffer } from "../../assembly/util/bytes";
import { MAX_HEADER_NAMES } from "../../assembly/config/limits";
import { nameAt, since } from "./positions";

/** Strips the query string, as the host-backed request does (it stops reading :path at '?'). */
function pathWithoutQuery(rawPath: string): string {
  const q = rawPath.indexOf("?");
  return q < 0 ? rawPath : rawPath.substring(0, q);
}

/** A request held in memory; header names are looked up through the same slots as the rules. */
class FakeRequest extends RequestAttributes {
  headerNames: string[] = [];
  headerValues: string[] = [];
  constructor(public slots: HeaderSlots, public m: string | null, public p: string | null) {
    super();
  }
  with(name: string, value: string): FakeRequest {
    this.headerNames.push(name);
    this.headerValues.push(value);
    return this;
  }
  methodBytes(): ByteBuffer {
    return bytesOf(this.m);
  }
  pathBytes(): ByteBuffer {
    const p = this.p;
    return bytesOf(p === null ? null : pathWithoutQuery(p));
  }
  headerBytes(slot: i32): ByteBuffer {
    if (!this.slots.owns(slot)) return bytesOf(null);
    const name = this.slots.nameOf(slot);
    for (let i = 0; i < this.headerNames.length; i++) {
      if (this.headerNames[i] == name) return bytesOf(this.headerValues[i]);
    }
    return bytesOf(null);
  }
}

/** The UTF-8 bytes of `s` (absent for null). */
function bytesOf(s: string | null): ByteBuffer {
  const b = new ByteBuffer(0);
  if (s !== null) b.setString(s);
  return b;
}

/** Raw bytes, valid UTF-8 or not. */
function raw(bytes: i32[]): ByteBuffer {
  const b = new ByteBuffer(bytes.length);
  for (let i = 0; i < bytes.length; i++) store<u8>(changetype<usize>(b.data) + <usize>i, <u8>bytes[i]);
  b.length = bytes.length;
  return b;
}

function ascii(s: string): i32[] {
  const out: i32[] = [];
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i));
  return out;
}

function sm(m: StringMatch, value: string | null): bool {
  return stringMatches(m, bytesOf(value));
}

function matcher(kind: StringMatchKind, literal: string): StringMatch {
  return new StringMatch(kind, literal, kind == StringMatchKind.Regex ? compileRegex(literal).regex : null);
}

function rulesOf(json: string, slots: HeaderSlots): Rule[] {
  const parsed = parseJsonString(json);
  const diag = new Diagnostics();
  const policies: Policy[] = parsePolicies(parsed.value!, slots, new ParseLimits(), diag);
  expect(diag.errors.length).toBe(0, diag.errors.join("; "));
  const rules: Rule[] = [];
  for (let i = 0; i < policies.length; i++) {
    for (let r = 0; r < policies[i].rules.length; r++) rules.push(policies[i].rules[r]);
  }
  return rules;
}

function policy(name: string, match: string, fault: string = '{"percentage": 100, "abort": {"httpStatus": 503}}'): string {
  return '{"metadata": {"name": "' + name + '"}, "spec": {"rules": [{"match": ' + match + ', "fault": ' + fault + "}]}}";
}

describe("string conditions", () => {
  it("exact, prefix, suffix, contains", () => {
    expect(sm(new StringMatch(StringMatchKind.Exact, "/a", null), "/a")).toBe(true);
    expect(sm(new StringMatch(StringMatchKind.Exact, "/a", null), "/ab")).toBe(false);
    expect(sm(new StringMatch(StringMatchKind.Prefix, "/api/", null), "/api/v1")).toBe(true);
    expect(sm(new StringMatch(StringMatchKind.Prefix, "/api/", null), "/apix")).toBe(false);
    expect(sm(new StringMatch(StringMatchKind.Suffix, ".json", null), "/x.json")).toBe(true);
    expect(sm(new StringMatch(StringMatchKind.Suffix, ".json", null), "/x.jsonp")).toBe(false);
    expect(sm(new StringMatch(StringMatchKind.Contains, "beta", null), "v-beta-2")).toBe(true);
    expect(sm(new StringMatch(StringMatchKind.Contains, "beta", null), "v-alpha")).toBe(false);
  });

  it("regex searches anywhere unless anchored", () => {
    const loose = new StringMatch(StringMatchKind.Regex, "test-[0-9]+", compileRegex("test-[0-9]+").regex);
    const anchored = new StringMatch(StringMatchKind.Regex, "^test-[0-9]+$", compileRegex("^test-[0-9]+$").regex);
    expect(sm(loose, "user-test-42-x")).toBe(true);
    expect(sm(anchored, "user-test-42-x")).toBe(false);
    expect(sm(anchored, "test-42")).toBe(true);
  });

  it("an absent value matches nothing but `present: false`", () => {
    expect(sm(new StringMatch(StringMatchKind.Prefix, "", null), null)).toBe(false);
    expect(sm(new StringMatch(StringMatchKind.Present, "", null), null)).toBe(false);
    expect(sm(new StringMatch(StringMatchKind.Present, "", null), "")).toBe(true);
    expect(sm(new StringMatch(StringMatchKind.Absent, "", null), null)).toBe(true);
    expect(sm(new StringMatch(StringMatchKind.Absent, "", null), "x")).toBe(false);
  });
});

describe("request matching", () => {
  it("matches the path without its query string, as Envoy's routes do", () => {
    const slots = new HeaderSlots();
    const rules = rulesOf("[" + policy("p", '{"path": {"exact": "/checkout"}}') + "]", slots);
    expect(requestMatches(rules[0].match, new FakeRequest(slots, "GET", "/checkout?cart=1"))).toBe(true);
    expect(requestMatches(rules[0].match, new FakeRequest(slots, "GET", "/checkout/x"))).toBe(false);
  });

  it("ANDs method, path and every header condition", () => {
    const slots = new HeaderSlots();
    const rules = rulesOf("[" + policy("p",
      '{"method": {"exact": "POST"}, "path": {"prefix": "/api/"}, "headers": [' +
      '{"name": "X-User-Id", "regex": "^test-[0-9]+$"}, {"name": "x-canary", "present": true}, {"name": "x-skip", "present": false}]}') + "]", slots);
    const m = rules[0].match;
    const ok = new FakeRequest(slots, "POST", "/api/orders").with("x-user-id", "test-7").with("x-canary", "1");
    expect(requestMatches(m, ok)).toBe(true);
    expect(requestMatches(m, new FakeRequest(slots, "GET", "/api/orders").with("x-user-id", "test-7").with("x-canary", "1"))).toBe(false);
    expect(requestMatches(m, new FakeRequest(slots, "POST", "/web").with("x-user-id", "test-7").with("x-canary", "1"))).toBe(false);
    expect(requestMatches(m, new FakeRequest(slots, "POST", "/api/orders").with("x-user-id", "prod-7").with("x-canary", "1"))).toBe(false);
    expect(requestMatches(m, new FakeRequest(slots, "POST", "/api/orders").with("x-user-id", "test-7"))).toBe(false);
    expect(requestMatches(m, new FakeRequest(slots, "POST", "/api/orders").with("x-user-id", "test-7").with("x-canary", "1").with("x-skip", "y"))).toBe(false);
  });

  it("an empty match holds for every request", () => {
    const slots = new HeaderSlots();
    const rules = rulesOf("[" + policy("all", "{}") + "]", slots);
    expect(requestMatches(rules[0].match, new FakeRequest(slots, null, null))).toBe(true);
  });

  it("header names are case-insensitive and any header can be used", () => {
    const slots = new HeaderSlots();
    const rules = rulesOf("[" + policy("p", '{"headers": [{"name": "X-Very-Custom-Header-Nobody-Lists", "suffix": "-eu"}]}') + "]", slots);
    expect(slots.nameOf(0)).toBe("x-very-custom-header-nobody-lists");
    expect(requestMatches(rules[0].match, new FakeRequest(slots, "GET", "/").with("x-very-custom-header-nobody-lists", "shop-eu"))).toBe(true);
    expect(requestMatches(rules[0].match, new FakeRequest(slots, "GET", "/").with("x-very-custom-header-nobody-lists", "shop-us"))).toBe(false);
  });
});

describe("first matching rule", () => {
  it("the first rule that matches decides, in policy and rule order", () => {
    const slots = new HeaderSlots();
    const rules = rulesOf("[" + policy("first", '{"path": {"prefix": "/a"}}') + "," + policy("second", '{"path": {"prefix": "/"}}') + "]", slots);
    expect(nameAt(rules, firstMatchingRule(rules, since(rules.length), new FakeRequest(slots, "GET", "/abc"), 0))).toBe("first");
    expect(nameAt(rules, firstMatchingRule(rules, since(rules.length), new FakeRequest(slots, "GET", "/xyz"), 0))).toBe("second");
  });

  it("skips rules at 0 % and rules whose duration has passed", () => {
    const slots = new HeaderSlots();
    const rules = rulesOf("[" +
      policy("off", "{}", '{"percentage": 0, "abort": {"httpStatus": 500}}') + "," +
      policy("expiring", "{}", '{"percentage": 100, "abort": {"httpStatus": 500}, "duration_seconds": 10}') + "," +
      policy("fallback", "{}") + "]", slots);
    const clocks = since(rules.length, 1000);
    const req = new FakeRequest(slots, "GET", "/");
    expect(nameAt(rules, firstMatchingRule(rules, clocks, req, 5000))).toBe("expiring");
    expect(nameAt(rules, firstMatchingRule(rules, clocks, req, 10999))).toBe("expiring");
    expect(nameAt(rules, firstMatchingRule(rules, clocks, req, 11000))).toBe("fallback");
  });

  it("returns null when nothing matches", () => {
    const slots = new HeaderSlots();
    const rules = rulesOf("[" + policy("p", '{"path": {"exact": "/only"}}') + "]", slots);
    expect(firstMatchingRule(rules, since(rules.length), new FakeRequest(slots, "GET", "/other"), 0)).toBe(-1);
  });
});

describe("matching on bytes, as Envoy's matchers do", () => {
  it("a byte that is not UTF-8 is a byte no literal matches", () => {
    const value = raw(ascii("test-1").concat([0xff]));
    expect(stringMatches(matcher(StringMatchKind.Exact, "test-1"), value)).toBe(false);
    expect(stringMatches(matcher(StringMatchKind.Prefix, "test-1"), value)).toBe(true);
    const prod = raw(ascii("prod").concat([0xff]));
    expect(stringMatches(matcher(StringMatchKind.Exact, "prod"), prod)).toBe(false);
  });

  it("an overlong encoding of '/' is not '/'", () => {
    const overlong = raw([0xc0, 0xaf]);
    expect(stringMatches(matcher(StringMatchKind.Exact, "/"), overlong)).toBe(false);
  });

  it("contains finds a literal after an invalid byte", () => {
    const value = raw([0xff].concat(ascii("admin")));
    expect(stringMatches(matcher(StringMatchKind.Contains, "admin"), value)).toBe(true);
    expect(stringMatches(matcher(StringMatchKind.Suffix, "admin"), value)).toBe(true);
  });

  it("exact, prefix, suffix and contains agree with the regex that means the same", () => {
    // Valid UTF-8 values here: on invalid bytes the regex engine answers through
    // Regex.matchesBytes, whose byte-level engine is a separate change.
    const values: i32[][] = [ascii("abc"), [0xc3, 0xa9, 0x61, 0x62, 0x63], ascii("xabcx").concat([0xc3, 0xa9]), ascii("")];
    const literals: string[] = ["abc", "a", "bc", ""];
    for (let v = 0; v < values.length; v++) {
      const value = raw(values[v]);
      for (let l = 0; l < literals.length; l++) {
        const lit = literals[l];
        expect(stringMatches(matcher(StringMatchKind.Exact, lit), value)).toBe(stringMatches(matcher(StringMatchKind.Regex, "^" + lit + "$"), value));
        expect(stringMatches(matcher(StringMatchKind.Prefix, lit), value)).toBe(stringMatches(matcher(StringMatchKind.Regex, "^" + lit), value));
        expect(stringMatches(matcher(StringMatchKind.Suffix, lit), value)).toBe(stringMatches(matcher(StringMatchKind.Regex, lit + "$"), value));
        expect(stringMatches(matcher(StringMatchKind.Contains, lit), value)).toBe(stringMatches(matcher(StringMatchKind.Regex, lit), value));
      }
    }
  });

  it("UTF-8 literals match their UTF-8 bytes", () => {
    expect(sm(matcher(StringMatchKind.Exact, "caf\u00e9"), "caf\u00e9")).toBe(true);
    expect(sm(matcher(StringMatchKind.Contains, "\u00e9t\u00e9"), "l'\u00e9t\u00e9 ici")).toBe(true);
    expect(stringMatches(matcher(StringMatchKind.Exact, "caf\u00e9"), raw(ascii("caf").concat([0xe9])))).toBe(false);
  });

  it("contains is correct where a naive restart would miss (overlapping prefixes)", () => {
    expect(sm(matcher(StringMatchKind.Contains, "aab"), "aaab")).toBe(true);
    expect(sm(matcher(StringMatchKind.Contains, "abab"), "ababab")).toBe(true);
    expect(sm(matcher(StringMatchKind.Contains, "abac"), "ababab")).toBe(false);
    expect(sm(matcher(StringMatchKind.Contains, "abc"), "ab")).toBe(false);
  });
});

describe("header slots", () => {
  it("one slot per distinct name, found again by name", () => {
    const slots = new HeaderSlots(100);
    expect(slots.slotOf("x-a")).toBe(100);
    expect(slots.slotOf("x-b")).toBe(101);
    expect(slots.slotOf("x-a")).toBe(100);
    expect(slots.count).toBe(2);
    expect(slots.owns(99)).toBe(false);
    expect(slots.owns(102)).toBe(false);
    expect(slots.nameOf(101)).toBe("x-b");
  });

  it("a document stops getting slots at MAX_HEADER_NAMES", () => {
    const slots = new HeaderSlots();
    for (let i = 0; i < MAX_HEADER_NAMES; i++) expect(slots.slotOf("h" + i.toString())).toBe(i);
    expect(slots.slotOf("one-more")).toBe(-1);
    expect(slots.slotOf("h7")).toBe(7);
  });
});
