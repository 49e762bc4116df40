// Injection budgets and the blast-radius cap under simulated interleavings of several worker
// VMs: each worker reads (value, cas), may be overtaken by others, then sets with the cas it
// read, and retries on CasMismatch, exactly as the host glue will. A scheduler driven by a
// seeded generator decides who moves next, so every run is one fixed interleaving of many.
import { FakeSharedData, SetResult } from "./fake-shared-data";
import { BUDGET_VALUE_BYTES, TakeResult, budgetKey, countFor, takeFrom, writeValue } from "../../assembly/budgets/injection-budget";

/** The policy version the simulated budgets count for. */
const ID: u64 = 0xfeed;

/** A budget's shared value, as admission/budget.ts writes it. */
function value(identity: u64, count: u64): ArrayBuffer {
  const v = new ArrayBuffer(BUDGET_VALUE_BYTES);
  writeValue(v, identity, count);
  return v;
}
import { BlastRadius, BlastWindow, BLAST_RADIUS_KEY, maxFaultPercentage } from "../../assembly/budgets/blast-radius";
import { casForSet, MISSING_KEY_CAS } from "../../assembly/window/shared-cas";
import { Sampler } from "../../assembly/faults/sampling";
import { AllocProbe } from "./alloc-probe";

const KEY = "hfi.budget.test.0";

/** A worker VM taking from an injection budget: phase 0 = will read, 1 = has read, will set. */
class BudgetWorker {
  max: u64;
  phase: i32 = 0;
  read: ArrayBuffer | null = null;
  readCas: u32 = 0;
  wants: i32;
  taken: i32 = 0;
  refused: i32 = 0;
  constructor(max: u64, wants: i32) {
    this.max = max;
    this.wants = wants;
  }
  done(): bool { return this.wants == 0 && this.phase == 0; }
  /** Advances one phase against the store. */
  move(store: FakeSharedData): void {
    if (this.phase == 0) {
      this.read = store.get(KEY);
      this.readCas = store.cas(KEY);
      this.phase = 1;
      return;
    }
    this.phase = 0;
    const r = takeFrom(countFor(this.read, ID), this.max);
    if (r != TakeResult.Taken) {
      this.refused++;
      this.wants--;
      return;
    }
    const s = store.set(KEY, value(ID, countFor(this.read, ID) + 1), casForSet(this.read !== null, this.readCas));
    if (s == SetResult.Ok) {
      this.taken++;
      this.wants--;
    } // CasMismatch: re-read on the next move
  }
}

function runBudget(workers: i32, wantsEach: i32, max: u64, seed: u64, readAllFirst: bool): i32 {
  const store = new FakeSharedData();
  const ws: BudgetWorker[] = [];
  for (let i = 0; i < workers; i++) ws.push(new BudgetWorker(max, wantsEach));
  if (readAllFirst) for (let i = 0; i < workers; i++) ws[i].move(store); // all see "missing"
  const rng = new Sampler(seed);
  let busy = true;
  while (busy) {
    const w = ws[<i32>(rng.next() % <u64>workers)];
    if (!w.done()) w.move(store);
    busy = false;
    for (let i = 0; i < workers; i++) if (!ws[i].done()) busy = true;
  }
  let taken = 0;
  for (let i = 0; i < workers; i++) taken += ws[i].taken;
  expect(countFor(store.get(KEY), ID)).toBe(<u64>taken, "the stored count is the number of injections granted");
  expect(store.mismatches).toBeGreaterThan(0, "the interleaving did make sets collide");
  return taken;
}

