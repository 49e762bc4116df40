/**
 * Configuration problems on a proxy with several VMs, on the real module. Envoy configures every
 * new plugin configuration first in a throwaway canary VM and then in each worker VM, all
 * sharing one stats store, one log and one shared-data space; every worker fetches the same
 * control-plane answer. A problem must read the same whatever the number of VMs:
 * - hfi_faults_config_errors_total counts the problems of each distinct configuration (or
 *   control-plane answer) once per proxy; a refused configuration counts 1;
 * - hfi_faults_config_problems is the number of problems in the configuration now in force
 *   (static configuration + live control-plane set), the same value from every VM;
 * - the first VM logs them at warn, the others at debug.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { SharedState, StatsStore, TestClock, WasmResult, type ClusterReply } from "../../host/index";
import { policy, startHfiUnchecked, type Hfi } from "../helpers/hfi";

const WORKERS = 3;
const good = policy("fine", { path: { prefix: "/a" } }, { percentage: 100, abort: { httpStatus: 503 } });
const bad = policy("broken", { path: { regex: "(" } }, { percentage: 100, abort: { httpStatus: 503 } });
const worse = policy("broken-too", {}, { percentage: 100, abort: { httpStatus: 99 } });

interface Proxy {
  stats: StatsStore;
  shared: SharedState;
  clock: TestClock;
  vms: Hfi[];
}

function newProxy(): Proxy {
  return { stats: new StatsStore(), shared: new SharedState(), clock: new TestClock(), vms: [] };
}

/** Envoy applying a configuration: the canary first, then every worker. */
async function configure(proxy: Proxy, configuration: object | string, extra: object = {}): Promise<Hfi[]> {
  const vms: Hfi[] = [];
  for (let i = 0; i < 1 + WORKERS; i++) {
    // The first VM plays the canary by hand, so the helper's own canary is off.
    vms.push(await startHfiUnchecked(configuration, { stats: proxy.stats, shared: proxy.shared, clock: proxy.clock, logLevel: "debug", canary: false, ...extra }));
  }
  proxy.vms.push(...vms);
  return vms;
}

const metric = (proxy: Proxy, name: string) => proxy.stats.value(`wasmcustom.${name}`);
const lines = (vms: Hfi[], level: "warn" | "debug" | "error", text: string) =>
  vms.flatMap((vm) => vm.logs(level)).filter((l) => l.includes(text));

test("one bad rule on a proxy with a canary and 3 workers: counted once, one warning, gauge 1", async () => {
  const proxy = newProxy();
  const vms = await configure(proxy, { log_level: "debug", policies: [good, bad] });
  assert.ok(vms.every((vm) => vm.plugin.ok));
  assert.equal(metric(proxy, "hfi_faults_config_errors_total"), 1);
  assert.equal(metric(proxy, "hfi_faults_config_problems"), 1);
  const warnings = lines(vms, "warn", "broken");
  assert.equal(warnings.length, 1, warnings.join("\n"));
  assert.match(warnings[0], /\(in plugin configuration; dropped\)$/);
  assert.equal(lines(vms, "debug", "broken").length, 1 + WORKERS, "the other VMs still say it, at debug (with log_level debug)");
});

test("a refused configuration is counted once and logged once at error", async () => {
  const proxy = newProxy();
  const vms = await configure(proxy, "{not json");
  assert.ok(vms.every((vm) => !vm.plugin.ok));
  assert.equal(metric(proxy, "hfi_faults_config_errors_total"), 1);
  assert.equal(lines(vms, "error", "configuration refused").length, 1);
  assert.equal(metric(proxy, "hfi_faults_config_problems") ?? 0, 0, "nothing refused is in force");
});

test("each distinct configuration counts its own problems; the gauge follows the one in force", async () => {
  const proxy = newProxy();
  await configure(proxy, { policies: [good, bad] });
  await configure(proxy, { policies: [bad, worse] });
  assert.equal(metric(proxy, "hfi_faults_config_errors_total"), 3, "1 + 2");
  assert.equal(metric(proxy, "hfi_faults_config_problems"), 2);
  await configure(proxy, { policies: [good] });
  assert.equal(metric(proxy, "hfi_faults_config_errors_total"), 3);
  assert.equal(metric(proxy, "hfi_faults_config_problems"), 0, "the clean configuration is in force");
});

test("a control-plane answer with a bad policy, fetched by every worker, counts once; the gauge adds it to the static problems", async () => {
  const proxy = newProxy();
  const CLUSTER = "outbound|8080||cp.local";
  const answer = (): ClusterReply => ({ status: 200, headers: [["content-type", "application/json"]], body: JSON.stringify({ policies: [good, worse] }) });
  const workers = await configure(
    proxy,
    { control_plane: { cluster: CLUSTER, authority: "cp.local:8080", poll_interval_ms: 1000 }, policies: [bad] },
    { clusters: { [CLUSTER]: answer } },
  );
  proxy.clock.advance(1000); // every VM has polled once
  assert.equal(metric(proxy, "hfi_faults_policy_updates_total"), 1 + WORKERS);
  assert.equal(metric(proxy, "hfi_faults_config_errors_total"), 2, "1 static + 1 in the control plane's answer");
  assert.equal(metric(proxy, "hfi_faults_config_problems"), 2);
  assert.equal(lines(workers, "warn", "broken-too").length, 1);
  proxy.clock.advance(5000); // more polls of the same answer change nothing
  assert.equal(metric(proxy, "hfi_faults_config_errors_total"), 2);
  assert.equal(metric(proxy, "hfi_faults_config_problems"), 2);
});

test("every VM writes the same gauge value, whichever writes last", async () => {
  const proxy = newProxy();
  const vms = await configure(proxy, { policies: [bad, worse] });
  const gauge = proxy.stats.gauge("wasmcustom.hfi_faults_config_problems");
  // Envoy re-pushing identical bytes runs nothing (its plugin cache): change the bytes, keep the problems.
  for (const [i, vm] of vms.entries()) {
    gauge.set(0n);
    assert.ok(vm.plugin.reconfigure({ policies: [bad, worse], log_level: i % 2 ? "info" : "debug" }).ok);
    assert.equal(Number(gauge.value), 2);
  }
});

test("if shared data fails every VM reports (over-reporting rather than hiding a problem)", async () => {
  const proxy = newProxy();
  proxy.shared.setData = () => WasmResult.InternalFailure;
  const vms = await configure(proxy, { policies: [good, bad] });
  assert.ok(vms.every((vm) => vm.plugin.ok && !vm.vm.failed));
  assert.equal(metric(proxy, "hfi_faults_config_errors_total"), 1 + WORKERS);
  assert.equal(lines(vms, "warn", "broken").length, 1 + WORKERS);
  assert.equal(metric(proxy, "hfi_faults_config_problems"), 1, "the gauge is right regardless");
});
