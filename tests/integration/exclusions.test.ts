/** spec.exclude and the global exclude setting — on the real module. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { respond, startHfi } from "../helpers/hfi";

const abort = (status: number) => ({ percentage: 100, abort: { httpStatus: status } });
const withExclude = (name: string, exclude: object[], fault: object, match: object = {}) =>
  ({ metadata: { name }, spec: { exclude, rules: [{ match, fault }] } });

test("a request matching a policy's exclusion is not faulted by it; others are", async () => {
  const hfi = await startHfi({
    policies: [withExclude("api-down", [{ path: { prefix: "/healthz" } }, { headers: [{ name: "x-no-chaos", present: true }] }], abort(503))],
  });
  assert.equal(respond(hfi.request("GET", "/healthz/live")).reply.status, 200);
  assert.equal(respond(hfi.request("GET", "/api", [["x-no-chaos", "1"]])).reply.status, 200);
  assert.equal(hfi.request("GET", "/api").localReply?.status, 503);
  assert.equal(hfi.metric("hfi_faults_aborts_total"), 1);
});

test("a policy's exclusion does not shield the request from a later policy that matches it", async () => {
  const hfi = await startHfi({
    policies: [
      withExclude("first", [{ method: { exact: "GET" } }], abort(503)),
      withExclude("second", [], abort(500)),
    ],
  });
  assert.equal(hfi.request("GET", "/").localReply?.status, 500, "first excludes GET, second applies");
  assert.equal(hfi.request("POST", "/").localReply?.status, 503);
});

test("the global exclude setting applies to every policy, static and live", async () => {
  const hfi = await startHfi({
    exclude: [{ path: { exact: "/healthz" } }],
    policies: [withExclude("a", [], abort(503), { path: { prefix: "/h" } }), withExclude("b", [], abort(500))],
  });
  assert.equal(respond(hfi.request("GET", "/healthz")).reply.status, 200);
  assert.equal(hfi.request("GET", "/home").localReply?.status, 503);
});

test("a broken global exclude refuses the configuration (faulting excluded traffic is worse); the previous one stays", async () => {
  const hfi = await startHfi({ exclude: [{ path: { prefix: "/health" } }], policies: [withExclude("a", [], abort(503))] });
  const result = hfi.plugin.reconfigure({ exclude: [{ path: { begins: "/x" } }], policies: [withExclude("b", [], abort(500))] });
  assert.equal(result.ok, false);
  const errors = hfi.logs("error").join("\n");
  assert.ok(errors.includes("configuration refused: configuration: exclude[0].path.begins: unknown field"), errors);
  assert.equal(respond(hfi.request("GET", "/health")).reply.status, 200, "the previous exclusion still holds");
  assert.equal(hfi.request("GET", "/").localReply?.status, 503, "the previous policy still applies");
});

test("a broken spec.exclude drops its policy, never applies it unexcluded", async () => {
  const hfi = await startHfi({ policies: [withExclude("a", [{ path: "/x" }], abort(503))] });
  assert.equal(respond(hfi.request("GET", "/")).reply.status, 200);
  assert.ok(hfi.logs("warn").some((l) => l.includes('policy "a": spec.exclude[0].path: must be an object')), hfi.logs("warn").join("\n"));
});

test("with exclusions configured, a request that matches no rule still costs one host call", async () => {
  const hfi = await startHfi({
    exclude: [{ headers: [{ name: "x-a", present: true }] }],
    policies: [withExclude("a", [{ headers: [{ name: "x-b", present: true }] }], abort(503), { path: { prefix: "/api" } })],
  });
  hfi.clock.advance(1); // the first tick publishes the effective set (docs/observability.md)
  hfi.vm.resetHostCallCounts();
  for (let i = 0; i < 20; i++) hfi.request("GET", `/other/${i}`, [["x-a", "1"], ["x-b", "1"]]);
  const calls = Object.values(hfi.vm.hostCallCounts()).reduce((a, b) => a + b, 0);
  assert.equal(calls, 20, JSON.stringify(hfi.vm.hostCallCounts()));
});