describe("max_injections under concurrent worker VMs", () => {
  it("grants exactly max_injections among 4 workers that all race for the missing key first", () => {
    expect(runBudget(4, 60, 100, 1, true)).toBe(100);
  });
  it("stays exact across interleavings and sizes", () => {
    expect(runBudget(2, 10, 7, 2, false)).toBe(7);
    expect(runBudget(8, 30, 150, 3, true)).toBe(150);
    expect(runBudget(3, 5, 100, 4, false)).toBe(15); // fewer wanted than allowed: all granted
  });
  it("with cas 0 for the missing key, the first writers' takes would be lost (why MISSING_KEY_CAS exists)", () => {
    const store = new FakeSharedData();
    const readA = store.get(KEY);
    const readB = store.get(KEY);
    expect(takeFrom(countFor(readA, ID), 10)).toBe(TakeResult.Taken);
    expect(store.set(KEY, value(ID, 1), 0)).toBe(SetResult.Ok);
    expect(takeFrom(countFor(readB, ID), 10)).toBe(TakeResult.Taken);
    expect(store.set(KEY, value(ID, 1), 0)).toBe(SetResult.Ok); // overwrote a's take
    expect(countFor(store.get(KEY), ID)).toBe(1);
    // with the sentinel, b's set fails and b re-reads
    const store2 = new FakeSharedData();
    expect(store2.set(KEY, value(ID, 1), casForSet(false, 0))).toBe(SetResult.Ok);
    expect(store2.set(KEY, value(ID, 1), casForSet(false, 0))).toBe(SetResult.CasMismatch);
    expect(casForSet(false, 0)).toBe(MISSING_KEY_CAS);
  });
  it("reads a malformed value or another version's as a fresh budget, and refuses a spent one", () => {
    expect(countFor(new ArrayBuffer(3), ID)).toBe(0, "a malformed value reads as a fresh budget (and is overwritten)");
    expect(countFor(value(ID + 1, 7), ID)).toBe(0, "another version's count is not this one's");
    expect(takeFrom(countFor(value(ID, 1), ID), 1)).toBe(TakeResult.Exhausted);
    expect(takeFrom(countFor(null, ID), 1)).toBe(TakeResult.Taken);
  });
  it("takes from a decoded count up to the maximum, and no further", () => {
    expect(takeFrom(1, 2)).toBe(TakeResult.Taken);
    expect(takeFrom(2, 2)).toBe(TakeResult.Exhausted);
    expect(countFor(value(ID, 2), ID)).toBe(2);
  });
  it("keys the budget by policy identity and rule", () => {
    expect(budgetKey(0xbeef, 2)).toBe("hfi.budget.beef.2");
  });
  it("takes without allocating", () => {
    const v = value(ID, 3);
    const probe = new AllocProbe();
    for (let i = 0; i < 100; i++) takeFrom(countFor(v, ID), 1000);
    expect(probe.nothingAllocated()).toBe(true);
  });
});

/** A worker VM with a blast-radius cap; phases as above. */
class CapWorker {
  cap: BlastRadius;
  phase: i32 = 0;
  read: ArrayBuffer | null = null;
  readCas: u32 = 0;
  wantFault: bool = false;
  requestsLeft: i32;
  granted: i32 = 0;
  constructor(capPercent: f64, requests: i32) {
    this.cap = new BlastRadius(capPercent, 60000);
    this.requestsLeft = requests;
  }
  done(): bool { return this.requestsLeft == 0 && this.phase == 0 && this.cap.pending == 0; }
}

