/**
 * Envoy latches histograms at its stats flush interval (5 s by default). Tests call
 * `stats.flush()` themselves; with a real clock this keeps flushing on a timer.
 */
import type { Clock, TimerHandle } from "./clock";
import type { StatsStore } from "./metrics";

export const ENVOY_STATS_FLUSH_INTERVAL_MS = 5000;

export function startStatsFlush(stats: StatsStore, clock: Clock, intervalMs = ENVOY_STATS_FLUSH_INTERVAL_MS): TimerHandle {
  let timer: TimerHandle;
  let stopped = false;
  const tick = (): void => {
    if (stopped) return;
    stats.flush();
    timer = clock.schedule(intervalMs, tick);
  };
  timer = clock.schedule(intervalMs, tick);
  return {
    cancel: () => {
      stopped = true;
      timer.cancel();
    },
  };
}
