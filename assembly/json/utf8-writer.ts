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

  /** A JSON string literal. */
  writeQuoted(text: string): void {
    this.writeByte(0x22);
    const n = text.length;
    for (let i = 0; i < n; i++) {
      const c = <u32>text.charCodeAt(i);
      if (c < 0x80) {
        if (c < 0x20 || c == 0x22 || c == 0x5C) this.escape(c);
        else this.writeByte(<u8>c);
      } else if (c < 0x800) {
        this.writeByte(<u8>(0xC0 | (c >> 6)));
        this.writeByte(<u8>(0x80 | (c & 0x3F)));
      } else if (c >= 0xD800 && c <= 0xDFFF) {
        const next = i + 1 < n ? <u32>text.charCodeAt(i + 1) : 0;
        if (c <= 0xDBFF && next >= 0xDC00 && next <= 0xDFFF) {
          const cp = 0x10000 + ((c - 0xD800) << 10) + (next - 0xDC00);
          this.writeByte(<u8>(0xF0 | (cp >> 18)));
          this.writeByte(<u8>(0x80 | ((cp >> 12) & 0x3F)));
          this.writeByte(<u8>(0x80 | ((cp >> 6) & 0x3F)));
          this.writeByte(<u8>(0x80 | (cp & 0x3F)));
          i++;
        } else {
          this.escape(c); // UTF-8 cannot carry a lone surrogate
        }
      } else {
        this.writeByte(<u8>(0xE0 | (c >> 12)));
        this.writeByte(<u8>(0x80 | ((c >> 6) & 0x3F)));
        this.writeByte(<u8>(0x80 | (c & 0x3F)));
      }
    }
    this.writeByte(0x22);
  }

  private escape(c: u32): void {
    this.writeByte(0x5C);
    if (c == 0x22 || c == 0x5C) {
      this.writeByte(<u8>c);
      return;
    }
    this.writeByte(0x75); // u
    for (let shift = 12; shift >= 0; shift -= 4) this.writeByte(<u8>HEX_DIGITS.charCodeAt((c >> shift) & 15));
  }
}
