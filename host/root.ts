/**
 * A root context: one plugin (root id + configuration) inside a VM. It is created with
 * proxy_on_context_create(root, 0), started with proxy_on_vm_start and configured with
 * proxy_on_configure; a zero from either rejects the plugin. It owns the tick timer, the
 * HTTP calls its VM makes, and the streams created under it.
 */
import { BufferType, LogLevel, WasmResult, type StreamType } from "./abi";
import { ConstBuffer, type HostBuffer } from "./buffers";
import type { TimerHandle } from "./clock";
import { Context } from "./context";
import { HeaderMap, type HeaderPairs } from "./headers";
import { PendingHttpCall, type HttpCallResponse } from "./http-call";
import type { LogEntry } from "./log";
import { configurationBytes, type PluginOptions, type StreamOptions } from "./options";
import { answersNode, answersXdsNode, type PropertyValue } from "./properties";
import { HttpStream } from "./stream";
import { IdTable } from "./id-table";
import type { WasmVm } from "./vm";

export type PluginStage = "vm_start" | "configure" | "vm_failed";

export interface PluginResult {
  ok: boolean;
  /** Which step rejected the plugin (absent when ok). */
  stage?: PluginStage;
  /** The VM failure message when the VM died on the way. */
  failure?: string;
  /** What the module logged during these steps (at or above the log level). */
  logs: LogEntry[];
  /** Set when the configuration canary gave this verdict (it ran, or `cached`). */
  canary?: boolean;
  /** The canary's verdict came from its cache (the same configuration was rejected before). */
  cached?: boolean;
  /** The configuration is the one already running: nothing was called (Envoy reuses the plugin). */
  unchanged?: boolean;
}

export class RootContext extends Context {
  readonly rootId: string;
  readonly pluginName: string;
  readonly configuration: Uint8Array;

  /** Plugin configuration visible while on_configure runs (Envoy's temp_plugin_). */
  private configuring = false;
  /** Response visible during proxy_on_http_call_response. */
  httpCallResponse: HttpCallResponse | undefined;
  /** proxy_get_status: code and message of the last HTTP-call outcome. */
  status = { code: 0, message: "" };
  readonly pendingCalls = new Map<number, PendingHttpCall>();
  readonly streams = new IdTable<HttpStream>();

  tickPeriodMs = 0;
  private tickTimer: TimerHandle | undefined;
  deleted = false;
  pendingDone = false;
  /** Set when a newer configuration replaced this root; deleted once its streams end. */
  retired = false;

  constructor(vm: WasmVm, plugin: PluginOptions) {
    super(vm);
    this.rootId = plugin.rootId ?? "";
    this.pluginName = plugin.name ?? "";
    this.configuration = configurationBytes(plugin.configuration);
    vm.roots.push(this);
  }

  get root(): RootContext {
    return this;
  }

  get isRoot(): boolean {
    return true;
  }

  /** on_context_create, on_vm_start, on_configure. */
  start(): PluginResult {
    const mark = this.vm.log.entries.length;
    const result = (ok: boolean, stage?: PluginStage): PluginResult => ({
      ok,
      stage: this.vm.failed ? "vm_failed" : stage,
      failure: this.vm.failure,
      logs: this.vm.log.entries.slice(mark),
    });
    if (this.vm.failed) return result(false, "vm_failed");
    this.vm.call(this, "proxy_on_context_create", this.id, 0);
    this.createdInVm = true;
    this.vm.runAfterCallActions();
    if (this.vm.has("proxy_on_vm_start")) {
      const size = configurationBytes(this.vm.options.vmConfiguration).length;
      const r = this.vm.call(this, "proxy_on_vm_start", this.id, size);
      this.vm.runAfterCallActions();
      if (!r) return result(false, "vm_start");
    }
    return this.runConfigure(mark);
  }

