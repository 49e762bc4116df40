// HTTP streams with Envoy's filter-manager semantics, driven through the scripted fixture.
import { test } from "node:test";
import assert from "node:assert/strict";
import { load, requestHeaders, responseHeaders, startPlugin, TestClock, type HttpStream, type VmOptions } from "../../host";
import { fixturePath } from "./fixture";

/** The :path the upstream received (a function, so assertions on `headers` do not narrow it). */
const upstreamPath = (s: HttpStream): string | undefined => s.upstream.headers?.get(":path");

async function scripted(options: VmOptions = {}, configuration = "tick=100") {
  const clock = new TestClock();
  const vm = await load(fixturePath("scripted"), { clock, logLevel: "trace", ...options });
  const plugin = startPlugin(vm, { configuration });
  assert.ok(plugin.ok);
  return { clock, vm, plugin };
}

test("a request passes through when the filter continues", async () => {
  const { plugin } = await scripted();
  const s = plugin.newStream().sendRequestHeaders(requestHeaders("GET", "/ok"), true);
  assert.equal(s.upstream.headers?.get(":path"), "/ok");
  assert.ok(s.upstream.ended);
  s.sendResponseHeaders(responseHeaders(200), false).sendResponseBody("hello", true);
  assert.equal(s.reply.status, 200);
  assert.equal(s.reply.body, "hello");
  assert.equal(s.reply.headers["x-fixture-saw-response"], "1");
  assert.equal(s.state, "complete");
  assert.deepEqual(s.callbacks.slice(-3), ["proxy_on_log", "proxy_on_done", "proxy_on_delete"]);
});

test("StopIteration from headers holds headers and body without body callbacks (Envoy default), until resumed from the root", async () => {
  const { clock, plugin } = await scripted();
  const s = plugin.newStream().sendRequestHeaders(requestHeaders("POST", "/upload", { "x-on-request-headers": "stop", "x-resume-on-tick": "1" }));
  s.sendRequestBody("abc").sendRequestBody("def", true);
  assert.equal(s.upstream.headers, undefined);
  assert.ok(!s.callbacks.includes("proxy_on_request_body"), "no body callback while stopped for all frames");
  clock.advance(99);
  assert.equal(s.upstream.headers, undefined);
  clock.advance(1);
  assert.equal(upstreamPath(s), "/upload");
  assert.equal(s.upstream.body.toString(), "abcdef");
  assert.ok(s.upstream.ended);
  assert.equal(s.callbacks.filter((c) => c === "proxy_on_request_body").length, 1, "the buffered body is delivered once on resume");
});

test("trailers held while the filter stopped all iteration reach the filter after the body on resume", async () => {
  const { clock, plugin } = await scripted();
  const s = plugin.newStream().sendRequestHeaders(requestHeaders("POST", "/upload", { "x-on-request-headers": "stop", "x-resume-on-tick": "1" }));
  s.sendRequestBody("rows").sendRequestTrailers({ "x-checksum": "abc" });
  assert.ok(!s.callbacks.includes("proxy_on_request_trailers"), "held with the body");
  clock.advance(100);
  const requestCallbacks = s.callbacks.filter((c) => c.startsWith("proxy_on_request"));
  assert.deepEqual(requestCallbacks, ["proxy_on_request_headers", "proxy_on_request_body", "proxy_on_request_trailers"]);
  assert.equal(s.upstream.trailers?.get("x-checksum"), "abc");
  assert.ok(s.upstream.ended);
});

test("with allow_on_headers_stop_iteration, body callbacks arrive while headers are paused and a Continue resumes everything", async () => {
  const { vm, plugin } = await scripted({ allowOnHeadersStopIteration: true });
  const s = plugin
    .newStream()
    .sendRequestHeaders(requestHeaders("POST", "/upload", { "x-on-request-headers": "stop", "x-on-request-body": "buffer-until-end" }));
  s.sendRequestBody("abc");
  assert.equal(s.upstream.headers, undefined, "StopIterationAndBuffer keeps the stream paused");
  s.sendRequestBody("def", true);
  assert.ok(vm.log.messages().includes("body 6 eos=1"), "the second callback sees the whole buffered body");
  assert.equal(upstreamPath(s), "/upload");
  assert.equal(s.upstream.body.toString(), "abcdef");
  assert.ok(s.upstream.ended);
});

test("a reset during a pause ends the stream without a resume, and a later resume gets an error code", async () => {
  const { clock, vm, plugin } = await scripted();
  const s = plugin.newStream().sendRequestHeaders(requestHeaders("GET", "/slow", { "x-on-request-headers": "stop", "x-resume-on-tick": "1" }), true);
  s.reset();
  assert.equal(s.state, "reset");
  assert.deepEqual(s.callbacks.slice(-3), ["proxy_on_log", "proxy_on_done", "proxy_on_delete"]);
  clock.advance(100);
  assert.equal(s.upstream.headers, undefined, "nothing reaches the upstream");
  assert.ok(vm.log.messages().includes(`resume ${s.id} effective=2 continue=0`), vm.log.messages().join("\n"));
  assert.equal(vm.failed, false);
});

