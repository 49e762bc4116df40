import { parseJsonString } from "../../assembly/json/index";
import { HeaderSlots } from "../../assembly/match/request";
import { Policy, Selector, StringMatchKind } from "../../assembly/model/policy";
import { Diagnostics } from "../../assembly/config/diagnostics";
import { ParseLimits } from "../../assembly/config/limits";
import { parsePolicies } from "../../assembly/config/policies";
import { ClockOwner, combinePolicies, Identity, PolicyClocks, selectorApplies } from "../../assembly/policyset/store";

class Parsed {
  constructor(public policies: Policy[], public diag: Diagnostics) {}
}

function parse(json: string, maxDelayMs: i64 = 30000): Parsed {
  const diag = new Diagnostics();
  const limits = new ParseLimits();
  limits.maxDelayMs = maxDelayMs;
  const policies = parsePolicies(parseJsonString(json).value!, new HeaderSlots(), limits, diag);
  return new Parsed(policies, diag);
}

function rule(fault: string, match: string = "{}"): string {
  return '{"match": ' + match + ', "fault": ' + fault + "}";
}

function one(name: string, rules: string): string {
  return '[{"metadata": {"name": "' + name + '"}, "spec": {"rules": [' + rules + "]}}]";
}

describe("policy parsing", () => {
  it("reads the contract's example policies", () => {
    const p = parse('[' +
      '{"metadata": {"name": "frontend-delay"}, "spec": {"selector": {"service": "frontend", "namespace": "demo"}, "rules": [{"match": {"method": {"exact": "GET"}, "path": {"prefix": "/"}}, "fault": {"percentage": 50, "delay": {"fixed_delay_ms": 500}}}]}},' +
      '{"metadata": {"name": "api-abort"}, "spec": {"rules": [{"match": {"path": {"prefix": "/api/"}, "headers": [{"name": "x-user-id", "regex": "^test-[0-9]+$"}]}, "fault": {"percentage": 100, "abort": {"httpStatus": 503, "body": "injected"}}}]}},' +
      '{"metadata": {"name": "late-failure"}, "spec": {"rules": [{"match": {"path": {"exact": "/checkout"}}, "fault": {"percentage": 100, "start_delay_ms": 200, "abort": {"httpStatus": 500}, "duration_seconds": 600}}]}}]');
    expect(p.diag.errors.length).toBe(0);
    expect(p.policies.length).toBe(3);
    const delay = p.policies[0];
    expect(delay.selector.service).toBe("frontend");
    expect(delay.rules[0].fault.percentage).toBe(50.0);
    expect(delay.rules[0].fault.delayMs).toBe(500);
    expect(delay.rules[0].match.method!.kind).toBe(StringMatchKind.Exact);
    const abort = p.policies[1].rules[0].fault.abort!;
    expect(abort.httpStatus).toBe(503);
    expect(abort.body).toBe("injected");
    const late = p.policies[2].rules[0].fault;
    expect(late.startDelayMs).toBe(200);
    expect(late.durationSeconds).toBe(600);
    expect(late.holdMs()).toBe(200);
  });

  it("refuses the whole policy for one bad rule and names policy, rule, field and value", () => {
    const p = parse(one("mixed",
      rule('{"percentage": 100, "abort": {"httpStatus": 503}}') + "," +
      rule('{"percentage": 100, "abort": {"httpStatus": 700}}')));
    expect(p.policies.length).toBe(0);
    expect(p.diag.errors.length).toBe(1);
    expect(p.diag.errors[0]).toBe('policy "mixed" rule 1: fault.abort.httpStatus: must be an HTTP status from 200 to 599, got 700');
  });

  it("accepts fractional percentages and rejects out-of-range ones", () => {
    expect(parse(one("p", rule('{"percentage": 0.1, "abort": {"httpStatus": 500}}'))).policies[0].rules[0].fault.percentage).toBe(0.1);
    const bad = parse(one("p", rule('{"percentage": 100.5, "abort": {"httpStatus": 500}}')));
    expect(bad.policies.length).toBe(0);
    expect(bad.diag.errors[0]).toBe('policy "p" rule 0: fault.percentage: must be a number from 0 to 100, got 100.5');
  });

  it("requires exactly one of exact, prefix, suffix, contains, regex", () => {
    const p = parse(one("p", rule('{"percentage": 1, "abort": {"httpStatus": 500}}', '{"path": {"exact": "/a", "prefix": "/"}}')));
    expect(p.diag.errors[0]).toBe('policy "p" rule 0: match.path: needs exactly one of exact, prefix, suffix, contains, regex; got {"exact":"/a","prefix":"/"}');
  });

  it("rejects regexes the linear-time engine does not support", () => {
    const p = parse(one("p", rule('{"percentage": 1, "abort": {"httpStatus": 500}}', '{"headers": [{"name": "x", "regex": "(a)\\\\1"}]}')));
    expect(p.diag.errors.length).toBe(1);
    expect(p.diag.errors[0].startsWith('policy "p" rule 0: match.headers[0].regex: invalid regex "(a)\\\\1": ')).toBe(true, p.diag.errors[0]);
  });

  it("rejects empty header names, negative delays, unknown fields", () => {
    expect(parse(one("p", rule('{"percentage": 1, "abort": {"httpStatus": 500}}', '{"headers": [{"name": "", "exact": "x"}]}'))).diag.errors[0])
      .toBe('policy "p" rule 0: match.headers[0].name: must be a non-empty header name, got ""');
    expect(parse(one("p", rule('{"percentage": 1, "delay": {"fixed_delay_ms": -5}}'))).diag.errors[0])
      .toBe('policy "p" rule 0: fault.delay.fixed_delay_ms: must be a whole number of milliseconds >= 0, got -5');
    expect(parse(one("p", rule('{"percentage": 1, "delay": {"fixed_delay": 5}}'))).diag.errors[0])
      .toBe('policy "p" rule 0: fault.delay.fixed_delay: unknown field (expected one of fixed_delay_ms, uniform, normal, lognormal or percentiles)');
    expect(parse(one("p", rule('{"percentage": 1, "abort": {"httpStatus": 500, "grpcStatus": 17}}'))).diag.errors[0])
      .toBe('policy "p" rule 0: fault.abort.grpcStatus: must be a gRPC error status from 1 to 16 (0 is OK, not a fault), got 17');
    expect(parse(one("p", rule('{"percentage": 1}'))).diag.errors[0])
      .toBe('policy "p" rule 0: fault: needs an abort, a delay, a reset or a response (or from_headers: true); got {"percentage":1}');
  });

  it("clamps delays above max_delay_ms with a warning", () => {
    const p = parse(one("slow", rule('{"percentage": 100, "delay": {"fixed_delay_ms": 60000}}')), 30000);
    expect(p.diag.errors.length).toBe(0);
    expect(p.policies[0].rules[0].fault.delayMs).toBe(30000);
    expect(p.diag.warnings[0]).toBe('policy "slow" rule 0: fault.delay.fixed_delay_ms: 60000 ms is above max_delay_ms; clamped to 30000 ms');
  });

  it("names a policy without a name by its position", () => {
    const p = parse('[{"spec": {"rules": []}}]');
    expect(p.diag.errors[0]).toBe("policies[0]: metadata: must be an object with a name, got nothing");
  });

  it("reads the sampling header, lower-cased", () => {
    const p = parse(one("s", rule('{"percentage": 5, "abort": {"httpStatus": 500}, "sampling": {"header": "X-Request-Id"}}')));
    expect(p.policies[0].rules[0].fault.samplingHeader).toBe("x-request-id");
    expect(p.policies[0].rules[0].fault.samplingSlot).toBe(0);
  });
});

