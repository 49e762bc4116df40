/**
 * The HTTP/1.1 proxy of `make run`: every request goes through the plugin in the host the way
 * Envoy's connection manager drives its filter chain, then to the upstream.
 *
 *   client ─▶ headers as Envoy builds them ─▶ HttpStream (plugin) ─▶ upstream (what it releases)
 *   client ◀─ response / local reply ◀────── HttpStream (plugin) ◀── upstream response
 *
 * As Envoy does: the request body streams into the plugin chunk by chunk; hop-by-hop headers
 * are not forwarded; `:authority`, `:path`, `:method`, `:scheme`, `x-forwarded-proto` and
 * `x-request-id` are set before the filter sees the request; an unreachable upstream is the
 * router's 503 "upstream connect error ..." (through the plugin's response callbacks); no
 * answer within the route timeout is its 504; a client that goes away resets the stream (the
 * plugin sees done/log/delete, the upstream request is abandoned).
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { Socket } from "node:net";
import { HeaderMap, type HttpStream, type Traffic } from "../index";
import type { WorkerPool } from "./workers";
import { closeServer, listen } from "./http-server";

/** Connection-level headers (RFC 9110 7.6.1 and Envoy's list): never forwarded. */
export const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"]);

/** Envoy's default route timeout. */
export const ROUTE_TIMEOUT_MS = 15_000;

export const CONNECT_FAILURE_BODY = "upstream connect error or disconnect/reset before headers. reset reason: connection failure";
const TERMINATION_BODY = "upstream connect error or disconnect/reset before headers. reset reason: connection termination";

export interface AccessLogEntry {
  method: string;
  path: string;
  status: number | undefined;
  /** The plugin's access-log mark (filter state `hfi_fault`: "abort", "delay", "delay,abort",
   * "dry_run:<kinds>"), else x-fault-injected; "" when the plugin decided nothing. */
  fault: string;
  /** Filter state `hfi_policy`: the policy behind the fault; "" when none. */
  policy: string;
  durationMs: number;
  outcome: "complete" | "reset";
}

export interface ProxyOptions {
  workers: WorkerPool;
  /** What each request tells the plugin about where it goes (the proxy the runner plays). */
  traffic?: (host: string | undefined) => Traffic;
  upstream: URL;
  routeTimeoutMs?: number;
  onAccessLog?: (entry: AccessLogEntry) => void;
  onError?: (message: string) => void;
}

export class Proxy {
  private server: http.Server | undefined;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 65_536, scheduling: "lifo" });
  private readonly connectionIds = new WeakMap<Socket, number>();
  private nextConnectionId = 1;

  constructor(readonly options: ProxyOptions) {}

  async listen(port: number, host: string): Promise<number> {
    const server = http.createServer({ keepAlive: true }, (req, res) => this.handle(req, res));
    // Envoy keeps idle downstream connections for an hour; a benchmark's pool must not race
    // Node's 5 s default.
    server.keepAliveTimeout = 60_000;
    server.headersTimeout = 65_000;
    server.requestTimeout = 0;
    this.server = server;
    return listen(server, port, host, 4096);
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await closeServer(server);
    this.agent.destroy();
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.options.workers.clock.runDue();
    const socket = req.socket;
    let id = this.connectionIds.get(socket);
    if (id === undefined) this.connectionIds.set(socket, (id = this.nextConnectionId++));
    const stream = this.options.workers.newStream({
      protocol: `HTTP/${req.httpVersion}`,
      sourceAddress: `${socket.remoteAddress}:${socket.remotePort}`,
      destinationAddress: `${socket.localAddress}:${socket.localPort}`,
      connectionId: id,
      traffic: this.options.traffic?.(req.headers.host),
    });
    new Exchange(stream, req, res, this.agent, this.options).run();
  }
}

/** One request/response through the plugin. */
class Exchange {
  private upstreamReq: http.ClientRequest | undefined;
  private upstreamRes: http.IncomingMessage | undefined;
  private upstreamEnded = false;
  private upstreamBodyWritten = false;
  private responseHeadersSent = false;
  private routeTimer: NodeJS.Timeout | undefined;
  private readonly started = performance.now();
  private upstreamStarted = 0;
  private status: number | undefined;
  private fault = "";
  private retried = false;
  private readonly method: string;
  private readonly path: string;

