// Code points to UTF-8 byte sequences, the way RE2 compiles classes in UTF-8 mode: a set of code
// points becomes an alternation of byte-range sequences that accepts exactly the valid UTF-8
// encodings of its members (never an overlong form or a surrogate), so a byte that is not part
// of a valid sequence is matched by nothing.

import { CharSet, rangeHi, rangeLo } from "./charset";

/** One branch: a set of first bytes, then one byte range per continuation byte. */
export class ByteSeq {
  /** 256-bit membership of the first byte. */
  first: StaticArray<u32> = new StaticArray<u32>(8);
  /** Continuation byte ranges, packed (lo << 8) | hi. */
  tail: Array<i32> = new Array<i32>();
}

/** The branches for `set`; branches with equal tails share one first-byte set. */
export function utf8Branches(set: CharSet): Array<ByteSeq> {
  const out = new Array<ByteSeq>();
  const r = set.ranges;
  for (let i = 0; i < r.length; i++) {
    const lo = rangeLo(r[i]);
    const hi = rangeHi(r[i]);
    // Surrogates are not scalar values: they have no valid UTF-8 form.
    splitRange(lo, hi < 0xd7ff ? hi : 0xd7ff, out);
    splitRange(lo > 0xe000 ? lo : 0xe000, hi, out);
  }
  return out;
}

/** Encodes `c` (a scalar value) into `out[0..n)`; returns n. */
export function encodeUtf8(c: i32, out: StaticArray<i32>): i32 {
  if (c < 0x80) {
    out[0] = c;
    return 1;
  }
  const n = c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
  for (let i = n - 1; i > 0; i--) {
    out[i] = 0x80 | (c & 0x3f);
    c >>= 6;
  }
  out[0] = (0xf00 >> n) & 0xff | c; // 0xc0, 0xe0 or 0xf0 plus the remaining bits
  return n;
}

// Encodings of a range's ends. Shared: a recursive call returns straight after, never reading them again.
const scratchLo = new StaticArray<i32>(4);
const scratchHi = new StaticArray<i32>(4);

function splitRange(lo: i32, hi: i32, out: Array<ByteSeq>): void {
  if (lo > hi) return;
  // Sequences of one length at a time.
  if (lo < 0x80 && hi >= 0x80) {
    splitRange(lo, 0x7f, out);
    splitRange(0x80, hi, out);
    return;
  }
  if (lo < 0x800 && hi >= 0x800) {
    splitRange(lo, 0x7ff, out);
    splitRange(0x800, hi, out);
    return;
  }
  if (lo < 0x10000 && hi >= 0x10000) {
    splitRange(lo, 0xffff, out);
    splitRange(0x10000, hi, out);
    return;
  }
  const a = scratchLo;
  const b = scratchHi;
  const n = encodeUtf8(lo, a);
  // Until every continuation byte spans its full range independently of the bytes before it.
  for (let i = 1; i < n; i++) {
    const m = (1 << (6 * i)) - 1;
    if ((lo & ~m) != (hi & ~m)) {
      if ((lo & m) != 0) {
        splitRange(lo, lo | m, out);
        splitRange((lo | m) + 1, hi, out);
        return;
      }
      if ((hi & m) != m) {
        splitRange(lo, (hi & ~m) - 1, out);
        splitRange(hi & ~m, hi, out);
        return;
      }
    }
  }
  encodeUtf8(hi, b);
  const tail = new Array<i32>();
  for (let i = 1; i < n; i++) tail.push((a[i] << 8) | b[i]);
  let seq: ByteSeq | null = null;
  for (let k = 0; k < out.length && seq === null; k++) {
    if (sameTail(out[k].tail, tail)) seq = out[k];
  }
  if (seq === null) {
    seq = new ByteSeq();
    seq.tail = tail;
    out.push(seq);
  }
  for (let x = a[0]; x <= b[0]; x++) seq.first[x >> 5] |= <u32>1 << <u32>(x & 31);
}

function sameTail(x: Array<i32>, y: Array<i32>): bool {
  if (x.length != y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] != y[i]) return false;
  return true;
}
