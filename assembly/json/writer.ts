// A growable UTF-16 buffer for building JSON text in linear time (string `+` in a loop is
// quadratic), plus the JSON spelling of strings and numbers.

const HEX_DIGITS = "0123456789abcdef";

export class JsonWriter {
  private buffer: ArrayBuffer;
  private units: i32 = 0;

  /** Writes past `limit` units are dropped: an error message shows only the start of a value,
   * and must not build the whole (possibly megabytes long) text to cut it. `capacity` (units)
   * sizes the buffer for a text whose size is known roughly, so it does not grow by copies. */
  constructor(private limit: i32 = i32.MAX_VALUE, capacity: i32 = 32) {
    this.buffer = new ArrayBuffer(max(capacity, 32) << 1);
  }

  @inline get full(): bool {
    return this.units >= this.limit;
  }

  writeUnit(unit: u16): void {
    if (this.full) return;
    this.reserve(1);
    store<u16>(changetype<usize>(this.buffer) + (<usize>this.units << 1), unit);
    this.units++;
  }

  // Copies `text` as is (callers pass ASCII or already-escaped text).
  writeAscii(text: string): void {
    const n = min(text.length, this.limit - this.units);
    if (n <= 0) return;
    this.reserve(n);
    memory.copy(
      changetype<usize>(this.buffer) + (<usize>this.units << 1),
      changetype<usize>(text),
      <usize>n << 1,
    );
    this.units += n;
  }

  // A JSON string literal: escapes '"', '\', control characters and unpaired surrogates
  // (which UTF-8 cannot carry); everything else is written literally.
  writeQuoted(text: string): void {
    this.writeUnit(0x22);
    const n = min(text.length, this.limit - this.units);
    let runStart = 0;
    for (let i = 0; i < n; i++) {
      const c = <u32>text.charCodeAt(i);
      let escape = c < 0x20 || c == 0x22 || c == 0x5C;
      if (!escape && c >= 0xD800 && c <= 0xDFFF) {
        if (c <= 0xDBFF && i + 1 < n) {
          const next = <u32>text.charCodeAt(i + 1);
          if (next >= 0xDC00 && next <= 0xDFFF) {
            i++; // a well-formed pair stays literal
            continue;
          }
        }
        escape = true;
      }
      if (!escape) continue;
      this.writeSlice(text, runStart, i);
      runStart = i + 1;
      this.writeUnit(0x5C);
      if (c == 0x22 || c == 0x5C) this.writeUnit(<u16>c);
      else if (c == 0x08) this.writeUnit(0x62); // b
      else if (c == 0x0C) this.writeUnit(0x66); // f
      else if (c == 0x0A) this.writeUnit(0x6E); // n
      else if (c == 0x0D) this.writeUnit(0x72); // r
      else if (c == 0x09) this.writeUnit(0x74); // t
      else {
        this.writeUnit(0x75); // u
        this.writeUnit(<u16>HEX_DIGITS.charCodeAt((c >> 12) & 0xF));
        this.writeUnit(<u16>HEX_DIGITS.charCodeAt((c >> 8) & 0xF));
        this.writeUnit(<u16>HEX_DIGITS.charCodeAt((c >> 4) & 0xF));
        this.writeUnit(<u16>HEX_DIGITS.charCodeAt(c & 0xF));
      }
    }
    this.writeSlice(text, runStart, n);
    this.writeUnit(0x22);
  }

  // Integers as integers ("3", not "3.0"), other values in shortest round-trip form.
  // -0 is written "0" so equal numbers serialize equally; non-finite values (which JSON
  // cannot express and the parser never produces) become "null".
  writeNumber(value: f64): void {
    if (!isFinite(value)) {
      this.writeAscii("null");
    } else if (value == 0) {
      this.writeUnit(0x30);
    } else if (value == Math.trunc(value) && Math.abs(value) < 9.0e18) {
      this.writeAscii((<i64>value).toString());
    } else {
      const text = value.toString();
      const n = text.length;
      // dtoa writes large integral values as "100000000000000000000.0"
      if (n > 2 && text.charCodeAt(n - 2) == 0x2E && text.charCodeAt(n - 1) == 0x30) {
        this.writeAscii(text.substring(0, n - 2));
      } else {
        this.writeAscii(text);
      }
    }
  }

  toString(): string {
    return String.UTF16.decodeUnsafe(changetype<usize>(this.buffer), <usize>this.units << 1);
  }

  private writeSlice(text: string, start: i32, end: i32): void {
    const n = min(end - start, this.limit - this.units);
    if (n <= 0) return;
    this.reserve(n);
    memory.copy(
      changetype<usize>(this.buffer) + (<usize>this.units << 1),
      changetype<usize>(text) + (<usize>start << 1),
      <usize>n << 1,
    );
    this.units += n;
  }

  private reserve(extraUnits: i32): void {
    const needed = (<usize>this.units + <usize>extraUnits) << 1;
    const capacity = <usize>this.buffer.byteLength;
    if (needed <= capacity) return;
    let grown = capacity << 1;
    if (grown < needed) grown = needed;
    const next = new ArrayBuffer(<i32>grown);
    memory.copy(changetype<usize>(next), changetype<usize>(this.buffer), <usize>this.units << 1);
    this.buffer = next;
  }
}
