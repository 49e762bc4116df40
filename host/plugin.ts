/**
 * A plugin running in a VM: Envoy's per-worker plugin handle. Every plugin configuration, the
 * first one included, is first tried in the configuration canary (canary.ts: a throwaway VM that
 * shares stats, shared data and log with the workers); a configuration the canary rejects is not
 * applied. Then the plugin starts a root context with its root id and configuration in this VM
 * and hands out streams under the current root. A later configuration (Istio pushing a new
 * pluginConfig) gets a new root context in the same VM (on_context_create, on_vm_start,
 * on_configure again); new streams use it, and the old root is shut down (on_done, on_delete)
 * once its in-flight streams have ended.
 *
 * Several workers share one Canary (as they share Envoy's base VM), so a configuration is
 * canaried once however many workers apply it. `canary: false` gives a bare VM for tests that
 * must see only the worker's own calls.
 */
import { Canary, pluginKey } from "./canary";
import type { PluginOptions, StreamOptions } from "./options";
import { RootContext, type PluginResult } from "./root";
import type { HttpStream } from "./stream";
import type { WasmVm } from "./vm";

export interface StartOptions extends PluginOptions {
  /** The configuration canary: a shared Canary (one per group of workers), `true` for one of
   * this VM's own (default), `false` for none. */
  canary?: Canary | boolean;
}

export class Plugin {
  root: RootContext;
  /** Outcome of the first start: the canary's refusal, or the worker's own start. */
  readonly result: PluginResult;
  /** The canary this plugin's configurations go through (undefined: none). */
  readonly canary: Canary | undefined;
  /** What the canary said about the first configuration (undefined without a canary). */
  readonly canaryResult: PluginResult | undefined;

  constructor(
    readonly vm: WasmVm,
    private options: PluginOptions,
    canary: Canary | boolean = true,
  ) {
    this.canary = canary === false ? undefined : canary === true ? canaryFor(vm) : canary;
    this.canaryResult = this.canary?.check(options);
    this.root = new RootContext(vm, options);
    if (this.canaryResult && !this.canaryResult.ok) {
      // Envoy refuses the filter configuration: no worker ever starts this plugin.
      this.root.retired = true;
      this.root.deleted = true;
      vm.contexts.delete(this.root.id);
      this.result = this.canaryResult;
    } else {
      this.result = this.root.start();
    }
  }

  get ok(): boolean {
    return this.result.ok;
  }

  newStream(options?: StreamOptions): HttpStream {
    return this.root.newStream(options);
  }

  /** Applies a new plugin configuration; returns whether it was accepted and why not. The same
   * configuration again changes nothing: Envoy finds the running plugin under the same key
   * (cpp-host getOrCreateThreadLocalPlugin's per-thread cache; the canary's verdict is cached
   * too), so no VM is called and the root context stays. */
  reconfigure(configuration: PluginOptions["configuration"]): PluginResult {
    const next: PluginOptions = { ...this.options, configuration };
    if (pluginKey(next) === pluginKey(this.options) && !this.root.deleted) return { ok: true, logs: [], unchanged: true };
    const canary = this.canary?.check(next);
    if (canary && !canary.ok) return canary;
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
}

/** A canary for one VM: it shares the VM's stats, shared data, clock and log. */
export function canaryFor(vm: WasmVm): Canary {
  const compiled = vm.compiled;
  if (!compiled) throw new Error("VM was not created by the loader");
  return new Canary(compiled, { ...vm.options, clock: vm.clock, stats: vm.stats, shared: vm.shared, log: vm.log });
}

/** Starts a plugin (root context) in a VM, after the configuration canary: on_context_create,
 * on_vm_start, on_configure. */
export function startPlugin(vm: WasmVm, options: StartOptions = {}): Plugin {
  const { canary, ...plugin } = options;
  return new Plugin(vm, plugin, canary ?? true);
}
