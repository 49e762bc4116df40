/**
 * Packs the static data of a compiled module: `node --import tsx scripts/pack-data.ts in.wasm out.wasm`.
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
 * Encoding: a sequence of tokens, each a control byte `op << 6 | n` (n = 0: the count follows
 * as an unsigned LEB128), then for op 1 `n` bytes copied as they are, for op 2 `n` bytes each
 * written as a 16-bit unit (ASCII UTF-16 text), for op 0 nothing: skip `n` bytes (memory
 * starts zeroed), for op 3 an ASCII string object of n units (its 20-byte header, computed,
 * then the units as op 2).
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

/** Encodes memory[lo, hi) (see the header comment). */
export function encode(mem: Uint8Array, lo: number, hi: number): Uint8Array {
  const out: number[] = [];
  const token = (op: number, n: number): void => {
    if (n < 64) out.push((op << 6) | n);
    else out.push(op << 6, ...uleb(n));
  };
  const wide = (j: number): boolean => j + 1 < hi && mem[j] !== 0 && mem[j + 1] === 0;
  const zeros = (j: number): boolean => j + 2 < hi && mem[j] === 0 && mem[j + 1] === 0 && mem[j + 2] === 0;
  const u32 = (j: number): number => (mem[j] | (mem[j + 1] << 8) | (mem[j + 2] << 16) | (mem[j + 3] << 24)) >>> 0;
  /** Characters of an ASCII string object whose block starts at j, or 0. */
  const stringAt = (j: number): number => {
    const bytes = u32(j + 16);
    const n = bytes / 2;
    if (n < 1 || bytes % 2 !== 0 || j + 20 + bytes > hi) return 0;
    if (u32(j) !== stringBlockInfo(n) || u32(j + 4) !== 0 || u32(j + 8) !== 0 || u32(j + 12) !== STRING_ID) return 0;
    for (let k = j + 20; k < j + 20 + bytes; k += 2) if (!wide(k)) return 0;
    return n;
  };
  let i = lo;
  while (i < hi) {
    let j = i;
    const chars = stringAt(i);
    if (chars > 0) {
      token(3, chars);
      for (let k = i + 20; k < i + 20 + 2 * chars; k += 2) out.push(mem[k]);
      i += 20 + 2 * chars;
      continue;
    }
    if (mem[i] === 0) {
      while (j < hi && mem[j] === 0) j++;
      token(0, j - i);
    } else {
      while (wide(j)) j += 2;
      if (j - i >= 6) {
        token(2, (j - i) / 2);
        for (let k = i; k < j; k += 2) out.push(mem[k]);
      } else {
        j = i + 1;
        while (j < hi && !zeros(j) && !(wide(j) && wide(j + 2) && wide(j + 4))) j++;
        token(1, j - i);
        for (let k = i; k < j; k++) out.push(mem[k]);
      }
    }
    i = j;
  }
  return Uint8Array.from(out);
}

const u32le = (v: number): number[] => [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, v >>> 24];

/** The start function's algorithm, in JS: checks the encoding before the module is written. */
export function decode(blob: Uint8Array, mem: Uint8Array, lo: number): void {
  const r = new Reader(blob);
  let dst = lo;
  while (r.p < blob.length) {
    const c = r.u8();
    let n = c & 63;
    if (n === 0) n = r.uleb();
    let op = c >> 6;
    if (op === 3) {
      mem.set([...u32le(stringBlockInfo(n)), 0, 0, 0, 0, 0, 0, 0, 0, ...u32le(STRING_ID), ...u32le(2 * n)], dst);
      dst += 20;
      op = 2;
    }
    if (op === 0) dst += n;
    else
      for (; n > 0; n--) {
        mem[dst] = r.u8();
        if (op === 2) mem[dst + 1] = 0;
        dst += op;
      }
  }
}

