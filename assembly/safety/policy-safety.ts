// A policy's safety rails on this worker VM: its SLO guard (guard/guard.ts) and its wall-clock
// window (schedule/window.ts). Built once per parse, shared by the policy's rules; the act
// layer (safety/index.ts) publishes, logs and counts.
import { Guard, GuardConfig, guardKey } from "../guard/guard";
import { ScheduleWatcher, ScheduleWindow } from "../schedule/window";

export class PolicySafety {
  /** This worker's counts not yet published to shared data. */
  local: Guard | null = null;
  /** Scratch for the pooled state read from shared data. */
  pooled: Guard | null = null;
  /** The guard's shared-data key (UTF-8). */
  key: ArrayBuffer = new ArrayBuffer(0);
  watcher: ScheduleWatcher | null = null;
  /** Per-policy metric ids (defined at the first trip); -1 until then. */
  haltedGauge: i64 = -1;
  tripsCounter: i64 = -1;

  constructor(
    public readonly name: string,
    identity: u64,
    guard: GuardConfig | null,
    public readonly window: ScheduleWindow | null,
  ) {
    if (guard !== null) {
      this.local = new Guard(guard);
      this.pooled = new Guard(guard);
      this.key = String.UTF8.encode(guardKey(identity));
    }
    if (window !== null) this.watcher = new ScheduleWatcher(window);
  }

  /** Halted by its guard at monotonic `nowMs`? */
  @inline isHalted(nowMs: i64): bool {
    const local = this.local;
    return local !== null && local.isHalted(nowMs);
  }

  /** Outside its wall-clock window at `wallMs`? */
  @inline isClosed(wallMs: i64): bool {
    const window = this.window;
    return window !== null && !window.isOpen(wallMs);
  }
}
