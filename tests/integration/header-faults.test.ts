/**
 * from_headers on the real module: Envoy's x-envoy-fault-* request headers on
 * a rule with `from_headers: true`, with Envoy's fault filter semantics, bounded by the rule's
 * percentage and max_delay_ms (assembly/header-faults/ cites Envoy's sources).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { HttpStream } from "../../host/index";
import { policy, respond, startHfi } from "../helpers/hfi";

const held = (s: HttpStream) => s.upstream.headers === undefined && s.localReply === undefined;
const trusting = (fault: object = {}, settings: object = {}) =>
  startHfi({ ...settings, policies: [policy("by-header", { path: { prefix: "/api" } }, { percentage: 100, from_headers: true, ...fault })] });

test("x-envoy-fault-abort-request answers with that HTTP status", async () => {
  const hfi = await trusting();
  const s = hfi.request("GET", "/api/a", [["x-envoy-fault-abort-request", "503"]]);
  assert.equal(s.localReply?.status, 503);
  assert.equal(s.reply.headers["x-fault-injected"], "abort");
  assert.equal(hfi.metric("hfi_faults_aborts_total"), 1);
  // absl::SimpleAtoi: surrounding whitespace and one "+" are accepted.
  assert.equal(hfi.request("GET", "/api/a", [["x-envoy-fault-abort-request", " +429 "]]).localReply?.status, 429);
});

test("invalid abort values are ignored, as Envoy ignores them: the request goes through", async () => {
  const hfi = await trusting();
  for (const bad of ["700", "199", "abc", "-503", "5 03", "", "99999999999999999999999"]) {
    const s = hfi.request("GET", "/api/a", [["x-envoy-fault-abort-request", bad]]);
    assert.equal(s.localReply, undefined, `value ${JSON.stringify(bad)}`);
    assert.ok(s.upstream.headers, `value ${JSON.stringify(bad)} reaches the upstream`);
  }
  assert.equal(hfi.metric("hfi_faults_aborts_total"), 0);
});

test("x-envoy-fault-abort-grpc-request: HTTP 200 with that grpc-status; the HTTP header wins when both are valid", async () => {
  const hfi = await trusting();
  const grpc: [string, string][] = [["content-type", "application/grpc"], ["te", "trailers"]];
  const s = hfi.request("POST", "/api/Cart/Get", [...grpc, ["x-envoy-fault-abort-grpc-request", "14"]], "\0\0\0\0\0");
  assert.equal(s.localReply?.grpcStatus, 14);
  assert.equal(s.reply.status, 200);
  assert.equal(s.reply.headers["grpc-status"], "14");
  const both = hfi.request("POST", "/api/Cart/Get", [...grpc, ["x-envoy-fault-abort-request", "503"], ["x-envoy-fault-abort-grpc-request", "14"]], "\0");
  assert.equal(both.localReply?.status, 503);
  assert.equal(both.localReply?.grpcStatus, undefined);
  // An invalid HTTP status lets the gRPC header through, as in Envoy's abortStatus.
  const fallback = hfi.request("POST", "/api/Cart/Get", [...grpc, ["x-envoy-fault-abort-request", "42"], ["x-envoy-fault-abort-grpc-request", "4"]], "\0");
  assert.equal(fallback.localReply?.grpcStatus, 4);
});

test("x-envoy-fault-delay-request holds the request that many ms, never more than max_delay_ms", async () => {
  const hfi = await trusting({}, { max_delay_ms: 1000 });
  const s = hfi.request("GET", "/api/a", [["x-envoy-fault-delay-request", "200"]]);
  hfi.clock.advance(199);
  assert.ok(held(s));
  hfi.clock.advance(1);
  assert.ok(s.upstream.headers);
  respond(s);
  assert.equal(s.reply.headers["x-fault-injected"], "delay");
  const long = hfi.request("GET", "/api/a", [["x-envoy-fault-delay-request", "5000"]]);
  hfi.clock.advance(999);
  assert.ok(held(long));
  hfi.clock.advance(1);
  assert.ok(long.upstream.headers, "clamped to max_delay_ms 1000");
  assert.ok(hfi.request("GET", "/api/a", [["x-envoy-fault-delay-request", "0"]]).upstream.headers, "0 ms: no delay");
  assert.ok(hfi.request("GET", "/api/a", [["x-envoy-fault-delay-request", "1.5"]]).upstream.headers, "not an integer: no delay");
  assert.equal(hfi.metric("hfi_faults_delays_total"), 2);
});

test("a delay and an abort from headers: held first, then answered (Envoy's order)", async () => {
  const hfi = await trusting();
  const s = hfi.request("GET", "/api/a", [["x-envoy-fault-delay-request", "300"], ["x-envoy-fault-abort-request", "500"]]);
  hfi.clock.advance(299);
  assert.ok(held(s));
  hfi.clock.advance(1);
  assert.equal(s.localReply?.status, 500);
  assert.equal(s.upstream.headers, undefined);
});

test("percentage headers: min(header, rule percentage); the rule's percentage bounds every header fault", async () => {
  const count = async (rulePct: number, headers: [string, string][]) => {
    const hfi = await startHfi({ policies: [policy("p", {}, { percentage: rulePct, from_headers: true })] }, { logLevel: "warn" });
    let n = 0;
    for (let i = 0; i < 4000; i++) if (hfi.request("GET", "/", [["x-envoy-fault-abort-request", "503"], ...headers]).localReply) n++;
    return n / 4000;
  };
  assert.equal(await count(100, [["x-envoy-fault-abort-request-percentage", "0"]]), 0);
  assert.equal(await count(0, [["x-envoy-fault-abort-request-percentage", "100"]]), 0, "a rule at 0% injects nothing whatever the header says");
  // 4,000 draws: standard deviation below 0.008; the bounds are more than 6 of them away.
  const capped = await count(20, [["x-envoy-fault-abort-request-percentage", "100"]]);
  assert.ok(capped > 0.15 && capped < 0.25, `header 100% under a 20% rule: ${capped}`);
  const lowered = await count(100, [["x-envoy-fault-abort-request-percentage", "30"]]);
  assert.ok(lowered > 0.25 && lowered < 0.35, `header 30% under a 100% rule: ${lowered}`);
  const invalid = await count(100, [["x-envoy-fault-abort-request-percentage", "x"]]);
  assert.equal(invalid, 1, "an invalid percentage header falls back to the rule's percentage");
  const hfi = await startHfi({ policies: [policy("p", {}, { percentage: 100, from_headers: true })] });
  const s = hfi.request("GET", "/", [["x-envoy-fault-delay-request", "100"], ["x-envoy-fault-delay-request-percentage", "0"]]);
  assert.ok(s.upstream.headers, "delay percentage 0: no delay");
});

test("headers are honoured only on from_headers rules, and only where the rule's match holds", async () => {
  const plain = await startHfi({ policies: [policy("plain", {}, { percentage: 100, delay: { fixed_delay_ms: 10 } })] });
  const s = plain.request("GET", "/", [["x-envoy-fault-abort-request", "503"]]);
  assert.equal(s.localReply, undefined, "a rule without from_headers ignores the headers");
  const hfi = await trusting();
  const other = hfi.request("GET", "/elsewhere", [["x-envoy-fault-abort-request", "503"]]);
  assert.equal(other.localReply, undefined);
  assert.ok(other.upstream.headers);
});

test("a from_headers rule with its own fault: headers asking for a fault replace it, no headers keep it", async () => {
  const hfi = await trusting({ abort: { httpStatus: 418 } });
  assert.equal(hfi.request("GET", "/api/a").localReply?.status, 418);
  assert.equal(hfi.request("GET", "/api/a", [["x-envoy-fault-abort-request", "503"]]).localReply?.status, 503);
  const d = hfi.request("GET", "/api/a", [["x-envoy-fault-delay-request", "50"]]);
  hfi.clock.advance(50);
  assert.ok(d.upstream.headers, "the headers asked for a delay only: no abort from the rule");
});

test("without max_delay_ms no delay is taken from headers, and reading headers costs nothing where the rule does not match", async () => {
  const hfi = await trusting({}, { max_delay_ms: 0 });
  assert.ok(hfi.request("GET", "/api/a", [["x-envoy-fault-delay-request", "100"]]).upstream.headers);
  hfi.vm.resetHostCallCounts();
  hfi.request("GET", "/elsewhere", [["x-envoy-fault-abort-request", "503"]]);
  const calls = hfi.vm.hostCallCounts();
  assert.equal(calls.proxy_get_header_map_value ?? 0, 1, "only the path is read: no x-envoy-fault-* reads");
});

test("a gRPC abort header on a plain HTTP request answers HTTP 200, as Envoy's local reply does", async () => {
  const hfi = await trusting();
  const s = hfi.request("GET", "/api/a", [["x-envoy-fault-abort-grpc-request", "14"]]);
  assert.equal(s.localReply?.status, 200);
  assert.equal(s.localReply?.grpcStatus, undefined);
  assert.equal(s.reply.headers["x-fault-injected"], "abort");
});

test("faults asked for by headers spend the rule's max_injections", async () => {
  const hfi = await trusting({ max_injections: 2 });
  const statuses = Array.from({ length: 5 }, () => hfi.request("GET", "/api/a", [["x-envoy-fault-abort-request", "503"]]).localReply?.status);
  assert.deepEqual(statuses, [503, 503, undefined, undefined, undefined]);
  assert.equal(hfi.metric("hfi_faults_budget_skipped_total"), 3);
});
