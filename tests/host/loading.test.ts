// Loading and starting modules: Envoy refuses what it would refuse, with its reasons.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { compileModule, load, ModuleLoadError, startPlugin } from "../../host";
import { addBumpMalloc, buildFloorModule, op, WasmModuleBuilder, type Abi } from "../helpers/wasm-builder";
import { PLUGIN_PATH } from "./fixture";

/** A minimal module: ABI marker, malloc, plus whatever `extra` adds. */
function module(abi: Abi | null, extra: (b: WasmModuleBuilder) => void = () => {}, withMalloc = true): Uint8Array {
  const b = new WasmModuleBuilder();
  extra(b);
  if (withMalloc) addBumpMalloc(b);
  if (abi) b.func([], [], [], { export: `proxy_abi_version_${abi.replace(/\./g, "_")}` });
  return b.build();
}

async function refusal(bytes: Uint8Array): Promise<string> {
  try {
    await load(bytes);
  } catch (e) {
    assert.ok(e instanceof ModuleLoadError, `expected ModuleLoadError, got ${String(e)}`);
    return e.reason;
  }
  assert.fail("module was loaded but Envoy would refuse it");
}

test("a module without malloc is refused with Envoy's reason", async () => {
  const reason = await refusal(module("0.2.0", () => {}, false));
  assert.equal(reason, "Wasm module is missing malloc function.");
});

test("proxy_on_memory_allocate stands in for malloc", async () => {
  const vm = await load(module("0.2.0", (b) => addBumpMalloc(b, "proxy_on_memory_allocate"), false));
  assert.equal(vm.failed, false);
});

test("an AssemblyScript module importing env.seed (Math.random) is refused naming the import", async () => {
  const reason = await refusal(module("0.2.0", (b) => b.importFunction("env", "seed", [], ["i32"])));
  assert.equal(reason, "Failed to load Wasm module due to a missing import: env.seed");
});

test("the default AssemblyScript abort (env.abort) is refused", async () => {
  const reason = await refusal(module("0.2.0", (b) => b.importFunction("env", "abort", ["i32", "i32", "i32", "i32"], [])));
  assert.match(reason, /missing import: env\.abort$/);
});

test("proxy_clear_route_cache exists only for ABI 0.1.0", async () => {
  const withImport = (abi: Abi): Uint8Array => module(abi, (b) => b.importFunction("env", "proxy_clear_route_cache", []));
  assert.equal(await refusal(withImport("0.2.0")), "Failed to load Wasm module due to a missing import: env.proxy_clear_route_cache");
  const vm = await load(withImport("0.1.0"));
  assert.equal(vm.abi, "0.1.0");
});

test("proxy_get_log_level exists only for ABI 0.2.1", async () => {
  const withImport = (abi: Abi): Uint8Array => module(abi, (b) => b.importFunction("env", "proxy_get_log_level", ["i32"]));
  assert.match(await refusal(withImport("0.2.0")), /missing import: env\.proxy_get_log_level/);
  assert.equal((await load(withImport("0.2.1"))).abi, "0.2.1");
});

test("a missing or unknown ABI marker is refused", async () => {
  assert.equal(await refusal(module(null)), "Missing or unknown Proxy-Wasm ABI version");
  const unknown = module(null, (b) => b.func([], [], [], { export: "proxy_abi_version_0_3_0" }));
  assert.equal(await refusal(unknown), "Missing or unknown Proxy-Wasm ABI version");
});

test("an import with the wrong signature is refused", async () => {
  const reason = await refusal(module("0.2.0", (b) => b.importFunction("env", "proxy_log", ["i32", "i32"])));
  assert.match(reason, /import type mismatch: env\.proxy_log/);
});

test("WASI imports load under both module names", async () => {
  const vm = await load(
    module("0.2.0", (b) => {
      b.importFunction("wasi_snapshot_preview1", "fd_write", ["i32", "i32", "i32", "i32"]);
      b.importFunction("wasi_unstable", "proc_exit", ["i32"], []);
    }),
  );
  assert.equal(vm.failed, false);
});

test("a callback exported with the wrong signature is refused", async () => {
  const reason = await refusal(module("0.2.0", (b) => b.func(["i32", "i32"], ["i32"], [op.i32(0)], { export: "proxy_on_request_headers" })));
  assert.match(reason, /^Bad function signature for: proxy_on_request_headers/);
});

test("start order: _initialize, then main; _start only without _initialize", async () => {
  const startModule = (exports: string[]): Uint8Array =>
    module("0.2.0", (b) => {
      const log = b.importFunction("env", "proxy_log", ["i32", "i32", "i32"]);
      for (const name of exports) {
        const [ptr, len] = b.bytes(name);
        const results: Array<"i32"> = name === "main" || name === "__main_void" ? ["i32"] : [];
        const params: Array<"i32"> = name === "main" ? ["i32", "i32"] : [];
        b.func(params, results, [op.i32(2), op.i32(ptr), op.i32(len), op.call(log), op.drop, ...(results.length ? [op.i32(0)] : [])], { export: name });
      }
    });
  const order = async (exports: string[]): Promise<string[]> => (await load(startModule(exports))).log.messages();
  assert.deepEqual(await order(["_initialize", "main", "_start"]), ["_initialize", "main"]);
  assert.deepEqual(await order(["_initialize", "__main_void"]), ["_initialize", "__main_void"]);
  assert.deepEqual(await order(["_start"]), ["_start"]);
});

test("host calls other than logging trap while the VM starts, and the load fails", async () => {
  const bytes = module("0.2.0", (b) => {
    const tick = b.importFunction("env", "proxy_set_tick_period_milliseconds", ["i32"]);
    b.func([], [], [op.i32(100), op.call(tick), op.drop], { export: "_initialize" });
  });
  assert.match(await refusal(bytes), /Failed to initialize Wasm code: .*restricted_callback/);
});

test("a trap in _start fails the load", async () => {
  const bytes = module("0.2.0", (b) => b.func([], [], [op.unreachable], { export: "_start" }));
  assert.match(await refusal(bytes), /Function: _start failed: Uncaught RuntimeError: unreachable/);
});

test("the floor module loads and passes a request through", async () => {
  const vm = await load(buildFloorModule());
  const plugin = startPlugin(vm);
  assert.ok(plugin.ok);
});

test("build/plugin.wasm loads and starts (run `make build` first)", async () => {
  assert.ok(existsSync(PLUGIN_PATH), "build/plugin.wasm is missing: run `make build`");
  const compiled = await compileModule(PLUGIN_PATH);
  assert.match(compiled.abi, /^0\.2\./);
  const vm = await load(PLUGIN_PATH);
  const plugin = startPlugin(vm, { configuration: "{}" });
  assert.ok(plugin.ok, `plugin rejected at ${plugin.result.stage}: ${plugin.result.logs.map((l) => l.message).join("; ")}`);
});

test("binaryen's execution counter (env.log_execution) is refused as Envoy refuses it, and counted only when asked for", async () => {
  const counted = module("0.2.0", (b) => {
    const log = b.importFunction("env", "log_execution", ["i32"], []);
    b.func([], [], [op.i32(1), op.call(log), op.i32(2), op.call(log), op.i32(3), op.call(log)], { export: "_initialize" });
  });
  assert.equal(await refusal(counted), "Failed to load Wasm module due to a missing import: env.log_execution");
  const vm = await load(counted, {}, { countWork: true });
  assert.equal(vm.failed, false);
  assert.equal(vm.work, 3, "one unit per call");
});
