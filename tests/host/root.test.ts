// Root context: start, configuration (rejection, replacement), tick timer, properties.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Canary, compileModule, instantiate, istioNode, load, Log, RealClock, requestHeaders, SharedState, startPlugin, StatsStore, TestClock, WasmResult } from "../../host";
import { addBumpMalloc, op, WasmModuleBuilder } from "../helpers/wasm-builder";
import { fixturePath } from "./fixture";

test("on_configure returning 0 rejects the plugin, with the stage and the module's log", async () => {
  const vm = await load(fixturePath("scripted"));
  const plugin = startPlugin(vm, { configuration: "reject" });
  assert.equal(plugin.ok, false);
  assert.equal(plugin.result.stage, "configure");
  assert.ok(plugin.result.logs.some((l) => l.message === "bad config: reject requested" && l.levelName === "error"));
});

test("every configuration is tried in a canary first; a rejected one leaves the running plugin alone", async () => {
  const vm = await load(fixturePath("scripted"), { logLevel: "info" });
  const plugin = startPlugin(vm, { configuration: "first" });
  const firstRoot = plugin.root;
  const rejected = plugin.reconfigure("reject");
  assert.equal(rejected.ok, false);
  assert.equal(rejected.stage, "configure");
  assert.equal(rejected.canary, true, "the canary refused it");
  assert.equal(plugin.root, firstRoot);
  const worker = (): string[] => vm.log.entries.filter((e) => e.vm !== "canary").map((e) => e.message);
  assert.ok(!worker().includes("configure reject"), "the running VM never saw it");

  const accepted = plugin.reconfigure("second");
  assert.equal(accepted.ok, true);
  assert.notEqual(plugin.root.id, firstRoot.id, "Envoy starts a new root context for a new configuration");
  assert.ok(firstRoot.deleted, "the old root is shut down once idle");
  assert.deepEqual(worker().filter((m) => m.startsWith("configure")), ["configure first", "configure second"]);
  // The canary shares the log: the first configuration went through it too.
  assert.deepEqual(vm.log.messages("trace", "canary").filter((m) => m.startsWith("configure")), ["configure first", "configure reject", "configure second"]);
  const s = plugin.newStream().sendRequestHeaders(requestHeaders("GET", "/"), true);
  assert.ok(s.upstream.headers);
});

test("root id is any string and visible as plugin_root_id, with plugin_name", async () => {
  const b = new WasmModuleBuilder();
  const getProperty = b.importFunction("env", "proxy_get_property", ["i32", "i32", "i32", "i32"]);
  addBumpMalloc(b);
  b.func([], [], [], { export: "proxy_abi_version_0_2_0" });
  const [rootPath, rootLen] = b.bytes("plugin_root_id");
  const [namePath, nameLen] = b.bytes("node\0metadata\0LABELS\0app");
  const [missing, missingLen] = b.bytes("node\0metadata\0NOPE");
  const out = b.scratch(48);
  // on_vm_start: results (rc, ptr, size) of three lookups at out..out+36
  const [pluginName, pluginNameLen] = b.bytes("plugin_name");
  const lookup = (p: number, l: number, at: number): number[] =>
    [op.i32(at), op.i32(p), op.i32(l), op.i32(at + 4), op.i32(at + 8), op.call(getProperty), op.store32].flat();
  b.func(
    ["i32", "i32"],
    ["i32"],
    [lookup(rootPath, rootLen, out), lookup(namePath, nameLen, out + 12), lookup(missing, missingLen, out + 24), lookup(pluginName, pluginNameLen, out + 36), op.i32(1)],
    { export: "proxy_on_vm_start" },
  );
  const vm = await load(b.build(), { node: istioNode({ workloadName: "reviews-v1", namespace: "default", labels: { app: "reviews" } }) });
  const plugin = startPlugin(vm, { rootId: "hfi", name: "default.hfi" });
  assert.ok(plugin.ok);
  const word = (at: number): number => Buffer.from(vm.read(at, 4)!).readUInt32LE(0);
  const text = (at: number): string => vm.readString(word(at + 4), word(at + 8))!;
  assert.equal(word(out), WasmResult.Ok);
  assert.equal(text(out), "hfi");
  assert.equal(word(out + 12), WasmResult.Ok);
  assert.equal(text(out + 12), "reviews");
  assert.equal(word(out + 24), WasmResult.NotFound, "absent node metadata is NotFound, not empty");
  assert.equal(text(out + 36), "default.hfi");
});

