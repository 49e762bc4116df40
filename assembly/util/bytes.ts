// A reusable, growable byte buffer: lets the hot path hold a header value without
// allocating a string for it.

export class ByteBuffer {
  data: ArrayBuffer;
  /** Bytes in use, or -1 for "absent". */
  length: i32 = -1;

  constructor(capacity: i32) {
    this.data = new ArrayBuffer(capacity);
  }

  /** Replaces the content with `size` bytes at `ptr`. */
  set(ptr: usize, size: i32): void {
    if (this.data.byteLength < size) this.data = new ArrayBuffer(size * 2);
    memory.copy(changetype<usize>(this.data), ptr, <usize>size);
    this.length = size;
  }

  /** Replaces the content with the UTF-8 bytes of `s`. */
  setString(s: string): void {
    const encoded = String.UTF8.encode(s);
    this.set(changetype<usize>(encoded), encoded.byteLength);
  }

  @inline byteAt(i: i32): i32 {
    return <i32>load<u8>(changetype<usize>(this.data) + <usize>i);
  }

  toString(): string {
    return this.length <= 0 ? "" : String.UTF8.decodeUnsafe(changetype<usize>(this.data), <usize>this.length);
  }
}
