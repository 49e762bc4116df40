// The parsed JSON document model. Every accessor answers for every kind without aborting:
// asking an array for `keys` gives an empty list, asking a string for `get("x")` gives null.
import { JsonWriter } from "./writer";

export enum JsonKind { Null, Bool, Number, String, Array, Object }

// Objects up to this many members are searched linearly; larger ones get a hash index, so a
// hostile body with 100,000 keys costs linear time (duplicate detection included).
const LINEAR_LOOKUP_MAX: i32 = 8;

// toJson() stops descending past this depth (the parser never builds deeper than MAX_DEPTH);
// it keeps a hand-built cyclic value from overflowing the stack, which would trap.
const SERIALIZE_DEPTH_MAX: i32 = 256;

export class JsonValue {
  kind: JsonKind;
  bool: bool = false;
  num: f64 = 0;
  // The number was written without fraction or exponent and is exactly representable
  // (|n| <= 2^53 - 1), so validation can demand "an integer" and convert it losslessly.
  isInteger: bool = false;
  str: string = "";
  // Byte offset in the source document where this value starts (for error messages).
  offset: i32;

  private _items: JsonValue[] | null = null;
  private _keys: string[] | null = null;
  private _values: JsonValue[] | null = null;
  private _index: Map<string, i32> | null = null;

  // Containers come from makeArray/makeObject/arrayOf/objectOf, which give them storage.
  constructor(kind: JsonKind, offset: i32 = 0) {
    this.kind = kind;
    this.offset = offset;
  }

  static makeNull(offset: i32 = 0): JsonValue {
    return new JsonValue(JsonKind.Null, offset);
  }

  static makeBool(value: bool, offset: i32 = 0): JsonValue {
    const v = new JsonValue(JsonKind.Bool, offset);
    v.bool = value;
    return v;
  }

  static makeNumber(value: f64, isInteger: bool, offset: i32 = 0): JsonValue {
    const v = new JsonValue(JsonKind.Number, offset);
    v.num = value;
    v.isInteger = isInteger;
    return v;
  }

  static makeString(value: string, offset: i32 = 0): JsonValue {
    const v = new JsonValue(JsonKind.String, offset);
    v.str = value;
    return v;
  }

  static makeArray(offset: i32 = 0): JsonValue {
    return JsonValue.arrayOf(new Array<JsonValue>(), offset);
  }

  static makeObject(offset: i32 = 0): JsonValue {
    return JsonValue.objectOf(new Array<string>(), new Array<JsonValue>(), offset);
  }

  // An array that owns `items`.
  static arrayOf(items: JsonValue[], offset: i32 = 0): JsonValue {
    const v = new JsonValue(JsonKind.Array, offset);
    v._items = items;
    return v;
  }

  // An object that owns `keys` and `values` (parallel lists). The keys must be distinct:
  // the parser guarantees it; addMember is the checked way to build an object by hand.
  static objectOf(keys: string[], values: JsonValue[], offset: i32 = 0): JsonValue {
    const v = new JsonValue(JsonKind.Object, offset);
    v._keys = keys;
    v._values = values;
    if (keys.length > LINEAR_LOOKUP_MAX) v.buildIndex();
    return v;
  }

  isNull(): bool { return this.kind == JsonKind.Null; }
  isBool(): bool { return this.kind == JsonKind.Bool; }
  isNumber(): bool { return this.kind == JsonKind.Number; }
  isString(): bool { return this.kind == JsonKind.String; }
  isArray(): bool { return this.kind == JsonKind.Array; }
  isObject(): bool { return this.kind == JsonKind.Object; }

  // The kind in the words a configuration error should use: "expected a string but found number".
  kindName(): string {
    switch (this.kind) {
      case JsonKind.Null: return "null";
      case JsonKind.Bool: return "boolean";
      case JsonKind.Number: return "number";
      case JsonKind.String: return "string";
      case JsonKind.Array: return "array";
      default: return "object";
    }
  }

