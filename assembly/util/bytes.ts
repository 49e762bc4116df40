// Bytes as Envoy holds them: a reusable, growable buffer lets the hot path hold a header value
// without allocating, and the comparisons below work on raw bytes, never on decoded text, so
// the same bytes give the same answer in every matcher whether or not they are valid UTF-8.

export class ByteBuffer {
  data: ArrayBuffer;
  /** Bytes in use, or -1 for "absent". */
  length: i32 = -1;

  constructor(capacity: i32) {
    this.data = new ArrayBuffer(capacity);
  }

  /** Replaces the content with `size` bytes at `ptr`. */
  set(ptr: usize, size: i32): void {
    // A quarter of headroom: a value that varies a little keeps its buffer.
    if (this.data.byteLength < size) this.data = new ArrayBuffer((size + (size >> 2) + 15) & ~15);
    memory.copy(changetype<usize>(this.data), ptr, <usize>size);
    this.length = size;
  }

  /** Appends the UTF-8 bytes of `s` to what is there (an absent buffer counts as empty),
   * growing geometrically: building a text from many parts copies it a bounded number of times. */
  append(s: string): void {
    const at = this.grow(String.UTF8.byteLength(s));
    String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, changetype<usize>(this.data) + <usize>at);
  }

  /** Room for `extra` more bytes after what is there (growing geometrically); the offset they go at. */
  grow(extra: i32): i32 {
    const used = this.length < 0 ? 0 : this.length;
    const need = used + extra;
    if (this.data.byteLength < need) {
      const grown = new ArrayBuffer(max(need, this.data.byteLength << 1));
      memory.copy(changetype<usize>(grown), changetype<usize>(this.data), <usize>used);
      this.data = grown;
    }
    this.length = need;
    return used;
  }

  appendU64(v: u64): void {
    store<u64>(changetype<usize>(this.data) + <usize>this.grow(8), v);
  }

  appendU16(v: u16): void {
    store<u16>(changetype<usize>(this.data) + <usize>this.grow(2), v);
  }

  /** Replaces the content with the UTF-8 bytes of `s`. */
  setString(s: string): void {
    const encoded = String.UTF8.encode(s);
    this.set(changetype<usize>(encoded), encoded.byteLength);
  }

  @inline get ptr(): usize {
    return changetype<usize>(this.data);
  }

  @inline get absent(): bool {
    return this.length < 0;
  }

  @inline byteAt(i: i32): i32 {
    return <i32>load<u8>(changetype<usize>(this.data) + <usize>i);
  }

  toString(): string {
    return this.length <= 0 ? "" : String.UTF8.decodeUnsafe(changetype<usize>(this.data), <usize>this.length);
  }
}

/** `n` bytes at `a` equal `n` bytes at `b`. */
function sameRange(a: usize, b: usize, n: i32): bool {
  return n == 0 || memory.compare(a, b, <usize>n) == 0;
}

export function bytesEqual(ptr: usize, length: i32, literal: ArrayBuffer): bool {
  const n = literal.byteLength;
  return length == n && sameRange(ptr, changetype<usize>(literal), n);
}

export function bytesStartWith(ptr: usize, length: i32, literal: ArrayBuffer): bool {
  const n = literal.byteLength;
  return length >= n && sameRange(ptr, changetype<usize>(literal), n);
}

export function bytesEndWith(ptr: usize, length: i32, literal: ArrayBuffer): bool {
  const n = literal.byteLength;
  return length >= n && sameRange(ptr + <usize>(length - n), changetype<usize>(literal), n);
}

/**
 * Knuth-Morris-Pratt failure table of `literal`: for each prefix length, the length of its
 * longest proper border. Built once per literal so a search costs O(value + literal) whatever
 * the value (a naive search of a hostile 60 KiB header would cost value x literal).
 */
export function borderTable(literal: ArrayBuffer): StaticArray<i32> {
  const n = literal.byteLength;
  const table = new StaticArray<i32>(n + 1);
  const p = changetype<usize>(literal);
  unchecked((table[0] = -1));
  let k = -1;
  for (let i = 0; i < n; i++) {
    const c = load<u8>(p + <usize>i);
    while (k >= 0 && load<u8>(p + <usize>k) != c) k = unchecked(table[k]);
    k++;
    unchecked((table[i + 1] = k));
  }
  return table;
}

/** `literal` occurs in the `length` bytes at `ptr` (`borders` = borderTable(literal)). */
export function bytesContain(ptr: usize, length: i32, literal: ArrayBuffer, borders: StaticArray<i32>): bool {
  const n = literal.byteLength;
  if (n == 0) return length >= 0;
  if (length < n || borders.length != n + 1) return false;
  const p = changetype<usize>(literal);
  let k = 0;
  for (let i = 0; i < length; i++) {
    const c = load<u8>(ptr + <usize>i);
    while (k >= 0 && load<u8>(p + <usize>k) != c) k = unchecked(borders[k]);
    k++;
    if (k == n) return true;
  }
  return false;
}