const frontend = new Identity("frontend-v2", "demo", "frontend", "frontend-svc");
const unknown = new Identity("", "", "", "");

describe("selectors", () => {
  it("match the workload name, the app label or the canonical name", () => {
    expect(selectorApplies(new Selector("frontend-v2", "demo"), frontend)).toBe(true);
    expect(selectorApplies(new Selector("frontend", ""), frontend)).toBe(true);
    expect(selectorApplies(new Selector("frontend-svc", "*"), frontend)).toBe(true);
    expect(selectorApplies(new Selector("backend", ""), frontend)).toBe(false);
    expect(selectorApplies(new Selector("frontend", "prod"), frontend)).toBe(false);
  });

  it("when the identity is unknown only wildcard selectors apply", () => {
    expect(selectorApplies(new Selector("", ""), unknown)).toBe(true);
    expect(selectorApplies(new Selector("*", "*"), unknown)).toBe(true);
    expect(selectorApplies(new Selector("frontend", ""), unknown)).toBe(false);
    expect(selectorApplies(new Selector("", "demo"), unknown)).toBe(false);
  });
});

describe("policy clocks", () => {
  it("keep a policy's first-seen time across re-applies and restart it when it changes", () => {
    const clocks = new PolicyClocks();
    const owner = new ClockOwner();
    const id = new Identity("", "", "", "");
    const v1 = parse(one("p", rule('{"percentage": 1, "abort": {"httpStatus": 500}, "duration_seconds": 60}'))).policies;
    let set = clocks.assemble(owner, v1, id, 1000);
    expect(set.ruleSinceMs[0]).toBe(1000);
    const again = parse(one("p", rule('{"percentage": 1, "abort": {"httpStatus": 500}, "duration_seconds": 60}'))).policies;
    set = clocks.assemble(owner, again, id, 50000);
    expect(set.ruleSinceMs[0]).toBe(1000);
    const changed = parse(one("p", rule('{"percentage": 2, "abort": {"httpStatus": 500}, "duration_seconds": 60}'))).policies;
    set = clocks.assemble(owner, changed, id, 70000);
    expect(set.ruleSinceMs[0]).toBe(70000);
  });

  it("forget removed policies, so re-adding one starts a new clock", () => {
    const clocks = new PolicyClocks();
    const owner = new ClockOwner();
    const id = new Identity("", "", "", "");
    const p = parse(one("p", rule('{"percentage": 1, "abort": {"httpStatus": 500}}'))).policies;
    clocks.assemble(owner, p, id, 1000);
    clocks.assemble(owner, [], id, 2000);
    expect(clocks.size).toBe(0);
    const set = clocks.assemble(owner, p, id, 3000);
    expect(set.ruleSinceMs[0]).toBe(3000);
  });

  it("leave out rules whose selector excludes this proxy", () => {
    const clocks = new PolicyClocks();
    const owner = new ClockOwner();
    const p = parse('[{"metadata": {"name": "elsewhere"}, "spec": {"selector": {"service": "other"}, "rules": [' + rule('{"percentage": 1, "abort": {"httpStatus": 500}}') + "]}}]").policies;
    const set = clocks.assemble(owner, p, new Identity("frontend", "demo", "", ""), 0);
    expect(set.policies.length).toBe(1);
    expect(set.rules.length).toBe(0);
  });
});