/** Runs the interleaving; returns [granted, stored requests, stored faults]. */
function runCap(workers: i32, requestsEach: i32, capPercent: f64, sampledPercent: f64, seed: u64): i64[] {
  const store = new FakeSharedData();
  const ws: CapWorker[] = [];
  for (let i = 0; i < workers; i++) ws.push(new CapWorker(capPercent, requestsEach));
  const rng = new Sampler(seed);
  const now: i64 = 5000000;
  const check = new BlastWindow(capPercent, 60000);
  let busy = true;
  while (busy) {
    const w = ws[<i32>(rng.next() % <u64>workers)];
    if (!w.done()) {
      if (w.phase == 0) {
        if (w.requestsLeft > 0 && w.cap.pending == 0) {
          // a new request arrives; is it sampled for a fault?
          w.cap.countRequest();
          w.requestsLeft--;
          w.wantFault = rng.chance(sampledPercent);
        } else {
          w.wantFault = false; // a tick publishing what is left
        }
        w.read = store.get(BLAST_RADIUS_KEY);
        w.readCas = store.cas(BLAST_RADIUS_KEY);
        w.phase = 1;
      } else {
        w.phase = 0;
        const granted = w.cap.step(w.read, now, w.wantFault);
        const s = store.set(BLAST_RADIUS_KEY, w.cap.bytes, casForSet(w.read !== null, w.readCas));
        if (s == SetResult.Ok) {
          w.cap.committed();
          if (granted) w.granted++;
          // the invariant, after every successful set
          const v = changetype<ArrayBuffer>(store.get(BLAST_RADIUS_KEY));
          check.window.decodeFrom(v, 0, v.byteLength);
          expect(<f64>check.faults(now) * 100.0 <= capPercent * <f64>check.requests(now)).toBe(true);
        } else {
          w.phase = 1; // re-read below on the next move
          w.read = store.get(BLAST_RADIUS_KEY);
          w.readCas = store.cas(BLAST_RADIUS_KEY);
        }
      }
    }
    busy = false;
    for (let i = 0; i < workers; i++) if (!ws[i].done()) busy = true;
  }
  let granted = 0;
  for (let i = 0; i < workers; i++) granted += ws[i].granted;
  const v = changetype<ArrayBuffer>(store.get(BLAST_RADIUS_KEY));
  check.window.decodeFrom(v, 0, v.byteLength);
  expect(store.mismatches).toBeGreaterThan(0, "the interleaving did make sets collide");
  return [<i64>granted, <i64>check.requests(now), <i64>check.faults(now)];
}

describe("max_fault_percentage across worker VMs", () => {
  it("every request sampled: exactly floor(cap * requests / 100) faults, none lost", () => {
    const r = runCap(4, 250, 10, 100, 7);
    expect(r[1]).toBe(1000);
    expect(r[2]).toBe(r[0]);
    expect(r[0]).toBe(100);
    const r2 = runCap(3, 101, 25, 100, 8);
    expect(r2[1]).toBe(303);
    expect(r2[0]).toBe(75);
  });
  it("at a sampled rate below the cap nothing overflows; above it the cap holds", () => {
    const low = runCap(4, 500, 50, 20, 9); // ~20 % sampled, cap 50 %
    expect(low[1]).toBe(2000);
    expect(low[2]).toBe(low[0]);
    expect(<f64>low[0] / 2000.0).toBeGreaterThan(0.17);
    const high = runCap(4, 500, 5, 30, 10); // ~30 % sampled, cap 5 %
    expect(high[2]).toBe(high[0]);
    expect(high[0]).toBeLessThanOrEqual(100);
    expect(high[0]).toBeGreaterThanOrEqual(99);
  });
  it("the window slides: faults from an old window no longer count", () => {
    const w = new BlastWindow(10, 60000);
    w.recordRequests(0, 10);
    expect(w.allow(0)).toBe(true);
    w.recordFault(0);
    expect(w.allow(0)).toBe(false);
    w.recordRequests(60000, 10);
    expect(w.faults(60000)).toBe(0);
    expect(w.allow(60000)).toBe(true);
  });
  it("two workers' windows merge into the proxy's share", () => {
    const a = new BlastWindow(10, 60000);
    const b = new BlastWindow(10, 60000);
    a.recordRequests(1000, 5);
    b.recordRequests(2000, 5);
    expect(a.allow(2000)).toBe(false);
    a.mergeFrom(b);
    expect(a.requests(2000)).toBe(10);
    expect(a.allow(2000)).toBe(true);
  });
  it("validates max_fault_percentage", () => {
    expect(maxFaultPercentage(150).error).toBe("max_fault_percentage: must be a number from 0 to 100, got 150");
    expect(maxFaultPercentage(12.5).percent).toBe(12.5);
    expect(maxFaultPercentage(NaN).ok).toBe(false);
  });
  it("counts and steps without allocating", () => {
    const c = new BlastRadius(10, 60000);
    const probe = new AllocProbe();
    for (let i = 0; i < 100; i++) c.countRequest();
    c.step(null, 1000, true);
    c.committed();
    c.step(c.bytes, 1000, true);
    expect(probe.nothingAllocated()).toBe(true);
    expect(c.pending).toBe(0);
  });
});
