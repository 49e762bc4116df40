// When to poll the control plane: the normal interval after a success, exponential backoff
// with jitter after failures, and a jittered first poll so that a fleet restarting together
// does not hit the control plane at once. Pure: the caller supplies time and randomness.

const NS_PER_MS: i64 = 1000000;
/** First retry waits about this long; each further failure doubles it. */
export const BACKOFF_BASE_MS: i64 = 1000;
/** Backoff never exceeds this. */
export const BACKOFF_CAP_MS: i64 = 60000;
/** The first poll comes within this window (or the poll interval, if shorter). */
export const FIRST_POLL_WINDOW_MS: i64 = 5000;

/** Backoff before attempt n+1 after n consecutive failures, before jitter. */
export function backoffMs(failures: i32): i64 {
  if (failures <= 0) return 0;
  let b = BACKOFF_BASE_MS;
  for (let i = 1; i < failures && b < BACKOFF_CAP_MS; i++) b *= 2;
  return b < BACKOFF_CAP_MS ? b : BACKOFF_CAP_MS;
}

/** "Equal jitter": half the backoff fixed, half random; `unit` in [0, 1). */
export function jitteredBackoffMs(failures: i32, unit: f64): i64 {
  const b = backoffMs(failures);
  const half = b / 2;
  return half + <i64>(<f64>(b - half) * unit);
}

export class PollSchedule {
  /** Consecutive failures since the last success. */
  failures: i32 = 0;
  /** When the next poll is due (ns). */
  nextNs: i64 = i64.MAX_VALUE;

  constructor(public intervalMs: i64) {}

  start(nowNs: i64, unit: f64): void {
    const window = this.intervalMs < FIRST_POLL_WINDOW_MS ? this.intervalMs : FIRST_POLL_WINDOW_MS;
    this.nextNs = nowNs + <i64>(<f64>window * unit) * NS_PER_MS;
  }

  succeeded(nowNs: i64): void {
    this.failures = 0;
    this.nextNs = nowNs + this.intervalMs * NS_PER_MS;
  }

  failed(nowNs: i64, unit: f64): void {
    this.failures++;
    this.nextNs = nowNs + jitteredBackoffMs(this.failures, unit) * NS_PER_MS;
  }

  /** A poll was sent: nothing else is due until it is answered or given up on. */
  sent(): void {
    this.nextNs = i64.MAX_VALUE;
  }

  @inline isDue(nowNs: i64): bool {
    return nowNs >= this.nextNs;
  }
}
