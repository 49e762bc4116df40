/**
 * Drives one module through the project's host in lean mode (no log collection, no callback
 * trace) with the test clock: one request = context create, request headers, response headers,
 * done, log, delete. Header maps are built once and handed to each stream as an O(1)
 * copy-on-write clone, as a proxy hands each filter chain its own map.
 */
import { readFileSync } from "node:fs";
import {
  compileModule, HeaderMap, instantiate, requestHeaders, responseHeaders, startPlugin, TestClock,
  type CompiledModule, type HttpStream, type Plugin, type WasmVm,
} from "../../host/index";

export const PLUGIN_WASM = "build/plugin.wasm";
export const STOCK_WASM = "build/bench/stock-sdk.wasm";

export function readModule(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}

/** Request header maps for a path (what Envoy's codec would present). */
export function requestMap(method: string, path: string): HeaderMap {
  return new HeaderMap(requestHeaders(method, path, [
    ["user-agent", "bench/1.0"],
    ["accept", "*/*"],
    ["x-request-id", "3f1c9a52-6f0e-4d7e-9a51-0c2f4b7d8e19"],
  ]));
}

export const RESPONSE = new HeaderMap(responseHeaders(200, [["content-type", "application/json"], ["content-length", "2"]]));

export class Bench {
  private constructor(
    readonly vm: WasmVm,
    readonly plugin: Plugin,
    readonly clock: TestClock,
  ) {}

  static async start(module: Uint8Array | CompiledModule, rootId: string, configuration: object): Promise<Bench> {
    const compiled = module instanceof Uint8Array ? await compileModule(module) : module;
    const clock = new TestClock();
    const vm = instantiate(compiled, { clock, lean: true, logLevel: "info" });
    const plugin = startPlugin(vm, { rootId, configuration });
    if (!plugin.ok) throw new Error(`the module refused the bench configuration (${plugin.result.stage}): ${plugin.result.failure ?? ""}`);
    return new Bench(vm, plugin, clock);
  }

  /** A whole request that reaches the upstream and gets a 200. */
  pass(request: HeaderMap): HttpStream {
    return this.plugin.newStream().sendRequestHeaders(request.clone(), true).sendResponseHeaders(RESPONSE.clone(), true);
  }

  /** Request headers only (the module may answer or hold the request). */
  begin(request: HeaderMap): HttpStream {
    return this.plugin.newStream().sendRequestHeaders(request.clone(), true);
  }

  respond(stream: HttpStream): void {
    stream.sendResponseHeaders(RESPONSE.clone(), true);
  }

  /** Linear memory size in bytes. */
  get memoryBytes(): number {
    return this.vm.module.memory.buffer.byteLength;
  }

  /** Starts counting host calls and malloc'd bytes (and remembers the memory size). */
  startCounting(): Counting {
    this.vm.resetHostCallCounts();
    return { memoryBefore: this.memoryBytes, requests: 0 };
  }

  /** Host calls and module memory per request since startCounting. */
  perRequest(counting: Counting): PerRequest {
    const n = Math.max(1, counting.requests);
    const calls = this.vm.hostCallCounts();
    const total = Object.values(calls).reduce((a, b) => a + b, 0);
    const byName: Record<string, number> = {};
    for (const [k, v] of Object.entries(calls)) byName[k] = round(v / n, 3);
    return {
      hostCalls: round(total / n, 3),
      hostCallsByName: byName,
      mallocBytes: round(this.vm.mallocBytes / n, 2),
      mallocCalls: round(this.vm.mallocCalls / n, 3),
      memoryGrowthBytes: this.memoryBytes - counting.memoryBefore,
      requests: counting.requests,
    };
  }
}

export interface Counting {
  memoryBefore: number;
  requests: number;
}

export interface PerRequest {
  /** Host functions the module called, per request. */
  hostCalls: number;
  hostCallsByName: Record<string, number>;
  /** Bytes the host asked the module's malloc for (values it returned), per request. */
  mallocBytes: number;
  mallocCalls: number;
  /** Growth of linear memory over the counted requests (whole 64 KiB pages). */
  memoryGrowthBytes: number;
  requests: number;
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
