/** Delays: holding requests, resuming them, bodies, resets, overflow — on the real module. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { instantiate, requestHeaders, startPlugin, TestClock, type HttpStream } from "../../host/index";
import { pluginModule, policy, respond, startHfi } from "../helpers/hfi";

// Functions, not inline checks: an inline `=== undefined` assertion would narrow the
// property's type for the rest of the test, although the stream changes as time passes.
const notForwarded = (s: HttpStream) => s.upstream.headers === undefined;
const notAnswered = (s: HttpStream) => s.localReply === undefined;

const SLOW = (ms: number, extra: object = {}) => ({ percentage: 100, delay: { fixed_delay_ms: ms }, ...extra });

test("a delayed request is held for the whole delay, never less, then reaches the upstream unchanged", async () => {
  const hfi = await startHfi({ policies: [policy("slow", { path: { prefix: "/catalog" } }, SLOW(500))] });
  const s = hfi.request("GET", "/catalog?page=2", [["x-trace", "abc"]]);
  assert.ok(notForwarded(s), "held");
  hfi.clock.advance(499);
  assert.ok(notForwarded(s), "still held at 499 ms");
  assert.equal(hfi.metric("hfi_faults_active"), 1);
  hfi.clock.advance(1);
  assert.ok(s.upstream.headers, "released at 500 ms");
  assert.equal(s.upstream.headers!.get(":path"), "/catalog?page=2");
  assert.equal(s.upstream.headers!.get("x-trace"), "abc");
  assert.equal(hfi.metric("hfi_faults_active"), 0);
  assert.equal(hfi.metric("hfi_faults_delays_total"), 1);
  respond(s);
  assert.equal(s.reply.status, 200);
  assert.equal(s.reply.headers["x-fault-injected"], "delay");
  assert.equal(s.reply.headers["x-hfi-policy"], "slow");
});

test("marking delayed responses can be turned off", async () => {
  const hfi = await startHfi({ mark_delayed_responses: false, policies: [policy("slow", {}, SLOW(10))] });
  const s = hfi.request("GET", "/");
  hfi.clock.advance(10);
  respond(s);
  assert.ok(s.reply.headers["x-fault-injected"] === undefined);
});

test("a held POST keeps its whole body and the upstream receives all of it after the delay", async () => {
  const hfi = await startHfi({ policies: [policy("slow-post", { method: { exact: "POST" } }, SLOW(300))] });
  const stream = hfi.plugin.newStream();
  stream.sendRequestHeaders(requestHeaders("POST", "/orders", [["content-type", "application/octet-stream"]]), false);
  const chunks = [Buffer.alloc(64 * 1024, 1), Buffer.alloc(64 * 1024, 2), Buffer.alloc(1000, 3)];
  stream.sendRequestBody(chunks[0], false);
  hfi.clock.advance(100);
  stream.sendRequestBody(chunks[1], false);
  stream.sendRequestBody(chunks[2], true);
  hfi.clock.advance(199);
  assert.ok(notForwarded(stream));
  assert.equal(stream.upstream.body.length, 0, "no byte leaves before the delay ends");
  hfi.clock.advance(1);
  assert.ok(stream.upstream.headers);
  assert.ok(stream.upstream.ended);
  assert.deepEqual(stream.upstream.body, Buffer.concat(chunks));
});

test("with allow_on_headers_stop_iteration body callbacks keep arriving and stay buffered until the delay ends", async () => {
  const clock = new TestClock();
  const vm = instantiate(await pluginModule(), { clock, allowOnHeadersStopIteration: true });
  const plugin = startPlugin(vm, { configuration: { policies: [policy("slow", {}, SLOW(200))] } });
  const s = plugin.newStream().sendRequestHeaders(requestHeaders("PUT", "/doc"), false);
  s.sendRequestBody("part-1;", false);
  s.sendRequestBody("part-2", true);
  assert.equal(s.upstream.body.length, 0);
  clock.advance(200);
  assert.equal(s.upstream.body.toString(), "part-1;part-2");
  assert.ok(s.upstream.ended);
});

test("a client that gives up while held leaves nothing behind: no resume, no error, the held count drops", async () => {
  const hfi = await startHfi({ policies: [policy("slow", {}, SLOW(1000))] });
  const held = [hfi.request("GET", "/a"), hfi.request("GET", "/b"), hfi.request("GET", "/c")];
  assert.equal(hfi.metric("hfi_faults_active"), 3);
  held[1].reset();
  assert.equal(hfi.metric("hfi_faults_active"), 2);
  hfi.clock.advance(1000);
  assert.ok(held[0].upstream.headers);
  assert.ok(notForwarded(held[1]), "a reset stream is never resumed");
  assert.ok(held[2].upstream.headers);
  assert.equal(hfi.metric("hfi_faults_active"), 0);
  assert.equal(hfi.vm.failed, false);
  assert.deepEqual(hfi.logs("warn"), []);
});

test("delay then abort when both are given, as Envoy and Istio do", async () => {
  const hfi = await startHfi({ policies: [policy("both", {}, { percentage: 100, delay: { fixed_delay_ms: 250 }, abort: { httpStatus: 503, body: "late failure" } })] });
  const s = hfi.request("GET", "/");
  assert.ok(notAnswered(s));
  hfi.clock.advance(249);
  assert.ok(notAnswered(s));
  hfi.clock.advance(1);
  assert.equal(s.localReply?.status, 503);
  assert.equal(s.localReply?.body, "late failure");
  assert.ok(notForwarded(s));
  assert.equal(hfi.metric("hfi_faults_delays_total"), 1);
  assert.equal(hfi.metric("hfi_faults_aborts_total"), 1);
});

test("start_delay_ms: the request first waits, then the fault applies (500 + 1000 = about 1500 ms held)", async () => {
  const hfi = await startHfi({ policies: [policy("late", {}, { percentage: 100, start_delay_ms: 500, delay: { fixed_delay_ms: 1000 } })] });
  const s = hfi.request("GET", "/");
  hfi.clock.advance(1499);
  assert.ok(notForwarded(s));
  hfi.clock.advance(1);
  assert.ok(s.upstream.headers);
  const late = await startHfi({ policies: [policy("late-failure", { path: { exact: "/checkout" } }, { percentage: 100, start_delay_ms: 200, abort: { httpStatus: 500 }, duration_seconds: 600 })] });
  const c = late.request("GET", "/checkout");
  late.clock.advance(199);
  assert.ok(notAnswered(c));
  late.clock.advance(1);
  assert.equal(c.localReply?.status, 500);
  assert.equal(late.metric("hfi_faults_delays_total"), 0, "a start delay alone is not a delay fault");
});

test("many held requests are released in deadline order by one root tick", async () => {
  const hfi = await startHfi({
    policies: [1, 2, 3, 4, 5].map((n) => policy(`p${n}`, { path: { exact: `/${n}` } }, SLOW(n * 100))),
  });
  const order: number[] = [];
  const streams = [5, 3, 1, 4, 2].map((n) => {
    const s = hfi.request("GET", `/${n}`);
    s.on("upstreamHeaders", () => order.push(n));
    return s;
  });
  hfi.clock.advance(1000);
  assert.deepEqual(order, [1, 2, 3, 4, 5]);
  assert.ok(streams.every((s) => s.upstream.headers));
});

test("max_active_faults: beyond the limit a fault is skipped and counted, the request passes", async () => {
  const hfi = await startHfi({ max_active_faults: 2, policies: [policy("slow", {}, SLOW(1000))] });
  const a = hfi.request("GET", "/1");
  const b = hfi.request("GET", "/2");
  const c = hfi.request("GET", "/3");
  assert.ok(notForwarded(a));
  assert.ok(notForwarded(b));
  assert.ok(c.upstream.headers, "the third request is not held");
  assert.equal(hfi.metric("hfi_faults_overflow_total"), 1);
  assert.equal(hfi.metric("hfi_faults_active"), 2);
  hfi.clock.advance(1000);
  const d = hfi.request("GET", "/4");
  assert.ok(notForwarded(d), "room again once the others were released");
});

test("the delay histogram records the time actually held", async () => {
  // Envoy bins histogram samples with two significant digits: 90 ms lands in [90, 100), so
  // it counts under le="100" (a sample of exactly 100 would count under le="250").
  const hfi = await startHfi({ policies: [policy("slow", {}, SLOW(90))] });
  for (let i = 0; i < 3; i++) {
    hfi.request("GET", "/");
    hfi.clock.advance(90);
  }
  hfi.stats.flush();
  const prom = hfi.stats.renderPrometheus();
  assert.match(prom, /^hfi_faults_delay_duration_milliseconds_bucket\{le="100"\} 3$/m);
  assert.match(prom, /^hfi_faults_delay_duration_milliseconds_bucket\{le="50"\} 0$/m);
  assert.match(prom, /^hfi_faults_delay_duration_milliseconds_count\{\} 3$/m);
});

test("delays above max_delay_ms are clamped with a warning", async () => {
  const hfi = await startHfi({ max_delay_ms: 2000, policies: [policy("too-slow", {}, SLOW(60000))] });
  assert.ok(hfi.logs("warn").some((l) => l.includes('policy "too-slow" rule 0: fault.delay.fixed_delay_ms: 60000 ms is above max_delay_ms; clamped to 2000 ms')), hfi.logs().join("\n"));
  const s = hfi.request("GET", "/");
  hfi.clock.advance(2000);
  assert.ok(s.upstream.headers);
});

test("requests held under an old policy set finish under the rules they started with", async () => {
  const hfi = await startHfi({ policies: [policy("slow-then-abort", {}, { percentage: 100, delay: { fixed_delay_ms: 500 }, abort: { httpStatus: 503 } })] });
  const s = hfi.request("GET", "/");
  const result = hfi.plugin.reconfigure({ policies: [] });
  assert.ok(result.ok);
  const after = hfi.request("GET", "/");
  assert.ok(after.upstream.headers, "new requests see the new (empty) set");
  hfi.clock.advance(500);
  assert.equal(s.localReply?.status, 503, "the held request keeps its rule: delay then abort");
});

test("one tick per deadline: the tick is aimed at the next deadline, and stops when nothing is pending", async () => {
  const hfi = await startHfi({ policies: [policy("slow", { path: { prefix: "/a" } }, SLOW(100)), policy("later", { path: { prefix: "/b" } }, SLOW(130))] });
  assert.equal(hfi.plugin.root.tickPeriodMs, 1, "a new set is published on a tick at once");
  hfi.clock.advance(1);
  assert.equal(hfi.plugin.root.tickPeriodMs, 0, "then nothing is pending");
  const first = hfi.request("GET", "/a");
  const second = hfi.request("GET", "/b");
  assert.equal(hfi.plugin.root.tickPeriodMs, 100);
  hfi.clock.advance(100);
  assert.ok(!notForwarded(first));
  assert.equal(hfi.plugin.root.tickPeriodMs, 30, "re-aimed at the next deadline");
  hfi.clock.advance(29);
  assert.ok(notForwarded(second), "never before the deadline");
  hfi.clock.advance(1);
  assert.ok(!notForwarded(second));
  assert.equal(hfi.plugin.root.tickPeriodMs, 0, "no tick while nothing is pending");
});