test("the tick timer fires every period at its due time, and 0 stops it", async () => {
  const b = new WasmModuleBuilder();
  const setTick = b.importFunction("env", "proxy_set_tick_period_milliseconds", ["i32"]);
  const now = b.importFunction("env", "proxy_get_current_time_nanoseconds", ["i32"]);
  addBumpMalloc(b);
  b.func([], [], [], { export: "proxy_abi_version_0_2_0" });
  const count = b.scratch(4);
  const times = b.scratch(64);
  b.func(["i32", "i32"], ["i32"], [op.i32(100), op.call(setTick), op.drop, op.i32(1)], { export: "proxy_on_configure" });
  // on_tick: times[count] = now(); count++; if count == 3: set_tick(0)
  b.func(["i32"], [], [
    op.i32(times), op.i32(count), op.load32, op.i32(8), [0x6c], op.add, op.call(now), op.drop,
    op.i32(count), op.i32(count), op.load32, op.i32(1), op.add, op.store32,
    op.i32(count), op.load32, op.i32(3), [0x46], [0x04, 0x40], op.i32(0), op.call(setTick), op.drop, [0x0b],
  ], { export: "proxy_on_tick" });
  const clock = new TestClock(1_000_000);
  const vm = await load(b.build(), { clock });
  assert.ok(startPlugin(vm).ok);
  clock.advance(250);
  assert.equal(Buffer.from(vm.read(count, 4)!).readUInt32LE(0), 2);
  clock.advance(1000);
  assert.equal(Buffer.from(vm.read(count, 4)!).readUInt32LE(0), 3, "stopped after the third tick");
  const at = (i: number): bigint => Buffer.from(vm.read(times + i * 8, 8)!).readBigUInt64LE(0);
  assert.deepEqual([at(0), at(1), at(2)], [1_000_100_000_000n, 1_000_200_000_000n, 1_000_300_000_000n]);
});

test("with the real clock, ticks run on timers", async () => {
  const vm = await load(fixturePath("scripted"), { clock: new RealClock() });
  const plugin = startPlugin(vm, { configuration: "tick=10" });
  const s = plugin.newStream().sendRequestHeaders(requestHeaders("GET", "/", { "x-on-request-headers": "stop", "x-resume-on-tick": "1" }), true);
  await new Promise((r) => setTimeout(r, 60));
  assert.ok(s.upstream.ended, "resumed by a real tick");
  plugin.root.setTickPeriod(0);
});

test("a first configuration the canary refuses never reaches the worker VM", async () => {
  const vm = await load(fixturePath("scripted"), { logLevel: "info" });
  const plugin = startPlugin(vm, { configuration: "reject" });
  assert.equal(plugin.ok, false);
  assert.equal(plugin.result.canary, true);
  assert.deepEqual(vm.log.entries.filter((e) => e.vm !== "canary").map((e) => e.message), [], "the worker was never configured");
  assert.ok(vm.log.messages("trace", "canary").includes("configure reject"));
});

test("the canary runs once per configuration for all workers, caches its verdict, and is dropped without on_done", async () => {
  const compiled = await compileModule(fixturePath("scripted"));
  const clock = new TestClock();
  const log = new Log(0, true);
  const shared = { clock, stats: new StatsStore(), shared: new SharedState(), log };
  const canary = new Canary(compiled, shared);
  const workers = [0, 1, 2].map((i) => startPlugin(instantiate(compiled, { ...shared, label: `worker${i}` }), { configuration: "tick=10", canary }));
  assert.ok(workers.every((w) => w.ok));
  assert.equal(canary.runs, 1, "one canary for three workers");
  for (const w of workers) w.reconfigure("reject");
  assert.equal(canary.runs, 2, "a refused configuration is remembered");
  assert.equal(log.messages("trace", "canary").filter((m) => m === "configure reject").length, 1);
  clock.advance(100);
  assert.ok(log.messages("trace", "worker0").includes("tick"), "the workers' timers fire");
  assert.equal(log.entries.filter((e) => e.vm === "canary" && /^(tick|done|delete)/.test(e.message)).length, 0, "the canary's timer never fires and it is not shut down");
});

test("the same configuration pushed again changes nothing: no canary, no on_configure, the same root", async () => {
  const vm = await load(fixturePath("scripted"), { logLevel: "info" });
  const plugin = startPlugin(vm, { configuration: "first" });
  const root = plugin.root;
  const again = plugin.reconfigure("first");
  assert.equal(again.ok, true);
  assert.equal(again.unchanged, true);
  assert.equal(plugin.root, root);
  assert.equal(plugin.canary?.runs, 1);
  assert.deepEqual(vm.log.messages().filter((m) => m === "configure first"), ["configure first", "configure first"], "once in the canary, once in the worker, at the first start only");
});
