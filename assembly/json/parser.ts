// A strict RFC 8259 parser over UTF-8 bytes that reports errors as values. The input comes
// from outside the proxy (plugin configuration, control-plane bodies), so no input may reach
// an aborting operation: every read is bounds-checked, containers are tracked on an explicit
// stack of fixed size (no recursion), and the first error stops the parse.
import { JsonValue } from "./value";
import { ValueStack } from "./value-stack";

// Arrays and objects nested deeper than this are rejected.
export const MAX_DEPTH: i32 = 64;
// Longer strings are rejected before they are decoded: no field of a configuration needs more
// (the longest, an abort body, is capped at this), and a decoded string costs twice its bytes.
export const MAX_STRING_BYTES: i32 = 65536;
// Documents with more values are rejected as soon as the count is passed, before the tree
// grows further: a value costs 64 to 300 bytes of tree, so this caps a tree near 28 MiB
// however the input is shaped (4 MiB of "[1,1,1,..." would otherwise build 2 million values, 128 MiB).
export const MAX_VALUES: i32 = 100000;

export class JsonParseResult {
  value: JsonValue | null = null;
  // "" on success; otherwise what was expected, what was found, and where.
  error: string = "";
  // Where the error is: byte offset (0-based), line and column (1-based, in characters).
  // All 0 on success.
  offset: i32 = 0;
  line: i32 = 0;
  column: i32 = 0;

  get ok(): bool {
    return this.error.length == 0 && this.value !== null;
  }
}

const TAB: u32 = 0x09;
const LF: u32 = 0x0A;
const CR: u32 = 0x0D;
const SPACE: u32 = 0x20;
const QUOTE: u32 = 0x22;
const APOSTROPHE: u32 = 0x27;
const PLUS: u32 = 0x2B;
const COMMA: u32 = 0x2C;
const MINUS: u32 = 0x2D;
const DOT: u32 = 0x2E;
const SLASH: u32 = 0x2F;
const DIGIT_0: u32 = 0x30;
const DIGIT_9: u32 = 0x39;
const COLON: u32 = 0x3A;
const LBRACKET: u32 = 0x5B;
const BACKSLASH: u32 = 0x5C;
const RBRACKET: u32 = 0x5D;
const LBRACE: u32 = 0x7B;
const RBRACE: u32 = 0x7D;
const END: u32 = 0xFFFFFFFF; // peek() past the last byte

// Why a value (or key) is expected, to say so in the error.
enum Expect { Document, FirstItem, NextItem, MemberValue, FirstKey, NextKey }

// Integers with at most this many digits are computed exactly without parseFloat.
const FAST_INTEGER_DIGITS: i32 = 15;
const MAX_EXACT_INTEGER: f64 = 9007199254740991; // 2^53 - 1

// Objects with more members than this detect duplicate keys with a hash map.
const LINEAR_KEY_SEARCH_MAX: i32 = 8;

const KEY_CACHE_SLOTS: i32 = 256; // a power of two
const KEY_CACHE_MAX_BYTES: i32 = 32;

// Quoted input (keys, literals) shown in error messages is cut at this many characters.
const SHOWN_TEXT_MAX: i32 = 40;

export function parseUtf8(bytes: ArrayBuffer): JsonParseResult {
  const parser = new Parser(changetype<usize>(bytes), bytes.byteLength);
  const value = parser.parse();
  const result = new JsonParseResult();
  if (value !== null && parser.error.length == 0) {
    result.value = value;
    return result;
  }
  const at = parser.errorAt;
  const line = lineOf(changetype<usize>(bytes), at);
  const column = columnOf(changetype<usize>(bytes), at);
  result.offset = at;
  result.line = line;
  result.column = column;
  const where = `line ${line}, column ${column}`;
  if (parser.errorIsUtf8) {
    result.error = `invalid UTF-8 at byte ${at} (${where})`;
  } else if (parser.errorIsEmpty) {
    result.error = "empty document";
  } else {
    result.error = `${parser.error} at ${where} (byte ${at})`;
  }
  return result;
}

class Parser {
  error: string = "";
  errorAt: i32 = 0;
  errorIsUtf8: bool = false;
  errorIsEmpty: bool = false;

