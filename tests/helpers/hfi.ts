/**
 * Drives the real build/plugin.wasm through the project's host, the way the integration tests
 * read best: start the plugin with a configuration, send a request, advance the test clock,
 * look at what the client got and what reached the upstream.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import {
  compileModule, instantiate, requestHeaders, responseHeaders, startPlugin, StatsStore, TestClock,
  type ClusterHandler, type CompiledModule, type HeadersInit, type HttpStream, type NodeInfo, type Plugin,
  type WasmVm, type FailStrategy, type LogLevelName, type PropertyValue, type SharedState,
} from "../../host/index";

export const PLUGIN_WASM = path.resolve(__dirname, "..", "..", "build", "plugin.wasm");
export const ROOT_ID = "hfi-fault-injection";

let compiled: Promise<CompiledModule> | undefined;

/** build/plugin.wasm, compiled once per test process. Fails (never skips) when it is missing. */
export function pluginModule(): Promise<CompiledModule> {
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
}

export interface Hfi {
  vm: WasmVm;
  plugin: Plugin;
  clock: TestClock;
  stats: StatsStore;
  /** Starts a request: headers (and body, if given) sent to the plugin. */
  request(method: string, pathAndQuery: string, headers?: HeadersInit, body?: string | Uint8Array): HttpStream;
  /** Value of a `wasmcustom.<name>` stat (0 when not defined). */
  metric(name: string): number;
  /** Module log lines at or above `level`. */
  logs(level?: LogLevelName): string[];
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
  const vm = instantiate(await pluginModule(), {
    clock,
    stats,
    shared: options.shared,
    node: options.node,
    properties: options.properties,
    clusters: options.clusters,
    logLevel: options.logLevel ?? "trace",
    failStrategy: options.failStrategy ?? "closed",
  });
  const plugin = startPlugin(vm, { rootId: options.rootId ?? ROOT_ID, configuration });
  return {
    vm,
    plugin,
    clock,
    stats,
    request(method, pathAndQuery, headers = [], body) {
      const stream = plugin.newStream();
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
