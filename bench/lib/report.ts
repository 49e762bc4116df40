/**
 * The targets and the one table `make bench` prints. Per-request figures are shown
 * as measured through the host and as the module's own cost above the floor module (the host's
 * stream machinery and the six ABI crossings, measured in the same rounds). The absolute ns
 * target is judged on what the plugin itself adds: its cost above a floor module that makes the
 * same one host call (reading :path), whose implementation is the host's, not the plugin's; the
 * table prints every view. Ratio targets are judged on the stricter of raw and above-floor,
 * except "held", where the floor with 10,000 open streams is the fair baseline (module alone).
 */
import type { DelayPrecisionResult } from "../cases/delay-precision";
import type { HotPathResult } from "../cases/hot-path";
import type { MemoryResult } from "../cases/memory";
import type { StartupResult } from "../cases/startup";
import { readFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import type { Machine } from "./measure";

/**
 * Where `make bench` writes its figures: build/bench/latest.json (untracked) by default, so a
 * run leaves the tree clean; bench/results/latest.json, the committed record the README quotes,
 * only when asked (`make bench RECORD=1`).
 */
export function resultsPath(record = process.env.RECORD === "1"): string {
  const root = path.resolve(__dirname, "..", "..");
  return record ? path.join(root, "bench", "results", "latest.json") : path.join(root, "build", "bench", "latest.json");
}

export interface TargetRow {
  figure: string;
  measured: string;
  target: string;
  pass: boolean;
}

const PAGE = 65536;

export function judge(hot: HotPathResult, delay: DelayPrecisionResult, memory: MemoryResult, startup: StartupResult): TargetRow[] {
  const c = hot.cases;
  const r = hot.ratios;
  const gzipped = gzipSync(readFileSync(path.resolve(__dirname, "..", "..", "build", "plugin.wasm")), { level: 9 }).byteLength;
  const ns = (x: number): string => `${Math.round(x).toLocaleString("en-US")} ns`;
  const x = (v: number): string => `${v.toFixed(2)}x`;
  const stockRatio = Math.min(r.stockOverPlugin10, r.stockOverPlugin10AboveFloor);
  const manyRatio = Math.max(r.plugin1000OverPlugin10, r.plugin1000OverPlugin10AboveFloor);
  // The held case pays for the host's own 10,000 open streams too (measured with the floor
  // module): judged on the stricter of the raw ratio and the module's alone.
  const heldRatio = Math.max(r.heldOverNoneHeld, r.heldOverNoneHeldModuleOnly);
  return [
    {
      figure: "10 rules, no match (the plugin's own work)",
      measured: `${ns(r.plugin10OwnNs)} (${ns(c.plugin10.aboveFloorNs)} above the bare floor, of which the host's :path read ${ns(c.floorPath.aboveFloorNs)}; ${ns(c.plugin10.nsPerRequest)} through host)`,
      target: "<= 500 ns",
      pass: r.plugin10OwnNs <= 500,
    },
    { figure: "stock SDK / 10 rules, no match", measured: `${x(stockRatio)} (raw ${x(r.stockOverPlugin10)}, above floor ${x(r.stockOverPlugin10AboveFloor)})`, target: ">= 5x", pass: stockRatio >= 5 },
    { figure: "1,000 rules / 10 rules, no match", measured: `${x(manyRatio)} (raw ${x(r.plugin1000OverPlugin10)}, above floor ${x(r.plugin1000OverPlugin10AboveFloor)})`, target: "<= 4x", pass: manyRatio <= 4 },
    { figure: "10,000 held / none held", measured: `${x(heldRatio)} (stricter of raw and module alone; raw ${x(r.heldOverNoneHeld)}, above floor ${x(r.heldOverNoneHeldAboveFloor)}; host alone ${x(r.floorOpenOverFloor)}, module alone ${x(r.heldOverNoneHeldModuleOnly)})`, target: "<= 1.2x", pass: heldRatio <= 1.2 },
    { figure: "delay 100 ms: early releases", measured: `${delay.early} of ${delay.requests}`, target: "0", pass: delay.early === 0 },
    { figure: "delay 100 ms: p99 late", measured: `${delay.lateMs.p99.toFixed(2)} ms`, target: "<= 5 ms", pass: delay.lateMs.p99 <= 5 },
    { figure: "memory growth over 1,000,000 mixed requests", measured: `${memory.growthBytes.toLocaleString("en-US")} bytes`, target: "<= 65,536 bytes (one page)", pass: memory.growthBytes <= PAGE },
    { figure: "module size, gzip'd (what an image layer carries)", measured: `${gzipped.toLocaleString("en-US")} B (${startup.moduleBytes.toLocaleString("en-US")} B raw)`, target: "<= 65,536 B", pass: gzipped <= 65536 },
    { figure: "1,000 policies parsed and compiled", measured: `${startup.configure.parseAndCompile1000Ms.toFixed(2)} ms`, target: "<= 20 ms", pass: startup.configure.parseAndCompile1000Ms <= 20 },
    { figure: "bytes to configured root (10 policies)", measured: `${startup.bytesToConfiguredRootMs.toFixed(2)} ms`, target: "<= 10 ms", pass: startup.bytesToConfiguredRootMs <= 10 },
  ];
}

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(w[i])).join(" | ")} |`;
  return [line(head), `|${w.map((n) => "-".repeat(n + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

export function renderTable(results: {
  machine: Machine;
  targets: TargetRow[];
  hotPath: HotPathResult;
  delayPrecision: DelayPrecisionResult;
  memory: MemoryResult;
  startup: StartupResult;
}): string {
  const { machine: m, hotPath, delayPrecision: d, memory, startup } = results;
  const out: string[] = [];
  out.push(`Machine: ${m.cpu}, ${m.cores} cores, Node ${m.node}, V8 ${m.v8}`);
  out.push("");
  out.push(`Per request (median of ${hotPath.settings.rounds} interleaved rounds; lean host, test clock):`);
  out.push(table(
    ["case", "ns/request", "above floor", "host calls", "malloc bytes", "memory growth"],
    Object.values(hotPath.cases).map((c) => [
      c.label,
      Math.round(c.nsPerRequest).toLocaleString("en-US"),
      Math.round(c.aboveFloorNs).toLocaleString("en-US"),
      String(c.perRequest.hostCalls),
      String(c.perRequest.mallocBytes),
      `${c.perRequest.memoryGrowthBytes} B / ${c.perRequest.requests.toLocaleString("en-US")} req`,
    ]),
  ));
  out.push("");
  const dist = (x: { min: number; p50: number; p90: number; p99: number; max: number }): string =>
    `min ${x.min.toFixed(2)}  p50 ${x.p50.toFixed(2)}  p90 ${x.p90.toFixed(2)}  p99 ${x.p99.toFixed(2)}  max ${x.max.toFixed(2)}`;
  out.push(`Delay precision (${d.requests} concurrent, 100 ms, real clock, local runner; ms late; ${d.early} early):`);
  out.push(`  held - 100 ms          ${dist(d.lateMs)}`);
  out.push(`  event loop's share     ${dist(d.loopLateMs)}`);
  out.push(`  plugin's share         ${dist(d.pluginLateMs)}`);
  out.push(`  client view            ${dist(d.clientLateMs)}  (undelayed median ${d.undelayedClientMedianMs.toFixed(1)} ms)`);
  out.push("");
  out.push(`Memory: ${memory.afterWarmupBytes.toLocaleString("en-US")} B after warm-up, ${memory.afterMixedBytes.toLocaleString("en-US")} B after ` +
    `${memory.mixed.requests.toLocaleString("en-US")} mixed requests (${memory.mixed.delayed.toLocaleString("en-US")} delayed, ` +
    `${memory.mixed.resetWhileHeld.toLocaleString("en-US")} reset while held, ${memory.mixed.aborted.toLocaleString("en-US")} aborted); ` +
    `${memory.perHeldRequest.bytesPerHeld} B of linear memory per held request (${memory.perHeldRequest.held.toLocaleString("en-US")} held)`);
  out.push(`Start-up: module ${startup.moduleBytes.toLocaleString("en-US")} B; configure with 1,000 policies ${startup.configure.policies1000Ms.toFixed(2)} ms, ` +
    `with 0 ${startup.configure.policies0Ms.toFixed(2)} ms; bytes to configured root ${startup.bytesToConfiguredRootMs.toFixed(2)} ms`);
  out.push("");
  out.push("Targets:");
  out.push(table(["figure", "measured", "target", "result"], results.targets.map((t) => [t.figure, t.measured, t.target, t.pass ? "PASS" : "MISS"])));
  return out.join("\n");
}
