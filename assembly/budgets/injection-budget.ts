// `max_injections`: a rule injects at most N times per proxy, counted across every worker VM
// through Proxy-Wasm shared data with compare-and-swap (admission/budget.ts runs the loop).
//
// The shared value is [policy identity u64, count u64], little-endian (16 bytes), under a key
// made from the policy's name and the rule's position: one key however often the policy changes.
// A count of another identity (an earlier version of the policy), a missing key or a malformed
// value reads as 0, so a changed policy starts a fresh budget in the same key. The CAS loop makes
// the count exact: each successful set moves the count by one from the value it read, and a set
// based on a stale read fails (see ../window/shared-cas.ts for the missing key case).

export const enum TakeResult {
  /** One more injection fits: set the count plus one with the cas of the read. */
  Taken = 0,
  /** The count has reached the maximum: do not inject. */
  Exhausted = 1,
}

/** Bytes of a budget's shared value. */
export const BUDGET_VALUE_BYTES: i32 = 16;

/** One step of the CAS loop, from the count read. */
export function takeFrom(used: u64, maxInjections: u64): TakeResult {
  return used >= maxInjections ? TakeResult.Exhausted : TakeResult.Taken;
}

/** The count in a budget's shared value for `identity` (0 when missing, malformed or another's). */
export function countFor(value: ArrayBuffer | null, identity: u64): u64 {
  if (value === null) return 0;
  const buf = changetype<ArrayBuffer>(value);
  if (buf.byteLength != BUDGET_VALUE_BYTES || load<u64>(changetype<usize>(buf)) != identity) return 0;
  return load<u64>(changetype<usize>(buf), 8);
}

/** Writes the value [identity, count] into `into` (BUDGET_VALUE_BYTES long). */
export function writeValue(into: ArrayBuffer, identity: u64, count: u64): void {
  store<u64>(changetype<usize>(into), identity);
  store<u64>(changetype<usize>(into), count, 8);
}

/** The shared-data key of one rule's budget, by its policy's name hash and the rule's position. */
export function budgetKey(policyNameHash: u64, ruleIndex: i32): string {
  return "hfi.budget." + policyNameHash.toString(16) + "." + ruleIndex.toString();
}
