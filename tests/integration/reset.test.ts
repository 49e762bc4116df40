/** fault.reset: the stream is reset (no response at all), at once or after a hold — on the real module. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { policy, startHfi } from "../helpers/hfi";

const GRPC = [["content-type", "application/grpc"], ["te", "trailers"]] as [string, string][];

test("a reset fault resets the stream at once: no response, nothing upstream, counted", async () => {
  const hfi = await startHfi({ policies: [policy("drop", { path: { prefix: "/drop" } }, { percentage: 100, reset: true })] });
  const s = hfi.request("POST", "/drop/me", [], "body");
  assert.equal(s.state, "reset");
  assert.equal(s.localReply, undefined, "no local reply: the client sees a dropped stream");
  assert.equal(s.downstream.headers, undefined);
  assert.equal(s.upstream.headers, undefined, "nothing reaches the upstream");
  assert.deepEqual(s.callbacks.slice(-3), ["proxy_on_log", "proxy_on_done", "proxy_on_delete"]);
  assert.equal(hfi.metric("hfi_faults_resets_total"), 1);
  assert.equal(hfi.metric("hfi_faults_aborts_total"), 0);
  assert.equal(hfi.vm.failed, false);
});

test("a reset after a delay: held for the delay, then reset; the delay is counted and recorded", async () => {
  const hfi = await startHfi({ policies: [policy("late-drop", {}, { percentage: 100, delay: { fixed_delay_ms: 500 }, reset: true })] });
  const s = hfi.request("GET", "/");
  hfi.clock.advance(499);
  assert.equal(s.state, "open", "still held");
  assert.equal(hfi.metric("hfi_faults_active"), 1);
  hfi.clock.advance(1);
  assert.equal(s.state, "reset");
  assert.equal(s.upstream.headers, undefined);
  assert.equal(s.downstream.headers, undefined);
  assert.equal(hfi.metric("hfi_faults_resets_total"), 1);
  assert.equal(hfi.metric("hfi_faults_delays_total"), 1);
  assert.equal(hfi.metric("hfi_faults_active"), 0);
});

test("a reset after start_delay_ms works the same", async () => {
  const hfi = await startHfi({ policies: [policy("p", {}, { percentage: 100, start_delay_ms: 200, reset: true })] });
  const s = hfi.request("GET", "/");
  hfi.clock.advance(199);
  assert.equal(s.state, "open");
  hfi.clock.advance(1);
  assert.equal(s.state, "reset");
});

test("gRPC and HTTP/2 requests are reset the same way (no grpc-status: the client sees the stream reset)", async () => {
  const hfi = await startHfi({ policies: [policy("grpc-drop", { path: { prefix: "/pkg.Svc/" } }, { percentage: 100, reset: true })] });
  const s = hfi.plugin.newStream({ protocol: "HTTP/2" });
  s.sendRequestHeaders([[":method", "POST"], [":path", "/pkg.Svc/Get"], [":authority", "svc"], [":scheme", "http"], ...GRPC], false);
  s.sendRequestBody(Buffer.from([0, 0, 0, 0, 0]), true);
  assert.equal(s.state, "reset");
  assert.equal(s.localReply, undefined);
  assert.equal(s.downstream.headers, undefined);
});

test("a client that goes away first while a reset is pending: nothing more happens", async () => {
  const hfi = await startHfi({ policies: [policy("p", {}, { percentage: 100, delay: { fixed_delay_ms: 100 }, reset: true })] });
  const s = hfi.request("GET", "/");
  s.reset();
  hfi.clock.advance(100);
  assert.equal(hfi.metric("hfi_faults_resets_total"), 0, "the stream was gone before the fault applied");
  assert.equal(hfi.vm.failed, false);
});

test("a reset rule at 0 % never resets", async () => {
  const hfi = await startHfi({ policies: [policy("never", {}, { percentage: 0, reset: true })] });
  const s = hfi.request("GET", "/");
  assert.equal(s.state, "open");
  assert.ok(s.upstream.headers);
});
