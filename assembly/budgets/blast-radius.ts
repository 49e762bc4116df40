// The blast-radius cap `max_fault_percentage`: per proxy, over a sliding
// window, at most this share of all requests is faulted; a fault beyond it is skipped and
// counted as overflow.
//
// State: a CountWindow (../window/count-window.ts) of (requests, faults) per time bucket, the
// same fixed-memory, mergeable, byte-encodable window the guard uses.
//
// How the act layer uses it (one `BlastRadius` per worker VM, built when the settings are
// parsed; nothing below allocates):
//   every request      `cap.countRequest()`: one integer increment, no host call, so the
//                      no-match path keeps its single host call and no allocation.
//   a sampled fault    the CAS loop, which publishes this worker's pending requests and takes a
//                      fault slot in one atomic step:
//                        loop {
//                          (bytes, cas) = proxy_get_shared_data(BLAST_RADIUS_KEY)  // NotFound: null
//                          allowed = cap.step(bytes, nowMs, true)
//                          s = proxy_set_shared_data(key, cap.bytes, casForSet(bytes != null, cas))
//                          if s == CasMismatch continue; break
//                        }
//                        if s == Ok: cap.committed()  (pending requests are now published)
//                        allowed ? inject : skip and count overflow
//   on_tick            the same loop with `wantFault` false publishes pending requests, so the
//                      request count keeps up when no fault is sampled for a while.
// Exactness: every fault is granted by a CAS that saw all previously granted faults and all
// published requests, so among published requests the faulted share never exceeds the cap.
// Requests not yet published (at most one tick's worth per worker) only make the cap stricter.
//
// `BlastWindow.allow(nowMs)` is the same decision on a window in hand (one worker, or a merged
// copy).
import { CountWindow } from "../window/count-window";
import { formatNumber } from "../format/number";

export const BLAST_RADIUS_KEY = "hfi.blast-radius";
export const BLAST_RADIUS_BUCKETS: i32 = 10;

export class CapResult {
  constructor(public percent: f64, public error: string) {}
  get ok(): bool { return this.error.length == 0; }
}

/** Validates `max_fault_percentage` (0..100, fractions allowed). */
export function maxFaultPercentage(v: f64): CapResult {
  if (!(v >= 0 && v <= 100)) return new CapResult(0, "max_fault_percentage: must be a number from 0 to 100, got " + formatNumber(v));
  return new CapResult(v, "");
}

/** Requests seen (first counter) and faults injected (second) over the window. */
export class BlastWindow {
  readonly window: CountWindow;

  constructor(public readonly capPercent: f64, windowMs: i64) {
    this.window = new CountWindow(windowMs, BLAST_RADIUS_BUCKETS);
  }

  recordRequests(nowMs: i64, n: u32): void { this.window.add(nowMs, n, 0); }
  recordFault(nowMs: i64): void { this.window.add(nowMs, 0, 1); }
  requests(nowMs: i64): u64 { return this.window.sumA(nowMs); }
  faults(nowMs: i64): u64 { return this.window.sumB(nowMs); }

  /** Would one more fault keep faults / requests <= the cap? (The request itself is counted.) */
  allow(nowMs: i64): bool {
    const requests = this.window.sumA(nowMs);
    const faults = this.window.sumB(nowMs);
    return (<f64>faults + 1.0) * 100.0 <= this.capPercent * <f64>requests;
  }

  mergeFrom(other: BlastWindow): void { this.window.mergeFrom(other.window); }
}

export class BlastRadius {
  /** The value to write after `step`; owned, reused. */
  readonly bytes: ArrayBuffer;
  /** Requests this worker saw and has not published yet. */
  pending: u32 = 0;
  private scratch: BlastWindow;
  private stepPending: u32 = 0;

  constructor(public readonly capPercent: f64, public readonly windowMs: i64) {
    const scratch = new BlastWindow(capPercent, windowMs);
    this.scratch = scratch;
    this.bytes = new ArrayBuffer(scratch.window.encodedSize);
  }

  @inline countRequest(): void {
    if (this.pending != 0xFFFFFFFF) this.pending++;
  }

  /**
   * One step of the CAS loop, from the shared value read (`null` when missing; a malformed
   * value is replaced by a fresh window). Adds the pending requests, then, if `wantFault`,
   * grants the fault when the cap allows it. Returns whether the fault is granted; `bytes`
   * holds the new value in every case.
   */
  step(current: ArrayBuffer | null, nowMs: i64, wantFault: bool): bool {
    const w = this.scratch;
    if (current === null) w.window.clear();
    else {
      const buf = changetype<ArrayBuffer>(current);
      w.window.decodeFrom(buf, 0, buf.byteLength);
    }
    this.stepPending = this.pending;
    if (this.stepPending > 0) w.recordRequests(nowMs, this.stepPending);
    let granted = false;
    if (wantFault && w.allow(nowMs)) {
      w.recordFault(nowMs);
      granted = true;
    }
    w.window.encodeInto(this.bytes, 0);
    return granted;
  }

  /** After a successful set: the requests counted in that step are published. */
  committed(): void {
    this.pending -= this.stepPending;
    this.stepPending = 0;
  }

  /** The pooled window as of the last step (for metrics and tests). */
  get lastWindow(): BlastWindow { return this.scratch; }
}
