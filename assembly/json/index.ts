// Strict JSON (RFC 8259) for bytes from outside the proxy: errors come back as values, never
// as aborts. `parseJson` is the entry for host buffers (plugin configuration, control-plane
// bodies). Limits: MAX_DEPTH nested arrays/objects, MAX_STRING_BYTES per string, MAX_VALUES
// per document (so the tree stays small whatever the input's shape); numbers must be finite
// doubles; strings must be valid UTF-8 with paired \u surrogates. Callers cap body sizes.
import { JsonParseResult, parseUtf8 } from "./parser";

export { JsonKind, JsonValue } from "./value";
export { JsonParseResult, MAX_DEPTH, MAX_STRING_BYTES, MAX_VALUES } from "./parser";

// Parses UTF-8 bytes as received from the host.
export function parseJson(bytes: ArrayBuffer): JsonParseResult {
  return parseUtf8(bytes);
}

// Parses text already in a string; error offsets count bytes of its UTF-8 encoding.
export function parseJsonString(text: string): JsonParseResult {
  return parseUtf8(String.UTF8.encode(text));
}
