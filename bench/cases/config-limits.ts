/**
 * Configuration limits: what large or hostile configurations cost a VM.
 *   - large inputs: a fresh VM configured (or fed a control-plane body) with each input of at
 *     most 4 MiB; linear memory afterwards (Wasm memory never shrinks) and time to configure.
 *   - replace: one VM reconfigured large -> small -> large several times; memory must not grow
 *     after the first large configuration.
 *   - slots: a request that matches nothing, after 60 configuration changes with 1,000 new
 *     header names each, against a fresh VM with the final configuration alone.
 * Targets: memory <= 64 MiB after every input, flat after replacement, 100,000 header names
 * configure in <= 1 s, request cost after 60 changes within 1.2x of a fresh VM.
 * Alone: `node --import tsx bench/main.ts config-limits`.
 */
import { HeaderMap, type ClusterReply } from "../../host/index";
import { policy, startHfiUnchecked, type Hfi } from "../../tests/helpers/hfi";
import { Bench, PLUGIN_WASM, readModule, requestMap, round } from "../lib/driver";
import { median, nowNs } from "../lib/measure";

const MiB = 1 << 20;
const MEMORY_TARGET_MIB = 64;
const NAMES_TARGET_MS = 1000;
const SLOTS_TARGET_RATIO = 1.2;
const ROOT_ID = "hfi-fault-injection";
const CLUSTER = "outbound|8080||hfi-control-plane.boifi.svc.cluster.local";
const ok = { percentage: 100, abort: { httpStatus: 503 } };

export interface LargeInput {
  input: string;
  bytes: number;
  accepted: boolean;
  memoryMiB: number;
  /** For an accepted input: the costliest request's median time (through this host), in µs. */
  worstRequestUs?: number;
  configureMs: number;
  verdict: string;
  firstError: string;
}

export interface ConfigLimitsResult {
  inputs: LargeInput[];
  replace: { largeMemoryMiB: number[]; verdict: string };
  slots: { freshNs: number; after60Ns: number; ratio: number; verdict: string };
}

/** A document just under `total` bytes whose one string field fills it. */
function filled(total: number, make: (s: string) => object): object {
  const overhead = JSON.stringify(make("")).length;
  return make("a".repeat(total - overhead));
}

/** `n` policies, each with `namesPerPolicy` header conditions on names no other policy uses. */
function headerPolicies(n: number, namesPerPolicy: number, tag: string): object[] {
  return Array.from({ length: n }, (_, p) => ({
    metadata: { name: `${tag}${p}` },
    spec: { rules: [{ match: { headers: Array.from({ length: namesPerPolicy }, (_, i) => ({ name: `${tag}${p}-${i}`, present: true })) }, fault: ok }] },
  }));
}

/** The largest policy set the limits accept, every field filled (about 3 MiB). */
function fullPolicies(n: number): object[] {
  return Array.from({ length: n }, (_, i) => ({
    metadata: { name: `policy-${i}`.padEnd(200, "x") },
    spec: {
      selector: { service: "frontend", namespace: "demo" },
      rules: [{
        match: { method: { exact: "GET" }, path: { prefix: `/p${i}` }, headers: [{ name: `x-h${i % 4000}`, exact: "v".repeat(170) }] },
        fault: { percentage: 50, delay: { fixed_delay_ms: 10 }, abort: { httpStatus: 503, body: "b".repeat(170) } },
      }],
    },
  }));
}

const manyPolicies = (n: number) => Array.from({ length: n }, (_, i) => policy(`policy-${i}`, { path: { prefix: `/p${i}` } }, ok));

/** `count` regex conditions, 32 to a rule. */
const regexPolicies = (count: number, pattern: string) => Array.from({ length: Math.ceil(count / 32) }, (_, p) => ({
  metadata: { name: `r${p}` },
  spec: { rules: [{ match: { headers: Array.from({ length: Math.min(32, count - p * 32) }, (_, i) => ({ name: `x-${i}`, regex: pattern })) }, fault: ok }] },
}));