  private pos: i32 = 0;
  private valueCount: i32 = 0;
  // Open containers, innermost last. Their elements (and keys) wait on the shared stacks
  // below and become exactly-sized arrays when the container closes.
  private depth: i32 = 0;
  /** 1 where the frame is an object (i32, not bool: one StaticArray type fewer in the module). */
  private frameIsObject: StaticArray<i32> = new StaticArray<i32>(MAX_DEPTH);
  private frameOffset: StaticArray<i32> = new StaticArray<i32>(MAX_DEPTH);
  private frameValuesStart: StaticArray<i32> = new StaticArray<i32>(MAX_DEPTH);
  private frameKeysStart: StaticArray<i32> = new StaticArray<i32>(MAX_DEPTH);
  // Key positions of objects too big to search linearly for duplicates.
  private frameKeyIndex: StaticArray<Map<string, i32> | null> = new StaticArray<Map<string, i32> | null>(MAX_DEPTH);
  private valueStack: ValueStack = new ValueStack();
  private keyStack: string[] = new Array<string>();
  private scratch: ArrayBuffer = new ArrayBuffer(0);
  // Recently decoded short ASCII keys by hash of their bytes: a policy list repeats the same
  // few member names thousands of times, and sharing one string for each saves the allocations.
  private keyCache: StaticArray<string | null> = new StaticArray<string | null>(KEY_CACHE_SLOTS);

  constructor(private base: usize, private len: i32) {}

  parse(): JsonValue | null {
    this.skipWhitespace();
    if (this.pos >= this.len) {
      this.errorIsEmpty = true;
      return this.fail("empty document", this.pos);
    }
    let expect = Expect.Document;
    while (true) {
      // Read one value, or open a container and go read its first element or key.
      this.skipWhitespace();
      const start = this.pos;
      const c = this.peek();
      let value: JsonValue | null = null;
      if (++this.valueCount > MAX_VALUES) {
        return this.fail(`too many values: more than ${MAX_VALUES} (the limit for a document)`, start);
      }
      if (c == LBRACKET || c == LBRACE) {
        if (this.depth >= MAX_DEPTH) {
          return this.fail(`too deeply nested: more than ${MAX_DEPTH} nested arrays/objects`, start);
        }
        this.pos++;
        const isObject = c == LBRACE;
        this.openFrame(isObject, start);
        this.skipWhitespace();
        if (this.peek() == (isObject ? RBRACE : RBRACKET)) {
          this.pos++;
          value = this.closeFrame();
        } else if (isObject) {
          if (!this.readKey(Expect.FirstKey)) return null;
          expect = Expect.MemberValue;
          continue;
        } else {
          expect = Expect.FirstItem;
          continue;
        }
      } else {
        value = this.readScalar(expect);
        if (value === null) return null;
      }

      // Add the value to its container; a closing bracket completes that container, which
      // is added to its own container in turn.
      while (true) {
        if (value === null) return this.fail("internal error: missing value", this.pos);
        if (this.depth == 0) return this.finish(value);
        this.valueStack.push(value);
        const inObject = this.frameIsObject[this.depth - 1] != 0;
        this.skipWhitespace();
        const next = this.peek();
        if (next == COMMA) {
          this.pos++;
          if (!inObject) {
            expect = Expect.NextItem;
            break;
          }
          if (!this.readKey(Expect.NextKey)) return null;
          expect = Expect.MemberValue;
          break;
        }
        if (inObject && next != RBRACE) {
          return this.failExpected("expected ',' or '}' after object member", this.pos);
        }
        if (!inObject && next != RBRACKET) {
          return this.failExpected("expected ',' or ']' after array element", this.pos);
        }
        this.pos++;
        value = this.closeFrame();
      }
    }
    return null;
  }

  @inline
  private openFrame(isObject: bool, offset: i32): void {
    const d = this.depth;
    this.frameIsObject[d] = isObject ? 1 : 0;
    this.frameOffset[d] = offset;
    this.frameValuesStart[d] = this.valueStack.length;
    this.frameKeysStart[d] = this.keyStack.length;
    this.depth = d + 1; // frameKeyIndex[d] is null: closeFrame clears it
  }

