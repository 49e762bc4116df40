/**
 * Cases 1-3: cost per request through the host, lean mode, test clock.
 *   floor            hand-written module: exports the ABI, returns Continue (the host's own cost)
 *   floorPath        the floor plus the one host call the plugin makes for a non-matching request
 *   stock            do-nothing filter on proxy-runtime's stock exports
 *   plugin-*         build/plugin.wasm with 0 / 10 / 100 / 1,000 rules that do not match,
 *                    10 rules + one that aborts, 10 rules + one that delays (held, then resumed
 *                    by the root tick after the test clock is advanced: the wait is not counted),
 *                    10 rules + a hold rule with 10,000 requests held vs the same with none held.
 * Rounds are interleaved: every case runs once per round, so ratios compare like with like.
 */
import { compileModule, type CompiledModule } from "../../host/index";
import { buildFloorModule } from "../../tests/helpers/wasm-builder";
import { Bench, PLUGIN_WASM, readModule, requestMap, round, STOCK_WASM, type Counting, type PerRequest } from "../lib/driver";
import { median, nsPerOp } from "../lib/measure";
import { ABORT_PATH, configuration, DELAY_PATH, HOLD_PATH, MISS_PATH, ROOT_ID } from "../lib/policies";

export const HELD = 10_000;
const DELAY_MS = 1_000;

export interface HotCase {
  id: string;
  label: string;
  nsPerRequest: number;
  /** Median over rounds of (this case - floor) in the same round. */
  aboveFloorNs: number;
  rounds: number[];
  perRequest: PerRequest;
}

export interface HotPathResult {
  cases: Record<string, HotCase>;
  /** Medians over rounds of per-round ratios. */
  ratios: Record<string, number>;
  settings: { rounds: number; roundMs: number; warmupRequests: number };
}

interface Runner {
  id: string;
  label: string;
  bench: Bench;
  op: () => void;
  n: number;
  times: number[];
  counting?: Counting;
}

