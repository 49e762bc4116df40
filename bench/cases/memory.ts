/**
 * Case 5: the module's linear memory. Growth is what can be seen from outside without new
 * exports: memory.buffer.byteLength, in whole 64 KiB pages (the module's heap may hold freed
 * blocks inside those pages; it never gives pages back, so growth is the honest upper bound).
 *   - after warm-up, then after 1,000,000 mixed requests: per 1,000, 850 pass through, 50 are
 *     aborted, 100 are delayed (10 of those reset by the client while held, 90 resumed by the tick);
 *   - per held request: a fresh VM after warm-up holds 10,000 requests; growth / 10,000.
 */
import { compileModule } from "../../host/index";
import { Bench, PLUGIN_WASM, readModule, requestMap, round } from "../lib/driver";
import { ABORT_PATH, configuration, DELAY_PATH, HOLD_PATH, MISS_PATH, ROOT_ID } from "../lib/policies";

const DELAY_MS = 200;

export interface MemoryResult {
  afterWarmupBytes: number;
  afterMixedBytes: number;
  growthBytes: number;
  mixed: { requests: number; passed: number; aborted: number; delayed: number; resetWhileHeld: number; seconds: number };
  perHeldRequest: { held: number; growthBytes: number; bytesPerHeld: number; mallocBytesPerHeld: number };
}

export async function runMemory(options: { requests: number; say: (s: string) => void }): Promise<MemoryResult> {
  const compiled = await compileModule(readModule(PLUGIN_WASM));
  const config = configuration(10, { abort: true, delayMs: DELAY_MS, holdMs: 3_600_000 });
  const miss = requestMap("GET", MISS_PATH);
  const abortReq = requestMap("GET", ABORT_PATH);
  const delayReq = requestMap("GET", DELAY_PATH);
  const holdReq = requestMap("GET", HOLD_PATH);

  const b = await Bench.start(compiled, ROOT_ID, config);
  const counts = { requests: 0, passed: 0, aborted: 0, delayed: 0, resetWhileHeld: 0 };
  const batch = (): void => {
    const held = [];
    for (let i = 0; i < 1000; i++) {
      const k = i % 20;
      if (k === 0) {
        const s = b.begin(abortReq);
        if (s.localReply?.status !== 503) throw new Error("memory: abort did not answer 503");
        counts.aborted++;
      } else if (k === 5 || k === 15) {
        held.push(b.begin(delayReq));
        counts.delayed++;
      } else {
        b.pass(miss);
        counts.passed++;
      }
      counts.requests++;
    }
    // 10 of the 100 held requests: the client goes away while they are held.
    for (let i = 0; i < held.length; i += 10) {
      held[i].reset();
      counts.resetWhileHeld++;
    }
    b.clock.advance(DELAY_MS);
    for (let i = 0; i < held.length; i++) {
      if (i % 10 === 0) continue;
      if (!held[i].upstream.headers) throw new Error("memory: a delayed request was not resumed");
      b.respond(held[i]);
    }
  };
  // Warm-up: every path the mixed load takes, long enough for the heap to reach its working size.
  for (let i = 0; i < 50; i++) batch();
  const afterWarmupBytes = b.memoryBytes;
  Object.assign(counts, { requests: 0, passed: 0, aborted: 0, delayed: 0, resetWhileHeld: 0 });
  const t0 = performance.now();
  const batches = Math.round(options.requests / 1000);
  for (let i = 0; i < batches; i++) {
    batch();
    if ((i + 1) % 250 === 0) options.say(`  memory: ${(i + 1) * 1000} mixed requests`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const afterMixedBytes = b.memoryBytes;
  if (b.plugin.root.streams.size !== 0) throw new Error(`memory: ${b.plugin.root.streams.size} streams left open`);

  // Per held request: fresh VM, warmed up, then 10,000 held.
  const h = await Bench.start(compiled, ROOT_ID, config);
  for (let i = 0; i < 20; i++) {
    const s = h.begin(holdReq);
    s.reset();
    h.pass(miss);
  }
  const HELD = 10_000;
  const counting = h.startCounting();
  for (let i = 0; i < HELD; i++) h.begin(holdReq);
  counting.requests = HELD;
  const per = h.perRequest(counting);
  return {
    afterWarmupBytes,
    afterMixedBytes,
    growthBytes: afterMixedBytes - afterWarmupBytes,
    mixed: { ...counts, seconds: round(seconds, 2) },
    perHeldRequest: { held: HELD, growthBytes: per.memoryGrowthBytes, bytesPerHeld: round(per.memoryGrowthBytes / HELD, 1), mallocBytesPerHeld: per.mallocBytes },
  };
}