  private runConfigure(mark: number): PluginResult {
    const logs = (): LogEntry[] => this.vm.log.entries.slice(mark);
    if (this.vm.failed) return { ok: false, stage: "vm_failed", failure: this.vm.failure, logs: logs() };
    if (!this.vm.has("proxy_on_configure")) return { ok: true, logs: logs() };
    this.configuring = true;
    const r = this.vm.call(this, "proxy_on_configure", this.id, this.configuration.length);
    this.configuring = false;
    this.vm.runAfterCallActions();
    if (this.vm.failed) return { ok: false, stage: "vm_failed", failure: this.vm.failure, logs: logs() };
    return r ? { ok: true, logs: logs() } : { ok: false, stage: "configure", logs: logs() };
  }

  /** A new HTTP stream under this plugin (Envoy creates one filter context per request). */
  newStream(options: StreamOptions = {}): HttpStream {
    const s = new HttpStream(this, options);
    this.streams.set(s.id, s);
    return s;
  }

  /** Called by a stream when it is deleted. */
  streamEnded(stream: HttpStream): void {
    this.streams.delete(stream.id);
    if (this.retired && this.streams.size === 0) this.shutdown();
  }

  // ---- ABI access -----------------------------------------------------------------------------

  buffer(type: BufferType): HostBuffer | null {
    switch (type) {
      case BufferType.VmConfiguration:
        return new ConstBuffer(configurationBytes(this.vm.options.vmConfiguration));
      case BufferType.PluginConfiguration:
        return this.configuring ? new ConstBuffer(this.configuration) : null;
      case BufferType.HttpCallResponseBody:
        return this.httpCallResponse ? new ConstBuffer(this.httpCallResponse.body) : null;
      default:
        return null;
    }
  }

  /** proxy_get_configuration (0.1.0): plugin configuration while configuring, else the VM's. */
  get configurationForAbi01(): Uint8Array {
    return this.configuring ? this.configuration : configurationBytes(this.vm.options.vmConfiguration);
  }

  get isConfiguring(): boolean {
    return this.configuring;
  }

  propertyTop(name: string): PropertyValue | undefined {
    return this.propertyFor(name, true);
  }

  /** Top-level names the plugin answers for; `fromRoot` says whether a root context asks
   * (it has no stream info, which matters for `xds` before Envoy 1.30). */
  propertyFor(name: string, fromRoot: boolean): PropertyValue | undefined {
    const mode = this.vm.options.propertyMode ?? "legacy";
    switch (name) {
      case "plugin_root_id":
        return this.rootId;
      case "plugin_name":
        return this.pluginName;
      case "plugin_vm_id":
        return this.vm.vmId;
      case "node":
        return answersNode(mode) ? this.nodeValue() : undefined;
      case "xds": {
        const given = this.vm.options.properties?.xds;
        const node = answersXdsNode(mode, fromRoot) ? this.nodeValue() : undefined;
        if (node === undefined) return given;
        const base = given !== undefined && typeof given === "object" && !(given instanceof Uint8Array) && !Array.isArray(given) ? given : {};
        return { ...base, node };
      }
      default:
        return this.vm.options.properties?.[name];
    }
  }

  private nodeValue(): PropertyValue | undefined {
    const node = this.vm.options.node;
    if (!node) return undefined;
    const o: { [k: string]: PropertyValue } = {};
    if (node.id !== undefined) o.id = node.id;
    if (node.cluster !== undefined) o.cluster = node.cluster;
    if (node.metadata !== undefined) o.metadata = node.metadata;
    return o;
  }

  continueStream(type: StreamType): WasmResult {
    return type === 3 ? WasmResult.Unimplemented : WasmResult.Ok;
  }

  // ---- tick timer -----------------------------------------------------------------------------

  /** proxy_set_tick_period_milliseconds: 0 stops, a new period re-arms from now. */
  setTickPeriod(ms: number): void {
    this.vm.observer?.tickPeriod?.(this, ms);
    this.tickTimer?.cancel();
    this.tickTimer = undefined;
    this.tickPeriodMs = ms;
    if (ms > 0 && !this.deleted) this.tickTimer = this.vm.clock.schedule(ms, () => this.tick());
  }

