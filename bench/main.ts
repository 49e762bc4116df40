/**
 * `make bench`: the cost of the plugin per request against the floor and the stock SDK, delay
 * precision through the local runner, memory under a long mixed load, size and start-up time.
 * Prints one table and writes the same figures with the machine's description to
 * build/bench/latest.json (bench/results/latest.json with RECORD=1: see resultsPath). Settings: BENCH_ROUNDS (default 41), BENCH_ROUND_MS (50),
 * BENCH_MIXED_REQUESTS (1000000), BENCH_DELAY_REQUESTS (1000).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { runDelayPrecision } from "./cases/delay-precision";
import { runGuard } from "./cases/guard";
import { runHotPath } from "./cases/hot-path";
import { runMemory } from "./cases/memory";
import { runStartup } from "./cases/startup";
import { machine } from "./lib/measure";
import { judge, renderTable, resultsPath } from "./lib/report";

const RESULTS = resultsPath();

function setting(name: string, fallback: number): number {
  const v = process.env[name];
  return v === undefined || v === "" ? fallback : Number(v);
}

async function main(): Promise<void> {
  const say = (s: string): void => console.error(s);
  const started = performance.now();
  const m = machine();
  say(`HFI bench on ${m.cpu} (${m.cores} cores), Node ${m.node}, V8 ${m.v8}`);
  say("case 6: size and start-up");
  const startup = await runStartup({ runs: setting("BENCH_STARTUP_RUNS", 15) });
  say("cases 1-3: hot path");
  const hotPath = await runHotPath({ rounds: setting("BENCH_ROUNDS", 41), roundMs: setting("BENCH_ROUND_MS", 50), say });
  say("case 5: memory");
  const memory = await runMemory({ requests: setting("BENCH_MIXED_REQUESTS", 1_000_000), say });
  say("case 4: delay precision (real clock, local runner)");
  const delay = await runDelayPrecision({ requests: setting("BENCH_DELAY_REQUESTS", 1000), say });

  const targets = judge(hotPath, delay, memory, startup);
  const results = {
    date: new Date().toISOString(),
    machine: m,
    durationSeconds: Math.round((performance.now() - started) / 1000),
    targets,
    hotPath,
    delayPrecision: delay,
    memory,
    startup,
    guard: await runGuard({ rounds: setting("BENCH_ROUNDS", 41), roundMs: setting("BENCH_ROUND_MS", 50), say }),
  };
  mkdirSync(path.dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify(results, null, 2) + "\n");
  console.log(renderTable(results));
  console.log(`\nwritten: ${path.relative(process.cwd(), RESULTS)} (${results.durationSeconds} s)`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
