// The kinds of fault, as bits of one byte. A plan (plan/plan.ts) carries the kinds a request
// will get; a faulted stream the kinds it has been given so far. Metrics, access-log marks and
// /policies name a kind by the same word (`hfi_fault`).

export const enum Kind {
  None = 0,
  Delay = 1,
  Abort = 2,
  Reset = 4,
  Response = 8,
}

/** How many kinds there are; a kind's index is the position of its bit. */
export const KIND_COUNT: i32 = 4;

/** The `hfi_fault` word of each kind, by index (bit order: a delay comes first). */
export const KIND_NAMES: StaticArray<string> = ["delay", "abort", "reset", "response"];

/** The index of a single-kind value (Kind.Delay → 0). */
@inline export function kindIndex(kind: u8): i32 {
  return <i32>ctz<u32>(<u32>kind);
}

/** "delay,abort": the kinds of a set, in bit order, as the access-log mark writes them. */
export function kindsText(kinds: u8): string {
  let out = "";
  for (let i = 0; i < KIND_COUNT; i++) {
    if ((<i32>kinds & (1 << i)) == 0) continue;
    if (out.length > 0) out += ",";
    out += unchecked(KIND_NAMES[i]);
  }
  return out;
}
