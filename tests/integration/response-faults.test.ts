/** fault.response: status, body, headers and delay applied to the upstream's answer — on the real module. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { instantiate, requestHeaders, responseHeaders, startPlugin, TestClock } from "../../host/index";
import { pluginModule, policy, respond, startHfi } from "../helpers/hfi";

const GRPC_REQUEST = [["content-type", "application/grpc"], ["te", "trailers"]] as [string, string][];
const GRPC_RESPONSE = [["content-type", "application/grpc"]] as [string, string][];

async function withResponse(response: object, extra: object = {}) {
  return startHfi({ policies: [policy("rsp", { path: { prefix: "/api" } }, { percentage: 100, response, ...extra })] });
}

test("status and body are replaced; content-length goes (the transport frames the new body); marked as a response fault", async () => {
  const hfi = await withResponse({ httpStatus: 503, body: '{"error":"overwritten"}' });
  const s = hfi.request("GET", "/api/items");
  assert.ok(s.upstream.headers, "the upstream does its work");
  respond(s, 200, "the original body", [["content-length", "17"]]);
  assert.equal(s.reply.status, 503);
  assert.equal(s.reply.body, '{"error":"overwritten"}');
  assert.equal(s.reply.headers["content-length"], undefined);
  assert.equal(s.reply.headers["x-fault-injected"], "response");
  assert.equal(s.reply.headers["x-hfi-policy"], "rsp");
  assert.equal(hfi.metric("hfi_faults_response_faults_total"), 1);
});

test("a chunked body that arrives in many chunks is replaced whole, once", async () => {
  const hfi = await withResponse({ body: "new" });
  const s = hfi.request("GET", "/api/stream");
  s.sendResponseHeaders(responseHeaders(200, [["transfer-encoding", "chunked"]]), false);
  for (const chunk of ["aaa", "bbbb", "cc"]) s.sendResponseBody(chunk, false);
  s.sendResponseBody("end", true);
  assert.equal(s.reply.status, 200, "no httpStatus: the upstream's status stays");
  assert.equal(s.reply.body, "new");
  assert.equal(s.reply.headers["content-length"], undefined);
  assert.equal(s.state, "complete");
});

test("non-ASCII replacement bodies are sent whole, as bytes", async () => {
  const hfi = await withResponse({ body: "déjà vu" });
  const s = respond(hfi.request("GET", "/api"), 200, "x", [["content-length", "1"]]);
  assert.equal(s.reply.body, "déjà vu");
  assert.equal(s.reply.headers["content-length"], undefined);
});

test("an upstream that answers with headers, then trailers and no data: no content-length for a body never sent", async () => {
  const hfi = await withResponse({ httpStatus: 503, body: "replaced" });
  const s = hfi.request("GET", "/api");
  s.sendResponseHeaders(responseHeaders(200, [["content-length", "0"]]), false);
  s.sendResponseTrailers([["x-checksum", "0"]]);
  assert.equal(s.reply.status, 503);
  const length = s.reply.headers["content-length"];
  assert.ok(length === undefined || Number(length) === Buffer.byteLength(s.reply.body ?? ""), `content-length ${length}, body ${JSON.stringify(s.reply.body)}`);
});

test("a status change alone keeps the upstream's body and length", async () => {
  const hfi = await withResponse({ httpStatus: 500 });
  const s = respond(hfi.request("GET", "/api"), 200, "kept", [["content-length", "4"]]);
  assert.equal(s.reply.status, 500);
  assert.equal(s.reply.body, "kept");
  assert.equal(s.reply.headers["content-length"], "4");
});

test("a response without a body keeps having none (the ABI cannot add one): status still changes", async () => {
  const hfi = await withResponse({ httpStatus: 503, body: "ignored" });
  const s = hfi.request("GET", "/api");
  s.sendResponseHeaders(responseHeaders(204), true);
  assert.equal(s.reply.status, 503);
  assert.equal(s.reply.body, "");
  assert.equal(s.state, "complete");
});

test("headers are added and removed (names case-insensitive)", async () => {
  const hfi = await withResponse({ headers: { add: [{ name: "X-Chaos", value: "1" }, { name: "cache-control", value: "no-store" }], remove: ["ETag", "cache-control"] } });
  const s = respond(hfi.request("GET", "/api"), 200, "ok", [["etag", '"abc"'], ["cache-control", "max-age=60"]]);
  assert.equal(s.reply.headers["x-chaos"], "1");
  assert.equal(s.reply.headers["etag"], undefined);
  assert.equal(s.reply.headers["cache-control"], "no-store", "removed, then added");
  assert.equal(s.reply.body, "ok");
});

test("delay_ms holds the response headers (and the body behind them) on the monotonic clock", async () => {
  const hfi = await withResponse({ delay_ms: 300, httpStatus: 502, body: "late" });
  const s = hfi.request("GET", "/api");
  s.sendResponseHeaders(responseHeaders(200, [["content-length", "2"]]), false);
  s.sendResponseBody("ok", true);
  assert.equal(s.downstream.headers, undefined, "held");
  assert.equal(hfi.metric("hfi_faults_active"), 1);
  hfi.clock.advance(299);
  assert.equal(s.downstream.headers, undefined);
  hfi.clock.advance(1);
  assert.equal(s.reply.status, 502);
  assert.equal(s.reply.body, "late");
  assert.equal(s.state, "complete");
  assert.equal(hfi.metric("hfi_faults_active"), 0);
  assert.equal(hfi.metric("hfi_faults_delays_total"), 1);
});

test("a client reset while the response is held releases the hold", async () => {
  const hfi = await withResponse({ delay_ms: 300 });
  const s = hfi.request("GET", "/api");
  s.sendResponseHeaders(responseHeaders(200), false);
  assert.equal(hfi.metric("hfi_faults_active"), 1);
  s.reset();
  assert.equal(hfi.metric("hfi_faults_active"), 0);
  hfi.clock.advance(300);
  assert.equal(hfi.vm.failed, false);
});

test("combined with a request delay: the request is held first, then the response is rewritten", async () => {
  const hfi = await withResponse({ httpStatus: 503 }, { delay: { fixed_delay_ms: 100 } });
  const s = hfi.request("GET", "/api");
  assert.equal(s.upstream.headers, undefined, "the request is held");
  hfi.clock.advance(100);
  assert.ok(s.upstream.headers);
  respond(s, 200, "ok");
  assert.equal(s.reply.status, 503);
});

test("a response-only rule never holds the request and leaves other paths alone", async () => {
  const hfi = await withResponse({ httpStatus: 503 });
  const s = hfi.request("POST", "/api", [], "payload");
  assert.ok(s.upstream.ended, "request passes at once");
  assert.equal(s.upstream.body.toString(), "payload");
  const other = respond(hfi.request("GET", "/web"), 200, "ok");
  assert.equal(other.reply.status, 200);
  assert.equal(other.reply.headers["x-fault-injected"], undefined);
});

test("gRPC: the status goes into the trailers (mapped as Envoy maps HTTP to gRPC), messages are dropped", async () => {
  const hfi = await withResponse({ httpStatus: 503, body: "100% injected" });
  const s = hfi.request("POST", "/api.Svc/Get", GRPC_REQUEST, Buffer.from([0, 0, 0, 0, 0]));
  s.sendResponseHeaders(responseHeaders(200, GRPC_RESPONSE), false);
  s.sendResponseBody(Buffer.from([0, 0, 0, 0, 2, 8, 1]), false);
  s.sendResponseTrailers([["grpc-status", "0"]]);
  assert.equal(s.reply.status, 200, "gRPC errors keep :status 200");
  assert.equal(s.downstream.body.length, 0);
  assert.equal(s.downstream.trailers?.get("grpc-status"), "14");
  assert.equal(s.downstream.trailers?.get("grpc-message"), "100%25 injected");
  assert.equal(s.reply.headers["content-length"], undefined);
});

test("gRPC without upstream trailers: the last body callback adds them", async () => {
  const hfi = await withResponse({ httpStatus: 404 });
  const s = hfi.request("POST", "/api.Svc/Get", GRPC_REQUEST, Buffer.from([0, 0, 0, 0, 0]));
  s.sendResponseHeaders(responseHeaders(200, GRPC_RESPONSE), false);
  s.sendResponseBody(Buffer.from([0, 0, 0, 0, 0]), true);
  assert.equal(s.downstream.trailers?.get("grpc-status"), "12");
  assert.equal(s.downstream.trailers?.get("grpc-message"), undefined);
});

test("gRPC trailers-only upstream answer: the status is replaced in the headers", async () => {
  const hfi = await withResponse({ httpStatus: 429 });
  const s = hfi.request("POST", "/api.Svc/Get", GRPC_REQUEST, Buffer.from([0, 0, 0, 0, 0]));
  s.sendResponseHeaders(responseHeaders(200, [...GRPC_RESPONSE, ["grpc-status", "0"]]), true);
  assert.equal(s.reply.headers["grpc-status"], "14");
  assert.equal(s.reply.status, 200);
});

test("with allow_on_headers_stop_iteration a held response's body chunks are buffered and still replaced whole", async () => {
  const clock = new TestClock();
  const vm = instantiate(await pluginModule(), { clock, allowOnHeadersStopIteration: true });
  const plugin = startPlugin(vm, { configuration: { policies: [policy("rsp", {}, { percentage: 100, response: { delay_ms: 100, httpStatus: 503, body: "replaced" } })] } });
  const s = plugin.newStream().sendRequestHeaders(requestHeaders("GET", "/"), true);
  s.sendResponseHeaders(responseHeaders(200, [["content-length", "12"]]), false);
  s.sendResponseBody("part-1;", false);
  s.sendResponseBody("part2", false);
  assert.equal(s.downstream.headers, undefined, "held");
  clock.advance(100);
  s.sendResponseBody("", true);
  assert.equal(s.reply.status, 503);
  assert.equal(s.reply.body, "replaced");
  assert.equal(s.reply.headers["content-length"], undefined);
});

test("with allow_on_headers_stop_iteration a held gRPC answer's trailers still get the status", async () => {
  const clock = new TestClock();
  const vm = instantiate(await pluginModule(), { clock, allowOnHeadersStopIteration: true });
  const plugin = startPlugin(vm, { configuration: { policies: [policy("rsp", {}, { percentage: 100, response: { delay_ms: 50, httpStatus: 503 } })] } });
  const s = plugin.newStream().sendRequestHeaders(requestHeaders("POST", "/pkg.Svc/M", GRPC_REQUEST), true);
  s.sendResponseHeaders(responseHeaders(200, GRPC_RESPONSE), false);
  s.sendResponseBody(Buffer.from([0, 0, 0, 0, 0]), false);
  s.sendResponseTrailers([["grpc-status", "0"]]);
  clock.advance(50);
  assert.equal(s.downstream.trailers?.get("grpc-status"), "14");
  assert.equal(s.downstream.body.length, 0);
});
