/**
 * What the per-policy counters (and the access-log marks) cost a request that is
 * matched and injected, against the same module without them. Both modules run the same
 * configuration (10 non-matching rules + one abort) interleaved round by round:
 *   abort   matched and aborted: + matched and injected counters, + 2 proxy_set_property
 *   miss    matches nothing: must not change (1 host call)
 * The module without counters is BENCH_BASELINE_WASM (build it from main: `git worktree` or a
 * checkout of main, `make build/plugin.wasm`); without it only this build is measured.
 * Run alone: node --import tsx bench/cases/policy-counters.ts
 */
import { existsSync } from "node:fs";
import { compileModule } from "../../host/index";
import { Bench, PLUGIN_WASM, readModule, requestMap, round } from "../lib/driver";
import { median, nsPerOp } from "../lib/measure";
import { ABORT_PATH, configuration, MISS_PATH, ROOT_ID } from "../lib/policies";

export interface PolicyCountersResult {
  baseline: string | null;
  cases: Record<string, { nsPerRequest: number; hostCallsByName: Record<string, number> }>;
  /** Median over rounds of (this build - baseline), ns per request. */
  addedNs: { abort: number; miss: number } | null;
}

export async function runPolicyCounters(options: { rounds: number; roundMs: number; say: (s: string) => void }): Promise<PolicyCountersResult> {
  const baselinePath = process.env.BENCH_BASELINE_WASM || null;
  if (baselinePath && !existsSync(baselinePath)) throw new Error(`BENCH_BASELINE_WASM=${baselinePath} not found`);
  const abortReq = requestMap("GET", ABORT_PATH);
  const miss = requestMap("GET", MISS_PATH);
  const config = configuration(10, { abort: true });
  const modules: Array<[string, string]> = [["now", PLUGIN_WASM]];
  if (baselinePath) modules.push(["before", baselinePath]);
  const runs: Array<{ id: string; bench: Bench; op: () => void; n: number; times: number[] }> = [];
  for (const [tag, file] of modules) {
    const compiled = await compileModule(readModule(file));
    const a = await Bench.start(compiled, ROOT_ID, config);
    const m = await Bench.start(compiled, ROOT_ID, config);
    if (a.begin(abortReq).localReply?.status !== 503) throw new Error(`${tag}: the abort case did not abort`);
    runs.push({ id: `abort-${tag}`, bench: a, op: () => a.begin(abortReq), n: 0, times: [] });
    runs.push({ id: `miss-${tag}`, bench: m, op: () => m.pass(miss), n: 0, times: [] });
  }
  for (const r of runs) {
    nsPerOp(r.op, 20_000);
    r.n = Math.max(1_000, Math.round((options.roundMs * 1e6) / nsPerOp(r.op, 5_000)));
  }
  const counting = runs.map((r) => r.bench.startCounting());
  for (let i = 0; i < options.rounds; i++) {
    runs.forEach((r, k) => {
      r.times.push(nsPerOp(r.op, r.n));
      counting[k].requests += r.n;
    });
  }
  const cases: PolicyCountersResult["cases"] = {};
  runs.forEach((r, k) => {
    cases[r.id] = { nsPerRequest: round(median(r.times), 1), hostCallsByName: r.bench.perRequest(counting[k]).hostCallsByName };
  });
  const t = (id: string) => runs.find((r) => r.id === id)!.times;
  const added = (c: string) => round(median(t(`${c}-now`).map((x, i) => x - t(`${c}-before`)[i])), 1);
  const result: PolicyCountersResult = { baseline: baselinePath, cases, addedNs: baselinePath ? { abort: added("abort"), miss: added("miss") } : null };
  for (const [id, c] of Object.entries(cases)) options.say(`  ${id.padEnd(14)} ${String(c.nsPerRequest).padStart(8)} ns/request  host calls ${JSON.stringify(c.hostCallsByName)}`);
  if (result.addedNs) options.say(`  per-policy counters add ${result.addedNs.abort} ns to a matched-and-aborted request, ${result.addedNs.miss} ns to one that matches nothing`);
  return result;
}

if (process.argv[1]?.endsWith("policy-counters.ts")) {
  runPolicyCounters({ rounds: Number(process.env.BENCH_ROUNDS || 21), roundMs: Number(process.env.BENCH_ROUND_MS || 50), say: (s) => console.log(s) })
    .catch((e) => {
      console.error(e);
      process.exit(1);
    });
}
