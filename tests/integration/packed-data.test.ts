/**
 * build/plugin.wasm carries its static data (string literals, tables) packed into one segment
 * that a Wasm start function expands at instantiation (scripts/pack-data.ts, docs/size.md).
 * Whatever the module does afterwards must see exactly the memory the compiler laid out.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { PLUGIN_WASM } from "../helpers/hfi";
import { decode, encode, optimizeAgain, pack } from "../../scripts/pack-data";

const UNPACKED = path.join(path.dirname(PLUGIN_WASM), "plugin.unpacked.wasm");

/** Memory right after instantiation: the start section has run, no export has been called. */
function memoryAfterInstantiation(bytes: Uint8Array<ArrayBuffer>): Uint8Array {
  const module = new WebAssembly.Module(bytes);
  const imports: Record<string, Record<string, () => never>> = {};
  for (const i of WebAssembly.Module.imports(module)) {
    (imports[i.module] ??= {})[i.name] = () => {
      throw new Error(`import ${i.module}.${i.name} called during instantiation`);
    };
  }
  const instance = new WebAssembly.Instance(module, imports);
  return new Uint8Array((instance.exports.memory as WebAssembly.Memory).buffer.slice(0));
}

test("the packed module's memory equals the compiler's layout, byte for byte", async () => {
  const unpacked = new Uint8Array(readFileSync(UNPACKED));
  const packed = new Uint8Array(readFileSync(PLUGIN_WASM));
  assert.deepEqual(pack(await optimizeAgain(unpacked)), packed, "build/plugin.wasm is pack-data's output of the compiler's");
  assert.ok(packed.length < unpacked.length, `packed ${packed.length} < unpacked ${unpacked.length}`);
  const a = memoryAfterInstantiation(unpacked);
  const b = memoryAfterInstantiation(packed);
  assert.equal(b.length, a.length);
  const first = a.findIndex((x, i) => x !== b[i]);
  assert.equal(first, -1, `memory differs first at ${first}`);
  // Not vacuous: the image holds the module's texts.
  assert.ok(Buffer.from(b).includes(Buffer.from("policies", "utf16le")));
});

test("the encoding round-trips every kind of run", () => {
  const mem = new Uint8Array(4096);
  const text = Buffer.from("hfi: a message of ASCII text", "utf16le");
  mem.set(text, 100);
  mem.set([1, 2, 3, 0, 4, 0, 0, 5, 255, 128, 0x7f], 300); // bytes, short zero runs
  mem.set([9, 0, 9, 0, 7], 400); // a short 16-bit run inside bytes
  mem.fill(0xab, 1000, 1300); // a run longer than 63 (the length follows as a LEB128)
  // A static string object as AssemblyScript lays it out: block size, two GC words, String's
  // runtime id (2), byte length, then the UTF-16 units.
  mem.set([28, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 10, 0, 0, 0], 2000);
  mem.set(Buffer.from("hello", "utf16le"), 2020);
  mem.set(Buffer.from("a repeated phrase, a repeated phrase", "utf16le"), 2200); // a match
  mem[3000] = 1;
  const blob = encode(mem, 64, 3001);
  assert.ok(blob.includes((3 << 5) | 5), "the string header is one token");
  const noMatches = encode(mem, 64, 3001, 0, 4096);
  assert.ok(blob.length <= noMatches.length - 10, `the repeated phrase is copied: ${blob.length} vs ${noMatches.length}`);
  assert.ok(blob.length < 2937 / 4, `blob ${blob.length}`);
  const out = new Uint8Array(4096);
  decode(blob, out, 64);
  assert.deepEqual(out, mem);

  // In place, as the start function does it: the blob inside a run of zeros, zeroed at the end;
  // matches never copy from where it lies.
  const inPlace = encode(mem, 64, 3001, 3100, 3100 + 2937);
  const expanded = new Uint8Array(8192);
  decode(inPlace, expanded, 64, 3100);
  assert.deepEqual(expanded.subarray(0, 4096), mem);
  assert.ok(expanded.subarray(4096).every((x) => x === 0));
});
