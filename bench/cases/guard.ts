/**
 * Case 7: the safety rails' cost per request, lean mode, test clock, interleaved rounds.
 *   miss            10 rules + a rule on /watched, request that matches nothing (no rails)
 *   missGuarded     the same with a guard on the /watched policy: must cost the same
 *   missCapped      the same with max_fault_percentage set: one integer increment more
 *   watched         a request matching the /watched rule, not faulted (percentage 0.0001)
 *   watchedGuarded  the same with a guard: stream tracked, response read at on_log (the CAS
 *                   publish runs on the root tick, once a second, and is not in this figure)
 * Alone: `node --import tsx bench/cases/guard.ts` (after `make build/plugin.wasm`).
 */
import { Bench, PLUGIN_WASM, readModule, requestMap, round, type Counting, type PerRequest } from "../lib/driver";
import { median, nsPerOp } from "../lib/measure";
import { configuration, MISS_PATH, ROOT_ID } from "../lib/policies";
import { compileModule } from "../../host/index";

const GUARD = { max_error_rate: 0.5, min_requests: 1_000_000, window_seconds: 30, cooldown_seconds: 60 };

export interface GuardCase {
  label: string;
  nsPerRequest: number;
  /** Median over rounds of (this case - its unguarded twin) in the same round. */
  extraNs: number;
  perRequest: PerRequest;
}

function config(guard: boolean, cap: boolean): object {
  const base = configuration(10) as { policies: object[] };
  const spec: Record<string, unknown> = { rules: [{ match: { path: { prefix: "/watched" } }, fault: { percentage: 0.0001, abort: { httpStatus: 503 } } }] };
  if (guard) spec.guard = GUARD;
  return { ...base, ...(cap ? { max_fault_percentage: 5 } : {}), policies: [...base.policies, { metadata: { name: "watched" }, spec }] };
}

export async function runGuard(options: { rounds: number; roundMs: number; say: (s: string) => void }): Promise<Record<string, GuardCase>> {
  const plugin = await compileModule(readModule(PLUGIN_WASM));
  const miss = requestMap("GET", MISS_PATH);
  const watched = requestMap("GET", "/watched/item");
  // One VM per case: host calls and allocations are counted per VM.
  const plain = await Bench.start(plugin, ROOT_ID, config(false, false));
  const guarded = await Bench.start(plugin, ROOT_ID, config(true, false));
  const capped = await Bench.start(plugin, ROOT_ID, config(false, true));
  const plainW = await Bench.start(plugin, ROOT_ID, config(false, false));
  const guardedW = await Bench.start(plugin, ROOT_ID, config(true, false));
  const runners: Array<{ id: string; label: string; twin: string; bench: Bench; op: () => void; n: number; times: number[]; counting?: Counting }> = [
    { id: "miss", label: "7. 10 rules + /watched, no match", twin: "miss", bench: plain, op: () => plain.pass(miss), n: 0, times: [] },
    { id: "missGuarded", label: "7. same, /watched guarded, no match", twin: "miss", bench: guarded, op: () => guarded.pass(miss), n: 0, times: [] },
    { id: "missCapped", label: "7. same, max_fault_percentage set, no match", twin: "miss", bench: capped, op: () => capped.pass(miss), n: 0, times: [] },
    { id: "watched", label: "7. /watched matched, not faulted", twin: "watched", bench: plainW, op: () => plainW.pass(watched), n: 0, times: [] },
    { id: "watchedGuarded", label: "7. /watched matched, not faulted, guarded", twin: "watched", bench: guardedW, op: () => guardedW.pass(watched), n: 0, times: [] },
  ];
  for (const r of runners) {
    nsPerOp(r.op, 20_000);
    r.n = Math.max(1_000, Math.round((options.roundMs * 1e6) / nsPerOp(r.op, 5_000)));
  }
  for (const r of runners) r.counting = r.bench.startCounting();
  for (let i = 0; i < options.rounds; i++) {
    for (const r of runners) {
      r.times.push(nsPerOp(r.op, r.n));
      r.counting!.requests += r.n;
    }
    if ((i + 1) % 10 === 0) options.say(`  guard: round ${i + 1}/${options.rounds}`);
  }
  const out: Record<string, GuardCase> = {};
  for (const r of runners) {
    const twin = runners.find((t) => t.id === r.twin)!;
    out[r.id] = {
      label: r.label,
      nsPerRequest: round(median(r.times), 1),
      extraNs: round(median(r.times.map((t, i) => t - twin.times[i])), 1),
      perRequest: r.bench.perRequest(r.counting!),
    };
  }
  return out;
}

if (require.main === module) {
  runGuard({ rounds: Number(process.env.BENCH_ROUNDS ?? 41), roundMs: Number(process.env.BENCH_ROUND_MS ?? 50), say: (s) => console.error(s) }).then((cases) => {
    for (const c of Object.values(cases)) {
      console.log(`${c.label.padEnd(48)} ${String(c.nsPerRequest).padStart(8)} ns  extra ${String(c.extraNs).padStart(7)} ns  ` +
        `host calls ${c.perRequest.hostCalls}  malloc B ${c.perRequest.mallocBytes}  ${JSON.stringify(c.perRequest.hostCallsByName)}`);
    }
  });
}
