/** Metrics as Envoy exposes them: names, both admin views, across worker VMs. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { SharedState, StatsStore, TestClock } from "../../host/index";
import { policy, respond, startHfi } from "../helpers/hfi";

const POLICIES = {
  policies: [
    policy("fail", { path: { prefix: "/fail" } }, { percentage: 100, abort: { httpStatus: 503 } }),
    policy("slow", { path: { prefix: "/slow" } }, { percentage: 100, delay: { fixed_delay_ms: 90 } }),
  ],
};

test("/stats shows wasmcustom.hfi_faults_* and /stats/prometheus shows hfi_faults_*", async () => {
  const hfi = await startHfi(POLICIES);
  for (let i = 0; i < 15; i++) hfi.request("GET", "/fail");
  hfi.request("GET", "/slow");
  hfi.request("GET", "/slow");
  hfi.clock.advance(90);
  hfi.stats.flush();
  const text = hfi.stats.renderText();
  for (const line of [
    "wasmcustom.hfi_faults_aborts_total: 15",
    "wasmcustom.hfi_faults_delays_total: 2",
    "wasmcustom.hfi_faults_active: 0",
    "wasmcustom.hfi_faults_overflow_total: 0",
    "wasmcustom.hfi_faults_config_errors_total: 0",
    "wasmcustom.hfi_faults_policy_fetch_failures_total: 0",
    "wasmcustom.hfi_faults_policy_updates_total: 0",
    "wasmcustom.hfi_faults_config_problems: 0",
  ]) {
    assert.ok(text.split("\n").includes(line), `missing "${line}" in /stats:\n${text}`);
  }
  assert.match(text, /^wasmcustom\.hfi_faults_delay_duration_milliseconds: P0\(/m);
  const prom = hfi.stats.renderPrometheus();
  for (const line of [
    "# TYPE hfi_faults_aborts_total counter",
    "hfi_faults_aborts_total{} 15",
    "hfi_faults_delays_total{} 2",
    "# TYPE hfi_faults_active gauge",
    "hfi_faults_active{} 0",
    "# TYPE hfi_faults_delay_duration_milliseconds histogram",
    'hfi_faults_delay_duration_milliseconds_bucket{le="100"} 2',
    'hfi_faults_delay_duration_milliseconds_bucket{le="+Inf"} 2',
    "hfi_faults_delay_duration_milliseconds_count{} 2",
  ]) {
    assert.ok(prom.split("\n").includes(line), `missing "${line}" in /stats/prometheus:\n${prom}`);
  }
  assert.ok(!prom.includes("wasmcustom"), "the custom namespace is stripped for Prometheus");
  assert.ok(!text.includes("wasmcustom.wasmcustom"), "the module must not add the namespace itself");
});

test("metric_prefix is prepended for hosts that do not add a namespace", async () => {
  const hfi = await startHfi({ metric_prefix: "mesh_", ...POLICIES });
  hfi.request("GET", "/fail");
  assert.equal(hfi.stats.value("wasmcustom.mesh_hfi_faults_aborts_total"), 1);
});

test("counters add up across worker VMs and the active gauge stays right (+1/-1, never set)", async () => {
  const stats = new StatsStore();
  const clock = new TestClock();
  const workers = [await startHfi(POLICIES, { stats, clock }), await startHfi(POLICIES, { stats, clock })];
  workers[0].request("GET", "/fail");
  workers[1].request("GET", "/fail");
  workers[1].request("GET", "/fail");
  const held = [workers[0].request("GET", "/slow"), workers[1].request("GET", "/slow"), workers[1].request("GET", "/slow")];
  assert.equal(stats.value("wasmcustom.hfi_faults_aborts_total"), 3);
  assert.equal(stats.value("wasmcustom.hfi_faults_active"), 3);
  held[0].reset();
  assert.equal(stats.value("wasmcustom.hfi_faults_active"), 2);
  clock.advance(90);
  assert.equal(stats.value("wasmcustom.hfi_faults_active"), 0);
  assert.equal(stats.value("wasmcustom.hfi_faults_delays_total"), 3);
});

test("max_active_faults counts held requests of every worker VM, like Envoy's", async () => {
  const stats = new StatsStore();
  const shared = new SharedState();
  const clock = new TestClock();
  const config = { max_active_faults: 2, ...POLICIES };
  const a = await startHfi(config, { stats, shared, clock });
  const b = await startHfi(config, { stats, shared, clock });
  a.request("GET", "/slow");
  b.request("GET", "/slow");
  const third = a.request("GET", "/slow");
  assert.ok(third.upstream.headers, "the third held request overflows although worker a holds only one");
  assert.equal(stats.value("wasmcustom.hfi_faults_overflow_total"), 1);
});

test("requests that match nothing change no metric and make no log call", async () => {
  const hfi = await startHfi({ log_level: "info", ...POLICIES });
  hfi.vm.resetHostCallCounts();
  for (let i = 0; i < 50; i++) respond(hfi.request("GET", `/other/${i}`));
  const calls = hfi.vm.hostCallCounts();
  assert.equal(calls.proxy_log ?? 0, 0);
  assert.equal(calls.proxy_increment_metric ?? 0, 0);
  assert.equal(calls.proxy_record_metric ?? 0, 0);
  assert.equal(hfi.metric("hfi_faults_aborts_total"), 0);
});