/** The start function's body: locals src, dst, c, n, shift, t (all i32). */
function unpackBody(src: number, end: number, dst: number): number[] {
  const [SRC, DST, C, N, SH, T] = [0, 1, 2, 3, 4, 5];
  const get = (l: number): number[] => [0x20, l];
  const set = (l: number): number[] => [0x21, l];
  const i32 = (v: number): number[] => [0x41, ...sleb(v | 0)];
  const load8 = [0x2d, 0, 0];
  const store16 = [0x3b, 0, 0];
  const store32 = (offset: number): number[] => [0x36, 2, ...uleb(offset)];
  const [ADD, AND, OR, SHL, SHR_U, EQZ, EQ, LT_U, SUB] = [0x6a, 0x71, 0x72, 0x74, 0x76, 0x45, 0x46, 0x49, 0x6b];
  const [LOOP, IF, ELSE, END, BR_IF, VOID] = [0x03, 0x04, 0x05, 0x0b, 0x0d, 0x40];
  const nextByte = (into: number): number[] => [...get(SRC), ...load8, ...set(into), ...get(SRC), ...i32(1), ADD, ...set(SRC)];
  const code = [
    ...i32(src), ...set(SRC),
    ...i32(dst), ...set(DST),
    LOOP, VOID,
      ...nextByte(C),
      ...get(C), ...i32(63), AND, ...set(N),
      ...get(N), EQZ, IF, VOID,
        ...i32(0), ...set(SH),
        LOOP, VOID,
          ...nextByte(T),
          ...get(N), ...get(T), ...i32(127), AND, ...get(SH), SHL, OR, ...set(N),
          ...get(SH), ...i32(7), ADD, ...set(SH),
          ...get(T), ...i32(128), AND, BR_IF, 0,
        END,
      END,
      ...get(C), ...i32(6), SHR_U, ...set(C),
      // op 3: a string object's header (block size, zero GC words, String's id, byte
      // length), then its n units as op 2.
      ...get(C), ...i32(3), EQ, IF, VOID,
        ...get(DST), ...get(N), ...i32(1), SHL, ...i32(35), ADD, ...i32(-16), AND, ...i32(4), SUB, ...store32(0),
        ...get(DST), ...i32(STRING_ID), ...store32(12),
        ...get(DST), ...get(N), ...i32(1), SHL, ...store32(16),
        ...get(DST), ...i32(20), ADD, ...set(DST),
        ...i32(2), ...set(C),
      END,
      ...get(C), EQZ, IF, VOID,
        ...get(DST), ...get(N), ADD, ...set(DST),
      ELSE,
        // Copy n bytes, each as one byte (op 1) or as a 16-bit unit (op 2). A 16-bit store
        // also zeroes the byte after a copied one: the next token overwrites it, or it is
        // inside a run of zeros.
        LOOP, VOID,
          ...get(DST), ...get(SRC), ...load8, ...store16,
          ...get(DST), ...get(C), ADD, ...set(DST),
          ...get(SRC), ...i32(1), ADD, ...set(SRC),
          ...get(N), ...i32(1), SUB, 0x22, N, BR_IF, 0,
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
  const blob = encode(mem, lo, hi);
  const check = new Uint8Array(memoryEnd);
  decode(blob, check, lo);
  for (let i = 0; i < memoryEnd; i++) if (check[i] !== mem[i]) throw new Error(`pack-data: round trip differs at ${i}`);

  // Where the encoded copy lives until it is expanded: inside the image's longest run of zeros
  // (a static buffer), 16 bytes clear of its ends, or else at the top of the initial memory.
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
  if (best < blob.length + 32) at = memoryEnd - blob.length;
  if (best < blob.length + 32 && at < hi) throw new Error("pack-data: no room for the encoded data in the initial memory");

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

if (process.argv[1]?.endsWith("pack-data.ts")) {
  const [from, to] = process.argv.slice(2);
  const input = readFileSync(from);
  const output = pack(input);
  if (!WebAssembly.validate(output)) throw new Error("pack-data: the packed module does not validate");
  writeFileSync(to, output);
  console.log(`pack-data: ${to}: ${input.length} -> ${output.length} bytes`);
}
