// Header maps through the ABI, the pairs encoding, and the log level filter.
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodePairs, encodePairs, load, requestHeaders, startPlugin } from "../../host";
import { addBumpMalloc, op, WasmModuleBuilder } from "../helpers/wasm-builder";
import { fixturePath } from "./fixture";

test("the pairs encoding round-trips, keeping order, duplicates and empty values", () => {
  const pairs: Array<[string, string]> = [[":path", "/a?b=1"], ["x-dup", "1"], ["x-dup", "2"], ["x-empty", ""]];
  const bytes = encodePairs(pairs);
  assert.equal(Buffer.from(bytes).readUInt32LE(0), 4);
  assert.equal(Buffer.from(bytes).readUInt32LE(4), 5);
  assert.equal(Buffer.from(bytes).readUInt32LE(8), 6);
  assert.deepEqual(decodePairs(bytes), pairs);
  assert.deepEqual(decodePairs(bytes.subarray(0, bytes.length - 1)), [], "truncated input decodes to nothing");
});

test("header pairs read by the module and written back arrive unchanged upstream", async () => {
  const b = new WasmModuleBuilder();
  const getPairs = b.importFunction("env", "proxy_get_header_map_pairs", ["i32", "i32", "i32"]);
  const setPairs = b.importFunction("env", "proxy_set_header_map_pairs", ["i32", "i32", "i32"]);
  const add = b.importFunction("env", "proxy_add_header_map_value", ["i32", "i32", "i32", "i32", "i32"]);
  addBumpMalloc(b);
  b.func([], [], [], { export: "proxy_abi_version_0_2_0" });
  const ret = b.scratch(8);
  const [k, kl] = b.bytes("X-Added");
  const [v, vl] = b.bytes("yes");
  b.func(["i32", "i32", "i32"], ["i32"], [
    op.i32(0), op.i32(ret), op.i32(ret + 4), op.call(getPairs), op.drop,
    op.i32(0), op.i32(ret), op.load32, op.i32(ret + 4), op.load32, op.call(setPairs), op.drop,
    op.i32(0), op.i32(k), op.i32(kl), op.i32(v), op.i32(vl), op.call(add), op.drop,
    op.i32(0),
  ], { export: "proxy_on_request_headers" });
  const vm = await load(b.build());
  const plugin = startPlugin(vm);
  const sent = requestHeaders("GET", "/p", [["x-dup", "1"], ["x-dup", "2"]]);
  const s = plugin.newStream().sendRequestHeaders(sent, true);
  assert.deepEqual(s.upstream.headers?.pairs(), [...sent, ["x-added", "yes"]], "keys are lower-cased");
});

test("messages below the log level are dropped but still counted", async () => {
  const vm = await load(fixturePath("scripted"), { logLevel: "info" });
  const plugin = startPlugin(vm);
  plugin.newStream().sendRequestHeaders(requestHeaders("GET", "/quiet"), true);
  assert.ok(vm.log.messages().includes("vm start"));
  assert.ok(!vm.log.messages().includes("request /quiet"), "debug is below info");
  assert.ok(vm.log.callsByLevel[1] > 0, "the debug call was made and counted");
  assert.ok(vm.log.dropped > 0);
});

test("gRPC calls are Unimplemented here, and the log says so", async () => {
  const b = new WasmModuleBuilder();
  const grpcCall = b.importFunction("env", "proxy_grpc_call", new Array(12).fill("i32"));
  addBumpMalloc(b);
  b.func([], [], [], { export: "proxy_abi_version_0_2_0" });
  const rc = b.scratch(4);
  b.func(["i32", "i32"], ["i32"], [op.i32(rc), ...new Array(12).fill(op.i32(0)), op.call(grpcCall), op.store32, op.i32(1)], { export: "proxy_on_vm_start" });
  const vm = await load(b.build());
  assert.ok(startPlugin(vm).ok);
  assert.equal(Buffer.from(vm.read(rc, 4)!).readUInt32LE(0), 12);
  assert.ok(vm.log.messages("warn").some((m) => m.includes("proxy_grpc_call is not implemented")));
});
