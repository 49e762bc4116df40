import { parseJson, parseJsonString, JsonKind, JsonValue, JsonParseResult, MAX_DEPTH, MAX_STRING_BYTES, MAX_VALUES } from "../../assembly/json";
import { Utf8JsonWriter } from "../../assembly/json/utf8-writer";

const POLICY_DOCUMENT =
  '{"policies":[{"metadata":{"name":"api-abort"},"spec":{"rules":[{"match":{"path":{"prefix":"/api/"},' +
  '"headers":[{"name":"x-user-id","regex":"^test-[0-9]+$"}]},"fault":{"percentage":100,' +
  '"abort":{"httpStatus":503,"body":"injected"}}}]}}],"max_delay_ms":30000}';

function parsed(text: string): JsonValue {
  const result = parseJsonString(text);
  expect(result.error).toBe("", "unexpected error for: " + text);
  expect(result.value).not.toBeNull();
  return result.value!;
}

function errorOf(text: string): string {
  const result = parseJsonString(text);
  expect(result.value).toBeNull("expected a parse error for: " + text);
  return result.error;
}

function bytesOf(list: u8[]): ArrayBuffer {
  const buffer = new ArrayBuffer(list.length);
  for (let i = 0; i < list.length; i++) store<u8>(changetype<usize>(buffer) + <usize>i, list[i]);
  return buffer;
}

function errorOfBytes(list: u8[]): string {
  const result = parseJson(bytesOf(list));
  expect(result.value).toBeNull();
  return result.error;
}

function member(value: JsonValue | null, key: string): JsonValue {
  expect(value).not.toBeNull();
  const found = value!.get(key);
  expect(found).not.toBeNull("missing key " + key);
  return found!;
}

function item(value: JsonValue, index: i32): JsonValue {
  const items = value.items;
  expect(index < items.length).toBe(true, "missing item " + index.toString());
  return items[index];
}

function canonical(text: string): string {
  return parsed(text).toJson();
}

