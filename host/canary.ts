/**
 * Envoy's configuration canary (proxy-wasm-cpp-host `WasmHandleBase::canary`, called from
 * `createWasm`, which Envoy's source/extensions/common/wasm/wasm.cc calls for every new plugin
 * configuration, the first one included): before any worker VM sees a plugin configuration, a
 * throwaway clone of the base VM is initialised, started (on_context_create, on_vm_start) and
 * configured (on_configure), then dropped without on_done/on_delete (`kill()`). It shares the
 * stats scope, the shared data and the log with the worker VMs, so whatever on_configure counts or
 * logs happens once more than the number of workers. A configuration the canary rejects is not
 * applied anywhere. The outcome is cached per plugin key (name, root id, configuration) for the
 * life of the base VM (`plugin_canary_cache_`): the same configuration again is not re-run, and a
 * rejected one stays rejected without running.
 */
import { instantiate, ModuleLoadError, type CompiledModule } from "./loader";
import { configurationBytes, type PluginOptions, type VmOptions } from "./options";
import { RootContext, type PluginResult } from "./root";

export class Canary {
  private readonly cache = new Map<string, boolean>();
  /** Canary VMs actually run (cache misses). */
  runs = 0;

  /** `vmOptions` are the worker VMs' options: the canary shares their stats, shared data, clock
   * and log. */
  constructor(
    private readonly compiled: CompiledModule,
    private readonly vmOptions: VmOptions,
  ) {}

  /** Runs the canary for a plugin configuration (or answers from the cache). */
  check(plugin: PluginOptions): PluginResult {
    const key = pluginKey(plugin);
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached ? { ok: true, logs: [] } : { ok: false, stage: "configure", logs: [], cached: true };
    this.runs++;
    let result: PluginResult;
    try {
      const vm = instantiate(this.compiled, { ...this.vmOptions, label: "canary" });
      result = new RootContext(vm, plugin).start();
      // cpp-host fails the canary VM on a refusal (FailState::StartFailed / ConfigureFailed),
      // which Envoy reports as a VM failure before the canary is dropped.
      if (result.stage === "vm_start") vm.fail("Failed to start base Wasm");
      if (result.stage === "configure") vm.fail("Failed to configure base Wasm plugin");
      vm.kill();
    } catch (e) {
      const reason = e instanceof ModuleLoadError ? e.reason : String(e);
      return { ok: false, stage: "vm_failed", failure: reason, logs: [] };
    }
    // cpp-host caches only a configure verdict; a VM that failed to start is tried again.
    if (result.ok || result.stage === "configure") this.cache.set(key, result.ok);
    return { ...result, canary: true };
  }
}

/** cpp-host's PluginBase::key(): the plugin's identity for the caches. */
export function pluginKey(plugin: PluginOptions): string {
  return JSON.stringify([plugin.name ?? "", plugin.rootId ?? "", Buffer.from(configurationBytes(plugin.configuration)).toString("latin1")]);
}