  // Turns the innermost container's waiting elements into its value.
  private closeFrame(): JsonValue {
    const d = this.depth - 1;
    this.depth = d;
    const valuesStart = this.frameValuesStart[d];
    if (this.frameIsObject[d] == 0) {
      return JsonValue.arrayOf(this.valueStack.popArrayFrom(valuesStart), this.frameOffset[d]);
    }
    const values = this.valueStack.popArrayFrom(valuesStart);
    const keysStart = this.frameKeysStart[d];
    const keys = this.keyStack.slice(keysStart);
    this.keyStack.length = keysStart;
    if (this.frameKeyIndex[d] !== null) this.frameKeyIndex[d] = null;
    return JsonValue.objectOf(keys, values, this.frameOffset[d]);
  }

  private finish(root: JsonValue): JsonValue | null {
    this.skipWhitespace();
    if (this.pos < this.len) {
      return this.failExpected("expected end of input after the document", this.pos);
    }
    return root;
  }

  // Reads `"key" :` for the innermost object, which must not have that key yet.
  private readKey(expect: Expect): bool {
    this.skipWhitespace();
    const start = this.pos;
    if (this.peek() != QUOTE) {
      const what = expect == Expect.FirstKey ? "expected a string key or '}'" : "expected a string key after ','";
      this.failExpected(what, start);
      if (this.peek() == APOSTROPHE) this.error += " (strings take double quotes)";
      return false;
    }
    const key = this.readString(true);
    if (key === null) return false;
    if (!this.addKey(key)) {
      this.fail(`duplicate key ${shownKey(key)}`, start);
      return false;
    }
    this.skipWhitespace();
    if (this.peek() != COLON) {
      this.failExpected("expected ':' after object key", this.pos);
      return false;
    }
    this.pos++;
    return true;
  }

  // ' (in "key")' when a member value of an object is being read, for error messages.
  private currentKey(): string {
    const d = this.depth - 1;
    if (d < 0 || this.frameIsObject[d] == 0) return "";
    const keys = this.keyStack;
    if (keys.length <= this.frameKeysStart[d]) return "";
    return ` (in ${shownKey(keys[keys.length - 1])})`;
  }

  // Records `key` for the innermost object; false if it is already there.
  private addKey(key: string): bool {
    const d = this.depth - 1;
    const keys = this.keyStack;
    const keysStart = this.frameKeysStart[d];
    const count = keys.length - keysStart;
    let index = this.frameKeyIndex[d];
    if (index !== null) {
      if (index.has(key)) return false;
      index.set(key, count);
    } else {
      for (let i = keysStart, n = keys.length; i < n; i++) {
        if (keys[i] == key) return false;
      }
      if (count + 1 > LINEAR_KEY_SEARCH_MAX) {
        index = new Map<string, i32>();
        for (let i = keysStart, n = keys.length; i < n; i++) index.set(keys[i], i - keysStart);
        index.set(key, count);
        this.frameKeyIndex[d] = index;
      }
    }
    keys.push(key);
    return true;
  }

  private readScalar(expect: Expect): JsonValue | null {
    const start = this.pos;
    const c = this.peek();
    if (c == QUOTE) {
      const text = this.readString(false);
      return text === null ? null : JsonValue.makeString(text, start);
    }
    if (c == MINUS || (c >= DIGIT_0 && c <= DIGIT_9)) return this.readNumber();
    if (c == 0x74) return this.readLiteral("true") ? JsonValue.makeBool(true, start) : null;
    if (c == 0x66) return this.readLiteral("false") ? JsonValue.makeBool(false, start) : null;
    if (c == 0x6E) return this.readLiteral("null") ? JsonValue.makeNull(start) : null;

    let what = "expected a value";
    if (expect == Expect.FirstItem) what = "expected a value or ']'";
    else if (expect == Expect.NextItem) what = "expected a value after ','";
    else if (expect == Expect.MemberValue) what = "expected a value after ':'";
    this.failExpected(what, start);
    if (c == SLASH) this.error += " (comments are not allowed)";
    else if (c == APOSTROPHE) this.error += " (strings take double quotes)";
    else if (c == PLUS) this.error += " (numbers cannot start with '+')";
    return null;
  }

