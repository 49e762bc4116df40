/**
 * Host clocks. Everything time-driven in the host (tick timers, HTTP-call replies and timeouts,
 * queue notifications, the stats flush) is scheduled on a Clock, so tests can drive time
 * deterministically with a TestClock and `make run` uses the RealClock.
 */

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the Unix epoch (what proxy_get_current_time_nanoseconds reports). */
  now(): number;
  /** Monotonic milliseconds (WASI clock_time_get monotonic). */
  monotonic(): number;
  /** Runs fn once after delayMs (0 = as soon as the host is next driven). */
  schedule(delayMs: number, fn: () => void): TimerHandle;
}

interface PendingTimer {
  due: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * A deterministic clock. Time moves only in `advance(ms)`, which fires due timers in time order
 * (ties in scheduling order), setting the clock to each timer's due time while it runs. Timers
 * scheduled with delay 0 fire at the next `advance` (even `advance(0)`), never synchronously,
 * like a dispatcher post in Envoy. Timers run on monotonic time, as Envoy's dispatcher timers
 * do: `stepWall(ms)` moves only the wall clock (NTP, a VM migration) and fires nothing.
 */
export class TestClock implements Clock {
  /** Monotonic time, in the wall clock's scale at construction. */
  private current: number;
  private readonly start: number;
  /** What stepWall added to the wall clock. */
  private wallOffset = 0;
  private seq = 0;
  private timers: PendingTimer[] = [];

  constructor(startMs = Date.UTC(2025, 0, 1)) {
    this.current = startMs;
    this.start = startMs;
  }

  now(): number {
    return this.current + this.wallOffset;
  }

  monotonic(): number {
    return this.current - this.start;
  }

  /** Steps the wall clock by ms (negative: back); monotonic time and timers are untouched. */
  stepWall(ms: number): void {
    this.wallOffset += ms;
  }

  schedule(delayMs: number, fn: () => void): TimerHandle {
    const timer: PendingTimer = { due: this.current + Math.max(0, delayMs), seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  }

  /**
   * Moves time forward by ms, firing every timer that falls due on the way. With `until`, stops
   * right after the first timer after which it holds (time then stays at that timer's moment).
   * Fired and cancelled timers are dropped as it goes, so a repeating tick over a long advance
   * costs the same at every step.
   */
  advance(ms: number, until?: () => boolean): void {
    const target = this.current + ms;
    for (;;) {
      const next = this.nextDue(target);
      if (!next) break;
      this.current = next.due;
      next.cancelled = true;
      this.timers = this.timers.filter((t) => !t.cancelled);
      next.fn();
      if (until?.()) return;
    }
    this.current = target;
    this.timers = this.timers.filter((t) => !t.cancelled);
  }

  /** Fires whatever is due now without moving time. */
  runDue(): void {
    this.advance(0);
  }

  /** Number of timers still pending. */
  get pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  private nextDue(limit: number): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    for (const t of this.timers) {
      if (t.cancelled || t.due > limit) continue;
      if (!best || t.due < best.due || (t.due === best.due && t.seq < best.seq)) best = t;
    }
    return best;
  }
}

/**
 * Wall-clock time with setTimeout; timers are unref'd so they never keep a process alive.
 * Envoy's clocks read in nanoseconds and its timers never fire before their time. Date.now()
 * is whole milliseconds and Node's timers count in whole milliseconds of a truncated loop time,
 * so either would let a 100 ms delay end up to 1 ms early: now() is epoch time with sub-ms
 * precision, and a timer that wakes before its time sleeps again for the rest.
 */
export class RealClock implements Clock {
  private readonly origin = performance.timeOrigin;

  now(): number {
    return this.origin + performance.now();
  }

  monotonic(): number {
    return performance.now();
  }

  schedule(delayMs: number, fn: () => void): TimerHandle {
    const due = performance.now() + Math.max(0, delayMs);
    let t: NodeJS.Timeout;
    const arm = (ms: number): void => {
      t = setTimeout(fire, ms);
      t.unref?.();
    };
    const fire = (): void => {
      const left = due - performance.now();
      if (left > 0) arm(Math.ceil(left));
      else fn();
    };
    arm(Math.max(0, delayMs));
    return { cancel: () => clearTimeout(t) };
  }
}
