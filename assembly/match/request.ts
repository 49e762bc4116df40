// What the matcher may ask of a request. The plugin reads a request attribute from the host
// only when some rule actually looks at it (and at most once per request); tests supply a
// plain in-memory implementation.

import { ByteBuffer } from "../util/bytes";

export abstract class RequestAttributes {
  /** `:method`, or null if absent. */
  abstract method(): string | null;
  /** `:path` without its query string, or null if absent. */
  abstract path(): string | null;
  /**
   * The UTF-8 bytes of `:path` without its query string (length -1 when absent), for the rule
   * index to walk without building a string. This default encodes `path()`; the host-backed
   * request reads the bytes directly.
   */
  pathBytes(): ByteBuffer {
    const bytes = new ByteBuffer(0);
    const p = this.path();
    if (p !== null) bytes.setString(p);
    return bytes;
  }
  /** Value of the header registered under `slot` (see HeaderSlots), or null if absent. */
  abstract header(slot: i32): string | null;
}

/** Assigns each distinct (lower-cased) header name a slot in the per-request cache. */
export class HeaderSlots {
  names: string[] = [];

  slotOf(lowerName: string): i32 {
    const n = this.names.length;
    for (let i = 0; i < n; i++) {
      if (unchecked(this.names[i]) == lowerName) return i;
    }
    this.names.push(lowerName);
    return n;
  }

  get count(): i32 {
    return this.names.length;
  }
}