describe("parseJson: valid documents", () => {
  it("parses literals with surrounding whitespace", () => {
    expect(parsed(" \t\r\n null \n").isNull()).toBe(true);
    const t = parsed("true");
    expect(t.isBool()).toBe(true);
    expect(t.bool).toBe(true);
    const f = parsed("false");
    expect(f.kind).toBe(JsonKind.Bool);
    expect(f.bool).toBe(false);
  });

  it("parses integers exactly and flags them as integers", () => {
    const n = parsed("503");
    expect(n.isNumber()).toBe(true);
    expect(n.num).toBe(503.0);
    expect(n.isInteger).toBe(true);
    expect(parsed("-42").num).toBe(-42.0);
    expect(parsed("0").num).toBe(0.0);
    const max = parsed("9007199254740991");
    expect(max.num).toBe(9007199254740991.0);
    expect(max.isInteger).toBe(true);
    expect(parsed("-9007199254740991").isInteger).toBe(true);
  });

  it("does not call a number an integer when it has a fraction or exponent or is not exact", () => {
    expect(parsed("1.0").isInteger).toBe(false);
    expect(parsed("1e2").isInteger).toBe(false);
    expect(parsed("1e2").num).toBe(100.0);
    expect(parsed("9007199254740993").isInteger).toBe(false);
    expect(parsed("12345678901234567890").isInteger).toBe(false);
    expect(parsed("12345678901234567890").num).toBe(12345678901234567890.0);
  });

  it("parses fractions and exponents to the nearest double", () => {
    expect(parsed("0.1").num).toBe(0.1);
    expect(parsed("-0.25").num).toBe(-0.25);
    expect(parsed("12.5").num).toBe(12.5);
    expect(parsed("2.5e+3").num).toBe(2500.0);
    expect(parsed("1E-2").num).toBe(0.01);
    expect(parsed("1.7976931348623157e308").num).toBe(1.7976931348623157e308);
    expect(parsed("5e-324").num).toBe(5e-324);
    expect(parsed("1e-400").num).toBe(0.0);
    const negativeZero = parsed("-0").num;
    expect(negativeZero).toBe(0.0);
    expect(1.0 / negativeZero).toBe(-Infinity);
  });

  it("parses strings with every escape", () => {
    expect(parsed('""').str).toBe("");
    expect(parsed('"abc"').isString()).toBe(true);
    expect(parsed('"\\"\\\\\\/\\b\\f\\n\\r\\t"').str).toBe("\"\\/\b\f\n\r\t");
    expect(parsed('"a\\u0041b"').str).toBe("aAb");
    expect(parsed('"\\u00e9\\u00C9"').str).toBe("éÉ");
  });

  it("joins \\u surrogate pairs into one character", () => {
    const s = parsed('"x\\ud83d\\ude00y"').str;
    expect(s.length).toBe(4);
    expect(s).toBe("x😀y");
    expect(s.codePointAt(1)).toBe(0x1F600);
  });

  it("decodes raw UTF-8 in strings, with and without escapes", () => {
    expect(parsed('"héllo 😀 中文"').str).toBe("héllo 😀 中文");
    expect(parsed('"\\n é 😀 中"').str).toBe("\n é 😀 中");
    expect(parseJson(bytesOf([0x22, 0xF0, 0x9F, 0x98, 0x80, 0x22])).value!.str).toBe("😀");
  });

  it("parses arrays in order", () => {
    expect(parsed("[]").isArray()).toBe(true);
    expect(parsed("[ ]").items.length).toBe(0);
    const a = parsed('[1, "two", null, true, [], {}]');
    expect(a.items.length).toBe(6);
    expect(a.length).toBe(6);
    expect(item(a, 0).num).toBe(1.0);
    expect(item(a, 1).str).toBe("two");
    expect(item(a, 2).isNull()).toBe(true);
    expect(item(a, 3).bool).toBe(true);
    expect(item(a, 4).isArray()).toBe(true);
    expect(item(a, 5).isObject()).toBe(true);
  });

  it("parses objects with keys and values in document order", () => {
    const o = parsed('{ "b" : 1 , "a" : [2] , "" : "empty" }');
    expect(o.isObject()).toBe(true);
    expect(o.keys.length).toBe(3);
    expect(o.keys[0]).toBe("b");
    expect(o.keys[1]).toBe("a");
    expect(o.keys[2]).toBe("");
    expect(o.values[0].num).toBe(1.0);
    expect(member(o, "a").items.length).toBe(1);
    expect(member(o, "").str).toBe("empty");
    expect(o.has("b")).toBe(true);
    expect(o.has("c")).toBe(false);
    expect(o.get("c")).toBeNull();
  });

  it("answers every accessor on every kind without aborting", () => {
    const s = parsed('"text"');
    expect(s.get("x")).toBeNull();
    expect(s.has("x")).toBe(false);
    expect(s.items.length).toBe(0);
    expect(s.keys.length).toBe(0);
    expect(s.values.length).toBe(0);
    expect(s.length).toBe(0);
    expect(s.num).toBe(0.0);
    expect(s.bool).toBe(false);
    const o = parsed('{"a":1}');
    expect(o.items.length).toBe(0);
    expect(o.str).toBe("");
    expect(parsed("[1]").get("0")).toBeNull();
    expect(parsed("null").kindName()).toBe("null");
    expect(o.kindName()).toBe("object");
    expect(parsed("1").kindName()).toBe("number");
  });

  it("reads members by position without making lists", () => {
    const o = parsed('{"b":true,"a":null}');
    expect(o.length).toBe(2);
    expect(o.keyAt(0)).toBe("b");
    expect(o.valueAt(0)!.bool).toBe(true);
    expect(o.keyAt(1)).toBe("a");
    expect(o.keyAt(2)).toBe("");
    expect(o.valueAt(-1)).toBeNull();
    expect(parsed("[1]").keyAt(0)).toBe("");
    expect(parsed("[1]").valueAt(0)).toBeNull();
  });

  it("looks up members of large objects", () => {
    let text = "{";
    for (let i = 0; i < 200; i++) text += (i > 0 ? "," : "") + '"k' + i.toString() + '":' + i.toString();
    text += "}";
    const o = parsed(text);
    expect(o.keys.length).toBe(200);
    for (let i = 0; i < 200; i++) expect(member(o, "k" + i.toString()).num).toBe(<f64>i);
    expect(o.get("k200")).toBeNull();
    expect(o.has("k199")).toBe(true);
  });

  it("records the byte offset where each value starts", () => {
    const o = parsed('{"a": [10, "x"]}');
    expect(o.offset).toBe(0);
    const a = member(o, "a");
    expect(a.offset).toBe(6);
    expect(item(a, 0).offset).toBe(7);
    expect(item(a, 1).offset).toBe(11);
  });

  it("parses the control plane's policy document", () => {
    const root = parsed(POLICY_DOCUMENT);
    expect(member(root, "max_delay_ms").num).toBe(30000.0);
    expect(member(root, "max_delay_ms").isInteger).toBe(true);
    const policies = member(root, "policies");
    expect(policies.items.length).toBe(1);
    const policy = item(policies, 0);
    expect(member(member(policy, "metadata"), "name").str).toBe("api-abort");
    const rule = item(member(member(policy, "spec"), "rules"), 0);
    const match = member(rule, "match");
    expect(member(member(match, "path"), "prefix").str).toBe("/api/");
    const header = item(member(match, "headers"), 0);
    expect(member(header, "name").str).toBe("x-user-id");
    expect(member(header, "regex").str).toBe("^test-[0-9]+$");
    const fault = member(rule, "fault");
    expect(member(fault, "percentage").num).toBe(100.0);
    const abort = member(fault, "abort");
    expect(member(abort, "httpStatus").num).toBe(503.0);
    expect(member(abort, "body").str).toBe("injected");
  });

  it("parses the same document from host bytes", () => {
    const result = parseJson(String.UTF8.encode(POLICY_DOCUMENT));
    expect(result.error).toBe("");
    expect(result.ok).toBe(true);
    expect(result.offset).toBe(0);
    expect(result.line).toBe(0);
    expect(result.value!.toJson()).toBe(parsed(POLICY_DOCUMENT).toJson());
  });
});

