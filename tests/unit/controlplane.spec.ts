import { backoffMs, jitteredBackoffMs, PollSchedule, BACKOFF_CAP_MS } from "../../assembly/controlplane/schedule";
import { FetchOutcome, interpretResponse, MAX_POLICY_BODY_BYTES, parseStatus } from "../../assembly/controlplane/response";
import { isEntityTag, MAX_ETAG_LENGTH } from "../../assembly/controlplane/etag";
import { LIVE_SLOT_BASE } from "../../assembly/match/request";
import { MAX_POLICIES } from "../../assembly/config/limits";
import { ParseLimits } from "../../assembly/config/limits";

const MS: i64 = 1000000;

function body(text: string): ArrayBuffer {
  return String.UTF8.encode(text);
}

const GOOD = '{"policies": [{"metadata": {"name": "p"}, "spec": {"rules": [{"match": {}, "fault": {"percentage": 100, "abort": {"httpStatus": 503}}}]}}]}';

describe("poll schedule", () => {
  it("doubles the backoff from 1 s up to a 60 s cap", () => {
    expect(backoffMs(1)).toBe(1000);
    expect(backoffMs(2)).toBe(2000);
    expect(backoffMs(3)).toBe(4000);
    expect(backoffMs(6)).toBe(32000);
    expect(backoffMs(7)).toBe(BACKOFF_CAP_MS);
    expect(backoffMs(50)).toBe(BACKOFF_CAP_MS);
  });

  it("jitters each wait between half and all of the backoff", () => {
    expect(jitteredBackoffMs(3, 0.0)).toBe(2000);
    expect(jitteredBackoffMs(3, 0.999999)).toBe(3999);
  });

  it("polls at the interval after a success and backs off after failures", () => {
    const s = new PollSchedule(30000);
    s.start(0, 0.5);
    expect(s.nextNs).toBe(2500 * MS); // first poll inside min(interval, 5 s)
    s.sent();
    expect(s.isDue(i64.MAX_VALUE - 1)).toBe(false);
    s.failed(10000 * MS, 0);
    expect(s.nextNs).toBe(10500 * MS);
    s.failed(20000 * MS, 0);
    expect(s.nextNs).toBe(21000 * MS);
    s.succeeded(30000 * MS);
    expect(s.failures).toBe(0);
    expect(s.nextNs).toBe(60000 * MS);
  });

  it("keeps the first poll inside a short interval", () => {
    const s = new PollSchedule(1000);
    s.start(0, 0.999);
    expect(s.nextNs <= 1000 * MS).toBe(true);
  });
});

