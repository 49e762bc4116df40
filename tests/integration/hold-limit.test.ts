/**
 * max_active_faults on the real module: one count for the whole proxy (every worker VM, every
 * root context, whatever its metric_prefix), taken and given back with compare-and-swap in
 * shared data.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { SharedState, StatsStore, TestClock, WasmResult } from "../../host/index";
import { policy, startHfi } from "../helpers/hfi";

const slow = (limit: number, ms = 1000) => ({
  max_active_faults: limit,
  policies: [policy("slow", {}, { percentage: 100, delay: { fixed_delay_ms: ms } })],
});

test("max_active_faults counts every hold of the proxy whatever the metric prefix", async () => {
  const hfi = await startHfi(slow(10));
  const first = Array.from({ length: 10 }, () => hfi.request("GET", "/"));
  assert.equal(hfi.metric("hfi_faults_active"), 10);
  assert.ok(hfi.plugin.reconfigure({ ...slow(10), metric_prefix: "mesh_" }).ok);
  const second = Array.from({ length: 10 }, () => hfi.request("GET", "/"));
  assert.ok(second.every((s) => s.upstream.headers), "the limit is reached: none of these is held");
  assert.equal(hfi.stats.value("wasmcustom.mesh_hfi_faults_overflow_total"), 10);
  hfi.clock.advance(1000);
  assert.ok(first.every((s) => s.upstream.headers));
  const third = hfi.request("GET", "/");
  assert.equal(third.upstream.headers, undefined, "places are given back when holds end");
  assert.equal(hfi.stats.value("wasmcustom.mesh_hfi_faults_active"), 1);
});

test("a request reset while held gives its place back", async () => {
  const hfi = await startHfi(slow(1));
  const held = hfi.request("GET", "/");
  assert.ok(hfi.request("GET", "/").upstream.headers, "the second overflows");
  held.reset();
  const next = hfi.request("GET", "/");
  assert.equal(next.upstream.headers, undefined, "held again after the reset");
  assert.equal(hfi.metric("hfi_faults_overflow_total"), 1);
});

test("workers share the limit: with limit 3 and three workers taking turns, the fourth hold overflows", async () => {
  const stats = new StatsStore();
  const shared = new SharedState();
  const clock = new TestClock();
  const workers = [];
  for (let i = 0; i < 3; i++) workers.push(await startHfi(slow(3), { stats, shared, clock }));
  for (const w of workers) assert.equal(w.request("GET", "/").upstream.headers, undefined, "held");
  assert.ok(workers[0].request("GET", "/").upstream.headers, "overflow");
  assert.equal(stats.value("wasmcustom.hfi_faults_overflow_total"), 1);
  clock.advance(1000);
  assert.equal(workers[2].request("GET", "/").upstream.headers, undefined, "all places free again");
});

test("when shared data fails, each VM still honours the limit for its own holds", async () => {
  const shared = new SharedState();
  shared.getData = () => WasmResult.InternalFailure;
  const hfi = await startHfi(slow(2), { shared });
  hfi.request("GET", "/");
  hfi.request("GET", "/");
  assert.ok(hfi.request("GET", "/").upstream.headers, "the third overflows");
  hfi.clock.advance(1000);
  assert.equal(hfi.request("GET", "/").upstream.headers, undefined, "held again once the first two ended");
  assert.equal(hfi.vm.failed, false);
});