describe("parseJson: strictness", () => {
  it("rejects an empty document", () => {
    expect(errorOf("")).toBe("empty document");
    expect(errorOf(" \n\t ")).toBe("empty document");
    expect(parseJson(new ArrayBuffer(0)).error).toBe("empty document");
  });

  it("rejects trailing garbage after the document", () => {
    expect(errorOf('{"a":1}}}')).toBe("expected end of input after the document but found '}' at line 1, column 8 (byte 7)");
    expect(errorOf("1 2")).toBe("expected end of input after the document but found '2' at line 1, column 3 (byte 2)");
    expect(errorOf("[] []")).toBe("expected end of input after the document but found '[' at line 1, column 4 (byte 3)");
    expect(errorOf("nullx")).toBe("expected end of input after the document but found 'x' at line 1, column 5 (byte 4)");
    expect(errorOf("\"a\"\u0000")).toBe("expected end of input after the document but found control character U+0000 at line 1, column 4 (byte 3)");
  });

  it("rejects comments", () => {
    expect(errorOf("// note\n1")).toBe("expected a value but found '/' (comments are not allowed) at line 1, column 1 (byte 0)");
    expect(errorOf('{"a":1 /* note */}')).toBe("expected ',' or '}' after object member but found '/' at line 1, column 8 (byte 7)");
  });

  it("rejects trailing commas", () => {
    expect(errorOf("[1,2,]")).toBe("expected a value after ',' but found ']' at line 1, column 6 (byte 5)");
    expect(errorOf('{"a":1,}')).toBe("expected a string key after ',' but found '}' at line 1, column 8 (byte 7)");
    expect(errorOf("[,]")).toBe("expected a value or ']' but found ',' at line 1, column 2 (byte 1)");
  });

  it("rejects single quotes", () => {
    expect(errorOf("{'a':1}")).toBe("expected a string key or '}' but found \"'\" (strings take double quotes) at line 1, column 2 (byte 1)");
    expect(errorOf("['a']")).toBe("expected a value or ']' but found \"'\" (strings take double quotes) at line 1, column 2 (byte 1)");
  });

  it("rejects NaN and Infinity", () => {
    expect(errorOf("NaN")).toBe("expected a value but found 'N' at line 1, column 1 (byte 0)");
    expect(errorOf("Infinity")).toBe("expected a value but found 'I' at line 1, column 1 (byte 0)");
    expect(errorOf("-Infinity")).toBe("expected a digit after '-' but found 'I' at line 1, column 2 (byte 1)");
    expect(errorOf("1e999")).toBe("number out of range at line 1, column 1 (byte 0)");
    expect(errorOf("[-1e400]")).toBe("number out of range at line 1, column 2 (byte 1)");
  });

  it("rejects leading zeros and a leading '+'", () => {
    expect(errorOf("01")).toBe("leading zeros are not allowed in numbers at line 1, column 1 (byte 0)");
    expect(errorOf("[-007]")).toBe("leading zeros are not allowed in numbers at line 1, column 2 (byte 1)");
    expect(errorOf("+1")).toBe("expected a value but found '+' (numbers cannot start with '+') at line 1, column 1 (byte 0)");
    expect(parsed("0.5").num).toBe(0.5);
    expect(parsed("-0.0").num).toBe(0.0);
  });

  it("rejects malformed numbers", () => {
    expect(errorOf(".5")).toBe("expected a value but found '.' at line 1, column 1 (byte 0)");
    expect(errorOf("1.")).toBe("expected a digit after '.' in number but found end of input at line 1, column 3 (byte 2)");
    expect(errorOf("1.e5")).toBe("expected a digit after '.' in number but found 'e' at line 1, column 3 (byte 2)");
    expect(errorOf("1e")).toBe("expected a digit in exponent but found end of input at line 1, column 3 (byte 2)");
    expect(errorOf("1e+")).toBe("expected a digit in exponent but found end of input at line 1, column 4 (byte 3)");
    expect(errorOf("-")).toBe("expected a digit after '-' but found end of input at line 1, column 2 (byte 1)");
    expect(errorOf("0x10")).toBe("expected end of input after the document but found 'x' at line 1, column 2 (byte 1)");
  });

  it("rejects unescaped control characters in strings", () => {
    expect(errorOf('"a\tb"')).toBe("control character U+0009 must be escaped inside string at line 1, column 3 (byte 2)");
    expect(errorOf('["a\nb"]')).toBe("control character U+000A must be escaped inside string at line 1, column 4 (byte 3)");
    expect(errorOf('"\u0000"')).toBe("control character U+0000 must be escaped inside string at line 1, column 2 (byte 1)");
    expect(parsed('"\u007f"').str).toBe("\u007f");
  });

  it("rejects invalid escapes", () => {
    expect(errorOf('"\\x"')).toBe("invalid escape '\\x' in string at line 1, column 2 (byte 1)");
    expect(errorOf('"\\\'"')).toBe("invalid escape '\\'' in string at line 1, column 2 (byte 1)");
    expect(errorOf('"ab\\u12G4"')).toBe("invalid \\u escape: expected 4 hex digits but found 'G' at line 1, column 8 (byte 7)");
    expect(errorOf('"\\u12"')).toBe("invalid \\u escape: expected 4 hex digits but found '\"' at line 1, column 6 (byte 5)");
    expect(errorOf('"\\U0041"')).toBe("invalid escape '\\U' in string at line 1, column 2 (byte 1)");
  });

  it("rejects unpaired surrogate escapes", () => {
    expect(errorOf('"\\ud800"')).toBe("unpaired surrogate \\uD800 in string at line 1, column 2 (byte 1)");
    expect(errorOf('"\\udc00\\ud800"')).toBe("unpaired surrogate \\uDC00 in string at line 1, column 2 (byte 1)");
    expect(errorOf('"a\\ud83dx"')).toBe("unpaired surrogate \\uD83D in string at line 1, column 3 (byte 2)");
    expect(errorOf('"\\ud83d\\u0041"')).toBe("unpaired surrogate \\uD83D in string at line 1, column 2 (byte 1)");
    expect(errorOf('"\\ud83d\\ud83d"')).toBe("unpaired surrogate \\uD83D in string at line 1, column 2 (byte 1)");
  });

  it("rejects invalid UTF-8 and names the byte", () => {
    // a 2-byte lead followed by a non-continuation byte
    expect(errorOfBytes([0x22, 0xC3, 0x28, 0x22])).toBe("invalid UTF-8 at byte 1 (line 1, column 2)");
    // overlong encoding of '/'
    expect(errorOfBytes([0x22, 0xC0, 0xAF, 0x22])).toBe("invalid UTF-8 at byte 1 (line 1, column 2)");
    // overlong 3-byte form
    expect(errorOfBytes([0x22, 0xE0, 0x80, 0xAF, 0x22])).toBe("invalid UTF-8 at byte 1 (line 1, column 2)");
    // an encoded UTF-16 surrogate (U+D800)
    expect(errorOfBytes([0x22, 0x61, 0xED, 0xA0, 0x80, 0x22])).toBe("invalid UTF-8 at byte 2 (line 1, column 3)");
    // beyond U+10FFFF
    expect(errorOfBytes([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22])).toBe("invalid UTF-8 at byte 1 (line 1, column 2)");
    expect(errorOfBytes([0x22, 0xF5, 0x80, 0x80, 0x80, 0x22])).toBe("invalid UTF-8 at byte 1 (line 1, column 2)");
    // a sequence cut off by the end of input, and by the closing quote
    expect(errorOfBytes([0x22, 0xE4, 0xB8])).toBe("invalid UTF-8 at byte 1 (line 1, column 2)");
    expect(errorOfBytes([0x22, 0xE4, 0xB8, 0x22])).toBe("invalid UTF-8 at byte 1 (line 1, column 2)");
    // a lone continuation byte and 0xFF outside strings
    expect(errorOfBytes([0x80])).toBe("invalid UTF-8 at byte 0 (line 1, column 1)");
    expect(errorOfBytes([0x5B, 0x31, 0x2C, 0xFF, 0x5D])).toBe("invalid UTF-8 at byte 3 (line 1, column 4)");
    expect(errorOfBytes([0x31, 0xFE])).toBe("invalid UTF-8 at byte 1 (line 1, column 2)");
  });

  it("names a valid non-ASCII character found where it does not belong", () => {
    expect(errorOf("é")).toBe("expected a value but found 'é' at line 1, column 1 (byte 0)");
    expect(errorOf('["é" x]')).toBe("expected ',' or ']' after array element but found 'x' at line 1, column 6 (byte 6)");
  });

  it("rejects duplicate object keys at the second occurrence", () => {
    expect(errorOf('{"a":1,"a":2}')).toBe('duplicate key "a" at line 1, column 8 (byte 7)');
    expect(errorOf('{"x":{"b":1,"c":2,"b":3}}')).toBe('duplicate key "b" at line 1, column 19 (byte 18)');
    expect(errorOf('{"\\u0061":1,"a":2}')).toBe('duplicate key "a" at line 1, column 13 (byte 12)');
    expect(parsed('[{"a":1},{"a":2}]').items.length).toBe(2);
  });

  it("rejects duplicate keys in large objects", () => {
    let text = "{";
    for (let i = 0; i < 50; i++) text += '"k' + i.toString() + '":' + i.toString() + ",";
    text += '"k17":0}';
    expect(errorOf(text).startsWith('duplicate key "k17" at')).toBe(true);
  });

  it("shows a long duplicate key cut short", () => {
    const key = "k".repeat(100);
    const error = errorOf('{"' + key + '":1,"' + key + '":2}');
    expect(error).toBe('duplicate key "' + "k".repeat(40) + '..." at line 1, column 107 (byte 106)');
  });
});