  // Array elements; empty for any other kind.
  get items(): JsonValue[] {
    const items = this._items;
    return items !== null ? items : new Array<JsonValue>();
  }

  // Object member names in document order; empty for any other kind.
  get keys(): string[] {
    const keys = this._keys;
    return keys !== null ? keys : new Array<string>();
  }

  // Object member values, parallel to `keys`; empty for any other kind.
  get values(): JsonValue[] {
    const values = this._values;
    return values !== null ? values : new Array<JsonValue>();
  }

  // Number of elements (array) or members (object); 0 otherwise.
  get length(): i32 {
    const items = this._items;
    if (items !== null) return items.length;
    const keys = this._keys;
    const values = this._values;
    return keys !== null && values !== null ? min(keys.length, values.length) : 0;
  }

  // Member name / value by position in document order; "" / null when out of range or not
  // an object. They never make an empty list, unlike `keys`/`values` on a non-object.
  keyAt(i: i32): string {
    const keys = this._keys;
    return keys !== null && i >= 0 && i < keys.length ? keys[i] : "";
  }

  valueAt(i: i32): JsonValue | null {
    const values = this._values;
    return values !== null && i >= 0 && i < values.length ? values[i] : null;
  }

  // Appends to an array; false (and nothing changes) if this is not an array.
  push(item: JsonValue): bool {
    const items = this._items;
    if (items === null) return false;
    items.push(item);
    return true;
  }

  // Adds an object member; false (and nothing changes) if this is not an object or the key
  // is already present.
  addMember(key: string, value: JsonValue): bool {
    const keys = this._keys;
    const values = this._values;
    if (keys === null || values === null || this.indexOf(key) >= 0) return false;
    const position = keys.length;
    keys.push(key);
    values.push(value);
    const index = this._index;
    if (index !== null) index.set(key, position);
    else if (keys.length > LINEAR_LOOKUP_MAX) this.buildIndex();
    return true;
  }

  // The member named `key`, or null when absent or when this is not an object.
  get(key: string): JsonValue | null {
    const i = this.indexOf(key);
    return i >= 0 ? this.valueAt(i) : null;
  }

  has(key: string): bool {
    return this.indexOf(key) >= 0;
  }

  // Compact canonical text: no whitespace, object members sorted by key (UTF-16 code unit
  // order), numbers in shortest round-trip form with integers written without ".0", strings
  // with only the escapes JSON requires. Two documents with the same content give the same text.
  toJson(): string {
    const out = new JsonWriter();
    writeValue(out, this, 0);
    return out.toString();
  }

  /** The first `maxUnits` characters of toJson(), built without the rest. */
  toJsonPrefix(maxUnits: i32): string {
    const out = new JsonWriter(maxUnits);
    writeValue(out, this, 0);
    return out.toString();
  }

  /**
   * A 64-bit hash of the content, equal for equal content whatever the member order (members
   * are combined with a commutative sum) or the number formatting. Cheaper than `toJson()`
   * when all that is needed is "same content?": it allocates nothing.
   */
  contentHash(): u64 {
    return hashValue(this, 0);
  }

  private buildIndex(): void {
    const keys = this._keys;
    if (keys === null) return;
    const index = new Map<string, i32>();
    for (let i = 0, n = keys.length; i < n; i++) {
      if (!index.has(keys[i])) index.set(keys[i], i); // first wins, as in the linear search
    }
    this._index = index;
  }

  private indexOf(key: string): i32 {
    const keys = this._keys;
    if (keys === null) return -1;
    const index = this._index;
    if (index !== null) {
      return index.has(key) ? index.get(key) : -1;
    }
    for (let i = 0, n = keys.length; i < n; i++) {
      if (keys[i] == key) return i;
    }
    return -1;
  }
}

const HASH_MULTIPLIER: u64 = 0x9E3779B97F4A7C15;

