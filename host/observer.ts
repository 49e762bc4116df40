/**
 * What a host observes while it drives the plugin, for tools that compare this host with another
 * (tests/differential/ compares it with proxy-wasm-cpp-host): filter callbacks with the status
 * after the host's conversions, bodies held by the filter manager, continue/close requests, local
 * replies as sent, tick periods, HTTP calls and VM failures. Every hook is optional; without an
 * observer (VmOptions.observer) the host pays one undefined check per event.
 */
import type { HeaderMap } from "./headers";
import type { ClusterRequest } from "./http-call";
import type { RootContext } from "./root";
import type { LocalReply } from "./local-reply";
import type { HttpStream } from "./stream";
import type { WasmVm } from "./vm";

export type FilterCallback = "requestHeaders" | "requestBody" | "requestTrailers" | "responseHeaders" | "responseBody" | "responseTrailers";

export interface FilterCallbackResult {
  /** The status the filter manager acts on (after StopIteration → StopAllIterationAndWatermark
   * and the other conversions). */
  status: number;
  endOfStream: boolean;
  /** Body callbacks: the size of the chunk that arrived and what the filter was handed. */
  size?: number;
  seenSize?: number;
  /** Header and trailer callbacks: the map after the callback (the filter may have changed it). */
  map?: HeaderMap;
}

export interface HostObserver {
  /** A filter callback is about to run (the map as it arrives, for header callbacks). */
  filterCallbackStart?(stream: HttpStream, callback: FilterCallback, map: HeaderMap | undefined): void;
  filterCallbackEnd?(stream: HttpStream, callback: FilterCallback, result: FilterCallbackResult): void;
  /** The filter manager holds a body (or trailers) while the filter stopped all iteration. */
  held?(stream: HttpStream, direction: "request" | "response", size: number, heldSize: number, endOfStream: boolean, trailers: boolean): void;
  /** The module asked to continue a direction; `wasStopped`: it was paused. */
  continueStream?(stream: HttpStream, direction: "request" | "response", wasStopped: boolean): void;
  closeStream?(stream: HttpStream, direction: "request" | "response"): void;
  /** A local reply starts (before the filter sees it) and ends (what the client got). */
  localReplyStart?(stream: HttpStream, reply: LocalReply, grpc: boolean): void;
  localReplyEnd?(stream: HttpStream, headers: HeaderMap, body: Buffer): void;
  /** The stream ended: `complete`, `reset`, or `localReply`. */
  streamDone?(stream: HttpStream, reason: "complete" | "reset" | "localReply"): void;
  /** The module set a property on a stream (Envoy keeps it as filter state `wasm.<key>`, which
   * access logs print). */
  filterState?(stream: HttpStream, key: string, value: Uint8Array): void;
  tickPeriod?(root: RootContext, periodMs: number): void;
  /** proxy_on_tick is about to run. */
  tick?(root: RootContext): void;
  httpCall?(root: RootContext, token: number, request: ClusterRequest): void;
  httpCallRefused?(root: RootContext, cluster: string, reason: string): void;
  vmFailure?(vm: WasmVm, message: string): void;
}
