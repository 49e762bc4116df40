// Property modes: which paths answer the node's metadata in each generation of Envoy's lookup.
import { test } from "node:test";
import assert from "node:assert/strict";
import { istioNode, load, PROPERTY_MODES, requestHeaders, startPlugin, WasmResult, type PropertyMode } from "../../host";
import { addBumpMalloc, op, WasmModuleBuilder } from "../helpers/wasm-builder";

/** A module that looks up node.metadata.WORKLOAD_NAME and xds.node.metadata.WORKLOAD_NAME in
 * on_configure (root context) and in on_request_headers (stream context). */
async function lookups(mode: PropertyMode | undefined): Promise<Record<string, string | undefined>> {
  const b = new WasmModuleBuilder();
  const getProperty = b.importFunction("env", "proxy_get_property", ["i32", "i32", "i32", "i32"]);
  addBumpMalloc(b);
  b.func([], [], [], { export: "proxy_abi_version_0_2_0" });
  const [legacy, legacyLen] = b.bytes("node\0metadata\0WORKLOAD_NAME");
  const [xds, xdsLen] = b.bytes("xds\0node\0metadata\0WORKLOAD_NAME");
  const out = b.scratch(48);
  const lookup = (p: number, l: number, at: number): number[] =>
    [op.i32(at), op.i32(p), op.i32(l), op.i32(at + 4), op.i32(at + 8), op.call(getProperty), op.store32].flat();
  b.func(["i32", "i32"], ["i32"], [lookup(legacy, legacyLen, out), lookup(xds, xdsLen, out + 12), op.i32(1)], { export: "proxy_on_configure" });
  b.func(["i32", "i32", "i32"], ["i32"], [lookup(legacy, legacyLen, out + 24), lookup(xds, xdsLen, out + 36), op.i32(0)], { export: "proxy_on_request_headers" });
  const vm = await load(b.build(), { node: istioNode({ workloadName: "reviews-v1", namespace: "default" }), propertyMode: mode });
  const plugin = startPlugin(vm, { configuration: "x" });
  assert.ok(plugin.ok);
  plugin.newStream().sendRequestHeaders(requestHeaders("GET", "/"), true);
  const word = (at: number): number => Buffer.from(vm.read(at, 4)!).readUInt32LE(0);
  const answer = (at: number): string | undefined => (word(at) === WasmResult.Ok ? vm.readString(word(at + 4), word(at + 8)) : undefined);
  return {
    "configure node": answer(out),
    "configure xds.node": answer(out + 12),
    "stream node": answer(out + 24),
    "stream xds.node": answer(out + 36),
  };
}

const expected: Record<PropertyMode, Record<string, string | undefined>> = {
  legacy: { "configure node": "reviews-v1", "configure xds.node": undefined, "stream node": "reviews-v1", "stream xds.node": undefined },
  both: { "configure node": "reviews-v1", "configure xds.node": "reviews-v1", "stream node": "reviews-v1", "stream xds.node": "reviews-v1" },
  xds: { "configure node": undefined, "configure xds.node": "reviews-v1", "stream node": undefined, "stream xds.node": "reviews-v1" },
  "pre-1.30": { "configure node": "reviews-v1", "configure xds.node": undefined, "stream node": "reviews-v1", "stream xds.node": "reviews-v1" },
};

for (const mode of PROPERTY_MODES) {
  test(`propertyMode ${mode}: node metadata answers as ${JSON.stringify(expected[mode])}`, async () => {
    assert.deepEqual(await lookups(mode), expected[mode]);
  });
}

test("the default property mode is legacy (node.* only), as cpphost-run's default", async () => {
  assert.deepEqual(await lookups(undefined), expected.legacy);
});
