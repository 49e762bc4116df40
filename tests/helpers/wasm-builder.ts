/**
 * A tiny WebAssembly binary builder for host conformance fixtures: modules with chosen imports,
 * exports and simple function bodies (no toolchain needed), plus the benchmark's "floor"
 * module that exports the Proxy-Wasm ABI and returns Continue everywhere.
 */

export type ValType = "i32" | "i64";
const VAL: Record<ValType, number> = { i32: 0x7f, i64: 0x7e };

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  let v = BigInt(n);
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

function name(s: string): number[] {
  const b = [...Buffer.from(s, "utf8")];
  return [...uleb(b.length), ...b];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

/** Instruction helpers: each returns the bytes of one instruction. */
export const op = {
  i32: (n: number): number[] => [0x41, ...sleb(n | 0)],
  i64: (n: number | bigint): number[] => [0x42, ...sleb(Number(n))],
  get: (i: number): number[] => [0x20, ...uleb(i)],
  set: (i: number): number[] => [0x21, ...uleb(i)],
  call: (f: number): number[] => [0x10, ...uleb(f)],
  drop: [0x1a],
  unreachable: [0x00],
  ret: [0x0f],
  /** i32.store offset=0 align=2 (address, value on the stack). */
  store32: [0x36, 0x02, 0x00],
  /** i32.load offset=0 align=2. */
  load32: [0x28, 0x02, 0x00],
  add: [0x6a],
};

interface FuncDef {
  type: number;
  locals: ValType[];
  body: number[];
}

export class WasmModuleBuilder {
  private types: Array<{ params: ValType[]; results: ValType[] }> = [];
  private imports: Array<{ module: string; field: string; type: number }> = [];
  private funcs: FuncDef[] = [];
  private exports: Array<{ name: string; kind: number; index: number }> = [];
  private data: Array<{ offset: number; bytes: number[] }> = [];
  private memoryPages = 1;
  private start: number | undefined;
  private dataEnd = 1024;

  private typeIndex(params: ValType[], results: ValType[]): number {
    const key = JSON.stringify([params, results]);
    const i = this.types.findIndex((t) => JSON.stringify([t.params, t.results]) === key);
    if (i >= 0) return i;
    this.types.push({ params, results });
    return this.types.length - 1;
  }

  /** Adds a function import; returns its function index. Import all before defining functions. */
  importFunction(module: string, field: string, params: ValType[], results: ValType[] = ["i32"]): number {
    if (this.funcs.length > 0) throw new Error("import functions before defining any");
    this.imports.push({ module, field, type: this.typeIndex(params, results) });
    return this.imports.length - 1;
  }

  /** Defines a function (body without the final `end`); returns its function index. */
  func(params: ValType[], results: ValType[], body: number[][] | number[], opts: { export?: string; locals?: ValType[] } = {}): number {
    const flat = (body as unknown[]).flat() as number[];
    this.funcs.push({ type: this.typeIndex(params, results), locals: opts.locals ?? [], body: flat });
    const index = this.imports.length + this.funcs.length - 1;
    if (opts.export) this.exports.push({ name: opts.export, kind: 0, index });
    return index;
  }

  exportFunction(name: string, index: number): this {
    this.exports.push({ name, kind: 0, index });
    return this;
  }

  /** Places bytes in memory; returns [pointer, length]. */
  bytes(content: string | Uint8Array): [number, number] {
    const b = typeof content === "string" ? [...Buffer.from(content, "utf8")] : [...content];
    const offset = this.dataEnd;
    this.data.push({ offset, bytes: b });
    this.dataEnd += b.length + 8 - (b.length % 8);
    return [offset, b.length];
  }

  /** Reserves scratch memory; returns its pointer. */
  scratch(size: number): number {
    const offset = this.dataEnd;
    this.dataEnd += size + 8 - (size % 8);
    return offset;
  }

  startFunction(index: number): this {
    this.start = index;
    return this;
  }

  build(): Uint8Array {
    const section = (id: number, content: number[]): number[] => (content.length === 0 ? [] : [id, ...uleb(content.length), ...content]);
    const typeSec = vec(this.types.map((t) => [0x60, ...vec(t.params.map((p) => [VAL[p]])), ...vec(t.results.map((r) => [VAL[r]]))]));
    const importSec = this.imports.length ? vec(this.imports.map((i) => [...name(i.module), ...name(i.field), 0x00, ...uleb(i.type)])) : [];
    const funcSec = this.funcs.length ? vec(this.funcs.map((f) => uleb(f.type))) : [];
    const memSec = vec([[0x00, ...uleb(this.memoryPages)]]);
    const exportSec = vec([...this.exports.map((e) => [...name(e.name), e.kind, ...uleb(e.index)]), [...name("memory"), 0x02, 0x00]]);
    const startSec = this.start === undefined ? [] : uleb(this.start);
    const codeSec = this.funcs.length
      ? vec(
          this.funcs.map((f) => {
            const locals = vec(f.locals.map((l) => [0x01, VAL[l]]));
            const body = [...locals, ...f.body, 0x0b];
            return [...uleb(body.length), ...body];
          }),
        )
      : [];
    const dataSec = this.data.length ? vec(this.data.map((d) => [0x00, 0x41, ...sleb(d.offset), 0x0b, ...vec(d.bytes.map((x) => [x]))])) : [];
    return Uint8Array.from([
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
      ...section(1, typeSec),
      ...section(2, importSec),
      ...section(3, funcSec),
      ...section(5, memSec),
      ...section(7, exportSec),
      ...(this.start === undefined ? [] : section(8, startSec)),
      ...section(10, codeSec),
      ...section(11, dataSec),
    ]);
  }
}

/** A bump allocator `malloc(size) -> ptr` over memory above 32 KiB (never frees). */
export function addBumpMalloc(b: WasmModuleBuilder, exportName = "malloc"): number {
  const cursor = b.scratch(4);
  // ptr = load(cursor) || 32768; store(cursor, ptr + size); return ptr
  return b.func(["i32"], ["i32"], [
    op.i32(cursor), op.load32, op.set(1),
    op.get(1), [0x45], [0x04, 0x40], op.i32(32768), op.set(1), [0x0b],
    op.i32(cursor), op.get(1), op.get(0), op.add, op.store32,
    op.get(1),
  ], { export: exportName, locals: ["i32"] });
}

export type Abi = "0.1.0" | "0.2.0" | "0.2.1";

/**
 * The benchmark floor: every Proxy-Wasm callback exported, each returning Continue (or 1 where
 * the host expects "ok"), no host calls, a bump malloc.
 *
 * With `readPath`, on_request_headers also reads `:path` once through
 * proxy_get_header_map_value and discards it, with a malloc that always hands out the same
 * scratch area: the host's own cost of the one host call the plugin makes for a request that
 * matches nothing, so the benchmark can tell it from the plugin's work.
 */
export function buildFloorModule(abi: Abi = "0.2.0", options: { readPath?: boolean } = {}): Uint8Array {
  const b = new WasmModuleBuilder();
  const getHeader = options.readPath
    ? b.importFunction("env", "proxy_get_header_map_value", ["i32", "i32", "i32", "i32", "i32"], ["i32"])
    : -1;
  if (options.readPath) b.func(["i32"], ["i32"], [op.i32(32768)], { export: "malloc" });
  else addBumpMalloc(b);
  b.func([], [], [], { export: `proxy_abi_version_${abi.replace(/\./g, "_")}` });
  const v = (n: number): ValType[] => new Array<ValType>(n).fill("i32");
  b.func(v(2), [], [], { export: "proxy_on_context_create" });
  b.func(v(2), ["i32"], [op.i32(1)], { export: "proxy_on_vm_start" });
  b.func(v(2), ["i32"], [op.i32(1)], { export: "proxy_on_configure" });
  b.func(v(1), [], [], { export: "proxy_on_tick" });
  const headerArgs = abi === "0.1.0" ? 2 : 3;
  if (options.readPath) {
    const [key, keyLength] = b.bytes(":path");
    const out = b.scratch(8);
    b.func(v(headerArgs), ["i32"], [
      op.i32(0), op.i32(key), op.i32(keyLength), op.i32(out), op.i32(out + 4), op.call(getHeader), op.drop,
      op.i32(0),
    ], { export: "proxy_on_request_headers" });
  } else {
    b.func(v(headerArgs), ["i32"], [op.i32(0)], { export: "proxy_on_request_headers" });
  }
  b.func(v(3), ["i32"], [op.i32(0)], { export: "proxy_on_request_body" });
  b.func(v(2), ["i32"], [op.i32(0)], { export: "proxy_on_request_trailers" });
  b.func(v(headerArgs), ["i32"], [op.i32(0)], { export: "proxy_on_response_headers" });
  b.func(v(3), ["i32"], [op.i32(0)], { export: "proxy_on_response_body" });
  b.func(v(2), ["i32"], [op.i32(0)], { export: "proxy_on_response_trailers" });
  b.func(v(5), [], [], { export: "proxy_on_http_call_response" });
  b.func(v(1), ["i32"], [op.i32(1)], { export: "proxy_on_done" });
  b.func(v(1), [], [], { export: "proxy_on_log" });
  b.func(v(1), [], [], { export: "proxy_on_delete" });
  return b.build();
}
