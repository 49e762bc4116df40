/**
 * The worst-case generator's cases (tests/helpers/worst-cases.ts), timed: configuring one VM
 * (half of what startPlugin takes, the canary configuring first) against a 1 s target, and each
 * case's requests (fastest, median and slowest of 20, through this host) against 1 ms, and the
 * tick that publishes the configured set (docs/how-it-works.md). The same cases on
 * build/plugin.counted.wasm give their work in units, and so the nanoseconds a unit took here:
 * what turns tests/helpers/work.ts's budgets into time.
 * Alone: `node --import tsx bench/main.ts worst-cases`.
 */
import { performance } from "node:perf_hooks";
import { startHfi } from "../../tests/helpers/hfi";
import { CONFIGURE_WORK, REQUEST_WORK, TICK_WORK } from "../../tests/helpers/work";
import { NODE, random, WORST_CASES } from "../../tests/helpers/worst-cases";
import { median } from "../lib/measure";

export interface WorstCaseTiming {
  name: string;
  configureMs: number;
  configureWork: number;
  publishMs: number;
  publishWork: number;
  requestFastestMs: number;
  requestMedianMs: number;
  requestSlowestMs: number;
  requestWorstWork: number;
  /** Nanoseconds per work unit: configuring, and the median request. */
  configureNsPerUnit: number;
  requestNsPerUnit: number;
}

export async function runWorstCases(say: (s: string) => void): Promise<WorstCaseTiming[]> {
  const out: WorstCaseTiming[] = [];
  for (const [i, c] of WORST_CASES.entries()) {
    say(`  worst case ${i + 1}: ${c.name}`);
    const counted = await startHfi(c.configuration(), { node: NODE, logLevel: "warn", countWork: true });
    const configureWork = counted.work();
    counted.clock.advance(1);
    const publishWork = counted.work() - configureWork;
    const work = c.requests(random(1000 + i)).map((r) => {
      const before = counted.work();
      counted.request("GET", r.path, r.headers).reset();
      return counted.work() - before;
    });
    const t0 = performance.now();
    const hfi = await startHfi(c.configuration(), { node: NODE, logLevel: "warn" });
    const configureMs = (performance.now() - t0) / 2;
    const t1 = performance.now();
    hfi.clock.advance(1);
    const publishMs = performance.now() - t1;
    const requests = c.requests(random(1000 + i));
    const times = requests.map((r) => {
      const t = performance.now();
      hfi.request("GET", r.path, r.headers).reset();
      return performance.now() - t;
    });
    const medianMs = median(times);
    out.push({
      name: c.name,
      configureMs,
      configureWork,
      publishMs,
      publishWork,
      requestFastestMs: Math.min(...times),
      requestMedianMs: medianMs,
      requestSlowestMs: Math.max(...times),
      requestWorstWork: Math.max(...work),
      configureNsPerUnit: (configureMs * 1e6) / configureWork,
      requestNsPerUnit: (medianMs * 1e6) / median(work),
    });
  }
  return out;
}

export function renderWorstCases(rows: WorstCaseTiming[]): string {
  const n = (x: number) => x.toLocaleString("en-US");
  const lines = [
    `Worst cases (tests/helpers/worst-cases.ts): time here, and work against the tests' budgets (${n(CONFIGURE_WORK)} units to configure, ${n(TICK_WORK)} a tick, ${n(REQUEST_WORK)} a request):`,
    "  case  configure ms (<= 1000)  work            ns/unit   publish tick ms  work         request ms fastest/median/slowest (median <= 1)  worst work  ns/unit",
  ];
  rows.forEach((r, i) => {
    const mark = r.configureMs <= 1000 && r.requestMedianMs <= 1 ? "PASS" : "MISS";
    lines.push(`  ${String(i + 1).padEnd(4)}  ${r.configureMs.toFixed(0).padStart(22)}  ${n(r.configureWork).padStart(14)}  ${r.configureNsPerUnit.toFixed(2).padStart(7)}   ` +
      `${r.publishMs.toFixed(1).padStart(15)}  ${n(r.publishWork).padStart(11)}  ` +
      `${r.requestFastestMs.toFixed(3).padStart(24)} / ${r.requestMedianMs.toFixed(3)} / ${r.requestSlowestMs.toFixed(3).padEnd(8)}  ${n(r.requestWorstWork).padStart(10)}  ${r.requestNsPerUnit.toFixed(2).padStart(7)}  ${mark}`);
  });
  return lines.join("\n");
}
