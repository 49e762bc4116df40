/** abort.headers and abort.grpcMessage on the real module; the recipe "fail the first attempt only". */
import { test } from "node:test";
import assert from "node:assert/strict";
import { policy, respond, startHfi } from "../helpers/hfi";

const GRPC = [["content-type", "application/grpc"]] as [string, string][];

test("abort headers reach the client; a given content-type replaces Envoy's text/plain", async () => {
  const hfi = await startHfi({
    policies: [policy("json-down", {}, {
      percentage: 100,
      abort: { httpStatus: 503, body: '{"error":"unavailable"}', headers: [{ name: "Content-Type", value: "application/json" }, { name: "retry-after", value: "2" }] },
    })],
  });
  const s = hfi.request("GET", "/");
  assert.equal(s.reply.status, 503);
  assert.equal(s.reply.headers["content-type"], "application/json");
  assert.equal(s.reply.headers["retry-after"], "2");
  assert.equal(s.reply.headers["content-length"], "23");
  assert.equal(s.reply.headers["x-fault-injected"], "abort");
  assert.equal(s.reply.body, '{"error":"unavailable"}');
});

test("gRPC abort: grpcMessage becomes grpc-message (percent-encoded by Envoy), headers are sent too", async () => {
  const hfi = await startHfi({
    policies: [policy("grpc-down", {}, { percentage: 100, abort: { grpcStatus: 14, grpcMessage: "injected: 100% down", body: "ignored for gRPC", headers: [{ name: "x-chaos", value: "1" }] } })],
  });
  const s = hfi.request("POST", "/pkg.Svc/M", GRPC, Buffer.from([0, 0, 0, 0, 0]));
  assert.equal(s.reply.status, 200);
  assert.equal(s.reply.headers["grpc-status"], "14");
  assert.equal(s.reply.headers["grpc-message"], "injected: 100%25 down");
  assert.equal(s.reply.headers["content-type"], "application/grpc");
  assert.equal(s.reply.headers["x-chaos"], "1");
  // The same rule answers a plain HTTP request with the mapped HTTP status and the body.
  const plain = hfi.request("GET", "/");
  assert.equal(plain.reply.status, 503);
  assert.equal(plain.reply.body, "ignored for gRPC");
  assert.equal(plain.reply.headers["grpc-message"], undefined);
});

test("recipe: fail the first attempt only (x-envoy-attempt-count exact 1), the retry passes", async () => {
  const hfi = await startHfi({
    policies: [policy("first-attempt-fails", { path: { prefix: "/orders" }, headers: [{ name: "x-envoy-attempt-count", exact: "1" }] },
      { percentage: 100, abort: { httpStatus: 503, headers: [{ name: "retry-after", value: "0" }] } })],
  });
  // What the calling Envoy's router sends: the same request, attempt 1 then attempt 2.
  const first = hfi.request("GET", "/orders/7", [["x-envoy-attempt-count", "1"]]);
  assert.equal(first.reply.status, 503);
  assert.equal(first.upstream.headers, undefined);
  const retry = respond(hfi.request("GET", "/orders/7", [["x-envoy-attempt-count", "2"]]), 200, "order 7");
  assert.equal(retry.reply.status, 200);
  assert.equal(retry.reply.body, "order 7");
  // Without the header (no route that counts attempts), the rule never fires.
  assert.equal(respond(hfi.request("GET", "/orders/7")).reply.status, 200);
  assert.equal(hfi.metric("hfi_faults_aborts_total"), 1);
});
