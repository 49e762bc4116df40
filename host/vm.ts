/**
 * One Wasm VM, as Envoy runs one per worker thread: the instance and its memory, the contexts
 * that live in it, and the rules for calling into it. A trap, an abort or proc_exit inside any
 * call marks the VM failed for good (Envoy's FailState::RuntimeError); afterwards no call enters
 * the module and streams follow the fail strategy. Host calls see the calling context, or the
 * one chosen with proxy_set_effective_context for the rest of that call. Actions the module asks
 * for during a call (continue a stream, send a local reply) run right after the callback
 * returns, as Envoy's "after VM call actions" do.
 */
import type { AbiVersion } from "./abi";
import { LogLevel } from "./abi";
import type { Clock } from "./clock";
import { RealClock, TestClock } from "./clock";
import { startStatsFlush } from "./stats-flush";
import type { Context } from "./context";
import { IdTable } from "./id-table";
import { Log, parseLogLevel } from "./log";
import { Counter, Gauge, Histogram, StatsStore } from "./metrics";
import type { VmOptions, FailStrategy } from "./options";
import { SharedState } from "./shared-data";
import type { RootContext } from "./root";
import type { HostObserver } from "./observer";

/** Thrown inside host functions to end the module call like a trap. */
export class ModuleTrap extends Error {}

type WasmFn = (...args: number[]) => number | undefined;

export interface ModuleExports {
  memory: WebAssembly.Memory;
  malloc: WasmFn;
  fn: Map<string, WasmFn>;
}

/** The per-stream callbacks, resolved once per instance (undefined when not exported). */
export interface StreamCallbacks {
  contextCreate: WasmFn | undefined;
  requestHeaders: WasmFn | undefined;
  requestBody: WasmFn | undefined;
  requestTrailers: WasmFn | undefined;
  responseHeaders: WasmFn | undefined;
  responseBody: WasmFn | undefined;
  responseTrailers: WasmFn | undefined;
  log: WasmFn | undefined;
  done: WasmFn | undefined;
  delete: WasmFn | undefined;
}

export class WasmVm {
  readonly log: Log;
  readonly clock: Clock;
  readonly stats: StatsStore;
  readonly shared: SharedState;
  readonly vmId: string;
  readonly failStrategy: FailStrategy;
  readonly lean: boolean;
  readonly options: VmOptions;
  /** Name in a shared log ("canary", "worker0", ...), if given. */
  readonly label: string | undefined;
  /** Observation hooks (observer.ts), if given. */
  readonly observer: HostObserver | undefined;

  failed = false;
  /** Envoy-style failure message, e.g. "Function: proxy_on_request_headers failed: ...". */
  failure: string | undefined;

  /** Live contexts by id (root and stream). */
  readonly contexts = new IdTable<Context>();
  readonly roots: RootContext[] = [];
  private nextContextId = 1;

  /** Host calls made by the module, by import name (e.g. "proxy_log"). */
  readonly hostCalls = new Map<string, { n: number }>();
  mallocCalls = 0;
  mallocBytes = 0;
  /** Function entries and loop iterations, for a module compiled with { countWork: true } (work.ts). */
  work = 0;

  /** True while `_initialize`/`main`/`_start` run: most host calls trap then. */
  restricted = false;
  /** Set by proxy_send_local_response: the current callback's status becomes "stop". */
  stopNextIteration = false;

  private current: Context | null = null;
  private effectiveId = 0;
  private readonly afterCall: Array<() => void> = [];
  private exportsRef: ModuleExports | undefined;
  /** Stream callbacks looked up once, so a request costs no export lookups by name. */
  streamCallbacks: StreamCallbacks = resolveStreamCallbacks(new Map());
  private memoryBytes: Buffer = Buffer.alloc(0);
  private memoryView: DataView = new DataView(new ArrayBuffer(0));
  /** Recently decoded short strings, by length (see readString). */
  private readonly recentStrings: string[] = new Array<string>(RECENT_STRINGS).fill("\u0000".repeat(SHORT_STRING + 1));

