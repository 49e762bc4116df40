// Metrics as Envoy names, shares and renders them (/stats and /stats/prometheus).
import { test } from "node:test";
import assert from "node:assert/strict";
import { load, requestHeaders, startPlugin, StatsStore, WasmResult } from "../../host";
import { addBumpMalloc, op, WasmModuleBuilder } from "../helpers/wasm-builder";
import { fixturePath } from "./fixture";

test("metrics live under wasmcustom., and the same name in two VMs is one stat that adds up", async () => {
  const stats = new StatsStore();
  for (let worker = 0; worker < 2; worker++) {
    const vm = await load(fixturePath("scripted"), { stats });
    const plugin = startPlugin(vm);
    plugin.newStream().sendRequestHeaders(requestHeaders("GET", "/"), true);
  }
  assert.equal(stats.value("wasmcustom.fixture_requests_total"), 2);
  assert.match(stats.renderText(), /^wasmcustom\.fixture_requests_total: 2$/m);
  assert.match(stats.renderPrometheus(), /^# TYPE fixture_requests_total counter\nfixture_requests_total\{\} 2$/m);
});

test("Prometheus: namespace stripped without envoy_, digit-leading names dropped, odd characters become _", () => {
  const stats = new StatsStore();
  stats.counter("wasmcustom.hfi_faults_aborts_total").add(15n);
  stats.counter("wasmcustom.5xx_injected").add(1n);
  stats.gauge("wasmcustom.hfi.active-faults").set(3n);
  stats.counter("server.hot-restart|epoch").add(7n); // no built-in tag extractor touches it
  const text = stats.renderPrometheus();
  assert.match(text, /^hfi_faults_aborts_total\{\} 15$/m);
  assert.doesNotMatch(text, /5xx_injected/);
  assert.match(text, /^# TYPE hfi_active_faults gauge\nhfi_active_faults\{\} 3$/m);
  assert.match(text, /^envoy_server_hot_restart_epoch\{\} 7$/m);
  assert.match(stats.renderText(), /^wasmcustom\.hfi\.active-faults: 3$/m);
});

test("histograms are latched at flush and rendered with Envoy's default buckets", async () => {
  const vm = await load(fixturePath("scripted"));
  const plugin = startPlugin(vm);
  for (const v of ["1", "7", "400"]) plugin.newStream().sendRequestHeaders(requestHeaders("GET", "/", { "x-record": v }), true);
  assert.match(vm.stats.renderText(), /^wasmcustom\.fixture_latency_ms: No recorded values$/m, "not visible before a flush");
  assert.match(vm.stats.renderPrometheus(), /^fixture_latency_ms_count\{\} 0$/m);
  vm.stats.flush();
  const prom = vm.stats.renderPrometheus();
  const bucket = (le: string): string | undefined => prom.match(new RegExp(`^fixture_latency_ms_bucket\\{le="${le.replace("+", "\\+")}"\\} (\\d+)$`, "m"))?.[1];
  assert.equal(bucket("0.5"), "0");
  assert.equal(bucket("1"), "0", "a sample of 1 falls in the bin [1, 1.1), above le=1");
  assert.equal(bucket("5"), "1");
  assert.equal(bucket("10"), "2");
  assert.equal(bucket("500"), "3");
  assert.equal(bucket("3600000"), "3");
  assert.equal(bucket("+Inf"), "3");
  assert.match(prom, /^fixture_latency_ms_count\{\} 3$/m);
  assert.match(prom, /^fixture_latency_ms_sum\{\} 413\.10000000000002273736754432321$/m);
  assert.match(prom, /^# TYPE fixture_latency_ms histogram$/m);
  assert.match(vm.stats.renderText(), /^wasmcustom\.fixture_latency_ms: P0\(1,1\) P25\(1\.075,1\.075\) .* P100\(410,410\)$/m);
  vm.stats.flush();
  assert.match(vm.stats.renderText(), /fixture_latency_ms: P0\(nan,1\) /, "an empty interval shows nan, cumulative stays");
});

test("metric calls return Envoy's codes: counters need a positive delta, gauges wrap below zero, histograms take no increments", async () => {
  const b = new WasmModuleBuilder();
  const define = b.importFunction("env", "proxy_define_metric", ["i32", "i32", "i32", "i32"]);
  const increment = b.importFunction("env", "proxy_increment_metric", ["i32", "i64"]);
  const record = b.importFunction("env", "proxy_record_metric", ["i32", "i64"]);
  const get = b.importFunction("env", "proxy_get_metric", ["i32", "i32"]);
  addBumpMalloc(b);
  b.func([], [], [], { export: "proxy_abi_version_0_2_0" });
  const [name, len] = b.bytes("m");
  const ids = b.scratch(12);
  const rc = b.scratch(64);
  const value = b.scratch(8);
  const id = (i: number): number[] => [op.i32(ids + i * 4), op.load32].flat();
  const save = (slot: number, call: number[]): number[] => [op.i32(rc + slot * 4), ...call, op.store32].flat();
  b.func(["i32", "i32"], ["i32"], [
    save(0, [op.i32(0), op.i32(name), op.i32(len), op.i32(ids), op.call(define)].flat()),
    save(1, [op.i32(1), op.i32(name), op.i32(len), op.i32(ids + 4), op.call(define)].flat()),
    save(2, [op.i32(2), op.i32(name), op.i32(len), op.i32(ids + 8), op.call(define)].flat()),
    save(3, [id(0), op.i64(0), op.call(increment)].flat()),
    save(4, [id(0), op.i64(-1), op.call(increment)].flat()),
    save(5, [id(0), op.i64(5), op.call(increment)].flat()),
    save(6, [id(1), op.i64(-2), op.call(increment)].flat()),
    save(7, [id(2), op.i64(1), op.call(increment)].flat()),
    save(8, [id(2), op.i64(42), op.call(record)].flat()),
    save(9, [id(2), op.i32(value), op.call(get)].flat()),
    save(10, [op.i32(3), op.i32(name), op.i32(len), op.i32(ids), op.call(define)].flat()),
    save(11, [op.i32(1000), op.i64(1), op.call(increment)].flat()), // an undefined counter id
    op.i32(1),
  ], { export: "proxy_on_vm_start" });
  const vm = await load(b.build());
  assert.ok(startPlugin(vm, { canary: false }).ok, "a bare VM: the canary would add its own increments");
  const rcs = [...Array(12).keys()].map((i) => Buffer.from(vm.read(rc + i * 4, 4)!).readUInt32LE(0));
  assert.deepEqual(rcs, [
    WasmResult.Ok, WasmResult.Ok, WasmResult.Ok,
    WasmResult.BadArgument, WasmResult.BadArgument, WasmResult.Ok,
    WasmResult.Ok, WasmResult.BadArgument, WasmResult.Ok, WasmResult.BadArgument,
    WasmResult.BadArgument, WasmResult.NotFound,
  ]);
  assert.equal(vm.stats.counters.get("wasmcustom.m")?.value, 5n);
  assert.equal(vm.stats.gauges.get("wasmcustom.m")?.value, 2n ** 64n - 2n, "uint64 gauge wraps like Envoy's release build");
});
