/** Validation of abort headers, grpcMessage, reset, response and exclude: exact errors, table style. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { policy, startHfi, startHfiUnchecked } from "../helpers/hfi";

const p = (fault: object) => ({ metadata: { name: "p" }, spec: { rules: [{ match: {}, fault: { percentage: 100, ...fault } }] } });
const abortWith = (extra: object) => p({ abort: { httpStatus: 503, ...extra } });
const h = (name: unknown, value: unknown = "v") => ({ headers: [{ name: "x-ok", value: "1" }, { name, value }] });

const BAD: Array<[string, object, string]> = [
  ["abort headers not an array", abortWith({ headers: { name: "a" } }),
    'policy "p" rule 0: fault.abort.headers: must be an array of at most 16 {name, value}, got {"name":"a"}'],
  ["too many abort headers", abortWith({ headers: Array.from({ length: 17 }, (_, i) => ({ name: `x-${i}`, value: "1" })) }),
    'policy "p" rule 0: fault.abort.headers: must be an array of at most 16 {name, value}, got [{"name":"x-0","value":"1"},{"name":"x-1","value":"1"},{"name":"x-2","value":"1"...'],
  ["abort header entry not an object", abortWith({ headers: ["x"] }),
    'policy "p" rule 0: fault.abort.headers[0]: must be {name, value}, got "x"'],
  ["abort header unknown field", abortWith({ headers: [{ name: "a", value: "b", append: true }] }),
    'policy "p" rule 0: fault.abort.headers[0]: must be {name, value}, got {"append":true,"name":"a","value":"b"}'],
  ["pseudo-header", abortWith(h(":status")),
    'policy "p" rule 0: fault.abort.headers[1].name: pseudo-headers cannot be changed, got ":status"'],
  ["hop-by-hop header", abortWith(h("Connection")),
    'policy "p" rule 0: fault.abort.headers[1].name: is hop-by-hop or computed by Envoy, got "Connection"'],
  ["transfer-encoding", abortWith(h("transfer-encoding")),
    'policy "p" rule 0: fault.abort.headers[1].name: is hop-by-hop or computed by Envoy, got "transfer-encoding"'],
  ["content-length", abortWith(h("content-length", "3")),
    'policy "p" rule 0: fault.abort.headers[1].name: is hop-by-hop or computed by Envoy, got "content-length"'],
  ["header name with a space", abortWith(h("x a")),
    'policy "p" rule 0: fault.abort.headers[1].name: is not a header name (RFC 9110 token), got "x a"'],
  ["empty header name", abortWith(h("")),
    'policy "p" rule 0: fault.abort.headers[1].name: must be 1 to 100 characters, got ""'],
  ["header name too long", abortWith(h("x".repeat(101))),
    `policy "p" rule 0: fault.abort.headers[1].name: must be 1 to 100 characters, got "${"x".repeat(79)}...`],
  ["header name not a string", abortWith(h(7)),
    'policy "p" rule 0: fault.abort.headers[1].name: must be a header name, got 7'],
  ["header value with CR LF", abortWith(h("x-a", "1\r\nx-evil: 1")),
    'policy "p" rule 0: fault.abort.headers[1].value: must be a string of at most 4096 characters without CR, LF or NUL, got "1\\r\\nx-evil: 1"'],
  ["header value with NUL", abortWith(h("x-a", "a\u0000b")),
    'policy "p" rule 0: fault.abort.headers[1].value: must be a string of at most 4096 characters without CR, LF or NUL, got "a\\u0000b"'],
  ["header value too long", abortWith(h("x-a", "v".repeat(4097))),
    `policy "p" rule 0: fault.abort.headers[1].value: must be a string of at most 4096 characters without CR, LF or NUL, got "${"v".repeat(79)}...`],
  ["header value not a string", abortWith(h("x-a", 2)),
    'policy "p" rule 0: fault.abort.headers[1].value: must be a string of at most 4096 characters without CR, LF or NUL, got 2'],
  ["grpcMessage not a string", abortWith({ grpcMessage: 14 }),
    'policy "p" rule 0: fault.abort.grpcMessage: must be a string of at most 4096 characters without CR, LF or NUL, got 14'],
  ["grpcMessage with a newline", abortWith({ grpcMessage: "a\nb" }),
    'policy "p" rule 0: fault.abort.grpcMessage: must be a string of at most 4096 characters without CR, LF or NUL, got "a\\nb"'],
  ["unknown abort field", abortWith({ header: [] }),
    'policy "p" rule 0: fault.abort.header: unknown field (did you mean "headers"?) (expected httpStatus, grpcStatus, body, headers or grpcMessage)'],
  ["reset not a boolean", p({ reset: "yes" }),
    'policy "p" rule 0: fault.reset: must be true or false, got "yes"'],
  ["reset with abort", p({ reset: true, abort: { httpStatus: 503 } }),
    'policy "p" rule 0: fault: abort, reset and response exclude each other; got {"abort":{"httpStatus":503},"percentage":100,"reset":true}'],
  ["response with reset", p({ reset: true, response: { httpStatus: 503 } }),
    'policy "p" rule 0: fault: abort, reset and response exclude each other; got {"percentage":100,"reset":true,"response":{"httpStatus":503}}'],
  ["response with abort", p({ abort: { httpStatus: 500 }, response: { httpStatus: 503 } }),
    'policy "p" rule 0: fault: abort, reset and response exclude each other; got {"abort":{"httpStatus":500},"percentage":100,"response":{"httpStatus":503}}'],
  ["reset false alone does nothing", p({ reset: false }),
    'policy "p" rule 0: fault: needs an abort, a delay, a reset or a response (or from_headers: true); got {"percentage":100,"reset":false}'],
  ["empty response", p({ response: {} }),
    'policy "p" rule 0: fault.response: must be an object with delay_ms, httpStatus, body or headers; got {}'],
  ["response status out of range", p({ response: { httpStatus: 99 } }),
    'policy "p" rule 0: fault.response.httpStatus: must be an HTTP status from 200 to 599, got 99'],
  ["response delay negative", p({ response: { delay_ms: -1 } }),
    'policy "p" rule 0: fault.response.delay_ms: must be a whole number of milliseconds >= 0, got -1'],
  ["response body not a string", p({ response: { body: { a: 1 } } }),
    'policy "p" rule 0: fault.response.body: must be a string, got {"a":1}'],
  ["response unknown field", p({ response: { status: 503 } }),
    'policy "p" rule 0: fault.response.status: unknown field (expected delay_ms, httpStatus, body or headers)'],
  ["response headers not an object", p({ response: { headers: [] } }),
    'policy "p" rule 0: fault.response.headers: must be an object with add and/or remove, got []'],
  ["response headers unknown field", p({ response: { headers: { set: [] } } }),
    'policy "p" rule 0: fault.response.headers.set: unknown field (expected add or remove)'],
  ["response add hop-by-hop", p({ response: { headers: { add: [{ name: "upgrade", value: "h2c" }] } } }),
    'policy "p" rule 0: fault.response.headers.add[0].name: is hop-by-hop or computed by Envoy, got "upgrade"'],
  ["response remove pseudo-header", p({ response: { headers: { remove: [":status"] } } }),
    'policy "p" rule 0: fault.response.headers.remove[0]: pseudo-headers cannot be changed, got ":status"'],
  ["response remove not a list", p({ response: { headers: { remove: "etag" } } }),
    'policy "p" rule 0: fault.response.headers.remove: must be an array of at most 16 header names, got "etag"'],
  ["exclude not an array", { metadata: { name: "p" }, spec: { exclude: { path: { prefix: "/h" } }, rules: [{ match: {}, fault: { percentage: 100, abort: { httpStatus: 503 } } }] } },
    'policy "p": spec.exclude: must be an array of at most 32 matches, got {"path":{"prefix":"/h"}}'],
  ["exclude entry with an unknown field", { metadata: { name: "p" }, spec: { exclude: [{ host: "x" }], rules: [{ match: {}, fault: { percentage: 100, abort: { httpStatus: 503 } } }] } },
    'policy "p": spec.exclude[0].host: unknown field (expected method, path or headers)'],
  ["exclude header without name", { metadata: { name: "p" }, spec: { exclude: [{ headers: [{ present: true }] }], rules: [{ match: {}, fault: { percentage: 100, abort: { httpStatus: 503 } } }] } },
    'policy "p": spec.exclude[0].headers[0].name: must be a non-empty header name, got nothing'],
];

for (const [what, bad, message] of BAD) {
  test(`a bad fault or exclusion field drops its rule with a precise error: ${what}`, async () => {
    const hfi = await startHfi({ policies: [bad, policy("good", { path: { prefix: "/good" } }, { percentage: 100, abort: { httpStatus: 503 } })] });
    const warnings = hfi.logs("warn");
    assert.ok(warnings.includes(`hfi: ${message} (in plugin configuration; dropped)`), `expected:\n  ${message}\ngot:\n  ${warnings.join("\n  ")}`);
    assert.equal(hfi.metric("hfi_faults_config_errors_total"), 1);
    assert.equal(hfi.request("GET", "/").upstream.headers !== undefined, true, "the broken rule does not apply");
    assert.equal(hfi.request("GET", "/good").localReply?.status, 503, "the rest of the set still applies");
  });
}

test("the response delay is clamped to max_delay_ms with a warning, like request delays", async () => {
  const hfi = await startHfi({ max_delay_ms: 1000, policies: [p({ response: { delay_ms: 5000 } })] });
  assert.ok(hfi.logs("warn").some((l) => l.includes('policy "p" rule 0: fault.response.delay_ms: 5000 ms is above max_delay_ms; clamped to 1000 ms')), hfi.logs("warn").join("\n"));
});

test("the global exclude setting of the wrong type refuses the configuration (strict settings)", async () => {
  const hfi = await startHfiUnchecked({ exclude: { path: { prefix: "/h" } }, policies: [] });
  assert.equal(hfi.plugin.ok, false);
  assert.ok(hfi.logs("error").some((l) => l.includes('configuration refused: configuration: exclude: must be an array of matches, got {"path":{"prefix":"/h"}}')), hfi.logs().join("\n"));
});
