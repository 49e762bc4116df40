/**
 * One YAML document read as the `yaml` package's parseDocument reads it (same nodes, values,
 * ranges' starts and errors), in time and memory linear in its size.
 *
 * parseDocument is Parser (text to CST tokens) then Composer (tokens to nodes). The parser is
 * linear, but the composer builds a double-quoted scalar's value one character at a time, some
 * 30 bytes of heap per character until the string is flattened (a 50 MiB string took 2.2 GB),
 * and checks each key of a map against every key before it. Here a long double-quoted value
 * (every JSON string is one) is resolved in pieces instead, each piece by the package itself,
 * and the composer is handed a stand-in of the same length that it reads as it is; the node
 * then gets the real value. A document with a large map has its duplicate keys found here.
 *
 * The document's aliases are counted on the way (YAML's "billion laughs" is a handful of
 * anchors and aliases that expand exponentially; the caller caps them).
 */
import { Composer, isNode, isScalar, Parser, visit, YAMLParseError, type CST, type Document, type ErrorCode, type LineCounter, type Scalar } from "yaml";

/** Double-quoted scalars at least this long (their source) are resolved in pieces. */
const LONG_SCALAR = 16 * 1024;
/** Longest piece handed to the package at once (its transient cost is ~30 bytes a character). */
const PIECE = 4 * 1024;
/** Resolved pieces are joined into flat blocks of about this many characters. */
const BLOCK = 256 * 1024;
/**
 * Keys of a map the package checks for duplicates itself: it compares each key with every key
 * before it, so a map of 20,000 keys took seconds. A document with a larger map is checked here
 * instead, with a set (same rule, same error), and the package's check is turned off for it.
 */
const MAP_KEYS = 256;

export interface ReadDocument {
  doc: Document.Parsed;
  /** Alias nodes (`*name`) in the document. */
  aliases: number;
}

type Token = CST.Token;
type Item = { start: CST.SourceToken[]; key?: Token | null; sep?: CST.SourceToken[]; value?: Token };

type ValueError = { offset: number; code: ErrorCode; message: string };

/** Sizes (tests make them small to compare piecewise resolution with the package's own). */
export interface ReadLimits {
  longScalar: number;
  piece: number;
  mapKeys: number;
}

const LIMITS: ReadLimits = { longScalar: LONG_SCALAR, piece: PIECE, mapKeys: MAP_KEYS };

/** parseDocument(text, { lineCounter, prettyErrors: false }), linear in the text. */
export function readYamlDocument(text: string, lineCounter: LineCounter, limits: ReadLimits = LIMITS): ReadDocument {
  const tokens = [...new Parser(lineCounter.addNewLine).parse(text)];
  /** Long scalars' values by their offset; their errors by where their stand-in's error is. */
  const longs = new Map<number, string>();
  const marks = new Map<number, ValueError[]>();
  let aliases = 0;
  let largeMap = false;
  const stack: Token[] = [...tokens];
  const rewrite = (item: { value?: Token }, props: CST.SourceToken[][]) => {
    const t = item.value;
    if (!t || t.type !== "double-quoted-scalar" || t.source.length < limits.longScalar) return;
    // A tag would resolve the stand-in's text, not the value: such a scalar is left as it is.
    if (props.some((list) => list.some((s) => s.type === "tag"))) return;
    const resolved = resolveDoubleQuoted(t.source, limits.piece);
    longs.set(t.offset, resolved.value);
    // The stand-in is the scalar's own source taken as a single-quoted scalar: the same length,
    // so every range and position the composer derives from it is the one it would derive from
    // the scalar, and the package takes its content as it is (a slice; line breaks folded line
    // by line). It ends with `"`, not `'`: the composer's error about that marks where in its
    // sequence of errors the value's own ones (often none) belong. An unclosed scalar that
    // happens to end with `'` gets a stand-in of x's instead.
    const source = t.source;
    const marked = source.endsWith('"') ? source : `'${"x".repeat(source.length - 1)}`;
    marks.set(t.offset + source.length, resolved.errors.map((e) => ({ ...e, offset: t.offset + e.offset })));
    (t as { type: string }).type = "single-quoted-scalar";
    t.source = marked;
  };
  while (stack.length > 0) {
    const t = stack.pop()!;
    switch (t.type) {
      case "alias":
        aliases++;
        break;
      case "document":
        rewrite(t, [t.start]);
        if (t.value) stack.push(t.value);
        break;
      case "block-map":
      case "block-seq":
      case "flow-collection":
        if (t.items.length > limits.mapKeys && (t.type === "block-map" || (t.type === "flow-collection" && t.start.source === "{"))) largeMap = true;
        for (const item of t.items as Item[]) {
          rewrite(item, [item.start, item.sep ?? []]);
          if (item.key) stack.push(item.key);
          if (item.value) stack.push(item.value);
        }
        break;
    }
  }
  const composer = new Composer(largeMap ? { lineCounter, prettyErrors: false, uniqueKeys: false } : { lineCounter, prettyErrors: false });
  let doc: Document.Parsed | undefined;
  for (const d of composer.compose(tokens, true, text.length)) {
    if (!doc) doc = d;
    else {
      // As parseDocument: one document, the next one is an error.
      doc.errors.push(new YAMLParseError([d.range[0], d.range[1]], "MULTIPLE_DOCS", "Source contains multiple documents; please use YAML.parseAllDocuments()"));
      break;
    }
  }
  if (!doc) throw new Error("yaml: the composer gave no document"); // compose(…, true) always does
  if (longs.size > 0) {
    visit(doc, {
      Scalar(_key, node: Scalar) {
        const value = node.range && node.type === "QUOTE_SINGLE" ? longs.get(node.range[0]) : undefined;
        if (value === undefined) return;
        node.value = value;
        node.type = "QUOTE_DOUBLE";
      },
    });
  }
  if (largeMap) duplicateKeys(doc);
  if (marks.size > 0) {
    doc.errors = doc.errors.flatMap((e) => {
      const errors = e.code === "MISSING_CHAR" && e.message === "Missing closing 'quote" ? marks.get(e.pos[0]) : undefined;
      return errors ? errors.map((x) => new YAMLParseError([x.offset, x.offset + 1], x.code, x.message)) : [e];
    });
  }
  return { doc, aliases };
}

