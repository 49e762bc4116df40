// A policy's safety rails on this worker VM, built from its configured Rails (policy/model.ts)
// when a set is assembled: its SLO guard's counts (guard/guard.ts) and its schedule watcher
// (schedule/window.ts). The act layer (safety/index.ts) publishes, logs and counts.
import { Guard, guardKey } from "../guard/guard";
import { Rails } from "../model/policy";
import { ScheduleWatcher, ScheduleWindow } from "../schedule/window";

export class PolicySafety {
  /** This worker's counts not yet published to shared data. */
  local: Guard | null = null;
  /** Scratch for the pooled state read from shared data. */
  pooled: Guard | null = null;
  /** The guard's shared-data key (UTF-8). */
  key: ArrayBuffer = new ArrayBuffer(0);
  watcher: ScheduleWatcher | null = null;
  readonly window: ScheduleWindow | null;
  readonly name: string;
  /** The policy's guard series (observe/policy-metrics.ts); -1 when not defined. */
  haltedGauge: i64 = -1;
  tripsCounter: i64 = -1;

  constructor(public readonly rails: Rails) {
    this.name = rails.policyName;
    this.window = rails.window;
    const guard = rails.guard;
    if (guard !== null) {
      const local = new Guard(guard);
      const pooled = new Guard(guard);
      local.identity = rails.policyIdentity;
      pooled.identity = rails.policyIdentity;
      this.local = local;
      this.pooled = pooled;
      this.key = String.UTF8.encode(guardKey(rails.policyName));
    }
    const window = rails.window;
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
