/**
 * Drives the real build/plugin.wasm through the project's host, the way the integration tests
 * read best: start the plugin with a configuration, send a request, advance the test clock,
 * look at what the client got and what reached the upstream.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import {
  Canary, compileModule, instantiate, Log, parseLogLevel, requestHeaders, responseHeaders, SharedState, startPlugin, StatsStore, TestClock,
  type ClusterHandler, type CompiledModule, type HeadersInit, type HttpStream, type NodeInfo, type Plugin, type StreamOptions,
  type PluginResult, type PropertyMode, type PropertyValue, type WasmVm, type FailStrategy, type LogLevelName,
} from "../../host/index";

/** The module under test: build/plugin.wasm, or another build named by HFI_WASM (as for hfi). */
export const PLUGIN_WASM = process.env.HFI_WASM ?? path.resolve(__dirname, "..", "..", "build", "plugin.wasm");
export const ROOT_ID = "hfi-fault-injection";

/** The same module with binaryen's execution counter (make build/plugin.counted.wasm; host/work.ts),
 * or another such build named by HFI_COUNTED_WASM. */
export const COUNTED_WASM = process.env.HFI_COUNTED_WASM ?? path.resolve(__dirname, "..", "..", "build", "plugin.counted.wasm");

let compiled: Promise<CompiledModule> | undefined;
let counted: Promise<CompiledModule> | undefined;

/** build/plugin.wasm (or, counting work, build/plugin.counted.wasm), compiled once per test
 * process. Fails (never skips) when it is missing. */
export function pluginModule(countWork = false): Promise<CompiledModule> {
  if (countWork) return (counted ??= compileModule(readFileSync(COUNTED_WASM), { countWork: true }));
  compiled ??= compileModule(readFileSync(PLUGIN_WASM));
  return compiled;
}

export interface HfiOptions {
  clock?: TestClock;
  stats?: StatsStore;
  /** Shared data: pass one to several VMs to model the workers of one proxy. */
  shared?: SharedState;
  node?: NodeInfo;
  /** Extra top-level properties, e.g. { xds: { node: { metadata: {...} } } }. */
  properties?: Record<string, PropertyValue>;
  clusters?: Record<string, ClusterHandler>;
  logLevel?: LogLevelName;
  failStrategy?: FailStrategy;
  rootId?: string;
  /** Which paths answer the node metadata (default "legacy": `node.*`). */
  propertyMode?: PropertyMode;
  /** Envoy's configuration canary before every configuration (default true; false: a bare VM). */
  canary?: boolean;
  /** Run build/plugin.counted.wasm, so that `work()` counts what the module does. */
  countWork?: boolean;
}

export interface Hfi {
  vm: WasmVm;
  plugin: Plugin;
  clock: TestClock;
  stats: StatsStore;
  /** Starts a request: headers (and body, if given) sent to the plugin. */
  request(method: string, pathAndQuery: string, headers?: HeadersInit, body?: string | Uint8Array, stream?: StreamOptions): HttpStream;
  /** Value of a `wasmcustom.<name>` stat (0 when not defined). */
  metric(name: string): number;
  /** Module log lines at or above `level`: Envoy's log, the canary's lines included. */
  logs(level?: LogLevelName): string[];
  /** The canary's effects: its log lines (the part of logs() it wrote) and its verdicts. */
  canary: {
    logs(level?: LogLevelName): string[];
    /** What the canary said about the first configuration (undefined with canary: false). */
    result: PluginResult | undefined;
    /** Canary VMs run so far (a configuration seen before is answered from its cache). */
    readonly runs: number;
  };
  /** Log lines of the worker VM only. */
  workerLogs(level?: LogLevelName): string[];
  /** The worker VM's work so far: function entries and loop iterations (needs countWork). */
  work(): number;
}

/** Loads the plugin in a fresh VM and configures it. Throws if the configuration is refused. */
export async function startHfi(configuration: object | string, options: HfiOptions = {}): Promise<Hfi> {
  const hfi = await startHfiUnchecked(configuration, options);
  if (!hfi.plugin.ok) {
    throw new Error(`plugin refused its configuration (${hfi.plugin.result.stage}): ${hfi.logs().join(" | ")}`);
  }
  return hfi;
}

