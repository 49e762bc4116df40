/**
 * One HTTP stream through the plugin, with Envoy's filter-manager semantics for a single Wasm
 * filter in front of the router:
 *
 *  client ──request──▶ [Wasm filter] ──▶ upstream        (events: upstreamHeaders/Data/Trailers/End/Reset)
 *  client ◀─response── [Wasm filter] ◀── upstream        (events: downstreamHeaders/Data/Trailers/End)
 *
 * Header status: Continue (and ContinueAndEndStream, which Envoy maps to Continue) passes the
 * headers on; StopIteration holds them (and, unless `allowOnHeadersStopIteration` is set, is
 * turned into StopAllIterationAndWatermark as Envoy does); StopAll* hold headers and body,
 * without body callbacks, until continued. Data status: Continue passes held headers and data;
 * StopIterationAndBuffer buffers (the next callback sees the whole buffer); Watermark buffers
 * but the next callback sees only the new chunk; NoBuffer drops the chunk. A Continue from a
 * body callback resumes the whole direction. proxy_continue_stream / proxy_send_local_response
 * take effect when the callback that asked returns. The stream ends when the client has the
 * whole response (or on reset): then proxy_on_log, proxy_on_done, proxy_on_delete, in the order
 * current Envoy uses (access log before the filters are destroyed).
 */
import { EventEmitter } from "node:events";
import { BufferType, DataStatus, HeaderMapType, HeaderStatus, LogLevel, StreamType, TrailersStatus, WasmResult } from "./abi";
import { BodyBuffer, EMPTY_BUFFER, type HostBuffer } from "./buffers";
import { Context } from "./context";
import { HeaderMap, type HeadersInit } from "./headers";
import { nanosFromMs } from "./host-calls";
import { buildLocalReply, isGrpcRequest, type LocalReply } from "./local-reply";
import type { StreamOptions, Traffic } from "./options";
import type { PropertyValue } from "./properties";
import type { RootContext } from "./root";

type Direction = "request" | "response";

// Status values as local constants: the hot path avoids re-reading module exports.
const H_CONTINUE = HeaderStatus.Continue;
const H_STOP = HeaderStatus.StopIteration;
const H_CONTINUE_END = HeaderStatus.ContinueAndEndStream;
const H_STOP_ALL_WATERMARK = HeaderStatus.StopAllIterationAndWatermark;
const D_CONTINUE = DataStatus.Continue;
const D_BUFFER = DataStatus.StopIterationAndBuffer;
const D_WATERMARK = DataStatus.StopIterationAndWatermark;
const D_NO_BUFFER = DataStatus.StopIterationNoBuffer;
const T_CONTINUE = TrailersStatus.Continue;
const T_STOP = TrailersStatus.StopIteration;
const NONE = 0;
const SINGLE = 1;
const ALL = 2;
/** What Delivered.body starts as (bodies are replaced, never written into). */
const NO_BODY = Buffer.alloc(0);
/** The callback trace of lean streams: never written. */
const NO_TRACE: string[] = Object.freeze([]) as unknown as string[];

/** Per-direction filter state. */
class Half {
  headers: HeaderMap | undefined;
  /** Whether the module can reach the headers map now (Envoy's request_headers_ pointer). */
  headersVisible = false;
  headersPassed = false;
  endReceived = false;
  ended = false;
  stopped = NONE;
  /** Data held at this filter (undefined: no data frame pending). */
  buffered: Buffer | undefined;
  /** The chunk of the running body callback when not buffering. */
  current: Buffer | undefined;
  bufferingBody = false;
  bodyVisible = false;
  trailers: HeaderMap | undefined;
  trailersVisible = false;
  trailersPending = false;
  trailersSeen = false;
  /** Nothing more flows in this direction (local reply or reset). */
  aborted = false;
  readonly headersName: string;
  readonly bodyName: string;
  readonly trailersName: string;
  constructor(readonly direction: Direction) {
    const request = direction === "request";
    this.headersName = request ? "proxy_on_request_headers" : "proxy_on_response_headers";
    this.bodyName = request ? "proxy_on_request_body" : "proxy_on_response_body";
    this.trailersName = request ? "proxy_on_request_trailers" : "proxy_on_response_trailers";
  }
}

/** What reached one side (upstream or the client). */
export interface Delivered {
  headers: HeaderMap | undefined;
  body: Buffer;
  trailers: HeaderMap | undefined;
  ended: boolean;
  /** Upstream only: the request to the upstream was abandoned (local reply or client reset). */
  reset: boolean;
}