  /** The checked module this VM was instantiated from (used for canary VMs). */
  compiled: import("./loader").CompiledModule | undefined;

  readonly metricsById = new Map<number, Counter | Gauge | Histogram>();
  private nextMetricId = [0, 1, 2];
  nextHttpCallToken = 1;

  constructor(
    readonly abi: AbiVersion,
    options: VmOptions,
  ) {
    this.options = options;
    this.clock = options.clock ?? new TestClock();
    this.lean = options.lean ?? false;
    this.log = options.log ?? new Log(parseLogLevel(options.logLevel ?? "info"), !this.lean);
    this.label = options.label;
    this.observer = options.observer;
    this.stats = options.stats ?? new StatsStore();
    this.shared = options.shared ?? new SharedState();
    this.vmId = options.vmId ?? "";
    this.failStrategy = options.failStrategy ?? "closed";
    // With the real clock, latch histograms every 5 s like Envoy's stats flush (once per store).
    if (this.clock instanceof RealClock && !autoFlushed.has(this.stats)) {
      autoFlushed.add(this.stats);
      startStatsFlush(this.stats, this.clock);
    }
  }

  attach(exports: ModuleExports): void {
    this.exportsRef = exports;
    this.streamCallbacks = resolveStreamCallbacks(exports.fn);
  }

  get module(): ModuleExports {
    if (!this.exportsRef) throw new Error("VM has no instance");
    return this.exportsRef;
  }

  has(name: string): boolean {
    return this.exportsRef?.fn.has(name) ?? false;
  }

  allocContextId(): number {
    return this.nextContextId++;
  }

  counterFor(name: string): { n: number } {
    let c = this.hostCalls.get(name);
    if (!c) this.hostCalls.set(name, (c = { n: 0 }));
    return c;
  }

  /** Host calls per function name as a plain object (zero counts omitted). */
  hostCallCounts(): Record<string, number> {
    const o: Record<string, number> = {};
    for (const [k, v] of this.hostCalls) if (v.n > 0) o[k] = v.n;
    return o;
  }

  resetHostCallCounts(): void {
    for (const v of this.hostCalls.values()) v.n = 0;
    this.mallocCalls = 0;
    this.mallocBytes = 0;
  }

  /** The context host calls act on: the effective context if set and alive, else the caller. */
  context(): Context {
    if (this.effectiveId !== 0) {
      const c = this.contexts.get(this.effectiveId);
      if (c) return c;
    }
    if (!this.current) throw new Error("host call outside of a module call");
    return this.current;
  }

  /** Id of the context the module is running in (0 while the VM starts). */
  currentContextId(): number {
    if (this.effectiveId !== 0 && this.contexts.has(this.effectiveId)) return this.effectiveId;
    return this.current?.id ?? 0;
  }

  setEffectiveContext(id: number): boolean {
    if (!this.contexts.has(id)) return false;
    this.effectiveId = id;
    return true;
  }

  /**
   * Calls a module export on behalf of a context. Returns undefined when the export is absent,
   * when the VM has failed, or when this call failed it.
   */
  call(ctx: Context | null, name: string, a = 0, b = 0, c = 0, d = 0, e = 0): number | undefined {
    if (this.failed) return undefined;
    const fn = this.exportsRef?.fn.get(name);
    if (!fn) return undefined;
    return this.callFn(ctx, fn, name, a, b, c, d, e);
  }

  /** `call` with the export already resolved (streamCallbacks): the per-request path. */
  callFn(ctx: Context | null, fn: WasmFn, name: string, a = 0, b = 0, c = 0, d = 0, e = 0): number | undefined {
    if (this.failed) return undefined;
    const savedCurrent = this.current;
    const savedEffective = this.effectiveId;
    this.current = ctx;
    this.effectiveId = 0;
    try {
      const r = fn(a, b, c, d, e);
      return r === undefined ? 0 : r >>> 0;
    } catch (error) {
      if (!isModuleFailure(error)) throw error;
      this.fail(`Function: ${name} failed: ${describeFailure(error)}`);
      return undefined;
    } finally {
      this.current = savedCurrent;
      this.effectiveId = savedEffective;
    }
  }