describe("policy clocks shared by root contexts", () => {
  it("survive a configuration change that replaces the root context", () => {
    const clocks = new PolicyClocks();
    const id = new Identity("", "", "", "");
    const oldRoot = new ClockOwner();
    const newRoot = new ClockOwner();
    const p = parse(one("p", rule('{"percentage": 1, "abort": {"httpStatus": 500}, "duration_seconds": 60}'))).policies;
    clocks.assemble(oldRoot, p, id, 1000);
    const same = parse(one("p", rule('{"percentage": 1, "abort": {"httpStatus": 500}, "duration_seconds": 60}'))).policies;
    const set = clocks.assemble(newRoot, same, id, 9000);
    expect(set.ruleSinceMs[0]).toBe(1000);
    clocks.release(oldRoot);
    expect(clocks.size).toBe(1);
    clocks.release(newRoot);
    expect(clocks.size).toBe(0);
  });
});

describe("combining static and live policies", () => {
  it("a live policy replaces a static one of the same name; static ones come first", () => {
    const statics = parse('[' +
      '{"metadata": {"name": "a"}, "spec": {"rules": [' + rule('{"percentage": 1, "abort": {"httpStatus": 500}}') + ']}},' +
      '{"metadata": {"name": "b"}, "spec": {"rules": [' + rule('{"percentage": 1, "abort": {"httpStatus": 500}}') + ']}}]').policies;
    const live = parse('[{"metadata": {"name": "b"}, "spec": {"rules": [' + rule('{"percentage": 2, "abort": {"httpStatus": 502}}') + ']}},' +
      '{"metadata": {"name": "c"}, "spec": {"rules": [' + rule('{"percentage": 1, "abort": {"httpStatus": 500}}') + ']}}]').policies;
    const all = combinePolicies(statics, live);
    expect(all.length).toBe(3);
    expect(all[0].name).toBe("a");
    expect(all[1].name).toBe("b");
    expect(all[1].rules[0].fault.abort!.httpStatus).toBe(502);
    expect(all[2].name).toBe("c");
  });
});