  private readLiteral(word: string): bool {
    const start = this.pos;
    const n = word.length;
    for (let i = 0; i < n; i++) {
      const c = this.peekAt(start + i);
      if (c == <u32>word.charCodeAt(i)) continue;
      if (c == END) {
        this.fail(`unexpected end of input inside literal '${word}'`, start + i);
      } else {
        this.fail(`expected '${word}' but found '${this.wordAt(start)}'`, start);
      }
      return false;
    }
    this.pos = start + n;
    return true;
  }

  // number = [ "-" ] ( "0" / [1-9] *DIGIT ) [ "." 1*DIGIT ] [ ( "e" / "E" ) [ "+" / "-" ] 1*DIGIT ]
  private readNumber(): JsonValue | null {
    // Fields are copied to locals: in the incremental runtime every access through `this`
    // also spills it to the GC's shadow stack.
    const base = this.base;
    const len = this.len;
    const start = this.pos;
    let pos = start;
    const negative = byteAt(base, len, pos) == MINUS;
    if (negative) pos++;
    const digitsStart = pos;
    const first = byteAt(base, len, pos);
    if (first == DIGIT_0) {
      pos++;
      if (isDigit(byteAt(base, len, pos))) return this.fail("leading zeros are not allowed in numbers", start);
    } else if (isDigit(first)) {
      while (isDigit(byteAt(base, len, pos))) pos++;
    } else {
      return this.failExpected("expected a digit after '-'", pos);
    }
    const integerDigits = pos - digitsStart;
    let integral = true;
    if (byteAt(base, len, pos) == DOT) {
      pos++;
      if (!isDigit(byteAt(base, len, pos))) return this.failExpected("expected a digit after '.' in number", pos);
      while (isDigit(byteAt(base, len, pos))) pos++;
      integral = false;
    }
    const e = byteAt(base, len, pos);
    if (e == 0x65 || e == 0x45) {
      pos++;
      const sign = byteAt(base, len, pos);
      if (sign == PLUS || sign == MINUS) pos++;
      if (!isDigit(byteAt(base, len, pos))) return this.failExpected("expected a digit in exponent", pos);
      while (isDigit(byteAt(base, len, pos))) pos++;
      integral = false;
    }
    this.pos = pos;

    let value: f64;
    if (integral && integerDigits <= FAST_INTEGER_DIGITS) {
      let magnitude: i64 = 0;
      for (let i = digitsStart; i < pos; i++) {
        magnitude = magnitude * 10 + <i64>(load<u8>(base + <usize>i) - DIGIT_0);
      }
      value = <f64>magnitude;
      if (negative) value = -value;
    } else {
      value = parseFloat(String.UTF8.decodeUnsafe(base + <usize>start, <usize>(pos - start)));
    }
    if (!isFinite(value)) return this.fail("number out of range", start);
    const isInteger = integral && Math.abs(value) <= MAX_EXACT_INTEGER;
    return JsonValue.makeNumber(value, isInteger, start);
  }

  // Reads a string starting at its opening quote. A first pass validates (escapes, control
  // characters, UTF-8) and finds the end; the text is then decoded in one go.
  private readString(isKey: bool): string | null {
    const base = this.base;
    const len = this.len;
    const contentStart = this.pos + 1; // after the opening quote
    let pos = contentStart;
    let escaped = false;
    let ascii = true;
    while (true) {
      if (pos >= len) {
        this.fail("unexpected end of input inside string", pos);
        return null;
      }
      const b = <u32>load<u8>(base + <usize>pos);
      if (b == QUOTE) break;
      if (b >= SPACE && b < 0x80 && b != BACKSLASH) {
        pos++;
      } else if (b == BACKSLASH) {
        escaped = true;
        this.pos = pos;
        if (!this.skipEscape()) return null;
        pos = this.pos;
      } else if (b < SPACE) {
        this.fail(`control character ${codePoint(b)} must be escaped inside string`, pos);
        return null;
      } else {
        const n = utf8SequenceLength(base, len, pos);
        if (n == 0) {
          this.failUtf8(pos);
          return null;
        }
        pos += n;
        ascii = false;
      }
    }
    const contentEnd = pos;
    if (contentEnd - contentStart > MAX_STRING_BYTES) {
      const member = isKey ? " (an object key)" : this.currentKey();
      this.fail(`string of ${contentEnd - contentStart} bytes${member} is over the ${MAX_STRING_BYTES}-byte limit for a string`, contentStart - 1);
      return null;
    }
    this.pos = pos + 1; // after the closing quote
    if (escaped) return this.decodeEscaped(contentStart, contentEnd);
    if (!ascii) return String.UTF8.decodeUnsafe(base + <usize>contentStart, <usize>(contentEnd - contentStart));
    if (isKey && contentEnd - contentStart <= KEY_CACHE_MAX_BYTES) return this.cachedAsciiKey(contentStart, contentEnd);
    return asciiString(base, contentStart, contentEnd);
  }

