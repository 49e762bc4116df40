// proxy_close_stream as Envoy's Context::closeStream does it (docs/how-it-works.md, "Reset"):
// deferred until the callback returns, response code details "wasm_close_stream", the stream
// reset (upstream request abandoned, no response), and a warning where Envoy asserts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { load, requestHeaders, responseHeaders, startPlugin, TestClock } from "../../host";
import { fixturePath } from "./fixture";

async function scripted() {
  const clock = new TestClock();
  const vm = await load(fixturePath("scripted"), { clock, logLevel: "trace" });
  const plugin = startPlugin(vm, { configuration: "tick=100" });
  assert.ok(plugin.ok);
  return { vm, plugin };
}

test("close from request headers: Ok, then (after the callback) the stream is reset with wasm_close_stream", async () => {
  const { vm, plugin } = await scripted();
  const s = plugin.newStream();
  const order: string[] = [];
  s.on("reset", () => order.push("reset"));
  s.sendRequestHeaders(requestHeaders("POST", "/x", { "x-close": "request" }), false);
  assert.ok(vm.log.messages().includes("close -> 0"), vm.log.messages().join("\n"));
  assert.equal(s.state, "reset");
  assert.deepEqual(order, ["reset"]);
  assert.equal(s.upstream.headers, undefined, "the request never reaches the upstream");
  assert.equal(s.downstream.headers, undefined, "the client gets no response");
  assert.equal(s.localReply, undefined);
  assert.deepEqual(s.callbacks.slice(-4), ["proxy_on_request_headers", "proxy_on_log", "proxy_on_done", "proxy_on_delete"]);
  assert.ok(vm.log.messages().includes(`log ${s.id} details=wasm_close_stream`), vm.log.messages().join("\n"));
  assert.equal(vm.log.messages("warn").length, 0);
});

test("close from a response-header callback: Envoy asserts there (envoy#26994), the host warns and resets", async () => {
  const { vm, plugin } = await scripted();
  const s = plugin.newStream();
  let upstreamResets = 0;
  s.on("upstreamReset", () => upstreamResets++);
  s.sendRequestHeaders(requestHeaders("GET", "/x", { "x-close": "response" }), true);
  assert.ok(s.upstream.headers);
  s.sendResponseHeaders(responseHeaders(200), false);
  assert.equal(s.state, "reset");
  assert.ok(vm.log.messages("warn").some((l) => l.includes("proxy_close_stream from proxy_on_response_headers") && l.includes("envoy#26994")),
    vm.log.messages("warn").join("\n"));
  assert.ok(vm.log.messages().includes(`log ${s.id} details=via_upstream`), "the router had set its details already");
  assert.equal(upstreamResets, 0, "the upstream had finished sending the request; its response is dropped");
});
