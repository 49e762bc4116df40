// JSON written straight to UTF-8 bytes in one buffer: for texts of megabytes that go to the host
// as bytes (shared data), with no UTF-16 copy and no encoding pass. '"' and '\' are escaped,
// control characters and lone surrogates (which UTF-8 cannot carry) written as \uXXXX.
import { ByteBuffer } from "../util/bytes";
import { JsonWriter } from "./writer";

const HEX_DIGITS = "0123456789abcdef";

export class Utf8JsonWriter {
  readonly bytes: ByteBuffer;

  /** `capacity`: bytes to start with, for a text whose size is known roughly. */
  constructor(capacity: i32) {
    this.bytes = new ByteBuffer(max(capacity, 64));
    this.bytes.length = 0;
  }

  /** ASCII text as it is. */
  writeAscii(text: string): void {
    this.bytes.append(text);
  }

  writeByte(b: u8): void {
    store<u8>(this.bytes.ptr + <usize>this.bytes.grow(1), b);
  }

  writeNumber(value: f64): void {
    const w = new JsonWriter();
    w.writeNumber(value);
    this.bytes.append(w.toString());
  }

  /** A whole number, as JSON writes it. */
  writeInteger(value: i64): void {
    let digits = 1;
    for (let v = value < 0 ? -(value / 10) : value / 10; v != 0; v /= 10) digits++;
    const sign = value < 0 ? 1 : 0;
    const at = this.bytes.grow(digits + sign);
    const base = this.bytes.ptr + <usize>at;
    if (sign) store<u8>(base, 0x2D);
    let v = value;
    for (let i = digits - 1; i >= 0; i--) {
      const d = <i32>(v % 10);
      store<u8>(base + <usize>(sign + i), <u8>(0x30 + (d < 0 ? -d : d)));
      v /= 10;
    }
  }

  /**
   * A JSON string literal. Room for the longest encoding (6 bytes a UTF-16 unit, as \uXXXX) is
   * taken once and the bytes are stored directly; the length is then cut to what was written.
   */
  writeQuoted(text: string): void {
    const n = text.length;
    const buffer = this.bytes;
    const at = buffer.grow(6 * n + 2);
    const start = buffer.ptr + <usize>at;
    let out = start;
    store<u8>(out++, 0x22);
    const src = changetype<usize>(text);
    for (let i = 0; i < n; i++) {
      const c = <u32>load<u16>(src + (<usize>i << 1));
      if (c < 0x80) {
        if (c < 0x20 || c == 0x22 || c == 0x5C) out = escapeAt(out, c);
        else store<u8>(out++, <u8>c);
      } else if (c < 0x800) {
        store<u8>(out++, <u8>(0xC0 | (c >> 6)));
        store<u8>(out++, <u8>(0x80 | (c & 0x3F)));
      } else if (c >= 0xD800 && c <= 0xDFFF) {
        const next = i + 1 < n ? <u32>load<u16>(src + (<usize>(i + 1) << 1)) : 0;
        if (c <= 0xDBFF && next >= 0xDC00 && next <= 0xDFFF) {
          const cp = 0x10000 + ((c - 0xD800) << 10) + (next - 0xDC00);
          store<u8>(out++, <u8>(0xF0 | (cp >> 18)));
          store<u8>(out++, <u8>(0x80 | ((cp >> 12) & 0x3F)));
          store<u8>(out++, <u8>(0x80 | ((cp >> 6) & 0x3F)));
          store<u8>(out++, <u8>(0x80 | (cp & 0x3F)));
          i++;
        } else {
          out = escapeAt(out, c); // UTF-8 cannot carry a lone surrogate
        }
      } else {
        store<u8>(out++, <u8>(0xE0 | (c >> 12)));
        store<u8>(out++, <u8>(0x80 | ((c >> 6) & 0x3F)));
        store<u8>(out++, <u8>(0x80 | (c & 0x3F)));
      }
    }
    store<u8>(out++, 0x22);
    buffer.length = at + <i32>(out - start);
  }
}

/** Writes `c` escaped at `out`: \" or \\, else \uXXXX. Returns where the next byte goes. */
function escapeAt(out: usize, c: u32): usize {
  store<u8>(out++, 0x5C);
  if (c == 0x22 || c == 0x5C) {
    store<u8>(out++, <u8>c);
    return out;
  }
  store<u8>(out++, 0x75); // u
  for (let shift = 12; shift >= 0; shift -= 4) store<u8>(out++, <u8>HEX_DIGITS.charCodeAt((c >> shift) & 15));
  return out;
}