  private cachedAsciiKey(start: i32, end: i32): string {
    const base = this.base;
    let hash: u32 = 0x811C9DC5; // FNV-1a
    for (let i = start; i < end; i++) hash = (hash ^ <u32>load<u8>(base + <usize>i)) * 0x01000193;
    const slot = <i32>(hash & (KEY_CACHE_SLOTS - 1));
    const cached = this.keyCache[slot];
    if (cached !== null && sameAscii(cached, this.base, start, end)) return cached;
    const key = asciiString(this.base, start, end);
    this.keyCache[slot] = key;
    return key;
  }

  // Validates the escape at `pos` (a backslash) and moves past it. A \u escape of a high
  // surrogate must be followed by one of a low surrogate, and a low one must not stand alone.
  private skipEscape(): bool {
    const start = this.pos;
    const c = this.peekAt(start + 1);
    if (c == END) {
      this.fail("unexpected end of input inside string", start + 1);
      return false;
    }
    if (c == QUOTE || c == BACKSLASH || c == SLASH || c == 0x62 || c == 0x66 || c == 0x6E || c == 0x72 || c == 0x74) {
      this.pos = start + 2;
      return true;
    }
    if (c != 0x75) {
      if (c > SPACE && c < 0x7F) this.fail(`invalid escape '\\${String.fromCharCode(c)}' in string`, start);
      else this.fail(`invalid escape in string: '\\' followed by ${this.describeAt(start + 1)}`, start);
      return false;
    }
    const unit = this.readHex4(start + 2);
    if (unit < 0) return false;
    this.pos = start + 6;
    if (unit >= 0xDC00 && unit <= 0xDFFF) {
      this.fail(`unpaired surrogate \\u${hex4(unit)} in string`, start);
      return false;
    }
    if (unit >= 0xD800 && unit <= 0xDBFF) {
      if (this.peekAt(start + 6) != BACKSLASH || this.peekAt(start + 7) != 0x75) {
        this.fail(`unpaired surrogate \\u${hex4(unit)} in string`, start);
        return false;
      }
      const low = this.readHex4(start + 8);
      if (low < 0) return false;
      if (low < 0xDC00 || low > 0xDFFF) {
        this.fail(`unpaired surrogate \\u${hex4(unit)} in string`, start);
        return false;
      }
      this.pos = start + 12;
    }
    return true;
  }

  // The four hex digits at `at` as a UTF-16 unit, or -1 after reporting the error.
  private readHex4(at: i32): i32 {
    let unit = 0;
    for (let i = at; i < at + 4; i++) {
      const c = this.peekAt(i);
      const digit = hexValue(c);
      if (digit < 0) {
        if (c == END) this.fail("unexpected end of input inside string", i);
        else this.failExpected("invalid \\u escape: expected 4 hex digits", i);
        return -1;
      }
      unit = (unit << 4) | digit;
    }
    return unit;
  }

