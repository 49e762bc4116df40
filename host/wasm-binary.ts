/**
 * Just enough of the WebAssembly binary format to check a module the way Envoy's linker does:
 * the signature of every imported function and of every exported function. (JavaScript's
 * WebAssembly API does not check the signatures of host functions given as JS functions.)
 */
import type { Signature, ValType } from "./abi";

export interface ImportedFunction {
  module: string;
  field: string;
  signature: Signature;
}

export interface ModuleShape {
  /** Imported functions in import order (non-function imports are listed in otherImports). */
  functionImports: ImportedFunction[];
  otherImports: Array<{ module: string; field: string; kind: "table" | "memory" | "global" | "tag"; initial?: number; maximum?: number }>;
  /** Exported functions by name. */
  functionExports: Map<string, Signature>;
}

const VALTYPES: Record<number, ValType> = { 0x7f: "i32", 0x7e: "i64", 0x7d: "f32", 0x7c: "f64" };

class Reader {
  pos = 0;
  constructor(private readonly bytes: Uint8Array) {}
  get done(): boolean {
    return this.pos >= this.bytes.length;
  }
  byte(): number {
    if (this.pos >= this.bytes.length) throw new Error("unexpected end of module");
    return this.bytes[this.pos++];
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
  }
  name(): string {
    const len = this.u32();
    const s = Buffer.from(this.bytes.subarray(this.pos, this.pos + len)).toString("utf8");
    this.pos += len;
    return s;
  }
  skip(n: number): void {
    this.pos += n;
  }
  limits(): { initial: number; maximum?: number } {
    const flags = this.byte();
    const initial = this.u32();
    const maximum = flags & 1 ? this.u32() : undefined;
    return { initial, maximum };
  }
}

function valtype(r: Reader): ValType {
  const b = r.byte();
  const t = VALTYPES[b];
  if (!t) return "i32"; // reference types never appear in Proxy-Wasm signatures; treat loosely
  return t;
}

/** Parses the sections needed to know import and export signatures. Throws on malformed input. */
export function readModuleShape(bytes: Uint8Array): ModuleShape {
  const r = new Reader(bytes);
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new Error("not a wasm module");
  }
  r.skip(8);
  const types: Signature[] = [];
  const functionImports: ImportedFunction[] = [];
  const otherImports: ModuleShape["otherImports"] = [];
  const functionTypes: number[] = [];
  const exportsRaw: Array<[string, number]> = [];
  while (!r.done) {
    const id = r.byte();
    const size = r.u32();
    const end = r.pos + size;
    if (id === 1) {
      const n = r.u32();
      for (let i = 0; i < n; i++) {
        const form = r.byte();
        if (form !== 0x60) throw new Error("unsupported type form");
        const params: ValType[] = [];
        const results: ValType[] = [];
        for (let p = r.u32(); p > 0; p--) params.push(valtype(r));
        for (let q = r.u32(); q > 0; q--) results.push(valtype(r));
        types.push({ params, results });
      }
    } else if (id === 2) {
      const n = r.u32();
      for (let i = 0; i < n; i++) {
        const module = r.name();
        const field = r.name();
        const kind = r.byte();
        if (kind === 0) {
          const t = r.u32();
          functionImports.push({ module, field, signature: types[t] });
        } else if (kind === 1) {
          r.byte();
          r.limits();
          otherImports.push({ module, field, kind: "table" });
        } else if (kind === 2) {
          otherImports.push({ module, field, kind: "memory", ...r.limits() });
        } else if (kind === 3) {
          r.byte();
          r.byte();
          otherImports.push({ module, field, kind: "global" });
        } else {
          r.byte();
          r.u32();
          otherImports.push({ module, field, kind: "tag" });
        }
      }
    } else if (id === 3) {
      const n = r.u32();
      for (let i = 0; i < n; i++) functionTypes.push(r.u32());
    } else if (id === 7) {
      const n = r.u32();
      for (let i = 0; i < n; i++) {
        const name = r.name();
        const kind = r.byte();
        const index = r.u32();
        if (kind === 0) exportsRaw.push([name, index]);
      }
    }
    r.pos = end;
  }
  const functionExports = new Map<string, Signature>();
  for (const [name, index] of exportsRaw) {
    const s =
      index < functionImports.length
        ? functionImports[index].signature
        : types[functionTypes[index - functionImports.length]];
    if (s) functionExports.set(name, s);
  }
  return { functionImports, otherImports, functionExports };
}
