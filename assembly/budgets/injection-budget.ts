// `max_injections`: a rule injects at most N times per proxy, counted across every worker VM
// through Proxy-Wasm shared data with compare-and-swap (admission/budget.ts runs the loop).
//
// The shared value is the number of injections already made, a u64 little-endian (8 bytes).
// The key names the rule's identity (`budgetKey`): a re-poll of an unchanged policy keeps the
// key and so the count; a changed policy gets a new identity, a new key, a fresh budget.
// The CAS loop makes the count exact: each successful set moves the count by one from the value
// it read, and a set based on a stale read fails (see ../window/shared-cas.ts for the missing
// key case).

export const enum TakeResult {
  /** One more injection fits: set the count plus one with the cas of the read. */
  Taken = 0,
  /** The count has reached the maximum: do not inject. */
  Exhausted = 1,
  /** The stored value is not an 8-byte count: do not inject. */
  Malformed = 2,
}

/** One step of the CAS loop, from the count read. */
export function takeFrom(used: u64, maxInjections: u64): TakeResult {
  return used >= maxInjections ? TakeResult.Exhausted : TakeResult.Taken;
}

/** The same step from the stored bytes (`null` when the key is missing). */
export function tryTake(current: ArrayBuffer | null, maxInjections: u64): TakeResult {
  if (current === null) return takeFrom(0, maxInjections);
  const buf = changetype<ArrayBuffer>(current);
  if (buf.byteLength != 8) return TakeResult.Malformed;
  return takeFrom(load<u64>(changetype<usize>(buf)), maxInjections);
}

/** The stored form of a count. */
export function encodeCount(count: u64): ArrayBuffer {
  const bytes = new ArrayBuffer(8);
  store<u64>(changetype<usize>(bytes), count);
  return bytes;
}

/** The count stored in a shared value (0 for a missing or malformed one). */
export function decodeCount(bytes: ArrayBuffer | null): u64 {
  if (bytes === null) return 0;
  const buf = changetype<ArrayBuffer>(bytes);
  return buf.byteLength == 8 ? load<u64>(changetype<usize>(buf)) : 0;
}

/** The shared-data key of one rule's budget, by its policy's name: one key however often the
 * policy changes. The value is [identity u64, count u64]: a count of another identity (an
 * earlier version of the policy) reads as 0, so a changed policy starts a fresh budget. */
export function budgetKey(policyNameHash: u64, ruleIndex: i32): string {
  return "hfi.budget." + policyNameHash.toString(16) + "." + ruleIndex.toString();
}

/** The count in a budget's shared value for `identity` (0 when missing, malformed or another's). */
export function countFor(value: ArrayBuffer | null, identity: u64): u64 {
  if (value === null) return 0;
  const buf = changetype<ArrayBuffer>(value);
  if (buf.byteLength != 16 || load<u64>(changetype<usize>(buf)) != identity) return 0;
  return load<u64>(changetype<usize>(buf), 8);
}
