/**
 * Packs the static data of a compiled module:
 * `node --import tsx scripts/pack-data.ts [--optimize-again] in.wasm out.wasm`.
 *
 * AssemblyScript stores every string literal as UTF-16 behind a 20-byte header, as a thousand
 * small active data segments (binaryen splits them at runs of zeros): half the payload is zero
 * bytes and each segment costs ~7 bytes of framing. This rewrites the data section as ONE
 * segment holding a compact encoding of the same memory image, and adds a Wasm start function
 * (it runs at instantiation, before the host calls `_initialize` or anything else) that
 * expands it in place and then zeroes the encoded copy. The memory every export sees is
 * byte-for-byte the one the compiler laid out (tests/integration/packed-data.test.ts checks
 * it); the code is untouched. See docs/size.md.
 *
 * Encoding: a sequence of tokens, each a control byte `op << 5 | n` (n = 0: the count follows
 * as an unsigned LEB128), then for op 1 `n` bytes copied as they are, for op 2 `n` bytes each
 * written as a 16-bit unit (ASCII UTF-16 text), for op 0 nothing: skip `n` bytes (memory
 * starts zeroed), for op 3 nothing: the 20-byte header of a string object of n units (block
 * size, GC words, String's id, byte length: all follow from n), for op 4 a u16 distance: copy
 * n bytes from that far back in the output (LZ77).
 */
import { readFileSync, writeFileSync } from "node:fs";

type Section = { id: number; body: Uint8Array };

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

class Reader {
  constructor(
    readonly b: Uint8Array,
    public p = 0,
  ) {}
  u8(): number {
    return this.b[this.p++];
  }
  uleb(): number {
    let r = 0;
    let shift = 0;
    for (;;) {
      const x = this.b[this.p++];
      r += (x & 0x7f) * 2 ** shift;
      shift += 7;
      if ((x & 0x80) === 0) return r;
    }
  }
  bytes(n: number): Uint8Array {
    const out = this.b.subarray(this.p, this.p + n);
    this.p += n;
    return out;
  }
}

function readSections(bin: Uint8Array): Section[] {
  const r = new Reader(bin, 8);
  const out: Section[] = [];
  while (r.p < bin.length) {
    const id = r.u8();
    const size = r.uleb();
    out.push({ id, body: r.bytes(size) });
  }
  return out;
}

function section(id: number, body: number[] | Uint8Array): number[] {
  return [id, ...uleb(body.length), ...body];
}

/** AssemblyScript's runtime id of String, and the block size word of a static string of n units. */
const STRING_ID = 2;
const stringBlockInfo = (n: number): number => ((2 * n + 35) & ~15) - 4;

const SKIP = 0;
const BYTES = 1;
const UNITS = 2;
const STRING = 3;
const MATCH = 4;
/** Matches copy from at most this far back (the distance is a u16), at least this long. */
const WINDOW = 65535;
const MIN_MATCH = 4;

const u32le = (v: number): number[] => [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, v >>> 24];

/**
 * Encodes memory[lo, hi) (see the header comment). Matches never copy from [avoidLo, avoidHi):
 * the encoded copy lies there while it is expanded.
 */