const INPUTS: Array<[string, () => object]> = [
  ["4 MiB regex literal", () => filled(4 * MiB - 64, (s) => ({ policies: [policy("r", { headers: [{ name: "x", regex: s }] }, ok)] }))],
  ["4 MiB metric_prefix", () => filled(4 * MiB - 64, (s) => ({ metric_prefix: s }))],
  ["4 MiB policy name", () => filled(4 * MiB - 64, (s) => ({ policies: [policy(s, {}, ok)] }))],
  ["20,000 policies", () => ({ policies: manyPolicies(20000) })],
  ["100,000 header names", () => ({ policies: headerPolicies(4000, 25, "h") })],
  ["20,000 regex conditions", () => ({ policies: regexPolicies(20000, "^test-[0-9]+$") })],
  ["320 regexes of 1,000 instructions", () => ({ policies: regexPolicies(320, "(a|b|c|d)".repeat(100)) })],
  ["500 regexes of 8 KiB failing at the end", () => ({ policies: Array.from({ length: 500 }, (_, p) => policy(`r${p}`, { headers: [{ name: "x", regex: "a".repeat(8150) + ")" }] }, ok)) })],
  ["4,096 header names (accepted)", () => ({ policies: headerPolicies(128, 32, "h") })],
  ["3,500 full policies (accepted)", () => ({ policies: fullPolicies(3500) })],
];

function memoryMiB(hfi: Hfi): number {
  return round(hfi.vm.module.memory.buffer.byteLength / MiB, 1);
}

function firstProblem(hfi: Hfi): string {
  const lines = hfi.logs("warn");
  return lines.length === 0 ? "" : lines[0].slice(0, 160);
}

/** Node metadata every selector of these inputs applies to: the memory a real workload pays. */
const NODE = { metadata: { WORKLOAD_NAME: "frontend", NAMESPACE: "demo" } };

/** The costliest request a client can send through an accepted set: it matches no rule, so
 * every candidate is tried, and it carries the largest header value Envoy lets through (60 KiB)
 * on every header the set reads. Median of 9, in microseconds. */
function worstRequestUs(hfi: Hfi): number {
  const value = "v".repeat(60 * 1024);
  const headers: Array<[string, string]> = [["x-h1", value], ["x", value], ["x-0", value]];
  for (let i = 0; i < 3; i++) hfi.request("PURGE", "/p1" + "9".repeat(100), headers).reset();
  const times: number[] = [];
  for (let i = 0; i < 9; i++) {
    const t0 = nowNs();
    hfi.request("PURGE", "/p1" + "9".repeat(100), headers).reset();
    times.push(Number(nowNs() - t0) / 1e3);
  }
  times.sort((a, b) => a - b);
  return round(times[4], 1);
}

async function configureOnce(label: string, config: object): Promise<LargeInput> {
  const bytes = JSON.stringify(config).length;
  const t0 = nowNs();
  // No canary: the VM measured is the one that parsed the input, refused or not.
  const hfi = await startHfiUnchecked(config, { logLevel: "warn", canary: false, node: NODE });
  const ms = Number(nowNs() - t0) / 1e6;
  const requestUs = hfi.plugin.ok ? worstRequestUs(hfi) : undefined;
  const mem = memoryMiB(hfi); // after the requests too: the first one publishes the set
  const namesOk = !label.includes("100,000 header names") || ms <= NAMES_TARGET_MS;
  const requestOk = requestUs === undefined || requestUs <= 1000;
  return {
    input: label, bytes, accepted: hfi.plugin.ok, memoryMiB: mem, configureMs: round(ms, 1), worstRequestUs: requestUs,
    verdict: mem <= MEMORY_TARGET_MIB && namesOk && requestOk ? "PASS" : "MISS", firstError: firstProblem(hfi),
  };
}

/** A control-plane body of about 4 MiB (20,000+ policies), delivered by one poll. */
async function controlPlaneBody(): Promise<LargeInput> {
  let n = 20000;
  let body = JSON.stringify({ policies: manyPolicies(n) });
  while (body.length < 4 * MiB - 200) body = JSON.stringify({ policies: manyPolicies((n += 1000)) });
  while (body.length > 4 * MiB) body = JSON.stringify({ policies: manyPolicies((n -= 100)) });
  const reply: ClusterReply = { status: 200, headers: [["content-type", "application/json"]], body };
  const hfi = await startHfiUnchecked(
    { control_plane: { cluster: CLUSTER, authority: "cp:8080", poll_interval_ms: 1000, timeout_ms: 500 } },
    { logLevel: "warn", clusters: { [CLUSTER]: () => reply } },
  );
  const t0 = nowNs();
  hfi.clock.advance(1000);
  const ms = Number(nowNs() - t0) / 1e6;
  const mem = memoryMiB(hfi);
  return {
    input: `4 MiB control-plane body (${n.toLocaleString("en-US")} policies)`, bytes: body.length, accepted: hfi.logs("warn").length === 0,
    memoryMiB: mem, configureMs: round(ms, 1), verdict: mem <= MEMORY_TARGET_MIB ? "PASS" : "MISS", firstError: firstProblem(hfi),
  };
}