  // Decodes validated string content with escapes into UTF-16. Every byte yields at most one
  // code unit (a 4-byte sequence yields two), so 2 bytes of scratch per input byte suffice.
  private decodeEscaped(start: i32, end: i32): string {
    const needed = (end - start) << 1;
    if (this.scratch.byteLength < needed) this.scratch = new ArrayBuffer(needed);
    const out = changetype<usize>(this.scratch);
    const base = this.base;
    let units: usize = 0;
    let i = start;
    while (i < end) {
      const b = <u32>load<u8>(base + <usize>i);
      let unit: u32;
      if (b == BACKSLASH) {
        const c = <u32>load<u8>(base + <usize>i + 1);
        i += 2;
        if (c == 0x62) unit = 0x08;
        else if (c == 0x66) unit = 0x0C;
        else if (c == 0x6E) unit = LF;
        else if (c == 0x72) unit = CR;
        else if (c == 0x74) unit = TAB;
        else if (c == 0x75) {
          unit = 0;
          for (let k = 0; k < 4; k++) unit = (unit << 4) | <u32>hexValue(<u32>load<u8>(base + <usize>(i + k)));
          i += 4;
        } else unit = c; // '"', '\\', '/'
      } else if (b < 0x80) {
        unit = b;
        i++;
      } else if (b < 0xE0) {
        unit = ((b & 0x1F) << 6) | (<u32>load<u8>(base + <usize>i + 1) & 0x3F);
        i += 2;
      } else if (b < 0xF0) {
        unit = ((b & 0x0F) << 12)
          | ((<u32>load<u8>(base + <usize>i + 1) & 0x3F) << 6)
          | (<u32>load<u8>(base + <usize>i + 2) & 0x3F);
        i += 3;
      } else {
        const cp = ((b & 0x07) << 18)
          | ((<u32>load<u8>(base + <usize>i + 1) & 0x3F) << 12)
          | ((<u32>load<u8>(base + <usize>i + 2) & 0x3F) << 6)
          | (<u32>load<u8>(base + <usize>i + 3) & 0x3F);
        i += 4;
        const offsetCp = cp - 0x10000;
        store<u16>(out + (units << 1), <u16>(0xD800 | (offsetCp >> 10)));
        units++;
        unit = 0xDC00 | (offsetCp & 0x3FF);
      }
      store<u16>(out + (units << 1), <u16>unit);
      units++;
    }
    return String.UTF16.decodeUnsafe(out, units << 1);
  }

  @inline
  private skipWhitespace(): void {
    const base = this.base;
    const len = this.len;
    let pos = this.pos;
    while (pos < len) {
      const b = <u32>load<u8>(base + <usize>pos);
      if (b != SPACE && b != LF && b != CR && b != TAB) break;
      pos++;
    }
    this.pos = pos;
  }

  @inline
  private peek(): u32 {
    return this.peekAt(this.pos);
  }

  @inline
  private peekAt(at: i32): u32 {
    return at >= 0 && at < this.len ? <u32>load<u8>(this.base + <usize>at) : END;
  }

  private fail(message: string, at: i32): JsonValue | null {
    if (this.error.length == 0) {
      this.error = message;
      this.errorAt = at;
    }
    return null;
  }

  private failUtf8(at: i32): JsonValue | null {
    if (this.error.length == 0) this.errorIsUtf8 = true;
    return this.fail("invalid UTF-8", at);
  }

  // "<what> but found <the thing at `at`>", or the UTF-8 error if that thing is not UTF-8.
  private failExpected(what: string, at: i32): JsonValue | null {
    const c = this.peekAt(at);
    if (c != END && c >= 0x80 && utf8SequenceLength(this.base, this.len, at) == 0) return this.failUtf8(at);
    return this.fail(`${what} but found ${this.describeAt(at)}`, at);
  }

  // The character at `at` as an error message shows it: 'x', end of input, U+000A.
  private describeAt(at: i32): string {
    const c = this.peekAt(at);
    if (c == END) return "end of input";
    if (c < SPACE || c == 0x7F) return `control character ${codePoint(c)}`;
    if (c == APOSTROPHE) return `"'"`;
    if (c < 0x80) return `'${String.fromCharCode(c)}'`;
    const n = utf8SequenceLength(this.base, this.len, at);
    if (n == 0) return `byte 0x${hex2(c)}`;
    return `'${String.UTF8.decodeUnsafe(this.base + <usize>at, <usize>n)}'`;
  }

  // The run of ASCII letters starting at `at` (a misspelled literal), cut for display.
  private wordAt(at: i32): string {
    let end = at;
    while (end < this.len && end - at < SHOWN_TEXT_MAX && isLetter(this.peekAt(end))) end++;
    if (end == at) end = at + 1;
    return String.UTF8.decodeUnsafe(this.base + <usize>at, <usize>(end - at));
  }
}

