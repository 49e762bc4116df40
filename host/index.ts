/**
 * HFI's Envoy-faithful Proxy-Wasm host. Every claim about the plugin rests on it, so it is
 * strict where Envoy (proxy-wasm-cpp-host on V8) is strict and exact about timing and stream
 * state. One concept per file:
 *
 *   loader.ts       load / compileModule / instantiate, ModuleLoadError (Envoy's refusals)
 *   abi.ts          ABI versions, status and result codes, import/export signature tables
 *   vm.ts           WasmVm: instance, memory, failure, effective context, after-call actions
 *   plugin.ts       startPlugin / Plugin: root context per plugin, reconfigure
 *   canary.ts       Canary: Envoy's configuration canary (throwaway VM, shared stats and log)
 *   root.ts         RootContext: vm_start/configure, tick timer, HTTP calls, shutdown
 *   stream.ts       HttpStream: Envoy's filter-manager semantics, events for a real proxy
 *   host-calls.ts   env.proxy_* host functions;  wasi.ts: WASI functions
 *   headers.ts      HeaderMap, pairs encoding, requestHeaders()/responseHeaders() builders
 *   properties.ts   properties, istioNode();  buffers.ts: body/config buffers
 *   targets.ts      node ids and per-request xds attributes of sidecars, gateways, waypoints, Envoy
 *   http-call.ts    cluster handlers, 504 timeout / 503 unreachable / reset replies
 *   local-reply.ts  local replies (plain and gRPC trailers-only)
 *   metrics.ts      StatsStore, /stats and /stats/prometheus;  histogram.ts: Envoy's binning
 *   work.ts         counting a module's work (binaryen's --log-execution), for cost bounds in tests
 *   tag-extraction.ts  Envoy's tag extraction (stats_tags, built-in extractors) for Prometheus labels
 *   shared-data.ts  shared data (CAS) and queues;  clock.ts: TestClock, RealClock;  log.ts
 *   observer.ts     HostObserver: hooks that see what the host does (for comparing hosts)
 *
 * Usage:
 *   const clock = new TestClock();
 *   const vm = await load("build/plugin.wasm", { clock, clusters: { ctl: () => ({ status: 200 }) } });
 *   const plugin = startPlugin(vm, { rootId: "", configuration: { policies: [] } });
 *   assert.ok(plugin.ok, plugin.result.stage);   // the canary VM configured it first, as in Envoy
 *                                                // ({ canary: false } for a bare VM)
 *   const stream = plugin.newStream().sendRequestHeaders(requestHeaders("GET", "/"), true);
 *   clock.advance(100);
 *   stream.upstream.headers;           // what reached the upstream (undefined if held)
 *   stream.sendResponseHeaders(responseHeaders(200), true);
 *   stream.reply.status;               // what the client got; stream.localReply for local replies
 *   vm.stats.flush(); vm.stats.renderPrometheus();
 *
 * A real proxy drives the same HttpStream: call sendRequestHeaders/Body/Trailers and sendResponse... as bytes arrive and
 * forward on stream.on("upstreamHeaders" | "upstreamData" | "upstreamTrailers" | "upstreamEnd" |
 * "upstreamReset" | "downstreamHeaders" | "downstreamData" | "downstreamTrailers" |
 * "downstreamEnd" | "localReply" | "complete" | "reset"). With a RealClock, ticks and call
 * replies run on timers and histograms are flushed every 5 s automatically.
 */
export * from "./abi";
export { TestClock, RealClock, type Clock, type TimerHandle } from "./clock";
export { Log, type LogEntry, type LogLevelName, parseLogLevel } from "./log";
export { StatsStore, Counter, Gauge, Histogram, sanitizePrometheus, type StatsStoreOptions } from "./metrics";
export { TagProducer, BUILT_IN_EXTRACTORS, type StatsTagConfig, type TagSpecifier, type Tag, type TagExtraction } from "./tag-extraction";
export { DEFAULT_BUCKETS, SUPPORTED_QUANTILES } from "./histogram";
export { SharedState } from "./shared-data";
export { HeaderMap, encodePairs, decodePairs, requestHeaders, responseHeaders, toPairs, type HeaderPairs, type HeadersInit } from "./headers";
export { istioNode, PROPERTY_MODES, type NodeInfo, type PropertyMode, type PropertyValue } from "./properties";
export { type ClusterHandler, type ClusterReply, type ClusterRequest, type HttpCallResponse } from "./http-call";
export { buildLocalReply, httpToGrpcStatus, type LocalReply } from "./local-reply";
export type { VmOptions, PluginOptions, StreamOptions, FailStrategy, Traffic } from "./options";
export * as targets from "./targets";
export { WasmVm } from "./vm";
export { load, compileModule, instantiate, ModuleLoadError, type CompiledModule } from "./loader";
export type { CompileOptions } from "./work";
export { RootContext, type PluginResult, type PluginStage } from "./root";
export { HttpStream, type Delivered, type LocalReplyInfo, type StreamState, type HttpStreamEvents } from "./stream";
export { Plugin, startPlugin, canaryFor, type StartOptions } from "./plugin";
export { Canary } from "./canary";
export { startStatsFlush } from "./stats-flush";
export type { HostObserver, FilterCallback, FilterCallbackResult } from "./observer";
