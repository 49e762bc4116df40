/**
 * `make bench`: the cost of the plugin per request against the floor and the stock SDK, delay
 * precision through the local runner, memory under a long mixed load, size and start-up time.
 * Prints one table and writes the same figures with the machine's description to
 * build/bench/latest.json (bench/results/latest.json with RECORD=1: see resultsPath). Settings: BENCH_ROUNDS (default 41), BENCH_ROUND_MS (50),
 * BENCH_MIXED_REQUESTS (1000000), BENCH_DELAY_REQUESTS (1000).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { runDelayPrecision, runDistributionPrecision } from "./cases/delay-precision";
import { runGuard } from "./cases/guard";
import { runHotPath } from "./cases/hot-path";
import { runMemory } from "./cases/memory";
import { renderRegexTable, runRegex } from "./cases/regex";
import { runPolicyCounters } from "./cases/policy-counters";
import { formatNewFaults, runNewFaults } from "./cases/new-faults";
import { runStartup } from "./cases/startup";
import { configLimitsBench } from "./cases/config-limits";
import { renderCliScale, runCliScale } from "./cases/cli-scale";
import { renderWorstCases, runWorstCases } from "./cases/worst-cases";
import { machine } from "./lib/measure";
import { judge, renderTable, resultsPath } from "./lib/report";

const RESULTS = resultsPath();

function setting(name: string, fallback: number): number {
  const v = process.env[name];
  return v === undefined || v === "" ? fallback : Number(v);
}

async function main(): Promise<void> {
  const say = (s: string): void => console.error(s);
  if (process.argv[2] === "config-limits") return void (await configLimitsBench(say));
  if (process.argv[2] === "cli-scale") return void console.log(renderCliScale(await runCliScale(say)));
  if (process.argv[2] === "worst-cases") return void console.log(renderWorstCases(await runWorstCases(say)));
  if (process.env.BENCH_ONLY === "distribution") return void console.log(JSON.stringify(await runDistributionPrecision({ requests: setting("BENCH_DELAY_REQUESTS", 1000), say }), null, 2));
  const started = performance.now();
  const m = machine();
  if (process.argv[2] === "regex") return console.log(renderRegexTable(await runRegex({ rounds: setting("BENCH_REGEX_ROUNDS", 7), say })));
  say(`HFI bench on ${m.cpu} (${m.cores} cores), Node ${m.node}, V8 ${m.v8}`);
  say("case 6: size and start-up");
  const startup = await runStartup({ runs: setting("BENCH_STARTUP_RUNS", 15) });
  say("cases 1-3: hot path");
  const hotPath = await runHotPath({ rounds: setting("BENCH_ROUNDS", 41), roundMs: setting("BENCH_ROUND_MS", 50), say });
  say("case 7: matched request per new fault kind");
  const newFaults = await runNewFaults({ rounds: setting("BENCH_ROUNDS", 41), roundMs: setting("BENCH_ROUND_MS", 50), say });
  say("case 5: memory");
  const memory = await runMemory({ requests: setting("BENCH_MIXED_REQUESTS", 1_000_000), say });
  say("case 4: delay precision (real clock, local runner)");
  const delay = await runDelayPrecision({ requests: setting("BENCH_DELAY_REQUESTS", 1000), say });
  const delayDistribution = await runDistributionPrecision({ requests: setting("BENCH_DELAY_REQUESTS", 1000), say });

  say("regex: cost per request of header-regex rules on long values");
  const regex = await runRegex({ rounds: setting("BENCH_REGEX_ROUNDS", 7), say });

  const policyCounters = await runPolicyCounters({ rounds: setting("BENCH_ROUNDS", 41), roundMs: setting("BENCH_ROUND_MS", 50), say });
  const targets = judge(hotPath, delay, memory, startup);
  const results = {
    date: new Date().toISOString(),
    machine: m,
    durationSeconds: Math.round((performance.now() - started) / 1000),
    targets,
    hotPath,
    delayPrecision: delay,
    delayDistribution,
    memory,
    startup,
    regex,
    policyCounters,
    newFaults,
    guard: await runGuard({ rounds: setting("BENCH_ROUNDS", 41), roundMs: setting("BENCH_ROUND_MS", 50), say }),
  };
  mkdirSync(path.dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify(results, null, 2) + "\n");
  console.log(renderTable(results));
  console.log("\n" + renderRegexTable(regex));
  console.log(formatNewFaults(newFaults));
  console.log("\n" + renderExtras(results.guard, policyCounters, delayDistribution));
  console.log(`\nwritten: ${path.relative(process.cwd(), RESULTS)} (${results.durationSeconds} s)`);
  await configLimitsBench(say);
  console.log("\n" + renderWorstCases(await runWorstCases(say)));
  console.log("\n" + renderCliScale(await runCliScale(say)));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});

/** The guard's cost, the per-policy counters' matched-path cost and the
 * delay precision of a distribution, as printed lines. */
function renderExtras(
  guard: Awaited<ReturnType<typeof runGuard>>,
  counters: Awaited<ReturnType<typeof runPolicyCounters>>,
  dist: Awaited<ReturnType<typeof runDistributionPrecision>>,
): string {
  const lines = ["Guard, cap and schedule (ns per request, host calls; extra = above the unguarded twin):"];
  for (const c of Object.values(guard)) {
    lines.push(`  ${c.label.padEnd(52)} ${c.nsPerRequest.toFixed(0).padStart(7)} ns  ${c.extraNs >= 0 ? "+" : ""}${c.extraNs.toFixed(0)} ns  ${c.perRequest.hostCalls} host calls`);
  }
  lines.push("The matched path: host calls per request (a matched abort's target: at most 5; no match: exactly 1):");
  for (const [name, c] of Object.entries(counters.cases)) {
    const calls = Object.values(c.hostCallsByName).reduce((a, b) => a + b, 0);
    const target = name.startsWith("abort") ? (calls <= 5 ? "  PASS (<= 5)" : "  MISS (<= 5)") : name.startsWith("miss") ? (calls === 1 ? "  PASS (1)" : "  MISS (1)") : "";
    lines.push(`  ${name.padEnd(52)} ${c.nsPerRequest.toFixed(0).padStart(7)} ns  ${calls} host calls${target} ${JSON.stringify(c.hostCallsByName)}`);
  }
  lines.push(`Delay distribution ${JSON.stringify(dist.delay)} over ${dist.requests} concurrent requests (real clock, local runner): ` +
    dist.quantiles.map((q) => `p${Math.round(q.q * 100)} ${q.heldMs.toFixed(1)} ms (expected ${q.expectedMs})`).join(", ") +
    `; KS distance ${dist.ksDistance.toFixed(3)}`);
  return lines.join("\n");
}