  /** Drops the VM without shutting its plugins down, as cpp-host's WasmHandleBase::kill does
   * to the configuration canary: no on_done/on_delete, its timers and calls never fire. */
  kill(): void {
    this.failed = true;
    this.failure ??= "killed";
    this.afterCall.length = 0;
    for (const root of this.roots) root.kill();
  }

  /** Marks the VM failed (dead); logs Envoy's critical line. */
  fail(message: string): void {
    if (this.failed) return;
    this.failed = true;
    this.failure = message;
    this.afterCall.length = 0;
    this.hostLog(LogLevel.Critical, `wasm VM failed: ${message}`);
    this.observer?.vmFailure?.(this, message);
  }

  /** Queues an action to run once the current module callback has returned. */
  defer(action: () => void): void {
    this.afterCall.push(action);
  }

  /** Runs deferred actions (DeferAfterCallActions' destructor). */
  runAfterCallActions(): void {
    this.stopNextIteration = false;
    if (this.afterCall.length === 0) return;
    while (this.afterCall.length > 0) {
      const action = this.afterCall.shift()!;
      action();
    }
  }

  /** A note from the host itself in the VM's log. */
  hostLog(level: LogLevel, message: string): void {
    this.log.write(level, () => message, "host", this.current?.id ?? 0, this.clock.now(), this.label);
  }

  // ---- memory -------------------------------------------------------------------------------

  /** Memory.buffer is a slow getter; growing the memory detaches the old buffer (its views
   * read as empty), so an empty view is the only time to ask again. */
  private refreshMemory(): void {
    if (this.memoryBytes.length !== 0) return;
    const buffer = this.module.memory.buffer;
    if (this.memoryBytes.buffer !== buffer) {
      this.memoryBytes = Buffer.from(buffer);
      this.memoryView = new DataView(buffer);
    }
  }

  /** Whether [ptr, ptr + size) lies inside module memory. */
  inBounds(ptr: number, size: number): boolean {
    this.refreshMemory();
    return ptr + size <= this.memoryBytes.length;
  }

  /** A view of module memory, or undefined when out of bounds (InvalidMemoryAccess). The view
   * is only valid until the module runs again. */
  read(ptr: number, size: number): Uint8Array | undefined {
    this.refreshMemory();
    if (ptr + size > this.memoryBytes.length) return undefined;
    return this.memoryBytes.subarray(ptr, ptr + size);
  }

  readString(ptr: number, size: number): string | undefined {
    this.refreshMemory();
    const bytes = this.memoryBytes;
    if (ptr + size > bytes.length) return undefined;
    if (size > SHORT_STRING) return bytes.toString("latin1", ptr, ptr + size);
    // Modules ask for the same few header names again and again: reuse the string when the
    // bytes are the same (decoding goes through C++ and costs more than comparing).
    const slot = size & (RECENT_STRINGS - 1);
    const recent = this.recentStrings[slot];
    if (recent.length === size) {
      let same = true;
      for (let i = 0; i < size; i++) {
        if (bytes[ptr + i] !== recent.charCodeAt(i)) {
          same = false;
          break;
        }
      }
      if (same) return recent;
    }
    const s = bytes.toString("latin1", ptr, ptr + size);
    this.recentStrings[slot] = s;
    return s;
  }

  readUtf8(ptr: number, size: number): string | undefined {
    this.refreshMemory();
    if (ptr + size > this.memoryBytes.length) return undefined;
    return this.memoryBytes.toString("utf8", ptr, ptr + size);
  }

  writeBytes(ptr: number, data: Uint8Array): boolean {
    this.refreshMemory();
    if (ptr + data.length > this.memoryBytes.length) return false;
    this.memoryBytes.set(data, ptr);
    return true;
  }