describe("control-plane responses", () => {
  it("a 200 with policies is an update", () => {
    const r = interpretResponse(200, body(GOOD), 0, null, new ParseLimits());
    expect(r.outcome).toBe(FetchOutcome.Updated);
    expect(r.policies.length).toBe(1);
  });

  it("304 and a byte-identical body are unchanged", () => {
    expect(interpretResponse(304, null, 0, null, new ParseLimits()).outcome).toBe(FetchOutcome.Unchanged);
    const last = body(GOOD);
    expect(interpretResponse(200, body(GOOD), 0, last, new ParseLimits()).outcome).toBe(FetchOutcome.Unchanged);
  });

  it("non-2xx, garbage, wrong shapes and huge bodies are failures", () => {
    const limits = new ParseLimits();
    const e503 = interpretResponse(503, body("down"), 4, null, limits);
    expect(e503.outcome).toBe(FetchOutcome.Failed);
    expect(e503.reason).toBe("HTTP 503");
    const garbage = interpretResponse(200, body("<html>"), 6, null, limits);
    expect(garbage.outcome).toBe(FetchOutcome.Failed);
    expect(garbage.reason).toBe("not JSON");
    expect(interpretResponse(200, body('{"items": []}'), 13, null, limits).reason).toBe("not a policy list");
    expect(interpretResponse(200, body("[]"), 2, null, limits).reason).toBe("not a policy list");
    const huge = interpretResponse(200, null, MAX_POLICY_BODY_BYTES + 1, null, limits);
    expect(huge.reason).toBe("body too large");
  });

  it("a partly invalid set keeps its valid policies and reports the others", () => {
    const mixed = '{"policies": [' +
      '{"metadata": {"name": "ok"}, "spec": {"rules": [{"match": {}, "fault": {"percentage": 100, "abort": {"httpStatus": 503}}}]}},' +
      '{"metadata": {"name": "bad"}, "spec": {"rules": [{"match": {}, "fault": {"percentage": 300, "abort": {"httpStatus": 503}}}]}}]}';
    const r = interpretResponse(200, body(mixed), 0, null, new ParseLimits());
    expect(r.outcome).toBe(FetchOutcome.Updated);
    expect(r.policies.length).toBe(1);
    expect(r.policies[0].name).toBe("ok");
    expect(r.diagnostics.errors.length).toBe(1);
  });

  it("an empty list deletes every live policy", () => {
    const r = interpretResponse(200, body('{"policies": []}'), 0, null, new ParseLimits());
    expect(r.outcome).toBe(FetchOutcome.Updated);
    expect(r.policies.length).toBe(0);
  });

  it("a body over a document-wide count limit fails as a whole: nothing of it is applied", () => {
    const one = '{"metadata": {"name": "p"}, "spec": {"rules": [{"match": {}, "fault": {"percentage": 100, "abort": {"httpStatus": 503}}}]}}';
    const items = new Array<string>();
    for (let i = 0; i < MAX_POLICIES + 1; i++) items.push(one.replace('"p"', '"p' + i.toString() + '"'));
    const r = interpretResponse(200, body('{"policies": [' + items.join(",") + "]}"), 0, null, new ParseLimits());
    expect(r.outcome).toBe(FetchOutcome.Failed);
    expect(r.reason).toBe("over a limit");
    expect(r.detail).toBe("body refused: configuration: policies: has 5001 policies, over the limit of 5000");
  });

  it("the policies of a body get header slots of their own, numbered apart from the configuration's", () => {
    const r = interpretResponse(200, body('{"policies": [{"metadata": {"name": "h"}, "spec": {"rules": [{"match": {"headers": [{"name": "X-A", "present": true}]}, "fault": {"percentage": 100, "abort": {"httpStatus": 503}}}]}}]}'), 0, null, new ParseLimits());
    expect(r.slots.count).toBe(1);
    expect(r.slots.base).toBe(LIVE_SLOT_BASE);
    expect(r.policies[0].rules[0].match.headers[0].slot).toBe(LIVE_SLOT_BASE);
    expect(r.slots.nameOf(LIVE_SLOT_BASE)).toBe("x-a");
  });
});

describe("the :status of an answer", () => {
  it("reads three digits and nothing else", () => {
    expect(parseStatus("200")).toBe(200);
    expect(parseStatus("304")).toBe(304);
    expect(parseStatus("20")).toBe(0);
    expect(parseStatus("2000")).toBe(0);
    expect(parseStatus("2x0")).toBe(0);
    expect(parseStatus("")).toBe(0);
  });
});

describe("entity-tags sent back as If-None-Match", () => {
  it("accepts strong and weak quoted tags of visible ASCII", () => {
    expect(isEntityTag('"v1"')).toBe(true);
    expect(isEntityTag('W/"v1"')).toBe(true);
    expect(isEntityTag('""')).toBe(true);
    expect(isEntityTag('"!#$%&()*+,-./:;<=>?@[]^_`{|}~"')).toBe(true);
  });

  it("refuses unquoted, control characters, spaces, inner quotes, non-ASCII and overlong tags", () => {
    expect(isEntityTag("")).toBe(false);
    expect(isEntityTag("v1")).toBe(false);
    expect(isEntityTag('"')).toBe(false);
    expect(isEntityTag('W/"')).toBe(false);
    expect(isEntityTag("W/v1")).toBe(false);
    expect(isEntityTag('w/"v1"')).toBe(false);
    expect(isEntityTag('"v1\u0000"')).toBe(false);
    expect(isEntityTag('"v1\r\nx: y"')).toBe(false);
    expect(isEntityTag('"v 1"')).toBe(false);
    expect(isEntityTag('"v"1"')).toBe(false);
    expect(isEntityTag('"v\u00e9"')).toBe(false);
    expect(isEntityTag('"v1"x')).toBe(false);
    expect(isEntityTag('"' + "a".repeat(MAX_ETAG_LENGTH - 2) + '"')).toBe(true);
    expect(isEntityTag('"' + "a".repeat(MAX_ETAG_LENGTH - 1) + '"')).toBe(false);
  });
});