function mixHash(z: u64): u64 {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

function hashString(s: string): u64 {
  let h: u64 = 0xcbf29ce484222325;
  for (let i = 0, n = s.length; i < n; i++) {
    h ^= <u64>s.charCodeAt(i);
    h *= 0x100000001b3;
  }
  return mixHash(h ^ <u64>s.length);
}

function hashValue(value: JsonValue, depth: i32): u64 {
  if (depth > SERIALIZE_DEPTH_MAX) return 0;
  switch (value.kind) {
    case JsonKind.Null: return mixHash(1);
    case JsonKind.Bool: return mixHash(value.bool ? 2 : 3);
    case JsonKind.Number: {
      const n = value.num == 0 ? 0.0 : value.num; // -0 and 0 are the same number
      return mixHash(reinterpret<u64>(n) ^ 4);
    }
    case JsonKind.String: return mixHash(hashString(value.str) ^ 5);
    case JsonKind.Array: {
      let h: u64 = 6;
      const items = value.items;
      for (let i = 0, n = items.length; i < n; i++) h = mixHash(h * HASH_MULTIPLIER + hashValue(unchecked(items[i]), depth + 1));
      return mixHash(h ^ <u64>items.length);
    }
    default: {
      // Order-independent: a sum of per-member hashes.
      let sum: u64 = 0;
      const n = value.length;
      for (let i = 0; i < n; i++) {
        const memberValue = value.valueAt(i);
        if (memberValue === null) continue;
        sum += mixHash(hashString(value.keyAt(i)) * HASH_MULTIPLIER ^ hashValue(memberValue, depth + 1));
      }
      return mixHash(sum ^ 7 ^ (<u64>n << 32));
    }
  }
}

/**
 * The position of the member that follows (key, index) in (key, position) order, skipping
 * members whose value is null, or -1 after the last. Members are written in this order, which
 * is a stable sort by key (UTF-16 code unit order), one member at a time: a prefix of the
 * text costs one pass per member written, and nothing is allocated.
 */
function nextMember(value: JsonValue, key: string | null, index: i32): i32 {
  let best = -1;
  let bestKey = "";
  for (let i = 0, n = value.length; i < n; i++) {
    if (value.valueAt(i) === null) continue;
    const k = value.keyAt(i);
    if (key !== null && (k < key || (k == key && i <= index))) continue;
    if (best < 0 || k < bestKey) {
      best = i;
      bestKey = k;
    }
  }
  return best;
}

function writeValue(out: JsonWriter, value: JsonValue, depth: i32): void {
  if (out.full) return;
  if (depth > SERIALIZE_DEPTH_MAX) {
    out.writeAscii("null");
    return;
  }
  switch (value.kind) {
    case JsonKind.Null: {
      out.writeAscii("null");
      break;
    }
    case JsonKind.Bool: {
      out.writeAscii(value.bool ? "true" : "false");
      break;
    }
    case JsonKind.Number: {
      out.writeNumber(value.num);
      break;
    }
    case JsonKind.String: {
      out.writeQuoted(value.str);
      break;
    }
    case JsonKind.Array: {
      const items = value.items;
      out.writeUnit(0x5B); // [
      for (let i = 0, n = items.length; i < n && !out.full; i++) {
        if (i > 0) out.writeUnit(0x2C); // ,
        writeValue(out, items[i], depth + 1);
      }
      out.writeUnit(0x5D); // ]
      break;
    }
    default: {
      out.writeUnit(0x7B); // {
      let key: string | null = null;
      for (let i = nextMember(value, null, -1); i >= 0 && !out.full; i = nextMember(value, key, i)) {
        if (key !== null) out.writeUnit(0x2C); // ,
        key = value.keyAt(i);
        out.writeQuoted(key);
        out.writeUnit(0x3A); // :
        const memberValue = value.valueAt(i);
        if (memberValue !== null) writeValue(out, memberValue, depth + 1);
      }
      out.writeUnit(0x7D); // }
      break;
    }
  }
}