  constructor(
    private readonly stream: HttpStream,
    private readonly req: http.IncomingMessage,
    private readonly res: http.ServerResponse,
    private readonly agent: http.Agent,
    private readonly options: ProxyOptions,
  ) {
    this.method = req.method ?? "GET";
    this.path = req.url ?? "/";
  }

  run(): void {
    const { stream, req, res } = this;
    stream.on("upstreamHeaders", (h, end) => this.guard(() => this.openUpstream(h, end)));
    stream.on("upstreamData", (chunk, end) => this.guard(() => this.writeUpstream(chunk, end)));
    stream.on("upstreamTrailers", (t) => this.guard(() => this.endUpstream(t)));
    stream.on("upstreamEnd", () => this.guard(() => this.endUpstream()));
    stream.on("upstreamReset", () => this.abandonUpstream());
    stream.on("downstreamHeaders", (h, end) => this.guard(() => this.writeHead(h, end)));
    stream.on("downstreamData", (chunk, end) => this.guard(() => this.writeBody(chunk, end)));
    stream.on("downstreamTrailers", (t) => this.guard(() => this.writeTrailers(t)));
    stream.on("downstreamEnd", () => this.guard(() => this.endResponse()));
    stream.on("complete", () => this.logAccess("complete"));
    stream.on("reset", () => {
      // Envoy resets the downstream stream: for HTTP/1.1, the connection closes.
      this.abandonUpstream();
      if (!res.writableFinished) res.destroy();
      this.logAccess("reset");
    });
    res.on("close", () => {
      if (!res.writableFinished) this.guard(() => stream.reset());
    });

    const headers = requestHeaderMap(req);
    const te = req.headers["transfer-encoding"];
    const cl = req.headers["content-length"];
    const hasBody = te !== undefined || (cl !== undefined && cl !== "0");
    const expected = te === undefined && cl !== undefined ? Number(cl) : undefined;
    this.guard(() => stream.sendRequestHeaders(headers, !hasBody));
    if (!hasBody) return;
    let received = 0;
    req.on("data", (chunk: Buffer) => {
      received += chunk.length;
      this.guard(() => stream.sendRequestBody(chunk, expected !== undefined && received >= expected));
    });
    req.on("end", () => {
      if (expected !== undefined) return;
      const trailers = req.rawTrailers;
      if (trailers.length > 0) this.guard(() => stream.sendRequestTrailers(pairsOf(trailers)));
      else this.guard(() => stream.sendRequestBody(Buffer.alloc(0), true));
    });
  }

  // ---- toward the upstream ---------------------------------------------------------------------

  private openUpstream(headers: HeaderMap, end: boolean): void {
    const raw: string[] = ["host", headers.get(":authority") ?? ""];
    for (const [k, v] of headers.pairs()) if (!k.startsWith(":") && k !== "host") raw.push(k, v);
    const up = this.options.upstream;
    const request = http.request({
      host: up.hostname,
      port: up.port || 80,
      method: headers.get(":method") ?? this.method,
      path: headers.get(":path") ?? this.path,
      headers: raw,
      setHost: false,
      agent: this.agent,
    });
    this.upstreamReq = request;
    this.upstreamStarted = performance.now();
    request.on("response", (ures) => this.guard(() => this.onUpstreamResponse(request, ures)));
    request.on("error", (error: NodeJS.ErrnoException) => this.guard(() => this.onUpstreamError(request, error, headers)));
    if (end) this.endUpstream();
  }

  private writeUpstream(chunk: Buffer, end: boolean): void {
    const request = this.upstreamReq;
    if (!request || request.destroyed) return;
    if (chunk.length > 0) {
      this.upstreamBodyWritten = true;
      if (!request.write(chunk)) {
        // Back-pressure: stop reading the client until the upstream drains.
        this.req.pause();
        request.once("drain", () => this.req.resume());
      }
    }
    if (end) this.endUpstream();
  }