export function encode(mem: Uint8Array, lo: number, hi: number, avoidLo = 0, avoidHi = 0): Uint8Array {
  const out: number[] = [];
  const token = (op: number, n: number): void => {
    if (n < 32) out.push((op << 5) | n);
    else out.push(op << 5, ...uleb(n));
  };
  const u32 = (j: number): number => (mem[j] | (mem[j + 1] << 8) | (mem[j + 2] << 16) | (mem[j + 3] << 24)) >>> 0;
  const wide = (j: number): boolean => j + 1 < hi && mem[j] !== 0 && mem[j + 1] === 0;
  /** Characters of an ASCII string object whose block starts at j, or 0. */
  const stringAt = (j: number): number => {
    const bytes = u32(j + 16);
    const n = bytes / 2;
    if (n < 1 || bytes % 2 !== 0 || j + 20 + bytes > hi) return 0;
    if (u32(j) !== stringBlockInfo(n) || u32(j + 4) !== 0 || u32(j + 8) !== 0 || u32(j + 12) !== STRING_ID) return 0;
    for (let k = j + 20; k < j + 20 + bytes; k += 2) if (!wide(k)) return 0;
    return n;
  };
  // Earlier positions by their next 4 bytes.
  const chains = new Map<number, number[]>();
  const key = (j: number): number => u32(j);
  const remember = (from: number, to: number): void => {
    for (let j = from; j < to; j++) {
      const k = key(j);
      const list = chains.get(k);
      if (list) list.push(j);
      else chains.set(k, [j]);
    }
  };
  const longestMatch = (i: number): [number, number] => {
    let bestLen = 0;
    let bestDist = 0;
    const list = chains.get(key(i));
    if (!list) return [0, 0];
    for (let c = list.length - 1, tries = 0; c >= 0 && tries < 1024; c--, tries++) {
      const j = list[c];
      if (i - j > WINDOW) break;
      let len = 0;
      while (i + len < hi && mem[j + len] === mem[i + len] && !(j + len >= avoidLo && j + len < avoidHi)) len++;
      if (len > bestLen) [bestLen, bestDist] = [len, i - j];
    }
    return [bestLen, bestDist];
  };
  let pending: number[] = [];
  let pendingOp = BYTES;
  const flush = (): void => {
    if (pending.length === 0) return;
    token(pendingOp, pending.length);
    out.push(...pending);
    pending = [];
  };
  let i = lo;
  while (i < hi) {
    const start = i;
    const chars = stringAt(i);
    if (chars > 0) {
      flush();
      token(STRING, chars);
      i += 20;
    } else if (mem[i] === 0 && (i + 1 >= hi || mem[i + 1] === 0 || pendingOp !== BYTES || pending.length === 0)) {
      let j = i;
      while (j < hi && mem[j] === 0) j++;
      flush();
      token(SKIP, j - i);
      i = j;
    } else {
      const [len, dist] = i + 4 <= hi ? longestMatch(i) : [0, 0];
      // A match costs 3-5 bytes; the same bytes as literals cost one per byte, or one per unit.
      const literalCost = wide(i) ? len / 2 : len;
      const step = wide(i) ? 2 : 1;
      // Lazy: a longer match one literal later wins.
      const later = len >= MIN_MATCH && i + step + 4 <= hi ? longestMatch(i + step)[0] : 0;
      if (len >= MIN_MATCH && later <= len + step && literalCost > 3 + (len >= 32 ? uleb(len).length : 0)) {
        flush();
        token(MATCH, len);
        out.push(dist & 255, dist >> 8);
        i += len;
      } else {
        const op = wide(i) ? UNITS : BYTES;
        if (op !== pendingOp) flush();
        pendingOp = op;
        pending.push(mem[i]);
        i += op;
      }
    }
    remember(start, i);
  }
  flush();
  return Uint8Array.from(out);
}

/**
 * The start function's algorithm, in JS: expands `blob` into mem from `lo`. With `at`, the
 * blob is first placed in mem at `at` and zeroed at the end, as in the module.
 */
