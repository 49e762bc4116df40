/**
 * A plugin running in a VM: Envoy's per-worker plugin handle. It starts a root context with the
 * plugin's root id and configuration and hands out streams under the current root. Changing
 * the configuration (Istio pushing a new pluginConfig) works as in Envoy: the new configuration
 * is first tried in a throwaway "canary" VM; if its on_vm_start/on_configure reject it, the
 * running plugin is untouched. If accepted, a new root context is created in the same VM
 * (on_context_create, on_vm_start, on_configure again), new streams use it, and the old root is
 * shut down (on_done, on_delete) once its in-flight streams have ended.
 */
import { TestClock } from "./clock";
import { instantiate, ModuleLoadError } from "./loader";
import { StatsStore } from "./metrics";
import type { PluginOptions, StreamOptions } from "./options";
import { RootContext, type PluginResult } from "./root";
import { SharedState } from "./shared-data";
import type { HttpStream } from "./stream";
import type { WasmVm } from "./vm";

export class Plugin {
  root: RootContext;
  /** Outcome of the first start. */
  readonly result: PluginResult;

  constructor(
    readonly vm: WasmVm,
    private options: PluginOptions,
  ) {
    this.root = new RootContext(vm, options);
    this.result = this.root.start();
  }

  get ok(): boolean {
    return this.result.ok;
  }

  newStream(options?: StreamOptions): HttpStream {
    return this.root.newStream(options);
  }

  /** Applies a new plugin configuration; returns whether it was accepted and why not. */
  reconfigure(configuration: PluginOptions["configuration"]): PluginResult {
    const next: PluginOptions = { ...this.options, configuration };
    const canary = this.canary(next);
    if (!canary.ok) return canary;
    const root = new RootContext(this.vm, next);
    const result = root.start();
    if (!result.ok) return result;
    const old = this.root;
    this.root = root;
    this.options = next;
    old.retired = true;
    if (old.streams.size === 0) old.shutdown();
    return result;
  }

  /** Stops the plugin (Envoy removing the filter): on_done then on_delete for the root. */
  shutdown(): void {
    this.root.shutdown();
  }

  private canary(options: PluginOptions): PluginResult {
    const compiled = this.vm.compiled;
    if (!compiled) throw new Error("VM was not created by the loader");
    let vm: WasmVm;
    try {
      vm = instantiate(compiled, {
        ...this.vm.options,
        clock: new TestClock(this.vm.clock.now()),
        stats: new StatsStore(),
        shared: new SharedState(),
        lean: false,
      });
    } catch (e) {
      const reason = e instanceof ModuleLoadError ? e.reason : String(e);
      return { ok: false, stage: "vm_failed", failure: reason, logs: [] };
    }
    return new RootContext(vm, options).start();
  }
}

/** Starts a plugin (root context) in a VM: on_context_create, on_vm_start, on_configure. */
export function startPlugin(vm: WasmVm, options: PluginOptions = {}): Plugin {
  return new Plugin(vm, options);
}