test("a local reply answers the client and nothing reaches the upstream", async () => {
  const { plugin } = await scripted();
  const s = plugin.newStream().sendRequestHeaders(requestHeaders("GET", "/deny", { "x-reply": "403" }), true);
  assert.equal(s.upstream.headers, undefined);
  assert.equal(s.reply.status, 403);
  assert.equal(s.reply.body, "denied");
  assert.equal(s.reply.headers["content-type"], "text/plain");
  assert.equal(s.reply.headers["x-fixture"], "1");
  assert.equal(s.localReply?.details, "fixture_reply");
  assert.equal(s.reply.headers["x-fixture-saw-response"], "1", "the local reply passes through on_response_headers");
  assert.equal(s.state, "complete");
});

test("a local reply to a gRPC request is trailers-only", async () => {
  const { plugin } = await scripted();
  const grpc = { "content-type": "application/grpc", "x-reply": "403" };
  const given = plugin.newStream().sendRequestHeaders(requestHeaders("POST", "/pkg.Svc/M", { ...grpc, "x-grpc-status": "16" }), true);
  assert.equal(given.reply.status, 200);
  assert.equal(given.reply.headers["content-type"], "application/grpc");
  assert.equal(given.reply.headers["grpc-status"], "16");
  assert.equal(given.reply.headers["grpc-message"], "denied");
  assert.equal(given.reply.body, "");
  const mapped = plugin.newStream().sendRequestHeaders(requestHeaders("POST", "/pkg.Svc/M", grpc), true);
  assert.equal(mapped.reply.headers["grpc-status"], "7", "403 maps to PermissionDenied");
});

test("the upstream request is reset when the client resets mid-stream", async () => {
  const { plugin } = await scripted();
  const s = plugin.newStream();
  let resets = 0;
  s.on("upstreamReset", () => resets++);
  s.sendRequestHeaders(requestHeaders("GET", "/"), false);
  assert.ok(s.upstream.headers);
  s.reset();
  assert.equal(resets, 1);
  assert.ok(s.upstream.reset);
});

test("a trap kills the VM; fail-open passes traffic untouched from then on", async () => {
  const { vm, plugin } = await scripted({ failStrategy: "open" });
  const s = plugin.newStream().sendRequestHeaders(requestHeaders("GET", "/", { "x-trap": "1" }), true);
  assert.ok(vm.failed);
  assert.match(vm.failure ?? "", /^Function: proxy_on_request_headers failed: Uncaught RuntimeError: unreachable/);
  assert.ok(s.upstream.headers, "the failing request itself continues");
  const next = plugin.newStream().sendRequestHeaders(requestHeaders("GET", "/next", { "x-reply": "403" }), true);
  assert.equal(next.upstream.headers?.get(":path"), "/next");
  assert.deepEqual(next.callbacks, [], "a dead VM is never entered");
  next.sendResponseHeaders(responseHeaders(200), true);
  assert.equal(next.reply.status, 200);
  assert.equal(next.reply.headers["x-fixture-saw-response"], undefined);
});

test("a trap kills the VM; fail-closed answers 503", async () => {
  const { vm, plugin } = await scripted({ failStrategy: "closed" });
  const s = plugin.newStream().sendRequestHeaders(requestHeaders("GET", "/", { "x-trap": "1" }), true);
  assert.ok(vm.failed);
  assert.equal(s.reply.status, 503);
  assert.equal(s.localReply?.details, "wasm_fail_stream");
  assert.equal(s.upstream.headers, undefined);
  const next = plugin.newStream().sendRequestHeaders(requestHeaders("GET", "/next"), true);
  assert.equal(next.reply.status, 503);
});

test("events let a proxy forward bytes as they are released", async () => {
  const { clock, plugin } = await scripted();
  const s = plugin.newStream();
  const seen: string[] = [];
  s.on("upstreamHeaders", (_h, end) => seen.push(`headers end=${end}`));
  s.on("upstreamData", (d, end) => seen.push(`data ${d.toString()} end=${end}`));
  s.on("upstreamEnd", () => seen.push("end"));
  s.on("downstreamHeaders", (h) => seen.push(`client ${h.get(":status")}`));
  s.on("complete", () => seen.push("complete"));
  s.sendRequestHeaders(requestHeaders("POST", "/", { "x-on-request-headers": "stop", "x-resume-on-tick": "1" }));
  s.sendRequestBody("a", true);
  assert.deepEqual(seen, []);
  clock.advance(100);
  s.sendResponseHeaders(responseHeaders(204), true);
  assert.deepEqual(seen, ["headers end=false", "data a end=true", "end", "client 204", "complete"]);
});

test("host calls are counted per function and returned values come from the module malloc", async () => {
  const { vm, plugin } = await scripted();
  vm.resetHostCallCounts();
  plugin.newStream().sendRequestHeaders(requestHeaders("GET", "/"), true).sendResponseHeaders(responseHeaders(200), true);
  const counts = vm.hostCallCounts();
  assert.ok(counts.proxy_get_header_map_value > 0);
  assert.ok(vm.mallocCalls > 0, "returned values are allocated with the module's malloc");
});