describe("parseJson: truncated and garbage input", () => {
  it("reports where a truncated document ends", () => {
    expect(errorOf('{"a": [1, 2,')).toBe("expected a value after ',' but found end of input at line 1, column 13 (byte 12)");
    expect(errorOf("{")).toBe("expected a string key or '}' but found end of input at line 1, column 2 (byte 1)");
    expect(errorOf("[")).toBe("expected a value or ']' but found end of input at line 1, column 2 (byte 1)");
    expect(errorOf("[1")).toBe("expected ',' or ']' after array element but found end of input at line 1, column 3 (byte 2)");
    expect(errorOf('{"a"')).toBe("expected ':' after object key but found end of input at line 1, column 5 (byte 4)");
    expect(errorOf('{"a":')).toBe("expected a value after ':' but found end of input at line 1, column 6 (byte 5)");
    expect(errorOf('{"a":1')).toBe("expected ',' or '}' after object member but found end of input at line 1, column 7 (byte 6)");
    expect(errorOf('"abc')).toBe("unexpected end of input inside string at line 1, column 5 (byte 4)");
    expect(errorOf('{"ab')).toBe("unexpected end of input inside string at line 1, column 5 (byte 4)");
    expect(errorOf('"ab\\')).toBe("unexpected end of input inside string at line 1, column 5 (byte 4)");
    expect(errorOf('"\\u00')).toBe("unexpected end of input inside string at line 1, column 6 (byte 5)");
    expect(errorOf('"\\ud83d')).toBe("unpaired surrogate \\uD83D in string at line 1, column 2 (byte 1)");
    expect(errorOf("tru")).toBe("unexpected end of input inside literal 'true' at line 1, column 4 (byte 3)");
    expect(errorOf("[fals")).toBe("unexpected end of input inside literal 'false' at line 1, column 6 (byte 5)");
  });

  it("reports truncation at every length of the policy document", () => {
    for (let n = 0; n < POLICY_DOCUMENT.length; n++) {
      const result = parseJsonString(POLICY_DOCUMENT.substring(0, n));
      expect(result.value).toBeNull();
      expect(result.error.length > 0).toBe(true);
    }
  });

  it("reports garbage where a value or key was expected", () => {
    expect(errorOf("{garbage")).toBe("expected a string key or '}' but found 'g' at line 1, column 2 (byte 1)");
    expect(errorOf("garbage")).toBe("expected a value but found 'g' at line 1, column 1 (byte 0)");
    expect(errorOf("trux")).toBe("expected 'true' but found 'trux' at line 1, column 1 (byte 0)");
    expect(errorOf("[nul1]")).toBe("expected 'null' but found 'nul' at line 1, column 2 (byte 1)");
    expect(errorOf("[1 2]")).toBe("expected ',' or ']' after array element but found '2' at line 1, column 4 (byte 3)");
    expect(errorOf('{"a" 1}')).toBe("expected ':' after object key but found '1' at line 1, column 6 (byte 5)");
    expect(errorOf('{"a":1 "b":2}')).toBe("expected ',' or '}' after object member but found '\"' at line 1, column 8 (byte 7)");
    expect(errorOf('{1:2}')).toBe("expected a string key or '}' but found '1' at line 1, column 2 (byte 1)");
    expect(errorOf("[}")).toBe("expected a value or ']' but found '}' at line 1, column 2 (byte 1)");
    expect(errorOf('{"a":1]')).toBe("expected ',' or '}' after object member but found ']' at line 1, column 7 (byte 6)");
  });

  it("counts lines and columns across newlines", () => {
    const text = '{\n  "a": 1,\n  "b": 2 x\n}';
    const result = parseJsonString(text);
    expect(result.error).toBe("expected ',' or '}' after object member but found 'x' at line 3, column 10 (byte 21)");
    expect(result.offset).toBe(21);
    expect(result.line).toBe(3);
    expect(result.column).toBe(10);
  });

  it("rejects the byte order mark and other stray bytes between tokens", () => {
    expect(errorOfBytes([0xEF, 0xBB, 0xBF, 0x31])).toBe("expected a value but found '\uFEFF' at line 1, column 1 (byte 0)");
    expect(errorOfBytes([0x5B, 0x0C, 0x5D])).toBe("expected a value or ']' but found control character U+000C at line 1, column 2 (byte 1)");
  });
});

