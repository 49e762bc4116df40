// proxy_http_call: argument checks, replies, timeouts and resets as Envoy delivers them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { load, requestHeaders, startPlugin, TestClock, type ClusterHandler, type ClusterRequest } from "../../host";
import { fixturePath } from "./fixture";

async function withCluster(handler: ClusterHandler) {
  const clock = new TestClock();
  const vm = await load(fixturePath("scripted"), { clock, clusters: { control: handler } });
  const plugin = startPlugin(vm);
  assert.ok(plugin.ok);
  const call = (extra: Record<string, string> = {}) =>
    plugin.newStream().sendRequestHeaders(requestHeaders("GET", "/", { "x-call": "control", ...extra }), true);
  const lines = (prefix: string) => vm.log.messages().filter((m) => m.startsWith(prefix));
  return { clock, vm, plugin, call, lines };
}

test("an unknown cluster is BadArgument", async () => {
  const { call, lines } = await withCluster(() => ({ status: 200 }));
  call({ "x-call": "outbound|80||nope.default.svc.cluster.local" });
  assert.deepEqual(lines("http_call"), ["http_call -> 2"]);
});

test("missing :authority is BadArgument", async () => {
  const { call, lines } = await withCluster(() => ({ status: 200 }));
  call({ "x-call-no-authority": "1" });
  assert.deepEqual(lines("http_call"), ["http_call -> 2"]);
});

test("a negative timeout (u32 above 2^31) is BadArgument", async () => {
  const { call, lines } = await withCluster(() => ({ status: 200 }));
  call({ "x-call-timeout": "-1" });
  assert.deepEqual(lines("http_call"), ["http_call -> 2"]);
});

test("a reply arrives later on the root context, readable through the call-response map", async () => {
  let seen: ClusterRequest | undefined;
  const { clock, plugin, call, lines } = await withCluster((req) => {
    seen = req;
    return { status: 200, headers: { "x-ok": "1" }, body: "ok", delayMs: 50 };
  });
  const s = call();
  assert.equal(seen?.headers.get(":authority"), "control");
  assert.equal(seen?.timeoutMs, 1000);
  assert.deepEqual(lines("call response"), []);
  clock.advance(49);
  assert.equal(s.upstream.headers, undefined, "the stream waits for the call");
  clock.advance(1);
  assert.deepEqual(lines("call response"), [`call response ctx=${plugin.root.id} token=1 headers=2 body=2 status=200 get_status=0`]);
  assert.ok(s.upstream.headers, "resumed from the response callback");
});

test("a timeout arrives as :status 504 'upstream request timeout'", async () => {
  const { clock, call, lines } = await withCluster(() => ({ status: 200, delayMs: 5000 }));
  call({ "x-call-timeout": "100" });
  clock.advance(100);
  assert.deepEqual(lines("call response").map((l) => l.replace(/ctx=\d+ /, "")), ["call response token=1 headers=3 body=24 status=504 get_status=0"]);
  clock.advance(10_000);
  assert.equal(lines("call response").length, 1, "the late reply is dropped");
});

test("an unreachable cluster answers :status 503", async () => {
  const { clock, call, lines } = await withCluster(() => ({ unreachable: true }));
  call();
  clock.advance(0);
  assert.match(lines("call response")[0], /headers=3 body=19 status=503/);
});

test("a reset arrives with 0 headers and 0 body, and proxy_get_status reports BrokenConnection", async () => {
  const { clock, call, lines } = await withCluster(() => ({ reset: true }));
  call();
  clock.advance(0);
  assert.match(lines("call response")[0], /headers=0 body=0 status=none get_status=11$/);
});

test("the call belongs to the root: its reply still comes after the calling stream is gone", async () => {
  const { clock, call, lines } = await withCluster(() => ({ status: 200, delayMs: 10 }));
  const s = call();
  s.reset();
  clock.advance(10);
  assert.equal(lines("call response").length, 1);
  assert.deepEqual(lines("resume after call"), ["resume after call effective=2"], "the stream itself no longer exists");
});

test("async cluster handlers work with the test clock", async () => {
  const { clock, call, lines } = await withCluster(async () => ({ status: 201 }));
  call();
  await new Promise((r) => setImmediate(r));
  clock.advance(0);
  assert.match(lines("call response")[0], /status=201/);
});
