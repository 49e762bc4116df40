// Local replies as Envoy's Http::Utility::prepareLocalReply / encodeLocalReply build them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildLocalReply, HeaderMap, type HeaderPairs } from "../../host";

const reply = (status: number, body: string, additionalHeaders: HeaderPairs = [], grpcStatus?: number) => ({
  status, body: Buffer.from(body), details: "d", grpcStatus, additionalHeaders,
});
const request = (method: string, contentType?: string): HeaderMap =>
  new HeaderMap([[":method", method], [":path", "/"], ...(contentType ? ([["content-type", contentType]] as HeaderPairs) : [])]);

test("a plain local reply: :status, the module's headers, then content-length and text/plain", () => {
  const { headers, body } = buildLocalReply(reply(503, "down", [["x-fault-injected", "abort"]]), request("GET"));
  assert.deepEqual(headers.pairs(), [[":status", "503"], ["x-fault-injected", "abort"], ["content-length", "4"], ["content-type", "text/plain"]]);
  assert.equal(body.toString(), "down");
});

test("the module's content-type is kept; a wrong content-length is overwritten; no body drops both", () => {
  const withType = buildLocalReply(reply(400, "{}", [["content-type", "application/json"], ["content-length", "99"]]), request("GET"));
  assert.deepEqual(withType.headers.pairs(), [[":status", "400"], ["content-type", "application/json"], ["content-length", "2"]]);
  const empty = buildLocalReply(reply(204, "", [["content-type", "text/html"], ["content-length", "5"]]), request("GET"));
  assert.deepEqual(empty.headers.pairs(), [[":status", "204"]]);
});

test("a HEAD request gets the headers (with content-length) and no body", () => {
  const { headers, body } = buildLocalReply(reply(503, "down"), request("HEAD"));
  assert.equal(headers.get("content-length"), "4");
  assert.equal(body.length, 0);
});

test("gRPC: 200 trailers-only after the module's headers; the module's grpc-status wins, then the given one, then the mapping", () => {
  const mapped = buildLocalReply(reply(503, "100% down", [["x-fault-injected", "abort"]]), request("POST", "application/grpc"));
  assert.deepEqual(mapped.headers.pairs(), [
    [":status", "200"], ["x-fault-injected", "abort"], ["content-type", "application/grpc"], ["grpc-status", "14"], ["grpc-message", "100%25 down"],
  ]);
  assert.equal(mapped.body.length, 0);
  assert.equal(buildLocalReply(reply(503, "", [], 7), request("POST", "application/grpc+proto")).headers.get("grpc-status"), "7");
  assert.equal(buildLocalReply(reply(503, "", [["grpc-status", "9"]], 7), request("POST", "application/grpc")).headers.get("grpc-status"), "9");
});