describe("parseJson: limits", () => {
  it(`accepts ${MAX_DEPTH} nested arrays and objects`, () => {
    const arrays = parsed("[".repeat(MAX_DEPTH) + "]".repeat(MAX_DEPTH));
    expect(arrays.isArray()).toBe(true);
    let objects = "";
    for (let i = 0; i < MAX_DEPTH - 1; i++) objects += '{"a":';
    objects += "{}" + "}".repeat(MAX_DEPTH - 1);
    let v = parsed(objects);
    for (let i = 0; i < MAX_DEPTH - 1; i++) v = member(v, "a");
    expect(v.isObject()).toBe(true);
  });

  it("rejects one level more, at the bracket that goes too deep", () => {
    const depth = MAX_DEPTH + 1;
    expect(errorOf("[".repeat(depth) + "]".repeat(depth))).toBe(
      "too deeply nested: more than 64 nested arrays/objects at line 1, column 65 (byte 64)");
    let objects = "";
    for (let i = 0; i < depth; i++) objects += '{"a":';
    expect(errorOf(objects)).toBe("too deeply nested: more than 64 nested arrays/objects at line 1, column 321 (byte 320)");
  });

  it("rejects 100,000 open brackets without trapping", () => {
    expect(errorOf("[".repeat(100000))).toBe("too deeply nested: more than 64 nested arrays/objects at line 1, column 65 (byte 64)");
    expect(errorOf("[{\"a\":".repeat(50000)).startsWith("too deeply nested")).toBe(true);
  });

  it("parses a string of MAX_STRING_BYTES, with and without escapes", () => {
    const plain = parsed('"' + "a".repeat(MAX_STRING_BYTES) + '"').str;
    expect(plain.length).toBe(MAX_STRING_BYTES);
    const escaped = parsed('"' + "\\n\\u00e9😀".repeat(4000) + '"').str;
    expect(escaped.length).toBe(16000);
    expect(escaped.substring(0, 4)).toBe("\né😀");
  });

  it("refuses a longer string before decoding it, naming the member, the size and the limit", () => {
    const result = parseJsonString('{"metric_prefix": "' + "a".repeat(MAX_STRING_BYTES + 1) + '"}');
    expect(result.value).toBeNull();
    expect(result.error).toBe('string of 65537 bytes (in "metric_prefix") is over the 65536-byte limit for a string at line 1, column 19 (byte 18)');
  });

  it("refuses a document of more than MAX_VALUES values, whatever its shape", () => {
    expect(parseJsonString("[" + "1,".repeat(MAX_VALUES - 2) + "1]").error).toBe("");
    const result = parseJsonString("[" + "1,".repeat(MAX_VALUES - 1) + "1]");
    expect(result.value).toBeNull();
    expect(result.error).toBe("too many values: more than 100000 (the limit for a document) at line 1, column 200000 (byte 199999)");
  });

  it("parses an array of MAX_VALUES - 1 elements", () => {
    const a = parsed("[" + "1,".repeat(MAX_VALUES - 2) + "1]");
    expect(a.items.length).toBe(MAX_VALUES - 1);
  });

  it("parses 1,000 policies", () => {
    const policy = POLICY_DOCUMENT.substring(POLICY_DOCUMENT.indexOf("[") + 1, POLICY_DOCUMENT.lastIndexOf("]"));
    const policies = new Array<string>();
    for (let i = 0; i < 1000; i++) policies.push(policy.replace('"api-abort"', '"policy-' + i.toString() + '"'));
    const text = '{"policies":[' + policies.join(",") + "]}";
    const list = member(parsed(text), "policies");
    expect(list.items.length).toBe(1000);
    expect(member(member(item(list, 999), "metadata"), "name").str).toBe("policy-999");
  });
});

