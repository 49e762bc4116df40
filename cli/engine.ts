/**
 * The real build/plugin.wasm in the project's host (host/index.ts), as hfi uses it: a fresh VM
 * per question, configured as the proxy would configure it, its log read back as the plugin's
 * verdict, and requests driven through it on a test clock.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import {
  compileModule, instantiate, requestHeaders, responseHeaders, startPlugin, StatsStore, TestClock,
  type CompiledModule, type HttpStream, type NodeInfo, type Plugin, type Traffic, type WasmVm,
} from "../host/index";
import { CliError } from "./errors";

/** The repository the CLI lives in (its build/ and k8s/ folders). */
export const REPO_ROOT = path.resolve(__dirname, "..");

export function wasmPath(): string {
  return process.env.HFI_WASM || path.join(REPO_ROOT, "build", "plugin.wasm");
}

let compiled: Promise<CompiledModule> | undefined;

export function pluginModule(): Promise<CompiledModule> {
  const file = wasmPath();
  if (!existsSync(file)) throw new CliError(`${file} not found: build the plugin with \`make build\``);
  compiled ??= compileModule(readFileSync(file));
  return compiled;
}

export interface EngineOptions {
  rootId?: string;
  node?: NodeInfo;
  /** The per-request attributes every request of this engine carries (listener direction,
   * upstream cluster), as the simulated proxy would report them. */
  traffic?: Traffic;
  /** Configure Envoy's throwaway canary VM first, as Envoy does (default true). A judgement of
   * a configuration needs only one VM: the canary runs the same code and says the same. */
  canary?: boolean;
}

export interface Engine {
  vm: WasmVm;
  plugin: Plugin;
  clock: TestClock;
  stats: StatsStore;
  /** Whether the plugin accepted the configuration. */
  accepted: boolean;
  /** The module's log lines (warn and above are its verdict on the configuration). */
  lines(): Array<{ level: string; message: string }>;
  /** Sends one request (headers only) and returns its stream. */
  request(method: string, pathAndQuery: string, headers: Array<[string, string]>): HttpStream;
}

/** A fresh VM with the plugin configured with `configuration`. */
export async function startEngine(configuration: string, options: EngineOptions = {}): Promise<Engine> {
  // Encoded once, here: the host would encode a string for each root context it makes (the
  // canary's and the worker's); for a configuration of many megabytes each copy is that much
  // memory again.
  const bytes = Buffer.from(configuration, "utf8");
  // Simulated time starts at the real time, so schedule windows are judged as a proxy would now.
  const clock = new TestClock(Date.now());
  const stats = new StatsStore();
  const vm = instantiate(await pluginModule(), { clock, stats, node: options.node, logLevel: "trace", failStrategy: "closed" });
  const plugin = startPlugin(vm, { rootId: options.rootId ?? "hfi-fault-injection", configuration: bytes, canary: options.canary ?? true });
  return {
    vm,
    plugin,
    clock,
    stats,
    accepted: plugin.ok,
    lines: () => vm.log.entries.filter((e) => e.source === "module").map((e) => ({ level: e.levelName, message: e.message })),
    request(method, pathAndQuery, headers) {
      const stream = plugin.newStream(options.traffic ? { traffic: options.traffic } : {});
      stream.sendRequestHeaders(requestHeaders(method, pathAndQuery, headers), true);
      return stream;
    },
  };
}

/** What happened to one request. */
export interface Outcome {
  /** "abort" (a local reply), "delay" (held, then passed on), "delay+abort", "reset" (the stream
   * closed with no reply, after any hold), "response" (the upstream's answer changed or held,
   * after any hold), or "none". */
  fault: "none" | "abort" | "delay" | "delay+abort" | "reset" | "response";
  status?: number;
  heldMs: number;
  /** The policy named in the reply's policy header, when there is one. */
  policy?: string;
}

/**
 * Drives one request to its end: headers in, time advanced until the plugin lets go (holds end
 * on the plugin's own timers), the upstream answers 200 when it is reached.
 */
export function drive(engine: Engine, method: string, pathAndQuery: string, headers: Array<[string, string]>, policyHeader: string, maxHoldMs: number): Outcome {
  return finish(engine, engine.request(method, pathAndQuery, headers), policyHeader, maxHoldMs);
}

/** Lets a stream run to its end (see drive) and says what the plugin did to it. */
export function finish(engine: Engine, stream: HttpStream, policyHeader: string, maxHoldMs: number): Outcome {
  const start = engine.clock.now();
  let releasedAt: number | undefined;
  if (stream.upstream.headers === undefined && stream.localReply === undefined) {
    const mark = () => (releasedAt ??= engine.clock.now());
    stream.events.once("upstreamHeaders", mark);
    stream.events.once("localReply", mark);
    stream.events.once("reset", mark);
    engine.clock.advance(maxHoldMs + 1, () => releasedAt !== undefined);
  }
  const heldMs = (releasedAt ?? start) - start;
  if (stream.localReply) {
    const policy = stream.localReply.headers[policyHeader];
    return { fault: heldMs > 0 ? "delay+abort" : "abort", status: stream.localReply.status, heldMs, policy };
  }
  if (stream.upstream.headers !== undefined) {
    stream.sendResponseHeaders(responseHeaders(200, [["content-type", "text/plain"]]), true);
    // A response fault may hold the answer too: let the plugin's timers run.
    if (stream.reply.status === undefined && stream.state === "open") engine.clock.advance(maxHoldMs + 1, () => stream.reply.status !== undefined || stream.state !== "open");
    const reply = stream.reply;
    if (reply.headers?.["x-fault-injected"] === "response") return { fault: "response", status: reply.status, heldMs, policy: reply.headers[policyHeader] };
    if (heldMs > 0) return { fault: "delay", status: reply.status, heldMs, policy: reply.headers?.[policyHeader] };
    return { fault: "none", status: reply.status, heldMs: 0 };
  }
  // Closed by the plugin with no reply and no upstream: a reset fault.
  if (stream.state === "reset") return { fault: "reset", heldMs };
  stream.reset();
  return { fault: "none", heldMs };
}