export async function runHotPath(options: { rounds: number; roundMs: number; say: (s: string) => void }): Promise<HotPathResult> {
  const plugin: CompiledModule = await compileModule(readModule(PLUGIN_WASM));
  const miss = requestMap("GET", MISS_PATH);
  const abortReq = requestMap("GET", ABORT_PATH);
  const delayReq = requestMap("GET", DELAY_PATH);
  const holdReq = requestMap("GET", HOLD_PATH);

  const floor = await Bench.start(buildFloorModule("0.2.0"), "", {});
  const floorPath = await Bench.start(buildFloorModule("0.2.0", { readPath: true }), "", {});
  const floorOpen = await Bench.start(buildFloorModule("0.2.0"), "", {});
  const stock = await Bench.start(readModule(STOCK_WASM), "", {});
  const p0 = await Bench.start(plugin, ROOT_ID, configuration(0));
  const p10 = await Bench.start(plugin, ROOT_ID, configuration(10));
  const p100 = await Bench.start(plugin, ROOT_ID, configuration(100));
  const p1000 = await Bench.start(plugin, ROOT_ID, configuration(1000));
  const pAbort = await Bench.start(plugin, ROOT_ID, configuration(10, { abort: true }));
  const pDelay = await Bench.start(plugin, ROOT_ID, configuration(10, { delayMs: DELAY_MS }));
  const pNoneHeld = await Bench.start(plugin, ROOT_ID, configuration(10, { holdMs: 3_600_000 }));
  const pHeld = await Bench.start(plugin, ROOT_ID, configuration(10, { holdMs: 3_600_000 }));

  // The host's share of "held": 10,000 streams left open (upstream waiting) on the floor module.
  for (let i = 0; i < HELD; i++) floorOpen.begin(holdReq);
  // Hold 10,000 requests in one VM (they stay held: its clock never moves).
  for (let i = 0; i < HELD; i++) pHeld.begin(holdReq);
  const held = pHeld.plugin.root.streams.values().filter((s) => s.upstream.headers === undefined && !s.finished).length;
  if (held !== HELD) throw new Error(`expected ${HELD} held requests, the plugin holds ${held}`);

  const delayed = (): void => {
    const s = pDelay.begin(delayReq);
    pDelay.clock.advance(DELAY_MS);
    pDelay.respond(s);
  };
  const runners: Runner[] = [
    { id: "floor", label: "1. floor module (host + ABI crossings only)", bench: floor, op: () => floor.pass(miss), n: 0, times: [] },
    { id: "floorPath", label: "   floor module + one :path read (the host's cost of that call)", bench: floorPath, op: () => floorPath.pass(miss), n: 0, times: [] },
    { id: "stock", label: "2. stock SDK, do-nothing filter", bench: stock, op: () => stock.pass(miss), n: 0, times: [] },
    { id: "plugin0", label: "3. plugin, 0 policies", bench: p0, op: () => p0.pass(miss), n: 0, times: [] },
    { id: "plugin10", label: "3. plugin, 10 rules, no match", bench: p10, op: () => p10.pass(miss), n: 0, times: [] },
    { id: "plugin100", label: "3. plugin, 100 rules, no match", bench: p100, op: () => p100.pass(miss), n: 0, times: [] },
    { id: "plugin1000", label: "3. plugin, 1,000 rules, no match", bench: p1000, op: () => p1000.pass(miss), n: 0, times: [] },
    { id: "abort", label: "3. plugin, 10 rules, one aborts", bench: pAbort, op: () => pAbort.begin(abortReq), n: 0, times: [] },
    { id: "delay", label: "3. plugin, 10 rules, one delays (schedule + resume)", bench: pDelay, op: delayed, n: 0, times: [] },
    { id: "noneHeld", label: "3. plugin, 10 rules + hold rule, none held", bench: pNoneHeld, op: () => pNoneHeld.pass(miss), n: 0, times: [] },
    { id: "held", label: "3. plugin, 10 rules + hold rule, 10,000 held", bench: pHeld, op: () => pHeld.pass(miss), n: 0, times: [] },
    { id: "floorOpen", label: "   floor module, 10,000 streams open (host's share)", bench: floorOpen, op: () => floorOpen.pass(miss), n: 0, times: [] },
  ];

  checkBehaviour(floor, floorPath, stock, p10, pAbort, pDelay, miss, abortReq, delayReq);

  // Warm-up (JIT, the module's own caches), then size each round to about roundMs.
  let warmupRequests = 0;
  for (const r of runners) {
    const warm = 20_000;
    nsPerOp(r.op, warm);
    const ns = nsPerOp(r.op, 5_000);
    warmupRequests += warm + 5_000;
    r.n = Math.max(1_000, Math.round((options.roundMs * 1e6) / ns));
  }
  for (const r of runners) r.counting = r.bench.startCounting();
  for (let round = 0; round < options.rounds; round++) {
    for (const r of runners) {
      r.times.push(nsPerOp(r.op, r.n));
      r.counting!.requests += r.n;
    }
    if ((round + 1) % 5 === 0) options.say(`  hot path: round ${round + 1}/${options.rounds}`);
  }

  const floorTimes = runners[0].times;
  const cases: Record<string, HotCase> = {};
  for (const r of runners) {
    cases[r.id] = {
      id: r.id,
      label: r.label,
      nsPerRequest: round(median(r.times), 1),
      aboveFloorNs: round(median(r.times.map((t, i) => t - floorTimes[i])), 1),
      rounds: r.times.map((t) => round(t, 1)),
      perRequest: r.bench.perRequest(r.counting!),
    };
  }
  const t = (id: string): number[] => runners.find((r) => r.id === id)!.times;
  const net = (id: string): number[] => t(id).map((x, i) => x - floorTimes[i]);
  const ratio = (a: number[], b: number[]): number => round(median(a.map((x, i) => x / b[i])), 3);
  /** What the plugin itself adds for a request that matches nothing: above a floor module that
   * makes the same one host call (the host's implementation of that call is not the plugin's). */
  const plugin10OwnNs = round(median(t("plugin10").map((x, i) => x - t("floorPath")[i])), 1);
  const ratios = {
    plugin10OwnNs,
    stockOverPlugin10: ratio(t("stock"), t("plugin10")),
    stockOverPlugin10AboveFloor: ratio(net("stock"), net("plugin10")),
    plugin1000OverPlugin10: ratio(t("plugin1000"), t("plugin10")),
    plugin1000OverPlugin10AboveFloor: ratio(net("plugin1000"), net("plugin10")),
    heldOverNoneHeld: ratio(t("held"), t("noneHeld")),
    heldOverNoneHeldAboveFloor: ratio(net("held"), net("noneHeld")),
    /** The host's own slowdown with 10,000 open streams (floor module). */
    floorOpenOverFloor: ratio(t("floorOpen"), t("floor")),
    /** held minus none held, with the host's slowdown (floorOpen - floor) taken out, over none held above floor. */
    heldOverNoneHeldModuleOnly: round(median(t("held").map((h, i) => (h - t("floorOpen")[i]) / (t("noneHeld")[i] - floorTimes[i]))), 3),
  };
  return { cases, ratios, settings: { rounds: options.rounds, roundMs: options.roundMs, warmupRequests } };
}

/** The cases measure what they say: pass-through passes, abort answers 503, delay resumes. */
function checkBehaviour(floor: Bench, floorPath: Bench, stock: Bench, p10: Bench, pAbort: Bench, pDelay: Bench, miss: ReturnType<typeof requestMap>, abortReq: ReturnType<typeof requestMap>, delayReq: ReturnType<typeof requestMap>): void {
  for (const [name, b] of [["floor", floor], ["floorPath", floorPath], ["stock", stock], ["plugin10", p10]] as const) {
    const s = b.pass(miss);
    if (s.state !== "complete" || s.localReply) throw new Error(`${name}: the request did not pass through`);
  }
  const a = pAbort.begin(abortReq);
  if (a.localReply?.status !== 503 || a.state !== "complete") throw new Error("abort case: no 503 local reply");
  const d = pDelay.begin(delayReq);
  if (d.upstream.headers) throw new Error("delay case: the request was not held");
  pDelay.clock.advance(DELAY_MS - 1);
  if (d.upstream.headers) throw new Error("delay case: released early");
  pDelay.clock.advance(1);
  if (!d.upstream.headers) throw new Error("delay case: not resumed by the tick");
  pDelay.respond(d);
  if (d.state !== "complete") throw new Error("delay case: did not complete");
}