  private tick(): void {
    this.tickTimer = undefined;
    if (this.deleted) return;
    this.vm.observer?.tick?.(this);
    this.vm.call(this, "proxy_on_tick", this.id);
    this.vm.runAfterCallActions();
    // Envoy re-enables the timer after the handler, from the time the handler ran.
    if (this.tickPeriodMs > 0 && !this.deleted) {
      const rearmedDuringTick = this.tickTimer as TimerHandle | undefined;
      rearmedDuringTick?.cancel();
      this.tickTimer = this.vm.clock.schedule(this.tickPeriodMs, () => this.tick());
    }
  }

  // ---- HTTP calls -----------------------------------------------------------------------------

  httpCall(cluster: string, headerPairs: HeaderPairs, body: Uint8Array, trailerPairs: HeaderPairs, timeoutWord: number): { token: number } | { error: WasmResult } {
    const timeoutMs = timeoutWord | 0; // the ABI passes u32; Envoy reads it as int
    const refuse = (reason: string): { error: WasmResult } => {
      this.vm.observer?.httpCallRefused?.(this, cluster, reason);
      return { error: WasmResult.BadArgument };
    };
    if (timeoutMs < 0) return refuse("negative timeout");
    const handler = this.vm.options.clusters?.[cluster];
    if (!handler) return refuse("unknown cluster");
    const headers = new HeaderMap(headerPairs);
    if (!headers.has(":path") || !headers.has(":method") || !headers.has(":authority")) return refuse("missing :method, :path or :authority");
    if (body.length > 0) headers.replace("content-length", String(body.length));
    const token = this.vm.nextHttpCallToken++;
    const call = new PendingHttpCall(
      token,
      { cluster, headers, body: Buffer.from(body), trailers: new HeaderMap(trailerPairs), timeoutMs },
      this.vm.clock,
      (c, response) => this.deliverHttpCall(c, response),
      (error) => this.vm.hostLog(LogLevel.Error, `cluster "${cluster}" handler failed: ${String(error)}`),
    );
    this.pendingCalls.set(token, call);
    this.vm.observer?.httpCall?.(this, token, call.request);
    call.start(handler);
    return { token };
  }

  private deliverHttpCall(call: PendingHttpCall, response: HttpCallResponse): void {
    this.pendingCalls.delete(call.token);
    if (this.deleted) return;
    if (response.reset) this.status = { code: WasmResult.BrokenConnection, message: "reset" };
    this.httpCallResponse = response;
    const nHeaders = response.reset ? 0 : response.headers.size;
    const nTrailers = response.reset ? 0 : response.trailers.size;
    this.vm.call(this, "proxy_on_http_call_response", this.id, call.token, nHeaders, response.body.length, nTrailers);
    this.httpCallResponse = undefined;
    if (response.reset) this.status.message = "";
    this.vm.runAfterCallActions();
  }

  // ---- shutdown -------------------------------------------------------------------------------

  /** The VM is dropped (canary): timers and calls are cancelled, the module is not called. */
  kill(): void {
    this.deleted = true;
    this.tickTimer?.cancel();
    for (const c of this.pendingCalls.values()) c.cancel();
    this.pendingCalls.clear();
  }

  /** Envoy's startShutdown for this plugin: on_done; a zero defers on_delete until proxy_done. */
  shutdown(): void {
    if (this.deleted || this.pendingDone) return;
    const r = this.vm.failed ? 1 : this.vm.call(this, "proxy_on_done", this.id) ?? 1;
    this.vm.runAfterCallActions();
    if (r === 0) this.pendingDone = true;
    else this.delete();
  }

  /** proxy_done from the module: completes a deferred shutdown. */
  done(): WasmResult {
    if (!this.pendingDone) return WasmResult.NotFound;
    this.pendingDone = false;
    this.vm.defer(() => this.delete());
    return WasmResult.Ok;
  }

  private delete(): void {
    if (this.deleted) return;
    this.vm.call(this, "proxy_on_delete", this.id);
    this.vm.runAfterCallActions();
    this.deleted = true;
    this.tickTimer?.cancel();
    for (const c of this.pendingCalls.values()) c.cancel();
    this.pendingCalls.clear();
    this.vm.contexts.delete(this.id);
  }
}
