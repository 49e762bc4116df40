// How many requests the whole proxy holds right now, for max_active_faults. One shared-data
// value counts the holds of every worker VM and every root context, whatever its metric_prefix
// (the hfi_faults_active gauge is per metric name, so a prefix change would start a second
// count). The check and the increment are one compare-and-swap, so two workers cannot both take
// the last place, as with Envoy's own fault filter's per-proxy limit.
import { getSharedI64, setSharedI64, sharedCas, sharedFound, WasmResult } from "../glue/host";

const KEY = String.UTF8.encode("hfi.active_holds");
/** Compare-and-swap attempts before giving up (only a broken host loses this many races). */
const TRIES = 16;

export const enum HoldSlot {
  /** Counted in the shared value: release it when the hold ends. */
  Taken = 0,
  /** The proxy already holds `limit` requests. */
  Full = 1,
  /** Shared data did not work: the caller counts this VM's holds alone. */
  Unshared = 2,
}

/** Takes one of `limit` places, proxy-wide. */
export function takeHoldSlot(limit: i64): HoldSlot {
  for (let i = 0; i < TRIES; i++) {
    const held = getSharedI64(KEY);
    const cas = sharedCas;
    if (cas == 0) return HoldSlot.Unshared;
    if (held >= limit) return HoldSlot.Full;
    const r = setSharedI64(KEY, held + 1, cas);
    if (r == WasmResult.Ok) return HoldSlot.Taken;
    if (r != WasmResult.CasMismatch) return HoldSlot.Unshared;
  }
  return HoldSlot.Unshared;
}

/** Gives back a place taken with takeHoldSlot. */
export function releaseHoldSlot(): void {
  for (let i = 0; i < TRIES; i++) {
    const held = getSharedI64(KEY);
    const cas = sharedCas;
    if (!sharedFound || held <= 0) return;
    const r = setSharedI64(KEY, held - 1, cas);
    if (r != WasmResult.CasMismatch) return;
  }
}