export interface LocalReplyInfo {
  status: number;
  body: string;
  details: string;
  grpcStatus?: number;
  headers: Record<string, string>;
}

export type StreamState = "open" | "complete" | "reset";

export interface HttpStreamEvents {
  upstreamHeaders: [headers: HeaderMap, endOfStream: boolean];
  upstreamData: [chunk: Buffer, endOfStream: boolean];
  upstreamTrailers: [trailers: HeaderMap];
  upstreamEnd: [];
  upstreamReset: [];
  downstreamHeaders: [headers: HeaderMap, endOfStream: boolean];
  downstreamData: [chunk: Buffer, endOfStream: boolean];
  downstreamTrailers: [trailers: HeaderMap];
  downstreamEnd: [];
  localReply: [reply: LocalReplyInfo];
  complete: [];
  reset: [];
}

export class HttpStream extends Context {
  private emitter: EventEmitter | undefined;
  readonly upstream: Delivered = { headers: undefined, body: NO_BODY, trailers: undefined, ended: false, reset: false };
  readonly downstream: Delivered = { headers: undefined, body: NO_BODY, trailers: undefined, ended: false, reset: false };
  /** The local reply the client got, if any. */
  localReply: LocalReplyInfo | undefined;
  state: StreamState = "open";
  /** Module callbacks entered for this stream, in order (empty in lean mode). */
  readonly callbacks: string[];
  /** Whether the filter exists for this stream (fail-open with a dead VM: it does not). */
  readonly filterInstalled: boolean;

  private readonly request = new Half("request");
  private response = new Half("response");
  private endOfStream = false;
  private accessLog = false;
  private failureReplySent = false;
  private readonly startedAt: number;
  private state_: Map<string, Uint8Array> | undefined;
  private readonly record: boolean;
  /** Outcome of the last `invoke` besides its status (kept in fields: no object per call). */
  private invokeStopNext = false;
  private invokeFailed = false;
  /** The module callback running now (closeStream needs to know: see closeStream). */
  private running: string | undefined;
  /** Response code details set by proxy_close_stream (Envoy: only when none were set). */
  private closeDetails: string | undefined;
  /** The client reset the stream (Envoy's DownstreamConnectionTermination, DC). */
  private clientLeft = false;

  constructor(
    private readonly rootContext: RootContext,
    private readonly options: StreamOptions,
  ) {
    super(rootContext.vm);
    this.startedAt = this.vm.clock.now();
    this.record = !this.vm.lean;
    this.callbacks = this.record ? [] : NO_TRACE;
    this.filterInstalled = !(this.vm.failed && this.vm.failStrategy === "open");
  }

  get root(): RootContext {
    return this.rootContext;
  }

  get isRoot(): boolean {
    return false;
  }

