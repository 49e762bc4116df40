import { parseJsonString } from "../../assembly/json/index";
import { HeaderSlots, RequestAttributes } from "../../assembly/match/request";
import { firstMatchingRule, requestMatches, stringMatches } from "../../assembly/match/matcher";
import { Policy, Rule, StringMatch, StringMatchKind } from "../../assembly/policy/model";
import { Diagnostics } from "../../assembly/policy/diagnostics";
import { parsePolicies, ParseLimits } from "../../assembly/policy/parse";
import { compileRegex } from "../../assembly/regex/index";

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
  method(): string | null {
    return this.m;
  }
  path(): string | null {
    const p = this.p;
    return p === null ? null : pathWithoutQuery(p);
  }
  header(slot: i32): string | null {
    if (slot < 0 || slot >= this.slots.names.length) return null;
    const name = this.slots.names[slot];
    for (let i = 0; i < this.headerNames.length; i++) {
      if (this.headerNames[i] == name) return this.headerValues[i];
    }
    return null;
  }
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
    expect(stringMatches(new StringMatch(StringMatchKind.Exact, "/a", null), "/a")).toBe(true);
    expect(stringMatches(new StringMatch(StringMatchKind.Exact, "/a", null), "/ab")).toBe(false);
    expect(stringMatches(new StringMatch(StringMatchKind.Prefix, "/api/", null), "/api/v1")).toBe(true);
    expect(stringMatches(new StringMatch(StringMatchKind.Prefix, "/api/", null), "/apix")).toBe(false);
    expect(stringMatches(new StringMatch(StringMatchKind.Suffix, ".json", null), "/x.json")).toBe(true);
    expect(stringMatches(new StringMatch(StringMatchKind.Suffix, ".json", null), "/x.jsonp")).toBe(false);
    expect(stringMatches(new StringMatch(StringMatchKind.Contains, "beta", null), "v-beta-2")).toBe(true);
    expect(stringMatches(new StringMatch(StringMatchKind.Contains, "beta", null), "v-alpha")).toBe(false);
  });

  it("regex searches anywhere unless anchored", () => {
    const loose = new StringMatch(StringMatchKind.Regex, "test-[0-9]+", compileRegex("test-[0-9]+").regex);
    const anchored = new StringMatch(StringMatchKind.Regex, "^test-[0-9]+$", compileRegex("^test-[0-9]+$").regex);
    expect(stringMatches(loose, "user-test-42-x")).toBe(true);
    expect(stringMatches(anchored, "user-test-42-x")).toBe(false);
    expect(stringMatches(anchored, "test-42")).toBe(true);
  });

  it("an absent value matches nothing but `present: false`", () => {
    expect(stringMatches(new StringMatch(StringMatchKind.Prefix, "", null), null)).toBe(false);
    expect(stringMatches(new StringMatch(StringMatchKind.Present, "", null), null)).toBe(false);
    expect(stringMatches(new StringMatch(StringMatchKind.Present, "", null), "")).toBe(true);
    expect(stringMatches(new StringMatch(StringMatchKind.Absent, "", null), null)).toBe(true);
    expect(stringMatches(new StringMatch(StringMatchKind.Absent, "", null), "x")).toBe(false);
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
    expect(slots.names[0]).toBe("x-very-custom-header-nobody-lists");
    expect(requestMatches(rules[0].match, new FakeRequest(slots, "GET", "/").with("x-very-custom-header-nobody-lists", "shop-eu"))).toBe(true);
    expect(requestMatches(rules[0].match, new FakeRequest(slots, "GET", "/").with("x-very-custom-header-nobody-lists", "shop-us"))).toBe(false);
  });
});

describe("first matching rule", () => {
  it("the first rule that matches decides, in policy and rule order", () => {
    const slots = new HeaderSlots();
    const rules = rulesOf("[" + policy("first", '{"path": {"prefix": "/a"}}') + "," + policy("second", '{"path": {"prefix": "/"}}') + "]", slots);
    const hit = firstMatchingRule(rules, new FakeRequest(slots, "GET", "/abc"), 0);
    expect(hit!.policyName).toBe("first");
    const other = firstMatchingRule(rules, new FakeRequest(slots, "GET", "/xyz"), 0);
    expect(other!.policyName).toBe("second");
  });

  it("skips rules at 0 % and rules whose duration has passed", () => {
    const slots = new HeaderSlots();
    const rules = rulesOf("[" +
      policy("off", "{}", '{"percentage": 0, "abort": {"httpStatus": 500}}') + "," +
      policy("expiring", "{}", '{"percentage": 100, "abort": {"httpStatus": 500}, "duration_seconds": 10}') + "," +
      policy("fallback", "{}") + "]", slots);
    for (let i = 0; i < rules.length; i++) rules[i].activeSinceMs = 1000;
    const req = new FakeRequest(slots, "GET", "/");
    expect(firstMatchingRule(rules, req, 5000)!.policyName).toBe("expiring");
    expect(firstMatchingRule(rules, req, 10999)!.policyName).toBe("expiring");
    expect(firstMatchingRule(rules, req, 11000)!.policyName).toBe("fallback");
  });

  it("returns null when nothing matches", () => {
    const slots = new HeaderSlots();
    const rules = rulesOf("[" + policy("p", '{"path": {"exact": "/only"}}') + "]", slots);
    expect(firstMatchingRule(rules, new FakeRequest(slots, "GET", "/other"), 0)).toBeNull();
  });
});