// A string of exactly the right size from ASCII bytes (String.UTF8.decodeUnsafe allocates
// for the worst case and then reallocates).
function asciiString(base: usize, start: i32, end: i32): string {
  const n = end - start;
  if (n <= 0) return "";
  const text = changetype<string>(__new(<usize>n << 1, idof<string>()));
  const out = changetype<usize>(text);
  const source = base + <usize>start;
  for (let i: usize = 0; i < <usize>n; i++) store<u16>(out + (i << 1), load<u8>(source + i));
  return text;
}

function sameAscii(text: string, base: usize, start: i32, end: i32): bool {
  const n = end - start;
  if (text.length != n) return false;
  const chars = changetype<usize>(text);
  const source = base + <usize>start;
  for (let i: usize = 0; i < <usize>n; i++) {
    if (<u32>load<u16>(chars + (i << 1)) != <u32>load<u8>(source + i)) return false;
  }
  return true;
}

// Length of the well-formed UTF-8 sequence (RFC 3629: no overlongs, no surrogates, at most
// U+10FFFF) starting at `at`, or 0 if it is malformed or cut off by the end of input.
function utf8SequenceLength(base: usize, len: i32, at: i32): i32 {
  const b0 = <u32>load<u8>(base + <usize>at);
  let n: i32;
  let low: u32 = 0x80;
  let high: u32 = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) n = 2;
  else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) low = 0xA0;
    else if (b0 == 0xED) high = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) low = 0x90;
    else if (b0 == 0xF4) high = 0x8F;
  } else return 0;
  if (at + n > len) return 0;
  const b1 = <u32>load<u8>(base + <usize>at + 1);
  if (b1 < low || b1 > high) return 0;
  for (let i = 2; i < n; i++) {
    const b = <u32>load<u8>(base + <usize>(at + i));
    if (b < 0x80 || b > 0xBF) return 0;
  }
  return n;
}

function lineOf(base: usize, at: i32): i32 {
  let line = 1;
  for (let i = 0; i < at; i++) {
    if (<u32>load<u8>(base + <usize>i) == LF) line++;
  }
  return line;
}

// Counted in characters, not bytes: UTF-8 continuation bytes do not start a column.
function columnOf(base: usize, at: i32): i32 {
  let column = 1;
  for (let i = 0; i < at; i++) {
    const b = <u32>load<u8>(base + <usize>i);
    if (b == LF) column = 1;
    else if ((b & 0xC0) != 0x80) column++;
  }
  return column;
}

// The byte at `at`, or END outside the input.
// @ts-ignore: decorator
@inline
function byteAt(base: usize, len: i32, at: i32): u32 {
  return at >= 0 && at < len ? <u32>load<u8>(base + <usize>at) : END;
}

// @ts-ignore: decorator
@inline
function isDigit(c: u32): bool {
  return c >= DIGIT_0 && c <= DIGIT_9;
}

function isLetter(c: u32): bool {
  return (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A);
}

function hexValue(c: u32): i32 {
  if (c >= DIGIT_0 && c <= DIGIT_9) return <i32>(c - DIGIT_0);
  if (c >= 0x61 && c <= 0x66) return <i32>(c - 0x61 + 10);
  if (c >= 0x41 && c <= 0x46) return <i32>(c - 0x41 + 10);
  return -1;
}

function hex2(value: u32): string {
  const digits = "0123456789ABCDEF";
  return digits.charAt(<i32>((value >> 4) & 0xF)) + digits.charAt(<i32>(value & 0xF));
}

function hex4(value: i32): string {
  return hex2(<u32>(value >> 8) & 0xFF) + hex2(<u32>value & 0xFF);
}

function codePoint(c: u32): string {
  return `U+${hex4(<i32>c)}`;
}

// A key as a JSON string literal, cut to SHOWN_TEXT_MAX characters.
function shownKey(key: string): string {
  const shown = key.length > SHOWN_TEXT_MAX ? key.substring(0, SHOWN_TEXT_MAX) : key;
  const quoted = JsonValue.makeString(shown).toJson();
  return key.length > SHOWN_TEXT_MAX ? quoted.substring(0, quoted.length - 1) + "...\"" : quoted;
}
