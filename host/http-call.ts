/**
 * proxy_http_call: requests to named upstream clusters. Clusters are handler functions given in
 * the VM options. As in Envoy, the call belongs to the root context of the caller (even when a
 * stream context makes it), the reply arrives later through proxy_on_http_call_response on that
 * root context, a timeout arrives as an ordinary `:status 504` reply ("upstream request
 * timeout"), an unreachable cluster as `:status 503` ("no healthy upstream"), and only a reset
 * arrives with 0 headers and 0 body (proxy_get_status then reports BrokenConnection).
 */
import { HeaderMap, type HeadersInit } from "./headers";
import type { Clock, TimerHandle } from "./clock";

export interface ClusterRequest {
  cluster: string;
  headers: HeaderMap;
  body: Buffer;
  trailers: HeaderMap;
  /** 0 = no timeout. */
  timeoutMs: number;
}

/** What a cluster answers. `delayMs` delays the answer on the host clock. */
export type ClusterReply =
  | { status: number; headers?: HeadersInit; body?: string | Uint8Array; trailers?: HeadersInit; delayMs?: number }
  | { reset: true; delayMs?: number }
  | { unreachable: true; delayMs?: number };

export type ClusterHandler = (request: ClusterRequest) => ClusterReply | Promise<ClusterReply>;

/** What the module can read during proxy_on_http_call_response. */
export interface HttpCallResponse {
  headers: HeaderMap;
  body: Buffer;
  trailers: HeaderMap;
  reset: boolean;
}

/** A reply Envoy's router would produce itself. */
function localResponse(status: number, body: string): HttpCallResponse {
  return {
    headers: new HeaderMap([
      [":status", String(status)],
      ["content-length", String(Buffer.byteLength(body))],
      ["content-type", "text/plain"],
    ]),
    body: Buffer.from(body),
    trailers: new HeaderMap(),
    reset: false,
  };
}

export const TIMEOUT_RESPONSE = (): HttpCallResponse => localResponse(504, "upstream request timeout");
export const UNREACHABLE_RESPONSE = (): HttpCallResponse => localResponse(503, "no healthy upstream");
export const RESET_RESPONSE = (): HttpCallResponse => ({
  headers: new HeaderMap(),
  body: Buffer.alloc(0),
  trailers: new HeaderMap(),
  reset: true,
});

export function responseFromReply(reply: ClusterReply): HttpCallResponse {
  if ("reset" in reply) return RESET_RESPONSE();
  if ("unreachable" in reply) return UNREACHABLE_RESPONSE();
  const headers = new HeaderMap([[":status", String(reply.status)]]);
  if (reply.headers) for (const [k, v] of new HeaderMap(reply.headers).pairs()) headers.add(k, v);
  const body = reply.body === undefined ? Buffer.alloc(0) : Buffer.from(reply.body);
  return { headers, body, trailers: new HeaderMap(reply.trailers), reset: false };
}

/** One outstanding call; settles exactly once (reply, timeout or cancel). */
export class PendingHttpCall {
  private settled = false;
  private timers: TimerHandle[] = [];

  constructor(
    readonly token: number,
    readonly request: ClusterRequest,
    private readonly clock: Clock,
    private readonly deliver: (call: PendingHttpCall, response: HttpCallResponse) => void,
    private readonly onHandlerError: (error: unknown) => void,
  ) {}

  start(handler: ClusterHandler): void {
    const started = this.clock.monotonic();
    if (this.request.timeoutMs > 0) {
      this.timers.push(this.clock.schedule(this.request.timeoutMs, () => this.settle(TIMEOUT_RESPONSE())));
    }
    const arrive = (reply: ClusterReply): void => {
      if (this.settled) return;
      const wait = Math.max(0, started + (reply.delayMs ?? 0) - this.clock.monotonic());
      this.timers.push(this.clock.schedule(wait, () => this.settle(responseFromReply(reply))));
    };
    const fail = (error: unknown): void => {
      this.onHandlerError(error);
      arrive({ reset: true });
    };
    try {
      const result = handler(this.request);
      if (result && typeof (result as Promise<ClusterReply>).then === "function") {
        (result as Promise<ClusterReply>).then(arrive, fail);
      } else {
        arrive(result as ClusterReply);
      }
    } catch (error) {
      fail(error);
    }
  }

  cancel(): void {
    this.settled = true;
    for (const t of this.timers) t.cancel();
  }

  get done(): boolean {
    return this.settled;
  }

  private settle(response: HttpCallResponse): void {
    if (this.settled) return;
    this.cancel();
    this.deliver(this, response);
  }
}
