/** Validation of the fault fields for delay forms, max_injections and from_headers: each bad
 * rule is dropped with one precise error, counted once per proxy, and the rest still applies. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { policy, startHfi } from "../helpers/hfi";

const ok = { percentage: 100, abort: { httpStatus: 503 } };
const delayed = (delay: unknown) => ({ percentage: 100, delay });
const named = (fault: object) => ({ metadata: { name: "p" }, spec: { rules: [{ match: {}, fault }] } });
const FORMS = "fixed_delay_ms, uniform, normal, lognormal or percentiles";

const BAD: Array<[string, object, string]> = [
  ["two delay forms", delayed({ fixed_delay_ms: 5, uniform: { min_ms: 1, max_ms: 2 } }),
    `fault.delay: needs exactly one of ${FORMS}; got {"fixed_delay_ms":5,"uniform":{"max_ms":2,"min_ms":1}}`],
  ["no delay form", delayed({}), `fault.delay: needs exactly one of ${FORMS}; got {}`],
  ["delay not an object", delayed("500"), `fault.delay: needs exactly one of ${FORMS}; got "500"`],
  ["unknown delay form", delayed({ gamma: {} }), `fault.delay.gamma: unknown field (expected one of ${FORMS})`],
  ["uniform not an object", delayed({ uniform: [1, 2] }), "fault.delay.uniform: must be an object with min_ms and max_ms, got [1,2]"],
  ["uniform without max_ms", delayed({ uniform: { min_ms: 1 } }), "fault.delay.uniform.max_ms: must be a number, got nothing"],
  ["uniform with a stray field", delayed({ uniform: { min_ms: 1, max_ms: 5, mean_ms: 3 } }),
    "fault.delay.uniform.mean_ms: unknown field (did you mean \"min_ms\"?) (expected min_ms and max_ms)"],
  ["uniform inverted", delayed({ uniform: { min_ms: 100, max_ms: 50 } }), "fault.delay.uniform.max_ms: 50 is below min_ms 100"],
  ["uniform negative", delayed({ uniform: { min_ms: -1, max_ms: 50 } }), "fault.delay.uniform.min_ms: -1 is negative"],
  ["normal negative stddev", delayed({ normal: { mean_ms: 100, stddev_ms: -3 } }), "fault.delay.normal.stddev_ms: -3 is negative"],
  ["normal mean as a string", delayed({ normal: { mean_ms: "100", stddev_ms: 3 } }), 'fault.delay.normal.mean_ms: must be a number, got "100"'],
  ["lognormal median 0", delayed({ lognormal: { median_ms: 0, p99_ms: 10 } }), "fault.delay.lognormal.median_ms: 0 must be above 0"],
  ["lognormal p99 below the median", delayed({ lognormal: { median_ms: 200, p99_ms: 100 } }),
    "fault.delay.lognormal.p99_ms: 100 is below median_ms 200"],
  ["percentiles empty", delayed({ percentiles: [] }), "fault.delay.percentiles: needs {p, ms} points, got []"],
  ["percentiles point not an object", delayed({ percentiles: [5] }), "fault.delay.percentiles[0]: must be an object with p and ms, got 5"],
  ["percentiles point without ms", delayed({ percentiles: [{ p: 50 }] }), "fault.delay.percentiles[0].ms: must be a number, got nothing"],
  ["percentiles p not increasing", delayed({ percentiles: [{ p: 50, ms: 10 }, { p: 40, ms: 20 }] }),
    "fault.delay.percentiles[1].p: 40 is not above the previous p 50"],
  ["percentiles without p 100", delayed({ percentiles: [{ p: 50, ms: 10 }, { p: 90, ms: 20 }] }),
    "fault.delay.percentiles[1].p: 90 must be 100 (the last point)"],
  ["percentiles ms decreasing", delayed({ percentiles: [{ p: 50, ms: 10 }, { p: 100, ms: 5 }] }),
    "fault.delay.percentiles[1].ms: 5 is below the previous ms 10"],
  ["percentiles p above 100", delayed({ percentiles: [{ p: 150, ms: 10 }] }), "fault.delay.percentiles[0].p: 150 is not in [0, 100]"],
  ["max_injections 0", { ...ok, max_injections: 0 }, "fault.max_injections: must be a whole number >= 1, got 0"],
  ["max_injections fraction", { ...ok, max_injections: 1.5 }, "fault.max_injections: must be a whole number >= 1, got 1.5"],
  ["max_injections as a string", { ...ok, max_injections: "10" }, 'fault.max_injections: must be a whole number >= 1, got "10"'],
  ["from_headers not a boolean", { ...ok, from_headers: "yes" }, 'fault.from_headers: must be true or false, got "yes"'],
  ["misspelt from_headers", { ...ok, frm_headers: true },
    "fault.frm_headers: unknown field (did you mean \"from_headers\"?) (expected percentage, abort, delay, start_delay_ms, duration_seconds, sampling, reset, response, max_injections or from_headers)"],
];

for (const [what, fault, problem] of BAD) {
  test(`a bad rule is dropped with a precise error: ${what}`, async () => {
    const message = `policy "p" rule 0: ${problem}`;
    const hfi = await startHfi({ policies: [named(fault), policy("good", { path: { prefix: "/good" } }, ok)] });
    const warnings = hfi.logs("warn");
    assert.ok(warnings.includes(`hfi: ${message} (in plugin configuration; dropped)`), `expected:\n  ${message}\ngot:\n  ${warnings.join("\n  ")}`);
    assert.equal(hfi.metric("hfi_faults_config_errors_total"), 1, "counted once for the proxy");
    assert.equal(hfi.request("GET", "/good").localReply?.status, 503, "the rest of the set still applies");
    assert.ok(hfi.request("GET", "/other").upstream.headers, "the dropped rule injects nothing");
  });
}

test("a delay form reaching above max_delay_ms is kept with a warning: its draws are clamped", async () => {
  const hfi = await startHfi({ max_delay_ms: 1000, policies: [named(delayed({ uniform: { min_ms: 2000, max_ms: 5000 } }))] });
  assert.ok(hfi.logs("warn").includes('hfi: policy "p" rule 0: fault.delay.uniform: delays above max_delay_ms 1000 are clamped to it (in plugin configuration)'));
  assert.equal(hfi.metric("hfi_faults_config_errors_total"), 0);
  const s = hfi.request("GET", "/");
  hfi.clock.advance(999);
  assert.equal(s.upstream.headers, undefined);
  hfi.clock.advance(1);
  assert.ok(s.upstream.headers, "every draw (2000-5000 ms) held exactly max_delay_ms");
});

test("a from_headers rule needs no fault of its own", async () => {
  const hfi = await startHfi({ policies: [named({ percentage: 100, from_headers: true })] });
  assert.equal(hfi.logs("warn").length, 0);
  assert.ok(hfi.request("GET", "/").upstream.headers, "no headers, no fault");
  assert.equal(hfi.request("GET", "/", [["x-envoy-fault-abort-request", "502"]]).localReply?.status, 502);
});