describe("JsonValue.toJson", () => {
  it("toJsonPrefix gives the start of the same text, built no further than asked", () => {
    const v = parsed(' { "b" : [ 1 , 2 ] , "a" : { "d" : null , "c" : true } } ');
    const whole = v.toJson();
    for (let n = 0; n <= whole.length + 2; n++) {
      expect(v.toJsonPrefix(n)).toBe(whole.substring(0, n));
    }
    const big = parsed('["' + "x".repeat(60000) + '", "' + "y".repeat(60000) + '"]');
    expect(big.toJsonPrefix(5)).toBe('["xxx');
  });

  it("writes compact text with object members sorted by key", () => {
    expect(canonical(' { "b" : [ 1 , 2 ] , "a" : { "d" : null , "c" : true } } ')).toBe('{"a":{"c":true,"d":null},"b":[1,2]}');
    expect(canonical("[]")).toBe("[]");
    expect(canonical("{}")).toBe("{}");
    expect(canonical("[false]")).toBe("[false]");
  });

  it("sorts member names by UTF-16 code unit, a prefix of a large object included", () => {
    expect(canonical('{"b":1,"ab":2,"a":3,"B":4,"":5,"\u00e9":6,"z":7}')).toBe('{"":5,"B":4,"a":3,"ab":2,"b":1,"z":7,"\u00e9":6}');
    let text = "{";
    for (let i = 999; i >= 100; i--) text += (i < 999 ? "," : "") + '"k' + i.toString() + '":' + i.toString();
    const big = parsed(text + "}");
    expect(big.toJsonPrefix(23)).toBe('{"k100":100,"k101":101,');
  });

  it("gives the same text for the same content in a different order", () => {
    expect(canonical('{"x":1,"y":{"q":[1,2],"p":"s"}}')).toBe(canonical('{"y":{"p":"s","q":[1,2]},"x":1.0}'));
  });

  it("writes numbers in shortest form", () => {
    expect(canonical("[1, 1.0, -0, 0.1, 12.5, 1e2, 100000000000000000000, 1e21, 1.5e-7, -42]")).toBe(
      "[1,1,0,0.1,12.5,100,100000000000000000000,1e+21,1.5e-7,-42]");
  });

  it("escapes only what JSON requires", () => {
    expect(canonical('"q\\" b\\\\ s\\/ \\b\\f\\n\\r\\t \\u0001 é 😀"')).toBe('"q\\" b\\\\ s/ \\b\\f\\n\\r\\t \\u0001 é 😀"');
    expect(JsonValue.makeString("lone \uD800 high").toJson()).toBe('"lone \\ud800 high"');
    expect(JsonValue.makeString("lone \uDC00").toJson()).toBe('"lone \\udc00"');
  });

  it("round-trips the policy document", () => {
    const once = canonical(POLICY_DOCUMENT);
    expect(canonical(once)).toBe(once);
    expect(once).toBe(
      '{"max_delay_ms":30000,"policies":[{"metadata":{"name":"api-abort"},"spec":{"rules":[{"fault":{"abort":' +
      '{"body":"injected","httpStatus":503},"percentage":100},"match":{"headers":[{"name":"x-user-id",' +
      '"regex":"^test-[0-9]+$"}],"path":{"prefix":"/api/"}}}]}}]}');
  });

  it("round-trips strings with every kind of character", () => {
    let text = "";
    for (let c = 0; c < 0x300; c++) text += String.fromCharCode(c);
    text += "😀中\u2028";
    const json = JsonValue.makeString(text).toJson();
    expect(parsed(json).str).toBe(text);
  });

  it("builds values by hand", () => {
    const o = JsonValue.makeObject();
    expect(o.addMember("b", JsonValue.makeNumber(2, true))).toBe(true);
    expect(o.addMember("a", JsonValue.makeArray())).toBe(true);
    expect(o.addMember("a", JsonValue.makeNull())).toBe(false);
    const a = member(o, "a");
    expect(a.push(JsonValue.makeBool(true))).toBe(true);
    expect(a.push(JsonValue.makeString("s"))).toBe(true);
    expect(JsonValue.makeNull().push(JsonValue.makeNull())).toBe(false);
    expect(JsonValue.makeArray().addMember("k", JsonValue.makeNull())).toBe(false);
    expect(o.toJson()).toBe('{"a":[true,"s"],"b":2}');
  });

  it("writes a non-finite number as null", () => {
    expect(JsonValue.makeNumber(NaN, false).toJson()).toBe("null");
    expect(JsonValue.makeNumber(Infinity, false).toJson()).toBe("null");
  });
});