  writeU32(ptr: number, value: number): boolean {
    this.refreshMemory();
    if (ptr + 4 > this.memoryBytes.length) return false;
    this.memoryView.setUint32(ptr, value >>> 0, true);
    return true;
  }

  writeU64(ptr: number, value: bigint): boolean {
    this.refreshMemory();
    if (ptr + 8 > this.memoryBytes.length) return false;
    this.memoryView.setBigUint64(ptr, BigInt.asUintN(64, value), true);
    return true;
  }

  /** Asks the module's malloc for memory (counted); 0 on failure. */
  alloc(size: number): number {
    this.mallocCalls++;
    this.mallocBytes += size;
    const ptr = this.module.malloc(size);
    return ptr === undefined ? 0 : ptr >>> 0;
  }

  /** copyOut for a latin1 string (header values): written straight into module memory. */
  copyOutString(value: string, ptrPtr: number, sizePtr: number): boolean {
    const size = value.length;
    let ptr = 0;
    if (size > 0) {
      ptr = this.alloc(size);
      if (ptr === 0) return false;
      this.refreshMemory();
      const bytes = this.memoryBytes;
      if (ptr + size > bytes.length) return false;
      if (size > SHORT_STRING) bytes.write(value, ptr, size, "latin1");
      else for (let i = 0; i < size; i++) bytes[ptr + i] = value.charCodeAt(i);
    }
    return this.writeU32(ptrPtr, ptr) && this.writeU32(sizePtr, size);
  }

  /** copyToPointerSize: hands `data` to the module (malloc'd) and writes pointer and size.
   * Empty data is pointer 0, size 0, without a malloc. */
  copyOut(data: Uint8Array, ptrPtr: number, sizePtr: number): boolean {
    let ptr = 0;
    if (data.length > 0) {
      ptr = this.alloc(data.length);
      if (ptr === 0 || !this.writeBytes(ptr, data)) return false;
    }
    return this.writeU32(ptrPtr, ptr) && this.writeU32(sizePtr, data.length);
  }

  // ---- metrics ids (per VM, pointing into the shared store) ----------------------------------

  defineMetric(type: number, name: string): number {
    const id = (this.nextMetricId[type] += 4);
    const full = `wasmcustom.${name}`;
    const stat = type === 0 ? this.stats.counter(full) : type === 1 ? this.stats.gauge(full) : this.stats.histogram(full);
    this.metricsById.set(id, stat);
    return id;
  }
}

const autoFlushed = new WeakSet<StatsStore>();
/** Strings up to this length are copied byte by byte: cheaper than a call into Buffer's C++. */
const SHORT_STRING = 64;
/** Slots of the recent-string cache (a power of two). */
const RECENT_STRINGS = 16;

function resolveStreamCallbacks(fn: Map<string, WasmFn>): StreamCallbacks {
  return {
    contextCreate: fn.get("proxy_on_context_create"),
    requestHeaders: fn.get("proxy_on_request_headers"),
    requestBody: fn.get("proxy_on_request_body"),
    requestTrailers: fn.get("proxy_on_request_trailers"),
    responseHeaders: fn.get("proxy_on_response_headers"),
    responseBody: fn.get("proxy_on_response_body"),
    responseTrailers: fn.get("proxy_on_response_trailers"),
    log: fn.get("proxy_on_log"),
    done: fn.get("proxy_on_done"),
    delete: fn.get("proxy_on_delete"),
  };
}

function isModuleFailure(error: unknown): boolean {
  return (
    error instanceof WebAssembly.RuntimeError ||
    error instanceof ModuleTrap ||
    (error instanceof RangeError && /call stack/i.test(error.message))
  );
}

function describeFailure(error: unknown): string {
  if (error instanceof WebAssembly.RuntimeError) return `Uncaught RuntimeError: ${error.message}`;
  if (error instanceof Error) return error.message;
  return String(error);
}