  private endUpstream(trailers?: HeaderMap): void {
    const request = this.upstreamReq;
    if (!request || this.upstreamEnded || request.destroyed) return;
    this.upstreamEnded = true;
    if (trailers) request.addTrailers(trailers.pairs());
    request.end();
    // The route timeout runs from the end of the request, as in Envoy's router.
    const timeoutMs = this.options.routeTimeoutMs ?? ROUTE_TIMEOUT_MS;
    if (timeoutMs > 0) {
      this.routeTimer = setTimeout(() => this.guard(() => this.onRouteTimeout(request)), timeoutMs);
      this.routeTimer.unref();
    }
  }

  private abandonUpstream(): void {
    clearTimeout(this.routeTimer);
    this.upstreamReq?.destroy();
    this.upstreamRes?.destroy();
  }

  private onUpstreamResponse(request: http.ClientRequest, ures: http.IncomingMessage): void {
    this.options.workers.clock.runDue();
    if (request !== this.upstreamReq) return;
    clearTimeout(this.routeTimer);
    this.upstreamRes = ures;
    if (this.stream.finished) {
      ures.destroy();
      return;
    }
    const headers = new HeaderMap([[":status", String(ures.statusCode ?? 502)]]);
    const dropped = connectionListed(ures.headers.connection);
    for (const [k, v] of pairsOf(ures.rawHeaders)) if (!HOP_BY_HOP.has(k) && !dropped.has(k)) headers.add(k, v);
    headers.add("x-envoy-upstream-service-time", String(Math.round(performance.now() - this.upstreamStarted)));
    const status = ures.statusCode ?? 502;
    const cl = ures.headers["content-length"];
    const noBody = this.method === "HEAD" || status === 204 || status === 304 || (cl === "0" && ures.headers["transfer-encoding"] === undefined);
    this.responseHeadersSent = true;
    this.stream.sendResponseHeaders(headers, noBody);
    if (noBody) {
      ures.resume();
      return;
    }
    const expected = ures.headers["transfer-encoding"] === undefined && cl !== undefined ? Number(cl) : undefined;
    let received = 0;
    ures.on("data", (chunk: Buffer) => {
      this.options.workers.clock.runDue();
      received += chunk.length;
      this.guard(() => this.stream.sendResponseBody(chunk, expected !== undefined && received >= expected));
    });
    ures.on("end", () => {
      if (expected !== undefined && received >= expected) return;
      const trailers = ures.rawTrailers;
      if (trailers.length > 0) this.guard(() => this.stream.sendResponseTrailers(pairsOf(trailers)));
      else this.guard(() => this.stream.sendResponseBody(Buffer.alloc(0), true));
    });
    ures.on("aborted", () => this.guard(() => this.stream.reset()));
    ures.on("error", () => this.guard(() => this.stream.reset()));
  }

  private onUpstreamError(request: http.ClientRequest, error: NodeJS.ErrnoException, headers: HeaderMap): void {
    if (request !== this.upstreamReq || this.stream.finished) return;
    clearTimeout(this.routeTimer);
    if (this.upstreamRes) {
      this.stream.reset(); // the response had started: all Envoy can do is reset
      return;
    }
    if (request.reusedSocket && error.code === "ECONNRESET" && !this.upstreamBodyWritten && !this.retried) {
      // An idle pooled connection the upstream had just closed: try once on a fresh one.
      this.retried = true;
      const wasEnded = this.upstreamEnded;
      this.upstreamEnded = false;
      this.openUpstream(headers, wasEnded);
      return;
    }
    const terminated = error.code === "ECONNRESET" || error.code === "EPIPE";
    this.routerReply(503, terminated ? TERMINATION_BODY : CONNECT_FAILURE_BODY);
  }

  private onRouteTimeout(request: http.ClientRequest): void {
    if (request !== this.upstreamReq || this.upstreamRes || this.stream.finished) return;
    request.destroy();
    this.routerReply(504, "upstream request timeout");
  }

  /** A reply the router makes itself; it passes through the plugin's response callbacks. */
  private routerReply(status: number, body: string): void {
    if (this.responseHeadersSent || this.stream.finished) return;
    this.responseHeadersSent = true;
    const headers = new HeaderMap([
      [":status", String(status)],
      ["content-length", String(Buffer.byteLength(body))],
      ["content-type", "text/plain"],
    ]);
    this.stream.sendResponseHeaders(headers, false);
    this.stream.sendResponseBody(body, true);
  }

  // ---- toward the client -----------------------------------------------------------------------

