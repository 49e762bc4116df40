/**
 * The runner's real clock. Timers run from Node's timer queue as RealClock's do, and also at
 * the proxy's checkpoints (each request or upstream response it takes from a socket): a burst
 * of I/O is handled in one event-loop turn, which would otherwise hold every due timer (the
 * plugin's root tick, and so its delayed requests) until the whole burst has been processed.
 * Envoy's worker handles each event in microseconds, so its timers are never starved that way.
 * A timer still never fires before it is due.
 */
import { RealClock, type TimerHandle } from "../index";

interface Pending {
  due: number;
  fn: () => void;
  timeout: NodeJS.Timeout | undefined;
}

export class RunnerClock extends RealClock {
  private readonly pending = new Set<Pending>();
  private earliest = Infinity;
  private running = false;

  override schedule(delayMs: number, fn: () => void): TimerHandle {
    const p: Pending = { due: performance.now() + Math.max(0, delayMs), fn, timeout: undefined };
    const arm = (ms: number): void => {
      p.timeout = setTimeout(fire, ms);
      p.timeout.unref?.();
    };
    const fire = (): void => {
      p.timeout = undefined;
      if (!this.pending.has(p)) return;
      const left = p.due - performance.now();
      if (left > 0) arm(Math.ceil(left));
      else this.run(p);
    };
    this.pending.add(p);
    if (p.due < this.earliest) this.earliest = p.due;
    arm(Math.max(0, delayMs));
    return {
      cancel: () => {
        clearTimeout(p.timeout);
        this.pending.delete(p);
      },
    };
  }

  /** Runs every timer already due, earliest first (the proxy calls it between events). */
  runDue(): void {
    if (this.running || this.pending.size === 0) return;
    let now = performance.now();
    if (now < this.earliest) return;
    this.running = true;
    try {
      for (;;) {
        let next: Pending | undefined;
        let earliest = Infinity;
        for (const p of this.pending) {
          if (p.due <= now && (!next || p.due < next.due)) next = p;
          else if (p.due < earliest) earliest = p.due;
        }
        if (!next) {
          this.earliest = earliest;
          return;
        }
        clearTimeout(next.timeout);
        this.run(next);
        now = performance.now();
      }
    } finally {
      this.running = false;
    }
  }

  private run(p: Pending): void {
    this.pending.delete(p);
    if (this.pending.size === 0) this.earliest = Infinity;
    try {
      p.fn();
    } catch (e) {
      // As from a timer callback: uncaught, but after the caller's event has been handled.
      process.nextTick(() => {
        throw e;
      });
    }
  }
}