describe("JsonParseResult", () => {
  it("carries the position of an error", () => {
    const result: JsonParseResult = parseJsonString('[1,\n  2,\n  x]');
    expect(result.ok).toBe(false);
    expect(result.offset).toBe(11);
    expect(result.line).toBe(3);
    expect(result.column).toBe(3);
  });
});

function quoted(text: string): string {
  const w = new Utf8JsonWriter(0);
  w.writeQuoted(text);
  return w.bytes.toString();
}

function integer(value: i64): string {
  const w = new Utf8JsonWriter(0);
  w.writeInteger(value);
  return w.bytes.toString();
}

describe("Utf8JsonWriter", () => {
  it("writes string literals as UTF-8, escaping quotes, backslashes and control characters", () => {
    expect(quoted("plain")).toBe('"plain"');
    expect(quoted("")).toBe('""');
    expect(quoted('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(quoted("\n\u0001")).toBe('"\\u000a\\u0001"');
    expect(quoted("é€😀")).toBe('"é€😀"');
    // A lone surrogate has no UTF-8 form: it is escaped.
    expect(quoted("a\uD800b")).toBe('"a\\ud800b"');
  });

  it("writes a long escaped literal after other text, whatever the buffer held", () => {
    const w = new Utf8JsonWriter(0);
    w.writeAscii("[");
    w.writeQuoted('"\\'.repeat(300));
    w.writeByte(44);
    w.writeQuoted("x");
    w.writeAscii("]");
    expect(w.bytes.toString()).toBe('["' + '\\"\\\\'.repeat(300) + '","x"]');
  });

  it("writes whole numbers", () => {
    expect(integer(0)).toBe("0");
    expect(integer(-1)).toBe("-1");
    expect(integer(1733580000123)).toBe("1733580000123");
    expect(integer(i64.MAX_VALUE)).toBe("9223372036854775807");
    expect(integer(i64.MIN_VALUE)).toBe("-9223372036854775808");
  });
});