async function replaceRepeatedly(rounds: number): Promise<ConfigLimitsResult["replace"]> {
  const large = { policies: headerPolicies(2000, 2, "l") };
  const small = { policies: [policy("small", { path: { exact: "/x" } }, ok)] };
  const hfi = await startHfiUnchecked(large, { logLevel: "warn" });
  const after: number[] = [memoryMiB(hfi)];
  for (let i = 1; i < rounds; i++) {
    hfi.plugin.reconfigure(small);
    hfi.plugin.reconfigure(large);
    after.push(memoryMiB(hfi));
  }
  const flat = after.every((m) => m <= after[0]);
  return { largeMemoryMiB: after, verdict: flat && after[0] <= MEMORY_TARGET_MIB ? "PASS" : "MISS" };
}

/** ns per no-match request (median of rounds) for a VM whose final configuration is `final`. */
function costPerRequest(bench: Bench, request: HeaderMap, rounds: number, perRound: number): number {
  for (let i = 0; i < 2000; i++) bench.pass(request);
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = nowNs();
    for (let i = 0; i < perRound; i++) bench.pass(request);
    times.push(Number(nowNs() - t0) / perRound);
  }
  return median(times);
}

async function slotsAfterChanges(changes: number): Promise<ConfigLimitsResult["slots"]> {
  const final = { policies: [policy("one", { headers: [{ name: "x-final", exact: "yes" }] }, ok)] };
  const request = requestMap("GET", "/nothing-matches");
  const module = readModule(PLUGIN_WASM);
  const fresh = await Bench.start(module, ROOT_ID, final);
  const churned = await Bench.start(module, ROOT_ID, final);
  for (let c = 0; c < changes; c++) churned.plugin.reconfigure({ policies: headerPolicies(40, 25, `c${c}`) });
  churned.plugin.reconfigure(final);
  // Interleave the two so machine noise hits both alike.
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < 9; r++) {
    a.push(costPerRequest(fresh, request, 5, 2000));
    b.push(costPerRequest(churned, request, 5, 2000));
  }
  const freshNs = median(a);
  const after60Ns = median(b);
  const ratio = round(after60Ns / freshNs, 2);
  return { freshNs: Math.round(freshNs), after60Ns: Math.round(after60Ns), ratio, verdict: ratio <= SLOTS_TARGET_RATIO ? "PASS" : "MISS" };
}

export async function runConfigLimits(say: (s: string) => void): Promise<ConfigLimitsResult> {
  const inputs: LargeInput[] = [];
  for (const [label, make] of INPUTS) {
    say(`  ${label}`);
    inputs.push(await configureOnce(label, make()));
  }
  say("  4 MiB control-plane body");
  inputs.push(await controlPlaneBody());
  say("  large -> small -> large");
  const replace = await replaceRepeatedly(6);
  say("  request cost after 60 configuration changes");
  const slots = await slotsAfterChanges(60);
  return { inputs, replace, slots };
}

export function renderConfigLimits(r: ConfigLimitsResult): string {
  const rows = r.inputs.map((i) => [i.input, (i.bytes / MiB).toFixed(2), i.accepted ? "accepted" : "refused", String(i.memoryMiB), String(i.configureMs),
    i.worstRequestUs === undefined ? "-" : `${i.worstRequestUs} us`, i.verdict]);
  const head = ["input", "MiB in", "outcome", "memory after (MiB)", "configure (ms)", "worst request", `<= ${MEMORY_TARGET_MIB} MiB, names <= 1 s, request <= 1 ms`];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const line = (cells: string[]) => "| " + cells.map((cell, c) => cell.padEnd(widths[c])).join(" | ") + " |";
  const out = ["Configuration limits (a fresh VM parses each input, every selector applying; memory = linear memory after it and its worst request):", line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)];
  out.push("");
  for (const i of r.inputs) if (i.firstError) out.push(`  ${i.input}: ${i.firstError}`);
  out.push("");
  out.push(`Large -> small -> large, memory after each large (MiB): ${r.replace.largeMemoryMiB.join(", ")}  [flat: ${r.replace.verdict}]`);
  out.push(`No-match request after 60 configuration changes (1,000 new header names each): ${r.slots.after60Ns} ns vs ${r.slots.freshNs} ns fresh = ${r.slots.ratio}x  [<= ${SLOTS_TARGET_RATIO}x: ${r.slots.verdict}]`);
  return out.join("\n");
}

/** The bench/main.ts hook: runs the case and prints its table. */
export async function configLimitsBench(say: (s: string) => void): Promise<ConfigLimitsResult> {
  say("config limits: large configurations, replacement, header slots");
  const result = await runConfigLimits(say);
  console.log("\n" + renderConfigLimits(result));
  return result;
}
