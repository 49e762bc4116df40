/**
 * Loading a module the way Envoy (proxy-wasm-cpp-host on V8) does, refusing what Envoy refuses:
 *  1. the ABI version comes from an exported marker (proxy_abi_version_0_1_0 / 0_2_0 / 0_2_1);
 *  2. every import must be one Envoy registers for that ABI version, with the same signature;
 *  3. the module must export malloc (or proxy_on_memory_allocate), and every Proxy-Wasm callback
 *     it exports must have the expected signature;
 *  4. start: `_initialize`, then `main` or `__main_void` when exported, else `_start`; while
 *     starting, only logging, clocks, random and a few WASI calls are allowed.
 * Any refusal is a ModuleLoadError whose `reason` is Envoy's message.
 */
import { readFile } from "node:fs/promises";
import {
  ABI_MARKERS,
  moduleFunctionSignatures,
  registeredImports,
  sameSignature,
  signatureText,
  type AbiVersion,
} from "./abi";
import { buildEnvImports } from "./host-calls";
import type { VmOptions } from "./options";
import { WasmVm } from "./vm";
import { buildWasiImports } from "./wasi";
import { readModuleShape, type ModuleShape } from "./wasm-binary";
import { WORK_IMPORT_FIELD, WORK_IMPORT_MODULE, WORK_SIGNATURE, type CompileOptions } from "./work";

export class ModuleLoadError extends Error {
  constructor(readonly reason: string) {
    super(`Wasm module refused: ${reason}`);
    this.name = "ModuleLoadError";
  }
}

/** A module that passed Envoy's checks and can be instantiated into VMs. */
export interface CompiledModule {
  abi: AbiVersion;
  module: WebAssembly.Module;
  shape: ModuleShape;
  /** Compiled with { countWork: true }: its VMs count work (work.ts). */
  countsWork: boolean;
}

function abiVersionOf(shape: ModuleShape): AbiVersion | undefined {
  let found: AbiVersion | undefined;
  for (const name of shape.functionExports.keys()) {
    if (!name.startsWith("proxy_abi_version_")) continue;
    const marker = ABI_MARKERS.find(([m]) => m === name);
    if (!marker) return undefined;
    found = marker[1];
  }
  return found;
}

/** Checks and compiles a module (file path or bytes). */
export async function compileModule(source: string | Uint8Array, options: CompileOptions = {}): Promise<CompiledModule> {
  const bytes = typeof source === "string" ? new Uint8Array(await readFile(source)) : source;
  let shape: ModuleShape;
  try {
    shape = readModuleShape(bytes);
  } catch {
    throw new ModuleLoadError("Failed to parse corrupted Wasm module");
  }
  const abi = abiVersionOf(shape);
  if (!abi) throw new ModuleLoadError("Missing or unknown Proxy-Wasm ABI version");
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(new Uint8Array(bytes));
  } catch (e) {
    throw new ModuleLoadError(`Failed to load Wasm bytecode: ${(e as Error).message}`);
  }
  const registered = registeredImports(abi);
  if (options.countWork) registered.set(`${WORK_IMPORT_MODULE}.${WORK_IMPORT_FIELD}`, WORK_SIGNATURE);
  for (const imp of shape.functionImports) {
    const key = `${imp.module}.${imp.field}`;
    const host = registered.get(key);
    if (!host) throw new ModuleLoadError(`Failed to load Wasm module due to a missing import: ${key}`);
    if (!sameSignature(host, imp.signature)) {
      throw new ModuleLoadError(
        `Failed to load Wasm module due to an import type mismatch: ${key}, want: ${signatureText(imp.signature)}, but host exports: ${signatureText(host)}`,
      );
    }
  }
  for (const imp of shape.otherImports) {
    if (imp.kind === "global" || imp.kind === "tag") {
      throw new ModuleLoadError(`Failed to load Wasm module due to a missing import: ${imp.module}.${imp.field}`);
    }
  }
  const exports = shape.functionExports;
  if (!exports.has("malloc") && !exports.has("proxy_on_memory_allocate")) {
    throw new ModuleLoadError("Wasm module is missing malloc function.");
  }
  for (const [name, want] of moduleFunctionSignatures(abi)) {
    const got = exports.get(name);
    if (got && !sameSignature(got, want)) {
      throw new ModuleLoadError(
        `Bad function signature for: ${name}, want: ${signatureText(want)}, but the module exports: ${signatureText(got)}`,
      );
    }
  }
  return { abi, module, shape, countsWork: options.countWork === true };
}

/** Instantiates a checked module into a new VM and starts it (throws ModuleLoadError). */
export function instantiate(compiled: CompiledModule, options: VmOptions = {}): WasmVm {
  const vm = new WasmVm(compiled.abi, options);
  vm.compiled = compiled;
  const imports: WebAssembly.Imports = { env: buildEnvImports(vm), ...buildWasiImports(vm) };
  if (compiled.countsWork) {
    (imports[WORK_IMPORT_MODULE] as Record<string, unknown>)[WORK_IMPORT_FIELD] = () => {
      vm.work++;
    };
  }
  for (const imp of compiled.shape.otherImports) {
    const target = (imports[imp.module] ??= {}) as Record<string, unknown>;
    if (imp.kind === "memory") target[imp.field] = new WebAssembly.Memory({ initial: imp.initial ?? 0, maximum: imp.maximum });
    if (imp.kind === "table") target[imp.field] = new WebAssembly.Table({ initial: imp.initial ?? 0, element: "anyfunc" });
  }
  let instance: WebAssembly.Instance;
  vm.restricted = true;
  try {
    instance = new WebAssembly.Instance(compiled.module, imports);
  } catch (e) {
    throw new ModuleLoadError(`Failed to create new Wasm instance: ${(e as Error).message}`);
  }
  const fn = new Map<string, (...args: number[]) => number | undefined>();
  for (const [name, value] of Object.entries(instance.exports)) {
    if (typeof value === "function") fn.set(name, value as (...args: number[]) => number | undefined);
  }
  let memory = instance.exports.memory as WebAssembly.Memory | undefined;
  if (!(memory instanceof WebAssembly.Memory)) {
    const imported = compiled.shape.otherImports.find((i) => i.kind === "memory");
    memory = imported ? ((imports[imported.module] as Record<string, unknown>)[imported.field] as WebAssembly.Memory) : undefined;
  }
  if (!memory) throw new ModuleLoadError("Wasm module has no memory");
  const malloc = fn.get("malloc") ?? fn.get("proxy_on_memory_allocate")!;
  vm.attach({ memory, malloc, fn });

  if (vm.has("_initialize")) {
    vm.call(null, "_initialize");
    if (vm.has("main")) vm.call(null, "main", 0, 0);
    else if (vm.has("__main_void")) vm.call(null, "__main_void");
  } else if (vm.has("_start")) {
    vm.call(null, "_start");
  }
  vm.restricted = false;
  if (vm.failed) throw new ModuleLoadError(`Failed to initialize Wasm code: ${vm.failure}`);
  return vm;
}

/** Loads a module into one VM: compileModule + instantiate. */
export async function load(source: string | Uint8Array, options: VmOptions = {}, compileOptions: CompileOptions = {}): Promise<WasmVm> {
  return instantiate(await compileModule(source, compileOptions), options);
}