/** Like startHfi, but returns even when the plugin refuses the configuration. */
export async function startHfiUnchecked(configuration: object | string, options: HfiOptions = {}): Promise<Hfi> {
  const clock = options.clock ?? new TestClock();
  const stats = options.stats ?? new StatsStore();
  const vm = instantiate(await pluginModule(options.countWork), {
    clock,
    stats,
    shared: options.shared,
    node: options.node,
    properties: options.properties,
    propertyMode: options.propertyMode,
    clusters: options.clusters,
    logLevel: options.logLevel ?? "trace",
    failStrategy: options.failStrategy ?? "closed",
    label: "worker0",
  });
  const plugin = startPlugin(vm, { rootId: options.rootId ?? ROOT_ID, configuration, canary: options.canary ?? true });
  return {
    vm,
    plugin,
    clock,
    stats,
    request(method, pathAndQuery, headers = [], body, streamOptions) {
      const stream = plugin.newStream(streamOptions);
      const hasBody = body !== undefined;
      stream.sendRequestHeaders(requestHeaders(method, pathAndQuery, headers), !hasBody);
      if (hasBody) stream.sendRequestBody(body, true);
      return stream;
    },
    metric(name) {
      return stats.value(`wasmcustom.${name}`) ?? 0;
    },
    logs(level = "trace") {
      return vm.log.messages(level);
    },
    canary: {
      logs: (level = "trace") => vm.log.messages(level, "canary"),
      result: plugin.canaryResult,
      get runs() {
        return plugin.canary?.runs ?? 0;
      },
    },
    workerLogs(level = "trace") {
      return vm.log.messages(level, "worker0");
    },
    work() {
      if (!options.countWork) throw new Error("work() needs startHfi(..., { countWork: true })");
      return vm.work;
    },
  };
}

export interface HfiWorkersOptions extends HfiOptions {
  /** Worker VMs (Envoy's --concurrency). */
  workers: number;
  vmId?: string;
}

/** The plugin on N worker VMs as Envoy runs it: one canary, then one VM per worker; all share
 * the stats store, the shared data, the clock and the log. */
export interface HfiWorkers {
  workers: Plugin[];
  clock: TestClock;
  stats: StatsStore;
  shared: SharedState;
  log: Log;
  canary: Canary;
  /** A request on worker `worker`: headers (and body) sent to its plugin. */
  request(worker: number, method: string, pathAndQuery: string, headers?: HeadersInit, body?: string | Uint8Array, stream?: StreamOptions): HttpStream;
  /** A new configuration: the canary once, then every worker; the first refusal is returned. */
  reconfigure(configuration: object | string): PluginResult;
  metric(name: string): number;
  /** Log lines at or above `level`, of one VM ("canary", "worker0", ...) or all. */
  logs(level?: LogLevelName, vm?: string): string[];
}

export async function startHfiWorkers(configuration: object | string, options: HfiWorkersOptions): Promise<HfiWorkers> {
  const compiled = await pluginModule();
  const clock = options.clock ?? new TestClock();
  const stats = options.stats ?? new StatsStore();
  const shared = new SharedState();
  const log = new Log(parseLogLevel(options.logLevel ?? "trace"), true);
  const vmOptions = {
    clock, stats, shared, log, vmId: options.vmId, node: options.node, propertyMode: options.propertyMode,
    clusters: options.clusters, failStrategy: options.failStrategy ?? "closed",
  } as const;
  const canary = new Canary(compiled, vmOptions);
  const workers: Plugin[] = [];
  for (let i = 0; i < options.workers; i++) {
    const vm = instantiate(compiled, { ...vmOptions, label: `worker${i}` });
    workers.push(startPlugin(vm, { rootId: options.rootId ?? ROOT_ID, configuration, canary: options.canary === false ? false : canary }));
  }
  return {
    workers, clock, stats, shared, log, canary,
    request(worker, method, pathAndQuery, headers = [], body, streamOptions) {
      const stream = workers[worker].newStream(streamOptions);
      const hasBody = body !== undefined;
      stream.sendRequestHeaders(requestHeaders(method, pathAndQuery, headers), !hasBody);
      if (hasBody) stream.sendRequestBody(body, true);
      return stream;
    },
    reconfigure(next) {
      let first: PluginResult | undefined;
      for (const w of workers) {
        const r = w.reconfigure(next);
        first ??= r;
        if (!r.ok) return r;
      }
      return first ?? { ok: true, logs: [] };
    },
    metric(name) {
      return stats.value(`wasmcustom.${name}`) ?? 0;
    },
    logs(level = "trace", vm) {
      return log.messages(level, vm);
    },
  };
}

/** The upstream answers: response headers (and body) go back through the plugin. */
export function respond(stream: HttpStream, status = 200, body = "ok", headers: HeadersInit = []): HttpStream {
  stream.sendResponseHeaders(responseHeaders(status, [["content-type", "text/plain"], ...(headers as [string, string][])]), false);
  stream.sendResponseBody(body, true);
  return stream;
}

/** A policy with one rule. */
export function policy(name: string, match: object, fault: object, selector?: object): object {
  return { metadata: { name }, spec: { ...(selector ? { selector } : {}), rules: [{ match, fault }] } };
}