  on<E extends keyof HttpStreamEvents>(event: E, listener: (...args: HttpStreamEvents[E]) => void): this {
    (this.emitter ??= new EventEmitter()).on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** The stream's EventEmitter (created on first use; streams nobody listens to skip it). */
  get events(): EventEmitter {
    return (this.emitter ??= new EventEmitter());
  }

  // Fixed-arity emits: no argument array per event when nobody listens.
  private emit0(event: keyof HttpStreamEvents): void {
    if (this.emitter !== undefined) this.emitter.emit(event);
  }

  private emit1<E extends keyof HttpStreamEvents>(event: E, a: HttpStreamEvents[E][0]): void {
    if (this.emitter !== undefined) this.emitter.emit(event, a);
  }

  private emit2<E extends keyof HttpStreamEvents>(event: E, a: HttpStreamEvents[E][0], b: HttpStreamEvents[E][1]): void {
    if (this.emitter !== undefined) this.emitter.emit(event, a, b);
  }

  /** The client's view: status, headers and body text (undefined status until headers arrive). */
  get reply(): { status: number | undefined; headers: Record<string, string>; body: string } {
    const h = this.downstream.headers;
    return { status: h ? Number(h.get(":status")) : undefined, headers: h?.toObject() ?? {}, body: this.downstream.body.toString("utf8") };
  }

  get finished(): boolean {
    return this.state !== "open";
  }

  // ---- driving the stream (client and upstream side) -------------------------------------------

  sendRequestHeaders(headers: HeadersInit | HeaderMap, endOfStream = false): this {
    if (this.request.headers) throw new Error("request headers already sent on this stream");
    if (this.finished) return this;
    const h = this.request;
    h.headers = headers instanceof HeaderMap ? headers : new HeaderMap(headers);
    h.endReceived = endOfStream;
    if (!this.filterInstalled) {
      this.passHeaders(h);
      return this;
    }
    this.ensureCreated();
    this.decodeHeaders(h, endOfStream);
    return this;
  }

  sendRequestBody(data: string | Uint8Array, endOfStream = false): this {
    const h = this.request;
    if (!h.headers) throw new Error("send request headers first");
    if (this.finished || h.aborted || h.endReceived) return this;
    this.onData(h, Buffer.from(data), endOfStream);
    return this;
  }

  sendRequestTrailers(trailers: HeadersInit | HeaderMap): this {
    const h = this.request;
    if (!h.headers) throw new Error("send request headers first");
    if (this.finished || h.aborted || h.endReceived) return this;
    this.onTrailers(h, trailers instanceof HeaderMap ? trailers : new HeaderMap(trailers));
    return this;
  }

  sendResponseHeaders(headers: HeadersInit | HeaderMap, endOfStream = false): this {
    if (this.finished || this.request.aborted) return this;
    if (!this.upstream.headers) throw new Error("the upstream has not received the request yet");
    if (this.response.headers) throw new Error("response headers already sent on this stream");
    this.encodeHeaders(headers instanceof HeaderMap ? headers : new HeaderMap(headers), endOfStream);
    return this;
  }

  sendResponseBody(data: string | Uint8Array, endOfStream = false): this {
    const h = this.response;
    if (!h.headers) throw new Error("send response headers first");
    if (this.finished || h.aborted || h.endReceived) return this;
    this.onData(h, Buffer.from(data), endOfStream);
    return this;
  }

  sendResponseTrailers(trailers: HeadersInit | HeaderMap): this {
    const h = this.response;
    if (!h.headers) throw new Error("send response headers first");
    if (this.finished || h.aborted || h.endReceived) return this;
    this.onTrailers(h, trailers instanceof HeaderMap ? trailers : new HeaderMap(trailers));
    return this;
  }

  /** The client went away (or the connection broke): the stream ends whatever its state. As
   * Envoy records it (ActiveStream::completeRequest): response flag DC, details
   * downstream_remote_disconnect, and no response code unless one was already sent. */
  reset(): void {
    if (!this.finished) this.clientLeft = true;
    this.finish("reset");
  }

  // ---- filter manager -------------------------------------------------------------------------

  private ensureCreated(): void {
    if (this.createdInVm) return;
    this.createdInVm = true;
    if (this.vm.failed) return;
    this.trace("proxy_on_context_create");
    const fn = this.vm.streamCallbacks.contextCreate;
    if (fn !== undefined) this.vm.callFn(this, fn, "proxy_on_context_create", this.id, this.rootContext.id);
    this.vm.runAfterCallActions();
  }

  private decodeHeaders(h: Half, endOfStream: boolean): void {
    h.headersVisible = true;
    const status = this.invokeHeaders(h, endOfStream);
    if (this.finished || h.aborted) return;
    if (status === H_CONTINUE) {
      h.headersVisible = false;
      this.passHeaders(h);
    } else {
      h.stopped = status === H_STOP ? SINGLE : ALL;
    }
  }

  private encodeHeaders(headers: HeaderMap, endOfStream: boolean): void {
    const h = this.response;
    h.headers = headers;
    h.endReceived = endOfStream;
    if (!this.filterInstalled || this.failureReplySent || !this.createdInVm) {
      this.passHeaders(h);
      return;
    }
    this.decodeHeaders(h, endOfStream);
  }

  private onData(h: Half, chunk: Buffer, endOfStream: boolean): void {
    h.endReceived = endOfStream;
    if (!this.filterActive(h) || h.stopped === ALL) {
      h.buffered = h.buffered ? Buffer.concat([h.buffered, chunk]) : chunk;
      if (h.stopped === ALL && this.vm.observer !== undefined) this.vm.observer.held?.(this, h.direction, chunk.length, h.buffered.length, endOfStream, false);
      if (h.stopped === NONE) this.pass(h);
      return;
    }
    this.filterData(h, chunk, endOfStream);
  }

  private onTrailers(h: Half, trailers: HeaderMap): void {
    h.endReceived = true;
    h.trailers = trailers;
    h.trailersPending = true;
    if (!this.filterActive(h)) {
      if (h.stopped === NONE) this.pass(h);
      return;
    }
    if (h.stopped === ALL) {
      if (this.vm.observer !== undefined) this.vm.observer.held?.(this, h.direction, 0, h.buffered?.length ?? 0, true, true);
      return;
    }
    this.filterTrailers(h);
  }

  /** Whether the module takes part in this direction at all. */
  private filterActive(h: Half): boolean {
    if (!this.filterInstalled || !this.createdInVm) return false;
    if (h.direction === "response" && this.failureReplySent) return false;
    return true;
  }

  /** A body chunk reaches the filter (which is not stopped for all frames). */
  private filterData(h: Half, chunk: Buffer, endOfStream: boolean): void {
    let size: number;
    if (h.bufferingBody) {
      h.buffered = h.buffered ? Buffer.concat([h.buffered, chunk]) : chunk;
      h.current = undefined;
      size = h.buffered.length;
    } else {
      h.current = chunk;
      size = chunk.length;
    }
    h.bodyVisible = true;
    const status = this.invokeData(h, size, endOfStream, chunk.length);
    if (this.finished || h.aborted) return;
    h.bufferingBody = false;
    const keepCurrent = (): void => {
      if (h.current) h.buffered = h.buffered ? Buffer.concat([h.buffered, h.current]) : h.current;
      h.current = undefined;
    };
    switch (status) {
      case D_CONTINUE:
        h.bodyVisible = false;
        keepCurrent();
        h.stopped = NONE;
        if (h.trailersPending && !h.trailersSeen) {
          // Trailers the filter manager held while the filter was stopped: the body moves on,
          // then the filter sees the trailers (found by the differential suite: the host used to
          // forward them past the filter).
          this.pass(h, false);
          if (!this.finished && !h.aborted) this.filterTrailers(h);
        } else {
          this.pass(h);
        }
        break;
      case D_BUFFER:
        keepCurrent();
        h.bufferingBody = true;
        h.stopped = SINGLE;
        break;
      case D_WATERMARK:
        keepCurrent();
        h.stopped = SINGLE;
        break;
      default:
        h.current = undefined; // NoBuffer: the filter owns (dropped) the data
        h.stopped = SINGLE;
        break;
    }
  }

  private filterTrailers(h: Half): void {
    h.trailersVisible = true;
    h.trailersSeen = true;
    const status = this.invokeTrailers(h);
    if (this.finished || h.aborted) return;
    if (status === T_CONTINUE) {
      h.trailersVisible = false;
      h.stopped = NONE;
      this.pass(h);
    } else {
      h.stopped = SINGLE;
    }
  }

  /** Iteration continues past the filter: pass held headers, data, trailers to the next hop. */
  private pass(h: Half, withTrailers = true): void {
    if (h.ended || h.aborted) return;
    if (!h.headersPassed) this.passHeaders(h);
    if (h.ended) return;
    if (h.buffered !== undefined) {
      const end = h.endReceived && !h.trailersPending;
      const data = h.buffered;
      h.buffered = undefined;
      this.emitData(h, data, end);
    }
    if (withTrailers && h.trailersPending && h.endReceived && !h.ended) {
      h.trailersPending = false;
      this.emitTrailers(h, h.trailers!);
    }
  }

  private passHeaders(h: Half): void {
    h.headersPassed = true;
    const end = h.endReceived && h.buffered === undefined && !h.trailersPending;
    this.emitHeaders(h, h.headers!, end);
  }

  /** continueDecoding / continueEncoding. */
  private resume(h: Half): void {
    if (this.finished || h.aborted) return;
    if (h.stopped === NONE) {
      this.vm.hostLog(LogLevel.Debug, `continue on stream ${this.id} (${h.direction}) which is not paused: no effect`);
      return;
    }
    const wasAll = h.stopped === ALL;
    h.stopped = NONE;
    if (!wasAll) {
      this.pass(h);
      return;
    }
    if (!h.headersPassed) {
      h.headersPassed = true;
      const end = h.endReceived && h.buffered === undefined && !h.trailersPending;
      this.emitHeaders(h, h.headers!, end);
      if (end) return;
    }
    if (h.buffered !== undefined && this.filterActive(h)) {
      const data = h.buffered;
      h.buffered = undefined;
      this.filterData(h, data, h.endReceived && !h.trailersPending);
      if (this.finished || h.stopped !== NONE) return;
    }
    if (h.trailersPending && !h.trailersSeen && this.filterActive(h)) {
      this.filterTrailers(h);
      return;
    }
    this.pass(h);
  }

  // ---- calling the module ---------------------------------------------------------------------

  private invokeHeaders(h: Half, endOfStream: boolean): number {
    this.endOfStream = endOfStream;
    const cb = this.vm.streamCallbacks;
    const fn = h.direction === "request" ? cb.requestHeaders : cb.responseHeaders;
    const kind = h.direction === "request" ? "requestHeaders" : "responseHeaders";
    const o = this.vm.observer;
    if (o !== undefined) o.filterCallbackStart?.(this, kind, h.headers);
    let status = this.invoke(h, fn, h.headersName, h.headers!.size, endOfStream ? 1 : 0, H_STOP_ALL_WATERMARK);
    if (!this.invokeFailed) {
      if (this.invokeStopNext || status > H_STOP_ALL_WATERMARK) status = H_STOP_ALL_WATERMARK;
      else if (status === H_STOP && !this.vm.options.allowOnHeadersStopIteration) status = H_STOP_ALL_WATERMARK;
      else if (status === H_CONTINUE_END) status = H_CONTINUE;
    }
    if (o !== undefined) o.filterCallbackEnd?.(this, kind, { status, endOfStream, map: h.headers });
    if (this.invokeFailed) return status;
    this.vm.runAfterCallActions();
    return status;
  }

  private invokeData(h: Half, size: number, endOfStream: boolean, chunkSize: number): number {
    this.endOfStream = endOfStream;
    const cb = this.vm.streamCallbacks;
    const fn = h.direction === "request" ? cb.requestBody : cb.responseBody;
    const kind = h.direction === "request" ? "requestBody" : "responseBody";
    const o = this.vm.observer;
    if (o !== undefined) o.filterCallbackStart?.(this, kind, undefined);
    const r = this.invoke(h, fn, h.bodyName, size, endOfStream ? 1 : 0, D_NO_BUFFER);
    const status = this.invokeFailed ? r : this.invokeStopNext || r > D_NO_BUFFER ? D_NO_BUFFER : r;
    if (o !== undefined) o.filterCallbackEnd?.(this, kind, { status, endOfStream, size: chunkSize, seenSize: size });
    if (this.invokeFailed) return r;
    this.vm.runAfterCallActions();
    return status;
  }

  private invokeTrailers(h: Half): number {
    const cb = this.vm.streamCallbacks;
    const fn = h.direction === "request" ? cb.requestTrailers : cb.responseTrailers;
    const kind = h.direction === "request" ? "requestTrailers" : "responseTrailers";
    const o = this.vm.observer;
    if (o !== undefined) o.filterCallbackStart?.(this, kind, h.trailers);
    const r = this.invoke(h, fn, h.trailersName, h.trailers!.size, 0, T_STOP);
    if (o !== undefined) o.filterCallbackEnd?.(this, kind, { status: this.invokeFailed ? r : this.invokeStopNext || r > T_STOP ? T_STOP : r, endOfStream: true, map: h.trailers });
    if (this.invokeFailed) return r;
    const status = this.invokeStopNext || r > T_STOP ? T_STOP : r;
    this.vm.runAfterCallActions();
    return status;
  }

  /** CHECK_FAIL_HTTP around one callback. `closedStatus` is what a failed VM returns when
   * failing closed (after answering 503). An absent callback is Continue. Returns the status;
   * invokeStopNext / invokeFailed say whether a local reply was sent / the VM failed. */
  private invoke(h: Half, fn: ((...args: number[]) => number | undefined) | undefined, name: string, a: number, b: number, closedStatus: number): number {
    this.invokeStopNext = false;
    this.invokeFailed = false;
    if (this.vm.failed) {
      this.invokeFailed = true;
      return this.failedStatus(h, closedStatus);
    }
    if (fn === undefined) return 0;
    this.trace(name);
    this.running = name;
    const r = this.vm.callFn(this, fn, name, this.id, a, b);
    this.running = undefined;
    this.invokeStopNext = this.vm.stopNextIteration;
    if (this.vm.failed) {
      this.invokeFailed = true;
      return this.failedStatus(h, closedStatus);
    }
    return r ?? 0;
  }

  private failedStatus(h: Half, closedStatus: number): number {
    if (this.vm.failStrategy === "open") return 0;
    if (!this.failureReplySent) {
      this.failureReplySent = true;
      this.sendLocalReplyNow({ status: 503, body: Buffer.alloc(0), details: "wasm_fail_stream", grpcStatus: 14, additionalHeaders: [] }, h.direction);
    }
    return closedStatus;
  }

  private trace(name: string): void {
    if (this.record) this.callbacks.push(name);
  }

  // ---- what the module asks for ---------------------------------------------------------------

  continueStream(type: StreamType): WasmResult {
    if (type === StreamType.Upstream) return WasmResult.Unimplemented;
    if (type === StreamType.Request || type === StreamType.Response) {
      const h = type === StreamType.Request ? this.request : this.response;
      this.vm.defer(() => {
        const o = this.vm.observer;
        if (o !== undefined && !this.finished) o.continueStream?.(this, h.direction, h.stopped !== NONE);
        this.resume(h);
      });
    }
    // Envoy forgets the request maps and body it was holding for the module.
    this.request.headersVisible = false;
    this.request.bodyVisible = false;
    this.request.trailersVisible = false;
    return WasmResult.Ok;
  }

  /**
   * Envoy's Context::closeStream (source/extensions/common/wasm/context.cc): sets the response
   * code details to "wasm_close_stream" unless some were set, then, after the VM call returns
   * (addAfterVmCallAction), calls decoder/encoder_callbacks_->resetStream(): the connection
   * manager's ActiveStream::resetStream → doEndStream resets the downstream stream (HTTP/2:
   * RST_STREAM NO_ERROR; HTTP/1.1: the connection is closed) and the upstream request, then
   * on_log, on_done, on_delete. Closing from a response callback trips an assertion in
   * Envoy's HTTP/1 codec (envoy#26994): reported here as a host warning.
   */
  closeStream(type: StreamType): WasmResult {
    if (type === StreamType.Request || type === StreamType.Response) {
      // Envoy's router has set "via_upstream" once the upstream's headers arrived.
      if (this.localReply === undefined && this.response.headers === undefined) this.closeDetails ??= "wasm_close_stream";
      if (this.running !== undefined && this.running.startsWith("proxy_on_response")) {
        this.vm.hostLog(LogLevel.Warn, `proxy_close_stream from ${this.running}: Envoy's HTTP/1 codec asserts here (envoy#26994)`);
      }
      this.vm.defer(() => {
        this.vm.observer?.closeStream?.(this, type === StreamType.Request ? "request" : "response");
        this.finish("reset");
      });
    }
    return WasmResult.Ok;
  }

  sendLocalResponse(reply: LocalReply): void {
    this.vm.defer(() => this.sendLocalReplyNow(reply, "request"));
  }

  private sendLocalReplyNow(reply: LocalReply, from: Direction): void {
    if (this.finished) return;
    const req = this.request;
    req.aborted = true;
    req.stopped = NONE;
    if (this.upstream.headers && !this.upstream.ended && !this.upstream.reset) {
      this.upstream.reset = true;
      this.emit0("upstreamReset");
    }
    if (this.downstream.headers) {
      // The response already started: Envoy can only reset the stream.
      this.finish("reset");
      return;
    }
    const { headers, body } = buildLocalReply(reply, req.headers);
    this.localReply = {
      status: reply.status,
      body: reply.body.toString("utf8"),
      details: reply.details.replace(/\s/g, "_"),
      grpcStatus: reply.grpcStatus,
      headers: headers.toObject(),
    };
    this.emit1("localReply", this.localReply);
    const o = this.vm.observer;
    if (o !== undefined) o.localReplyStart?.(this, reply, isGrpcRequest(req.headers));
    this.sendLocalReplyBody(headers, body, from);
    if (o !== undefined) o.localReplyEnd?.(this, this.response.headers!, this.downstream.body);
  }

  private sendLocalReplyBody(headers: HeaderMap, body: Buffer, from: Direction): void {
    const direct = from === "response" || (this.response.headers !== undefined && !this.response.headersPassed);
    this.response.aborted = true;
    this.response = new Half("response");
    const h = this.response;
    h.headers = headers;
    h.endReceived = body.length === 0;
    if (direct || !this.filterActive(h)) {
      // Response processing had started: Envoy sends the reply without the filter chain.
      this.passHeaders(h);
      if (body.length > 0) {
        h.endReceived = true;
        h.buffered = body;
        this.pass(h);
      }
      return;
    }
    this.decodeHeaders(h, body.length === 0);
    if (body.length > 0 && !this.finished && !h.aborted) this.onData(h, body, true);
  }

  // ---- sinks ----------------------------------------------------------------------------------

  private sink(h: Half): Delivered {
    return h.direction === "request" ? this.upstream : this.downstream;
  }

  private emitHeaders(h: Half, headers: HeaderMap, end: boolean): void {
    const d = this.sink(h);
    d.headers = headers;
    if (h.direction === "request") this.emit2("upstreamHeaders", headers, end);
    else this.emit2("downstreamHeaders", headers, end);
    if (end) this.emitEnd(h);
  }

  private emitData(h: Half, data: Buffer, end: boolean): void {
    const d = this.sink(h);
    if (this.record && data.length > 0) d.body = d.body.length ? Buffer.concat([d.body, data]) : data;
    if (h.direction === "request") this.emit2("upstreamData", data, end);
    else this.emit2("downstreamData", data, end);
    if (end) this.emitEnd(h);
  }

  private emitTrailers(h: Half, trailers: HeaderMap): void {
    const d = this.sink(h);
    d.trailers = trailers;
    if (h.direction === "request") this.emit1("upstreamTrailers", trailers);
    else this.emit1("downstreamTrailers", trailers);
    this.emitEnd(h);
  }

  private emitEnd(h: Half): void {
    if (h.ended) return;
    h.ended = true;
    this.sink(h).ended = true;
    this.emit0(h.direction === "request" ? "upstreamEnd" : "downstreamEnd");
    if (h.direction === "response") this.finish("complete");
  }

  // ---- end of stream --------------------------------------------------------------------------

  private finish(state: "complete" | "reset"): void {
    if (this.finished) return;
    this.state = state;
    if (state === "reset" && this.upstream.headers && !this.upstream.ended && !this.upstream.reset) {
      this.upstream.reset = true;
      this.emit0("upstreamReset");
    }
    this.request.aborted = true;
    this.response.aborted = true;
    if (this.filterInstalled && !this.vm.failed) {
      if (!this.createdInVm) this.ensureCreated();
      const cb = this.vm.streamCallbacks;
      this.accessLog = true;
      this.trace("proxy_on_log");
      if (cb.log !== undefined) this.vm.callFn(this, cb.log, "proxy_on_log", this.id);
      this.vm.runAfterCallActions();
      this.accessLog = false;
      this.trace("proxy_on_done");
      if (cb.done !== undefined) this.vm.callFn(this, cb.done, "proxy_on_done", this.id);
      this.vm.runAfterCallActions();
      this.trace("proxy_on_delete");
      if (cb.delete !== undefined) this.vm.callFn(this, cb.delete, "proxy_on_delete", this.id);
      this.vm.runAfterCallActions();
    }
    this.vm.contexts.delete(this.id);
    this.rootContext.streamEnded(this);
    this.vm.observer?.streamDone?.(this, state === "complete" && this.localReply !== undefined ? "localReply" : state);
    this.emit0(state);
  }

  // ---- ABI access -----------------------------------------------------------------------------

  get accessLogPhase(): boolean {
    return this.accessLog;
  }

  readableMap(type: HeaderMapType): HeaderMap | null {
    const req = this.request;
    const res = this.response;
    switch (type) {
      case HeaderMapType.RequestHeaders:
        if (this.accessLog) return req.headers ?? null;
        return req.headersVisible ? req.headers! : null;
      case HeaderMapType.RequestTrailers:
        if (this.accessLog) return null;
        return req.trailersVisible ? req.trailers! : null;
      case HeaderMapType.ResponseHeaders:
        if (this.accessLog) return this.downstream.headers ?? null;
        return res.headersVisible ? res.headers! : null;
      case HeaderMapType.ResponseTrailers:
        if (this.accessLog) return this.downstream.trailers ?? null;
        return res.trailersVisible ? res.trailers! : null;
      default:
        return super.readableMap(type);
    }
  }

  writableMap(type: HeaderMapType): HeaderMap | null {
    if (this.accessLog) return null;
    const pick = (h: Half, trailers: boolean): HeaderMap | null => {
      if (!trailers) return h.headersVisible ? h.headers! : null;
      if (h.trailersVisible) return h.trailers!;
      // During the last body callback the module may add trailers (addDecodedTrailers).
      if (h.bodyVisible && this.endOfStream && !h.trailers) {
        h.trailers = new HeaderMap();
        h.trailersVisible = true;
        h.trailersPending = true;
        h.trailersSeen = true;
        return h.trailers;
      }
      return null;
    };
    switch (type) {
      case HeaderMapType.RequestHeaders:
        return pick(this.request, false);
      case HeaderMapType.RequestTrailers:
        return pick(this.request, true);
      case HeaderMapType.ResponseHeaders:
        return pick(this.response, false);
      case HeaderMapType.ResponseTrailers:
        return pick(this.response, true);
      default:
        return null;
    }
  }

  buffer(type: BufferType): HostBuffer | null {
    if (type === BufferType.HttpRequestBody || type === BufferType.HttpResponseBody) {
      const h = type === BufferType.HttpRequestBody ? this.request : this.response;
      if (!h.bodyVisible) return EMPTY_BUFFER;
      return new BodyBuffer(
        () => (h.bufferingBody ? h.buffered : h.current ?? h.buffered),
        (data) => {
          if (h.bufferingBody || !h.current) h.buffered = data;
          else h.current = data;
        },
      );
    }
    return this.rootContext.buffer(type);
  }

  get filterState(): Map<string, Uint8Array> {
    return (this.state_ ??= new Map());
  }

  propertyTop(name: string): PropertyValue | undefined {
    switch (name) {
      case "request":
        return this.requestProperties();
      case "response":
        return this.responseProperties();
      case "source":
        return addressProperties(this.options.sourceAddress ?? "10.0.0.2:45678");
      case "destination":
        return addressProperties(this.options.destinationAddress ?? "10.0.0.1:8080");
      case "connection_id":
        return this.options.connectionId ?? 1;
      case "xds":
        return merged(withTraffic(this.rootContext.propertyFor(name, false), this.options.traffic), this.options.properties?.xds);
      default:
        return merged(this.rootContext.propertyFor(name, false), this.options.properties?.[name]);
    }
  }

  private requestProperties(): PropertyValue | undefined {
    const h = this.request.headers;
    if (!h) return undefined;
    const o: { [k: string]: PropertyValue } = {};
    const path = h.get(":path");
    if (path !== undefined) {
      o.path = path;
      const q = path.indexOf("?");
      o.url_path = q < 0 ? path : path.slice(0, q);
      o.query = q < 0 ? "" : path.slice(q + 1);
    }
    const set = (key: string, header: string): void => {
      const v = h.get(header);
      if (v !== undefined) o[key] = v;
    };
    set("host", ":authority");
    set("scheme", ":scheme");
    set("method", ":method");
    set("referer", "referer");
    set("useragent", "user-agent");
    set("id", "x-request-id");
    o.headers = Object.fromEntries(h.pairs());
    o.protocol = this.options.protocol ?? "HTTP/1.1";
    o.time = nanosFromMs(this.startedAt);
    return o;
  }

  private responseProperties(): PropertyValue | undefined {
    const h = this.downstream.headers ?? this.response.headers;
    // response.flags is a bitmask of Envoy's CoreResponseFlag values; DC is 0x4000.
    const flags = this.clientLeft ? RESPONSE_FLAG_DC : 0;
    if (!h) {
      if (this.clientLeft) return { flags, code_details: "downstream_remote_disconnect" };
      return this.closeDetails === undefined ? undefined : { code_details: this.closeDetails, flags };
    }
    const o: { [k: string]: PropertyValue } = { headers: Object.fromEntries(h.pairs()), flags };
    const status = h.get(":status");
    if (status !== undefined) o.code = Number(status);
    o.code_details = this.localReply ? this.localReply.details : this.closeDetails ?? "via_upstream";
    const t = this.downstream.trailers ?? this.response.trailers;
    if (t) o.trailers = Object.fromEntries(t.pairs());
    return o;
  }
}

/** Envoy's DownstreamConnectionTermination response flag (envoy/stream_info/stream_info.h). */
const RESPONSE_FLAG_DC = 0x4000;

const isMap = (v: PropertyValue | undefined): v is { [k: string]: PropertyValue } =>
  v !== undefined && typeof v === "object" && !(v instanceof Uint8Array) && !Array.isArray(v);

/** A stream's own value over the VM's: maps merge (the stream's keys win), anything else replaces. */
function merged(base: PropertyValue | undefined, own: PropertyValue | undefined): PropertyValue | undefined {
  if (own === undefined) return base;
  if (!isMap(base) || !isMap(own)) return own;
  const o: { [k: string]: PropertyValue } = { ...base };
  for (const [k, v] of Object.entries(own)) o[k] = merged(base[k], v) as PropertyValue;
  return o;
}

/** The stream's own `xds` attributes over the VM's (node and any fixed ones). Envoy answers an
 * int attribute as 8 little-endian bytes: a bigint here. */
function withTraffic(base: PropertyValue | undefined, traffic: Traffic | undefined): PropertyValue | undefined {
  if (traffic === undefined) return base;
  const o: { [k: string]: PropertyValue } =
    base !== undefined && typeof base === "object" && !(base instanceof Uint8Array) && !Array.isArray(base) ? { ...base } : {};
  if (traffic.listenerDirection !== undefined) o.listener_direction = BigInt(traffic.listenerDirection);
  if (traffic.clusterName !== undefined) o.cluster_name = traffic.clusterName;
  if (traffic.clusterMetadata !== undefined) o.cluster_metadata = traffic.clusterMetadata;
  if (traffic.routeName !== undefined) o.route_name = traffic.routeName;
  if (traffic.virtualHostName !== undefined) o.virtual_host_name = traffic.virtualHostName;
  return o;
}

function addressProperties(address: string): PropertyValue {
  const i = address.lastIndexOf(":");
  return { address, port: i < 0 ? 0 : Number(address.slice(i + 1)) };
}