/**
 * The package's duplicate-key check (uniqueKeys: two keys are the same when they are the same
 * node or scalars of equal value), in linear time: each duplicate is an error at its key. When
 * duplicates are a document's only errors the list is the package's; beside other errors they
 * are placed by position, where the package may have raised one of the others first (an error
 * about a whole map comes after its keys' errors): only which error hfi shows first can differ.
 */
function duplicateKeys(doc: Document.Parsed): void {
  const found: YAMLParseError[] = [];
  visit(doc, {
    Map(_key, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        const key = pair.key as unknown;
        const value = isScalar(key) ? key.value : key;
        if (typeof value === "number" && Number.isNaN(value)) continue; // NaN is not equal to itself
        if (!seen.has(value)) {
          seen.add(value);
          continue;
        }
        const at = isNode(key) && key.range ? key.range[0] : (map.range?.[0] ?? 0);
        found.push(new YAMLParseError([at, at + 1], "DUPLICATE_KEY", "Map keys must be unique"));
      }
    },
  });
  if (found.length === 0) return;
  const errors: YAMLParseError[] = [];
  let i = 0;
  found.sort((a, b) => a.pos[0] - b.pos[0]);
  for (const e of doc.errors) {
    while (i < found.length && found[i].pos[0] <= e.pos[0]) errors.push(found[i++]);
    errors.push(e);
  }
  errors.push(...found.slice(i));
  doc.errors = errors;
}

/**
 * The value of a double-quoted scalar (its source, quotes included) and the package's errors
 * in it (offsets within the source), resolved in pieces of at most PIECE characters.
 *
 * A piece may end only where the package's own resolver, reading the whole scalar, would start
 * a fresh step with nothing carried over: after an ordinary character or a complete escape
 * (`\n`, `\x41`, `\"`...), never inside an escape nor after a space, tab or line break (those
 * look ahead to fold or trim). Each piece is resolved as a scalar of its own, so the package's
 * rules and messages apply unchanged.
 */
export function resolveDoubleQuoted(source: string, pieceLength = PIECE): { value: string; errors: Array<{ offset: number; code: ErrorCode; message: string }> } {
  // Nothing to unescape, fold or trim, and closed: the value is the content (a slice, no copy).
  if (source.length >= 2 && source.endsWith('"') && !SPECIAL.test(source.slice(1, -1))) return { value: source.slice(1, -1), errors: [] };
  const blocks: string[] = [];
  let group: string[] = [];
  let groupLength = 0;
  const errors: Array<{ offset: number; code: ErrorCode; message: string }> = [];
  const add = (s: string) => {
    group.push(s);
    groupLength += s.length;
    if (groupLength >= BLOCK) {
      blocks.push(group.join(""));
      group = [];
      groupLength = 0;
    }
  };
  const resolve = (start: number, end: number, last: boolean) => {
    // source[start, end) is content; the last piece keeps the scalar's own closing quote.
    const content = source.slice(start, end);
    if (!last && !SPECIAL.test(content)) {
      add(content);
      return;
    }
    const piece = last ? `"${content}` : `"${content}"`;
    const r = resolvePiece(piece);
    for (const e of r.errors) errors.push({ offset: start - 1 + e.offset, code: e.code, message: e.message });
    add(r.value);
  };
  let start = 1;
  let i = 1;
  let cut = true; // a piece may end at i
  while (i < source.length) {
    if (cut && i - start >= pieceLength) {
      resolve(start, i, false);
      start = i;
    }
    const c = source.charCodeAt(i);
    if (c === 0x5c /* \ */) {
      const next = source[i + 1];
      if (next === "\n" || next === "\r") {
        i += 2;
        cut = false;
      } else {
        i += 2 + (next === "x" ? 2 : next === "u" ? 4 : next === "U" ? 8 : 0);
        cut = true;
      }
    } else {
      i++;
      cut = !(c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d);
    }
  }
  resolve(start, source.length, true);
  if (group.length > 0) blocks.push(group.join(""));
  return { value: blocks.length === 1 ? blocks[0] : blocks.join(""), errors };
}

/** Characters the resolver treats specially: a piece without them is its own value. */
const SPECIAL = /[\\ \t\n\r"]/;

/** One double-quoted scalar (a whole `"..."` source) resolved by the package's composer. */
function resolvePiece(source: string): { value: string; errors: Array<{ offset: number; code: ErrorCode; message: string }> } {
  const token: CST.Document = {
    type: "document",
    offset: 0,
    start: [],
    value: { type: "double-quoted-scalar", offset: 0, indent: 0, source },
  };
  const doc = [...new Composer().compose([token], true, source.length)][0];
  const contents = doc.contents;
  const value = isScalar(contents) && typeof contents.value === "string" ? contents.value : "";
  return { value, errors: doc.errors.map((e) => ({ offset: e.pos[0], code: e.code, message: e.message })) };
}
