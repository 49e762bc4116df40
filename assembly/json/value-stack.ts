// The parser's stack of finished values waiting for their container to close.
//
// Stored in fixed-size chunks rather than one growing array because of the incremental
// GC's write barrier: storing a new (white) value into a container the collector has already
// scanned (black) makes the container gray again, and it is rescanned whole. With one array,
// a list of 1,000 policies would be rescanned on every store during a mark phase; with chunks
// only the current chunk is.
import { JsonValue } from "./value";

const CHUNK_BITS: i32 = 6;
const CHUNK_SIZE: i32 = 1 << CHUNK_BITS;
const CHUNK_MASK: i32 = CHUNK_SIZE - 1;

export class ValueStack {
  private chunks: StaticArray<JsonValue | null>[] = new Array<StaticArray<JsonValue | null>>();
  private count: i32 = 0;

  get length(): i32 {
    return this.count;
  }

  push(value: JsonValue): void {
    const chunkIndex = this.count >> CHUNK_BITS;
    if (chunkIndex == this.chunks.length) {
      this.chunks.push(new StaticArray<JsonValue | null>(CHUNK_SIZE));
    }
    this.chunks[chunkIndex][this.count & CHUNK_MASK] = value;
    this.count++;
  }

  // Removes the values from `start` on and returns them as an exactly-sized list.
  popArrayFrom(start: i32): JsonValue[] {
    const n = this.count - start;
    if (start < 0 || n <= 0) return new Array<JsonValue>();
    const out = changetype<JsonValue[]>(__newArray(n, alignof<usize>(), idof<JsonValue[]>()));
    for (let i = 0; i < n; i++) {
      const value = this.take(start + i);
      // Every slot below `count` was written by push; the check only narrows the type.
      if (value !== null) unchecked((out[i] = value));
    }
    this.count = start;
    return out;
  }

  private take(position: i32): JsonValue | null {
    const chunk = this.chunks[position >> CHUNK_BITS];
    const value = chunk[position & CHUNK_MASK];
    chunk[position & CHUNK_MASK] = null;
    return value;
  }
}