  private writeHead(headers: HeaderMap, end: boolean): void {
    const res = this.res;
    if (res.headersSent || res.destroyed) return;
    this.status = Number(headers.get(":status") ?? 502);
    this.fault = headers.get("x-fault-injected") ?? "";
    const raw: string[] = [];
    for (const [k, v] of headers.pairs()) {
      if (k.startsWith(":") || HOP_BY_HOP.has(k) || k === "server") continue;
      raw.push(k, v);
    }
    raw.push("server", "envoy"); // Envoy's default server_header_transformation: OVERWRITE
    res.writeHead(this.status, raw);
    if (end) res.end();
  }

  private writeBody(chunk: Buffer, end: boolean): void {
    const res = this.res;
    if (res.writableEnded || res.destroyed) return;
    if (end) {
      res.end(chunk.length > 0 ? chunk : undefined);
      return;
    }
    if (chunk.length > 0 && !res.write(chunk)) {
      const ures = this.upstreamRes;
      if (ures) {
        ures.pause();
        res.once("drain", () => ures.resume());
      }
    }
  }

  private writeTrailers(trailers: HeaderMap): void {
    const res = this.res;
    if (res.writableEnded || res.destroyed) return;
    res.addTrailers(trailers.pairs());
    res.end();
  }

  private endResponse(): void {
    if (!this.res.writableEnded && !this.res.destroyed) this.res.end();
  }

  private logAccess(outcome: AccessLogEntry["outcome"]): void {
    clearTimeout(this.routeTimer);
    this.options.onAccessLog?.({
      method: this.method,
      path: this.path,
      status: outcome === "reset" ? undefined : this.status,
      fault: filterStateText(this.stream, "hfi_fault") || this.fault,
      policy: filterStateText(this.stream, "hfi_policy"),
      durationMs: performance.now() - this.started,
      outcome,
    });
  }

  /** Host and socket errors must never take the proxy down: the stream is reset instead. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.options.onError?.(`${this.method} ${this.path}: ${(e as Error).stack ?? String(e)}`);
      try {
        this.stream.reset();
      } catch {
        // already gone
      }
      if (!this.res.writableFinished) this.res.destroy();
    }
  }
}

/** Request headers as Envoy's HTTP/1.1 codec and connection manager hand them to filters. */
export function requestHeaderMap(req: http.IncomingMessage): HeaderMap {
  let authority = req.headers.host ?? "";
  let path = req.url ?? "/";
  if (/^https?:\/\//i.test(path)) {
    // Absolute-form request target (a client using us as a forward proxy).
    const url = new URL(path);
    authority = url.host;
    path = url.pathname + url.search;
  }
  const h = new HeaderMap([
    [":method", req.method ?? "GET"],
    [":path", path],
    [":authority", authority],
    [":scheme", "http"],
  ]);
  const dropped = connectionListed(req.headers.connection);
  for (const [k, v] of pairsOf(req.rawHeaders)) {
    if (k === "host" || HOP_BY_HOP.has(k) || dropped.has(k)) continue;
    // Envoy answers "100 Continue" itself and does not forward the expectation.
    if (k === "expect" && v.toLowerCase() === "100-continue") continue;
    h.add(k, v);
  }
  if (!h.has("x-forwarded-proto")) h.add("x-forwarded-proto", "http");
  if (!h.has("x-request-id")) h.add("x-request-id", randomUUID());
  return h;
}

/** rawHeaders / rawTrailers ([k, v, k, v, ...]) as lower-cased pairs. */
function pairsOf(raw: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i].toLowerCase(), raw[i + 1]]);
  return out;
}

/** Header names listed in a Connection header are hop-by-hop too. */
function connectionListed(value: string | undefined): Set<string> {
  const out = new Set<string>();
  if (!value) return out;
  for (const name of value.split(",")) {
    const n = name.trim().toLowerCase();
    if (n && n !== "close" && n !== "keep-alive") out.add(n);
  }
  return out;
}

/** What the plugin set with proxy_set_property (Envoy: `%FILTER_STATE(wasm.<key>:PLAIN)%`). */
function filterStateText(stream: HttpStream, key: string): string {
  const v = stream.filterState.get(key);
  return v === undefined ? "" : Buffer.from(v).toString("utf8");
}
