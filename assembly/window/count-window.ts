// A sliding window of two counters in fixed time buckets, shared by the SLO guard (requests,
// failures) and the blast-radius cap (requests, faults). Fixed memory: `buckets` slots
// allocated at construction, nothing allocated afterwards. Each slot remembers which bucket
// of time (its epoch, nowMs / bucketMs) it counts, so a slot reused after the window moved on
// starts from zero, and two windows (two worker VMs) merge slot by slot by epoch.
//
// The window at `nowMs` is the bucket that holds `nowMs` and the `buckets - 1` before it, so it
// reaches back between (buckets - 1) and buckets bucket widths: 27 to 30 s for a 30 s window of
// 10 buckets. That granularity is the price of fixed memory and a mergeable byte form.
//
// Times are milliseconds from a clock every worker VM of the proxy shares (the host's clock is
// process-wide), so the same instant falls in the same epoch in every VM.
//
// Byte form (little-endian), for Proxy-Wasm shared data:
//   u8 version (1), u8 bucket count, u16 0, then per slot: i64 epoch, u32 a, u32 b.
// 4 + 16 * buckets bytes: 164 for the default 10 buckets.

export const WINDOW_VERSION: u8 = 1;
const EMPTY_EPOCH: i64 = -1;

export class CountWindow {
  readonly bucketMs: i64;
  private epochs: StaticArray<i64>;
  private as: StaticArray<u32>;
  private bs: StaticArray<u32>;

  constructor(public readonly windowMs: i64, public readonly buckets: i32 = 10) {
    if (buckets < 1) this.buckets = buckets = 1;
    if (buckets > 255) this.buckets = buckets = 255;
    const width = windowMs / <i64>buckets;
    this.bucketMs = width > 0 ? width : 1;
    this.epochs = new StaticArray<i64>(buckets);
    this.as = new StaticArray<u32>(buckets);
    this.bs = new StaticArray<u32>(buckets);
    this.clear();
  }

  @inline epochOf(nowMs: i64): i64 {
    return (nowMs > 0 ? nowMs : 0) / this.bucketMs;
  }

  /** Adds to the bucket that holds `nowMs`. Counts saturate at 2^32 - 1. */
  add(nowMs: i64, a: u32, b: u32): void {
    this.addAtEpoch(this.epochOf(nowMs), a, b);
  }

  private addAtEpoch(epoch: i64, a: u32, b: u32): void {
    const slot = <i32>(epoch % <i64>this.buckets);
    const current = unchecked(this.epochs[slot]);
    if (current > epoch) return; // older than anything the window still holds
    if (current < epoch) {
      unchecked(this.epochs[slot] = epoch);
      unchecked(this.as[slot] = 0);
      unchecked(this.bs[slot] = 0);
    }
    unchecked(this.as[slot] = saturatingAdd(unchecked(this.as[slot]), a));
    unchecked(this.bs[slot] = saturatingAdd(unchecked(this.bs[slot]), b));
  }

  /** Sum of the first counter over the window that ends with the bucket of `nowMs`. */
  sumA(nowMs: i64): u64 {
    return this.sum(nowMs, true);
  }

  sumB(nowMs: i64): u64 {
    return this.sum(nowMs, false);
  }

  private sum(nowMs: i64, first: bool): u64 {
    const newest = this.epochOf(nowMs);
    const oldest = newest - <i64>this.buckets + 1;
    let total: u64 = 0;
    for (let i = 0; i < this.buckets; i++) {
      const e = unchecked(this.epochs[i]);
      if (e >= oldest && e <= newest) total += first ? <u64>unchecked(this.as[i]) : <u64>unchecked(this.bs[i]);
    }
    return total;
  }

  clear(): void {
    for (let i = 0; i < this.buckets; i++) {
      unchecked(this.epochs[i] = EMPTY_EPOCH);
      unchecked(this.as[i] = 0);
      unchecked(this.bs[i] = 0);
    }
  }

  /** Forgets every bucket older than the one that holds `nowMs`. */
  clearBefore(nowMs: i64): void {
    const keep = this.epochOf(nowMs);
    for (let i = 0; i < this.buckets; i++) {
      if (unchecked(this.epochs[i]) < keep) {
        unchecked(this.epochs[i] = EMPTY_EPOCH);
        unchecked(this.as[i] = 0);
        unchecked(this.bs[i] = 0);
      }
    }
  }

  /** Adds `other`'s counts bucket by bucket (same epoch: added; newer epoch: replaces). */
  mergeFrom(other: CountWindow): void {
    const n = other.buckets;
    for (let i = 0; i < n; i++) {
      const e = unchecked(other.epochs[i]);
      if (e != EMPTY_EPOCH) this.addAtEpoch(e, unchecked(other.as[i]), unchecked(other.bs[i]));
    }
  }

  get encodedSize(): i32 {
    return 4 + 16 * this.buckets;
  }

  /** Writes the byte form at `offset`; returns the offset after it. `buf` must have room. */
  encodeInto(buf: ArrayBuffer, offset: i32): i32 {
    if (offset < 0 || offset + this.encodedSize > buf.byteLength) return -1;
    const p = changetype<usize>(buf) + <usize>offset;
    store<u8>(p, WINDOW_VERSION);
    store<u8>(p, <u8>this.buckets, 1);
    store<u16>(p, 0, 2);
    for (let i = 0; i < this.buckets; i++) {
      const q = p + 4 + <usize>(i * 16);
      store<i64>(q, unchecked(this.epochs[i]));
      store<u32>(q, unchecked(this.as[i]), 8);
      store<u32>(q, unchecked(this.bs[i]), 12);
    }
    return offset + this.encodedSize;
  }

  /**
   * Reads the byte form at `offset` of the first `length` bytes of `buf`. False, and the window
   * left empty, when the bytes are not a window of this shape (version or bucket count differ,
   * too short): the caller starts from an empty window and overwrites the value.
   */
  decodeFrom(buf: ArrayBuffer, offset: i32, length: i32): bool {
    this.clear();
    if (length > buf.byteLength) length = buf.byteLength;
    if (offset < 0 || offset + this.encodedSize > length) return false;
    const p = changetype<usize>(buf) + <usize>offset;
    if (load<u8>(p) != WINDOW_VERSION || <i32>load<u8>(p, 1) != this.buckets) return false;
    for (let i = 0; i < this.buckets; i++) {
      const q = p + 4 + <usize>(i * 16);
      const e = load<i64>(q);
      // a slot may only hold an epoch that maps to it; anything else is not ours
      if (e != EMPTY_EPOCH && (e < 0 || <i32>(e % <i64>this.buckets) != i)) {
        this.clear();
        return false;
      }
      unchecked(this.epochs[i] = e);
      unchecked(this.as[i] = load<u32>(q, 8));
      unchecked(this.bs[i] = load<u32>(q, 12));
    }
    return true;
  }
}

@inline function saturatingAdd(x: u32, y: u32): u32 {
  const s = x + y;
  return s < x ? 0xFFFFFFFF : s;
}