export function decode(blob: Uint8Array, mem: Uint8Array, lo: number, at = -1): void {
  let src = 0;
  const input = at < 0 ? blob : mem;
  if (at >= 0) {
    mem.set(blob, at);
    src = at;
  }
  const end = src + blob.length;
  const byte = (): number => input[src++];
  let dst = lo;
  while (src < end) {
    const c = byte();
    let n = c & 31;
    if (n === 0) for (let shift = 0, b = 128; b & 128; shift += 7) n |= ((b = byte()) & 127) << shift;
    const op = c >> 5;
    if (op === SKIP) dst += n;
    else if (op === STRING) {
      mem.set([...u32le(stringBlockInfo(n)), 0, 0, 0, 0, 0, 0, 0, 0, ...u32le(STRING_ID), ...u32le(2 * n)], dst);
      dst += 20;
    } else if (op === MATCH) {
      const dist = byte() | (byte() << 8);
      for (; n > 0; n--, dst++) mem[dst] = mem[dst - dist];
    } else
      for (; n > 0; n--) {
        mem[dst] = byte();
        if (op === UNITS) mem[dst + 1] = 0;
        dst += op;
      }
  }
  if (at >= 0) mem.fill(0, at, end);
}

/** The start function's body: locals src, dst, c, n, shift, t (all i32). */
function unpackBody(src: number, end: number, dst: number): number[] {
  const [SRC, DST, C, N, SH, T] = [0, 1, 2, 3, 4, 5];
  const get = (l: number): number[] => [0x20, l];
  const set = (l: number): number[] => [0x21, l];
  const tee = (l: number): number[] => [0x22, l];
  const i32 = (v: number): number[] => [0x41, ...sleb(v | 0)];
  const load8 = [0x2d, 0, 0];
  const load16 = [0x2f, 0, 0];
  const store8 = [0x3a, 0, 0];
  const store16 = [0x3b, 0, 0];
  const store32 = (offset: number): number[] => [0x36, 2, ...uleb(offset)];
  const [ADD, AND, OR, SHL, SHR_U, EQZ, EQ, LT_U, SUB] = [0x6a, 0x71, 0x72, 0x74, 0x76, 0x45, 0x46, 0x49, 0x6b];
  const [LOOP, IF, ELSE, END, BR_IF, VOID] = [0x03, 0x04, 0x05, 0x0b, 0x0d, 0x40];
  const advance = (local: number, by: number[]): number[] => [...get(local), ...by, ADD, ...set(local)];
  const nextByte = (into: number): number[] => [...get(SRC), ...load8, ...set(into), ...advance(SRC, i32(1))];
  const nMinus1BrIf = [...get(N), ...i32(1), SUB, ...tee(N), BR_IF, 0];
  const code = [
    ...i32(src), ...set(SRC),
    ...i32(dst), ...set(DST),
    LOOP, VOID,
      ...nextByte(C),
      ...get(C), ...i32(31), AND, ...set(N),
      ...get(N), EQZ, IF, VOID,
        ...i32(0), ...set(SH),
        LOOP, VOID,
          ...nextByte(T),
          ...get(N), ...get(T), ...i32(127), AND, ...get(SH), SHL, OR, ...set(N),
          ...advance(SH, i32(7)),
          ...get(T), ...i32(128), AND, BR_IF, 0,
        END,
      END,
      ...get(C), ...i32(5), SHR_U, ...set(C),
      ...get(C), EQZ, IF, VOID,
        ...advance(DST, get(N)),
      ELSE,
        ...get(C), ...i32(STRING), EQ, IF, VOID,
          // A string object's header: block size, zero GC words, String's id, byte length.
          ...get(DST), ...get(N), ...i32(1), SHL, ...i32(35), ADD, ...i32(-16), AND, ...i32(4), SUB, ...store32(0),
          ...get(DST), ...i32(STRING_ID), ...store32(12),
          ...get(DST), ...get(N), ...i32(1), SHL, ...store32(16),
          ...advance(DST, i32(20)),
        ELSE,
          ...get(C), ...i32(MATCH), EQ, IF, VOID,
            // Copy n bytes from `distance` (a u16) back, one at a time (they may overlap).
            ...get(SRC), ...load16, ...set(T),
            ...advance(SRC, i32(2)),
            LOOP, VOID,
              ...get(DST), ...get(DST), ...get(T), SUB, ...load8, ...store8,
              ...advance(DST, i32(1)),
              ...nMinus1BrIf,
            END,
          ELSE,
            // Copy n bytes, each as one byte (op 1) or as a 16-bit unit (op 2). A 16-bit
            // store also zeroes the byte after a copied one: the next token overwrites it,
            // or it is inside a run of zeros.
            LOOP, VOID,
              ...get(DST), ...get(SRC), ...load8, ...store16,
              ...advance(DST, get(C)),
              ...advance(SRC, i32(1)),
              ...nMinus1BrIf,
            END,
          END,
        END,
      END,
      ...get(SRC), ...i32(end), LT_U, BR_IF, 0,
    END,
    // The encoded copy sits in memory the image has as zeros: zero it again.
    ...i32(src), ...i32(0), ...i32(end - src), 0xfc, 0x0b, 0x00,
    END,
  ];
  return [0x01, 0x06, 0x7f, ...code];
}

