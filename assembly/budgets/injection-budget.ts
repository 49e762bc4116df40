// `max_injections` (issue 13, item 5): a rule injects at most N times per proxy, counted across
// every worker VM through Proxy-Wasm shared data with compare-and-swap.
//
// The shared value is the number of injections already made, a u64 little-endian (8 bytes).
// The key names the rule's identity (`budgetKey`): a re-poll of an unchanged policy keeps the
// key and so the count; a changed policy gets a new identity, a new key, a fresh budget.
//
// API, as the wiring will use it (one `InjectionBudget` per rule with max_injections, built at
// parse time; nothing below allocates):
//   when a request was sampled for a fault, before injecting it:
//     loop {
//       (bytes, cas) = proxy_get_shared_data(key)            // NotFound -> bytes = null
//       r = budget.tryTake(bytes)
//       if r != Taken break                                  // Exhausted / Malformed: no fault
//       s = proxy_set_shared_data(key, budget.bytes, casForSet(bytes != null, cas))
//       if s == Ok break; if s != CasMismatch { r = SetFailed; break }   // else re-read
//     }
//   Taken: inject. Exhausted: skip the fault; the first time (`budget.firstExhaustion()`) log
//   once and count it in the metrics. Malformed: treat as exhausted and log the value's length.
// The CAS loop makes the count exact: each successful set moves the count by one from the value
// it read, and a set based on a stale read fails (see ../window/shared-cas.ts for the missing
// key case).

export const enum TakeResult {
  /** `bytes` holds the count plus one: set it with the cas of the read. */
  Taken = 0,
  /** The count has reached the maximum: do not inject. */
  Exhausted = 1,
  /** The stored value is not an 8-byte count: do not inject. */
  Malformed = 2,
}

export class InjectionBudget {
  /** The value to write after `Taken`; owned by the budget, reused. */
  readonly bytes: ArrayBuffer = new ArrayBuffer(8);
  /** The count seen by the last `tryTake` (before its own take). */
  lastSeen: u64 = 0;
  /** Set once a take found the count at the maximum: counts only grow, so it stays spent. */
  exhausted: bool = false;
  private exhaustionReported: bool = false;

  constructor(public readonly maxInjections: u64) {}

  /** One step of the CAS loop: from the value read (`null` when the key is missing). */
  tryTake(current: ArrayBuffer | null): TakeResult {
    let used: u64 = 0;
    if (current !== null) {
      const buf = changetype<ArrayBuffer>(current);
      if (buf.byteLength != 8) return TakeResult.Malformed;
      used = load<u64>(changetype<usize>(buf));
    }
    return this.takeFrom(used);
  }

  /** The same step from a count already decoded (the glue reads it as an 8-byte integer). */
  takeFrom(used: u64): TakeResult {
    this.lastSeen = used;
    if (used >= this.maxInjections) {
      this.exhausted = true;
      return TakeResult.Exhausted;
    }
    store<u64>(changetype<usize>(this.bytes), used + 1);
    return TakeResult.Taken;
  }

  /** True once per budget: the call that should log "budget exhausted". */
  firstExhaustion(): bool {
    if (this.exhaustionReported) return false;
    this.exhaustionReported = true;
    return true;
  }
}

/** The count stored in a shared value (0 for a missing or malformed one). */
export function decodeCount(bytes: ArrayBuffer | null): u64 {
  if (bytes === null) return 0;
  const buf = changetype<ArrayBuffer>(bytes);
  return buf.byteLength == 8 ? load<u64>(changetype<usize>(buf)) : 0;
}

/** The shared-data key of one rule's budget. */
export function budgetKey(policyIdentity: u64, ruleIndex: i32): string {
  return "hfi.budget." + policyIdentity.toString(16) + "." + ruleIndex.toString();
}
