// The lease on live policies: with `control_plane.lease_seconds` set, the
// live set is dropped when no poll has succeeded for that long (monotonic time), as Envoy's xDS
// resource TTL drops a resource its management server stopped refreshing. 0 = keep the last
// good set forever. The next good answer brings the policies back.
import { ControlPlaneSettings, LogLevel } from "../config/settings";
import { getSharedI64, setSharedI64, sharedCas, WasmResult } from "../glue/host";
import { Logger } from "../log";
import { Metric, Metrics } from "../metrics";
import { LiveSet } from "../vmstate";

const NS_PER_S: i64 = 1000000000;
/** Shared data: the monotonic ns of the last successful poll whose lease expiry was reported. */
const REPORTED_KEY = String.UTF8.encode("hfi.lease.reported");

/** When the live set's lease runs out; i64.MAX_VALUE when there is none (or nothing to drop). */
export function leaseExpiresNs(cp: ControlPlaneSettings, live: LiveSet): i64 {
  if (cp.leaseSeconds <= 0 || live.policies.length == 0) return i64.MAX_VALUE;
  return live.goodNs + cp.leaseSeconds * NS_PER_S;
}

/**
 * Logs and counts an expiry once per proxy: every worker polls on its own and each one's lease
 * runs out, but only the first to claim this outage (its last success is later than the one
 * reported before) reports it; the others log at debug.
 */
export function logLeaseExpiry(cp: ControlPlaneSettings, live: LiveSet, metrics: Metrics, log: Logger): void {
  let first = true;
  for (let i = 0; i < 8; i++) {
    const reported = getSharedI64(REPORTED_KEY);
    // Another worker reported an outage that began after this worker's last success.
    if (reported >= live.goodNs - cp.leaseSeconds * NS_PER_S && reported != 0) {
      first = false;
      break;
    }
    const r = setSharedI64(REPORTED_KEY, live.goodNs, sharedCas);
    if (r != WasmResult.CasMismatch) break;
  }
  if (first) metrics.add(Metric.LeaseExpired, 1);
  log.write(first ? LogLevel.Warn : LogLevel.Debug, "lease_seconds passed without a good poll: dropping " +
    live.policies.length.toString() + " live policies");
}