export function pack(input: Uint8Array): Uint8Array<ArrayBuffer> {
  const sections = readSections(input);
  const find = (id: number): Section | undefined => sections.find((s) => s.id === id);
  if (find(8)) throw new Error("pack-data: the module already has a start section");

  // The memory image of the active segments.
  const data = find(11);
  if (!data) return new Uint8Array(input);
  const memSection = new Reader(find(5)!.body);
  if (memSection.uleb() !== 1) throw new Error("pack-data: expected one memory");
  memSection.u8();
  const memoryEnd = memSection.uleb() * 65536;
  const mem = new Uint8Array(memoryEnd);
  const dr = new Reader(data.body);
  const count = dr.uleb();
  let lo = Infinity;
  let hi = 0;
  for (let i = 0; i < count; i++) {
    if (dr.uleb() !== 0 || dr.u8() !== 0x41) throw new Error("pack-data: only active segments at i32.const offsets");
    const offset = dr.uleb(); // i32.const of a small positive value: the sleb reads the same
    if (dr.u8() !== 0x0b) throw new Error("pack-data: unexpected offset expression");
    const bytes = dr.bytes(dr.uleb());
    mem.set(bytes, offset);
    lo = Math.min(lo, offset);
    hi = Math.max(hi, offset + bytes.length);
  }
  // Where the encoded copy lives until it is expanded: inside the image's longest run of zeros
  // (a static buffer), 16 bytes clear of its ends, or else at the top of the initial memory.
  // The encoding without matches bounds its length.
  const bound = encode(mem, lo, hi, 0, memoryEnd).length;
  let at = -1;
  let best = 0;
  for (let i = lo; i < hi; ) {
    if (mem[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < hi && mem[j] === 0) j++;
    if (j - i > best) [best, at] = [j - i, i + 16];
    i = j;
  }
  if (best < bound + 32) at = memoryEnd - bound;
  if (best < bound + 32 && at < hi) throw new Error("pack-data: no room for the encoded data in the initial memory");
  const blob = encode(mem, lo, hi, at, at + bound);
  if (blob.length > bound) throw new Error("pack-data: the encoding with matches is longer than without");
  const check = new Uint8Array(memoryEnd);
  decode(blob, check, lo, at);
  for (let i = 0; i < memoryEnd; i++) if (check[i] !== mem[i]) throw new Error(`pack-data: round trip differs at ${i}`);

  // Type () -> (): reuse it or append it.
  const types = new Reader(find(1)!.body);
  const typeCount = types.uleb();
  let voidType = -1;
  for (let i = 0; i < typeCount; i++) {
    const start = types.p;
    types.u8();
    const params = types.uleb();
    types.bytes(params);
    const results = types.uleb();
    types.bytes(results);
    if (params === 0 && results === 0 && types.p - start === 3) voidType = i;
  }
  let typeBody: number[] | Uint8Array = find(1)!.body;
  if (voidType < 0) {
    voidType = typeCount;
    typeBody = [...uleb(typeCount + 1), ...types.b.subarray(uleb(typeCount).length), 0x60, 0, 0];
  }

  // Functions: the new one comes last, after the imported ones and the module's own.
  const imports = new Reader(find(2)?.body ?? Uint8Array.of(0));
  let importedFunctions = 0;
  for (let i = 0, n = imports.uleb(); i < n; i++) {
    imports.bytes(imports.uleb());
    imports.bytes(imports.uleb());
    const kind = imports.u8();
    if (kind === 0) {
      importedFunctions++;
      imports.uleb();
    } else if (kind === 1) {
      imports.u8();
      const flags = imports.u8();
      imports.uleb();
      if (flags & 1) imports.uleb();
    } else if (kind === 2) {
      const flags = imports.u8();
      imports.uleb();
      if (flags & 1) imports.uleb();
    } else if (kind === 3) {
      imports.u8();
      imports.u8();
    } else throw new Error(`pack-data: import kind ${kind}`);
  }
  const funcs = new Reader(find(3)!.body);
  const ownFunctions = funcs.uleb();
  const funcBody = [...uleb(ownFunctions + 1), ...funcs.b.subarray(funcs.p), ...uleb(voidType)];
  const code = new Reader(find(10)!.body);
  const bodies = code.uleb();
  const unpack = unpackBody(at, at + blob.length, lo);
  const codeBody = [...uleb(bodies + 1), ...code.b.subarray(code.p), ...uleb(unpack.length), ...unpack];
  const start = uleb(importedFunctions + ownFunctions);
  const segment = [...uleb(1), 0, 0x41, ...sleb(at), 0x0b, ...uleb(blob.length), ...blob];

  const out: number[][] = [[...input.subarray(0, 8)]];
  for (const s of sections) {
    if (s.id === 1) out.push(section(1, typeBody));
    else if (s.id === 3) out.push(section(3, funcBody));
    else if (s.id === 10) out.push(section(10, codeBody));
    else if (s.id === 11) out.push(section(11, segment));
    else if (s.id === 12) out.push(section(12, uleb(1)));
    else out.push(section(s.id, s.body));
    // The start section goes after the exports (7), before elements (9), data count (12), code (10).
    if (s.id === 7) out.push(section(8, start));
  }
  if (!sections.some((s) => s.id === 7)) throw new Error("pack-data: the module has no exports");
  return Uint8Array.from(out.flat());
}

/**
 * binaryen's -O3 pipeline once more over the compiler's output, with binaryen's size passes
 * (shrinkLevel 2) but still inlining the tiny getters and setters (alwaysInlineMaxSize 6) whose
 * calls made shrinkLevel 2 alone slow on the hot path: functions that became small after the
 * first round are inlined and dropped. See docs/size.md.
 */
export async function optimizeAgain(input: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  const binaryen = (await import("binaryen")).default;
  const module = binaryen.readBinary(input);
  try {
    const f = binaryen.Features;
    module.setFeatures(f.MutableGlobals | f.SignExt | f.NontrappingFPToInt | f.BulkMemory);
    if (!module.validate()) throw new Error("pack-data: the compiler's module does not validate with its features");
    binaryen.setOptimizeLevel(3);
    binaryen.setShrinkLevel(2);
    binaryen.setAlwaysInlineMaxSize(6);
    module.optimize();
    return new Uint8Array(module.emitBinary());
  } finally {
    module.dispose();
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const again = args[0] === "--optimize-again";
  const [from, to] = again ? args.slice(1) : args;
  const input = readFileSync(from);
  const optimized = again ? await optimizeAgain(input) : input;
  const output = pack(optimized);
  if (!WebAssembly.validate(output)) throw new Error("pack-data: the packed module does not validate");
  writeFileSync(to, output);
  const step = again ? ` -> ${optimized.length} (optimized again)` : "";
  console.log(`pack-data: ${to}: ${input.length}${step} -> ${output.length} bytes`);
}

if (process.argv[1]?.endsWith("pack-data.ts")) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
