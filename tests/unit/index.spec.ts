import { parseJsonString } from "../../assembly/json/index";
import { HeaderSlots, RequestAttributes } from "../../assembly/match/request";
import { firstMatchingRule } from "../../assembly/match/matcher";
import { RuleIndex } from "../../assembly/match/index";
import { Rule } from "../../assembly/model/policy";
import { Diagnostics } from "../../assembly/config/diagnostics";
import { ParseLimits } from "../../assembly/config/limits";
import { parsePolicies } from "../../assembly/config/policies";
import { Sampler } from "../../assembly/faults/sampling";
import { ByteBuffer } from "../../assembly/util/bytes";
import { nameAt, since } from "./positions";

class PathOnly extends RequestAttributes {
  constructor(public p: string | null, public m: string) {
    super();
  }
  methodBytes(): ByteBuffer {
    return bytesOf(this.m);
  }
  pathBytes(): ByteBuffer {
    return bytesOf(this.p);
  }
  headerBytes(slot: i32): ByteBuffer {
    return bytesOf(null);
  }
}

function bytesOf(s: string | null): ByteBuffer {
  const b = new ByteBuffer(0);
  if (s !== null) b.setString(s);
  return b;
}

const SEGMENTS: string[] = ["/", "/a", "/ab", "/api", "/api/", "/api/v1", "/b", "/checkout", "/c", ""];
const KINDS: string[] = ["exact", "prefix", "regex", "suffix"];

function randomRules(sampler: Sampler, n: i32): Rule[] {
  let json = "[";
  for (let i = 0; i < n; i++) {
    const kind = KINDS[<i32>(sampler.next() % 4)];
    let seg = SEGMENTS[<i32>(sampler.next() % <u64>SEGMENTS.length)];
    if (kind == "regex") seg = "^" + seg;
    const withMethod = sampler.next() % 3 == 0;
    const pct = sampler.next() % 5 == 0 ? "0" : "100";
    let match = '{"path": {"' + kind + '": "' + seg + '"}' + (withMethod ? ', "method": {"exact": "POST"}' : "") + "}";
    if (sampler.next() % 6 == 0) match = "{}";
    // Some policies exclude a path prefix or a method (spec.exclude).
    const ex = sampler.next() % 4;
    const exclude = ex == 0 ? '"exclude": [{"path": {"prefix": "/a"}}], ' : ex == 1 ? '"exclude": [{"method": {"exact": "GET"}}], ' : "";
    if (i > 0) json += ",";
    json += '{"metadata": {"name": "r' + i.toString() + '"}, "spec": {' + exclude + '"rules": [{"match": ' + match +
      ', "fault": {"percentage": ' + pct + ', "abort": {"httpStatus": 503}}}]}}';
  }
  json += "]";
  const diag = new Diagnostics();
  const policies = parsePolicies(parseJsonString(json).value!, new HeaderSlots(), new ParseLimits(), diag);
  expect(diag.errors.length).toBe(0, diag.errors.join("; "));
  const rules: Rule[] = [];
  for (let i = 0; i < policies.length; i++) rules.push(policies[i].rules[0]);
  return rules;
}

describe("RuleIndex", () => {
  it("gives the same first rule as trying every rule in order", () => {
    const sampler = new Sampler(99);
    const paths: string[] = ["/", "/a", "/ab", "/abc", "/api", "/api/", "/api/v1/x", "/b", "/checkout", "/c", "/zzz", ""];
    for (let round = 0; round < 40; round++) {
      const rules = randomRules(sampler, 1 + <i32>(sampler.next() % 25));
      const clocks = since(rules.length);
      const index = new RuleIndex(rules, clocks);
      for (let p = 0; p < paths.length; p++) {
        for (let m = 0; m < 2; m++) {
          const req = new PathOnly(paths[p], m == 0 ? "GET" : "POST");
          expect(index.firstMatch(req, 0)).toBe(firstMatchingRule(rules, clocks, req, 0), "path " + paths[p]);
        }
      }
      const noPath = new PathOnly(null, "GET");
      expect(index.firstMatch(noPath, 0)).toBe(firstMatchingRule(rules, clocks, noPath, 0));
    }
  });

  it("skips a rule whose policy excludes the request and goes on to the next policy", () => {
    const json = '[{"metadata": {"name": "a"}, "spec": {"exclude": [{"path": {"prefix": "/api"}}], "rules": [{"match": {}, "fault": {"percentage": 100, "abort": {"httpStatus": 503}}}]}},' +
      '{"metadata": {"name": "b"}, "spec": {"rules": [{"match": {"path": {"prefix": "/"}}, "fault": {"percentage": 100, "abort": {"httpStatus": 500}}}]}}]';
    const diag = new Diagnostics();
    const policies = parsePolicies(parseJsonString(json).value!, new HeaderSlots(), new ParseLimits(), diag);
    const rules: Rule[] = [policies[0].rules[0], policies[1].rules[0]];
    const index = new RuleIndex(rules, since(2));
    expect(nameAt(rules, index.firstMatch(new PathOnly("/api/x", "GET"), 0))).toBe("b");
    expect(nameAt(rules, firstMatchingRule(rules, since(2), new PathOnly("/api/x", "GET"), 0))).toBe("b");
    expect(nameAt(rules, index.firstMatch(new PathOnly("/web", "GET"), 0))).toBe("a");
  });

  it("leaves rules at 0 % out of the index", () => {
    const sampler = new Sampler(5);
    const rules = randomRules(sampler, 30);
    let active = 0;
    for (let i = 0; i < rules.length; i++) if (rules[i].fault.percentage > 0) active++;
    expect(new RuleIndex(rules, since(rules.length)).size).toBe(active);
  });
});
