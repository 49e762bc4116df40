/**
 * cpphost-run's script format (../shared/tools/cpphost/README.md), interpreted on this project's
 * host: the same steps, the same output shape, so the two can be compared (compare.ts).
 *
 * The host is driven exactly as the runner and the integration tests drive it: one Canary and N
 * worker VMs sharing stats, shared data and one log, a TestClock whose wall clock starts where
 * cpphost-run's does (1750000000000 ms) and whose monotonic clock starts at 0. What the host did
 * is read through its observation hooks (host/observer.ts). HTTP calls wait until the script
 * answers them, as in cpphost-run.
 */
import { readFileSync } from "node:fs";
import {
  Canary, compileModule, HeaderMap, instantiate, Log, parseLogLevel, SharedState, startPlugin, StatsStore, TestClock,
  type ClusterHandler, type ClusterReply, type ClusterRequest, type HostObserver, type HttpStream, type LogLevelName, type NodeInfo,
  type Plugin, type PluginResult, type PropertyMode, type PropertyValue, type RootContext, type WasmVm,
} from "../../host/index";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

export interface Script {
  description?: string;
  vm?: Obj;
  steps?: Obj[];
}

/** The output document, in cpphost-run's shape. */
export interface Observed {
  module: Obj;
  load: Obj;
  steps: Obj[];
  streams: Obj[];
  httpCalls: Obj[];
  metrics: Obj[];
  clock: Obj;
  log: Obj[];
  vmFailures: Obj[];
  hostErrors: Json[];
}

const WALL_START_MS = 1_750_000_000_000;
const HEADER_STATUS = ["Continue", "StopIteration", "ContinueAndEndStream", "StopAllIterationAndBuffer", "StopAllIterationAndWatermark"];
const DATA_STATUS = ["Continue", "StopIterationAndBuffer", "StopIterationAndWatermark", "StopIterationNoBuffer"];
const TRAILERS_STATUS = ["Continue", "StopIteration"];

/** Bytes from a script value: a string (UTF-8) or {"base64": "..."}. */
function bytes(v: Json | undefined): Buffer {
  if (typeof v === "string") return Buffer.from(v, "utf8");
  if (v && typeof v === "object" && !Array.isArray(v) && typeof v.base64 === "string") return Buffer.from(v.base64, "base64");
  throw new Error(`expected a string or {"base64": ...}, got ${JSON.stringify(v)}`);
}

/** Header values as the host keeps them: one char per byte. */
function headers(v: Json | undefined): HeaderMap {
  const map = new HeaderMap();
  if (v === undefined || v === null) return map;
  const entries: Array<[Json, Json]> = Array.isArray(v) ? (v as Json[][]).map((p) => [p[0], p[1]]) : Object.entries(v as Obj);
  for (const [k, value] of entries) map.add(bytes(typeof k === "string" ? k : (k as Json)).toString("latin1").toLowerCase(), bytes(value).toString("latin1"));
  return map;
}

/** A byte string for the output: text when it is valid UTF-8, else {"base64": ...}. */
function text(b: Buffer | string): Json {
  const buf = typeof b === "string" ? Buffer.from(b, "latin1") : b;
  const s = buf.toString("utf8");
  return Buffer.from(s, "utf8").equals(buf) ? s : { base64: buf.toString("base64") };
}

function pairs(map: HeaderMap): Json {
  return map.pairs().map(([k, v]) => [text(k), text(v)]);
}

function configText(v: Json | undefined): string {
  if (v === undefined || v === null) return "";
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** vm.properties ("dotted.path": value) as the host's node and top-level properties. */
function properties(given: Obj | undefined): { node?: NodeInfo; top: Record<string, PropertyValue> } {
  const tree: { [k: string]: PropertyValue } = {};
  for (const [path, value] of Object.entries(given ?? {})) {
    const parts = path.split(".");
    let at = tree;
    for (const p of parts.slice(0, -1)) {
      const next = at[p];
      at = (at[p] = next && typeof next === "object" && !(next instanceof Uint8Array) ? next : {}) as { [k: string]: PropertyValue };
    }
    at[parts[parts.length - 1]] = propertyValue(value);
  }
  const { node, ...top } = tree;
  if (node === undefined) return { top };
  const n = node as { [k: string]: PropertyValue };
  return { node: { id: n.id as string | undefined, cluster: n.cluster as string | undefined, metadata: n.metadata as { [k: string]: PropertyValue } | undefined }, top };
}

function propertyValue(v: Json): PropertyValue {
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && !Array.isArray(v)) {
    if (Object.keys(v).length === 1 && typeof v.base64 === "string") return Buffer.from(v.base64, "base64");
    const o: { [k: string]: PropertyValue } = {};
    for (const [k, x] of Object.entries(v)) o[k] = propertyValue(x);
    return o;
  }
  throw new Error(`property value: expected a string, {"base64": ...} or an object, got ${JSON.stringify(v)}`);
}

interface StreamRecord {
  name: string;
  worker: number;
  stream: HttpStream;
  startMono: number;
  done: string | null;
  finishing?: "finish";
}

interface CallRecord {
  call: number;
  vm: string;
  atMs: number;
  root: RootContext;
  token: number;
  request: ClusterRequest;
  answer: ((reply: ClusterReply) => void) | undefined;
  answered: string | null;
}

/** Runs a cpphost-run script on this project's host. */
export async function runScript(wasmPath: string, script: Script): Promise<Observed> {
  const vmSpec = script.vm ?? {};
  const clock = new TestClock(WALL_START_MS);
  const monoNow = (): number => clock.monotonic();
  const stats = new StatsStore({ keepRawSamples: true });
  const shared = new SharedState();
  const logLevel = (vmSpec.logLevel as LogLevelName | undefined) ?? "trace";
  const log = new Log(parseLogLevel(logLevel), true);
  const workersN = (vmSpec.workers as number | undefined) ?? 1;
  const canaryOn = (vmSpec.canary as boolean | undefined) ?? true;
  if (vmSpec.autoFinish === false) throw new Error("autoFinish: false is not modelled by this runner (the host ends a stream when its response is complete)");
  const props = properties(vmSpec.properties as Obj | undefined);

  // ---- observations --------------------------------------------------------------------------
  let stepIndex: number | "load" = "load";
  const loadEvents: Json[] = [];
  let events: Json[] = loadEvents;
  const streams: StreamRecord[] = [];
  const byStream = new Map<HttpStream, StreamRecord>();
  const byName = new Map<string, StreamRecord>();
  const calls: CallRecord[] = [];
  const vmFailures: Obj[] = [];
  const logOut: Obj[] = [];
  const tickPeriods = new Map<object, Map<number, number>>();
  let ticks = 0;
  const reserved = new Map<HttpStream, number>();
  const localReplies = new Map<HttpStream, { slot: number; event: Obj; sent: Obj }>();

  const event = (type: string, fields: Obj): Obj => {
    const e: Obj = { type, atMs: monoNow(), ...fields };
    events.push(e);
    return e;
  };
  const labelOf = (vm: WasmVm): string => vm.label ?? "worker0";
  log.onEntry((entry) => {
    if (entry.source !== "module") return;
    logOut.push({ step: stepIndex, atMs: entry.time - WALL_START_MS, vm: entry.vm ?? "worker0", level: entry.levelName, message: entry.message });
  });

  const reportFilterState = vmSpec.reportFilterState === true;
  const observer: HostObserver = {
    filterState(stream, key, value) {
      const rec = byStream.get(stream);
      if (!reportFilterState || !rec) return;
      events.push({ type: "filterState", atMs: monoNow(), stream: rec.name, key, value: Buffer.from(value).toString("utf8") });
    },
    filterCallbackStart(stream, callback, map) {
      if (localReplies.has(stream)) return;
      reserved.set(stream, events.length);
      events.push(null);
      (stream as unknown as { __in?: string }).__in = map ? JSON.stringify(map.pairs()) : undefined;
    },
    filterCallbackEnd(stream, callback, result) {
      const rec = byStream.get(stream);
      const lr = localReplies.get(stream);
      const names = callback.endsWith("Headers") ? HEADER_STATUS : callback.endsWith("Body") ? DATA_STATUS : TRAILERS_STATUS;
      const status = names[result.status] ?? String(result.status);
      if (lr) {
        if (callback === "responseHeaders") lr.sent.onResponseHeaders = status;
        if (callback === "responseBody") lr.sent.onResponseBody = status;
        return;
      }
      const slot = reserved.get(stream);
      reserved.delete(stream);
      if (!rec || slot === undefined) return;
      const e: Obj = { type: callback, atMs: monoNow(), stream: rec.name };
      if (callback === "requestHeaders") {
        e.worker = rec.worker;
        e.rootContextId = stream.root.id;
      }
      if (callback.endsWith("Body")) {
        e.size = result.size ?? 0;
        e.seenSize = result.seenSize ?? 0;
      }
      if (!callback.endsWith("Trailers")) e.endOfStream = result.endOfStream;
      e.status = status;
      const before = (stream as unknown as { __in?: string }).__in;
      if (result.map && before !== undefined && JSON.stringify(result.map.pairs()) !== before) {
        e[callback.endsWith("Trailers") ? "trailersOut" : "headersOut"] = pairs(result.map);
      }
      events[slot] = e;
    },
    held(stream, direction, size, heldSize, endOfStream, trailers) {
      const rec = byStream.get(stream);
      if (!rec) return;
      if (trailers) event("held", { stream: rec.name, direction, trailers: true });
      else event("held", { stream: rec.name, direction, size, heldSize, endOfStream });
    },
    continueStream(stream, direction, wasStopped) {
      const rec = byStream.get(stream);
      if (rec) event("continue", { stream: rec.name, direction, sinceRequestMs: monoNow() - rec.startMono, wasStopped });
    },
    closeStream(stream, direction) {
      const rec = byStream.get(stream);
      if (rec) event("closeStream", { stream: rec.name, direction });
    },
    localReplyStart(stream, reply) {
      const rec = byStream.get(stream);
      if (!rec) return;
      const extra = new HeaderMap(reply.additionalHeaders.map(([k, v]): [string, string] => [k.toLowerCase(), v]));
      const e: Obj = {
        type: "localReply", atMs: monoNow(), stream: rec.name, sinceRequestMs: monoNow() - rec.startMono,
        status: reply.status, body: text(reply.body), headers: pairs(extra),
        grpcStatus: reply.grpcStatus ?? null, details: reply.details,
      };
      if (reply.details === "wasm_fail_stream") e.failStream = true;
      localReplies.set(stream, { slot: events.length, event: e, sent: {} });
      events.push(e);
    },
    localReplyEnd(stream, replyHeaders, body) {
      const lr = localReplies.get(stream);
      if (!lr) return;
      localReplies.delete(stream);
      const grpc = (replyHeaders.get("content-type") ?? "").startsWith("application/grpc");
      lr.sent.grpc = grpc;
      lr.sent.headers = pairs(replyHeaders);
      lr.sent.body = text(body);
      lr.event.sent = lr.sent;
    },
    streamDone(stream, reason) {
      const rec = byStream.get(stream);
      if (!rec) return;
      rec.done = rec.finishing ?? reason;
      event("streamDone", { stream: rec.name, reason: rec.done });
    },
    tickPeriod(root, periodMs) {
      // Per VM instance, as cpphost-run keeps its timers: every canary is a new VM.
      const periods = tickPeriods.get(root.vm) ?? new Map<number, number>();
      tickPeriods.set(root.vm, periods);
      if (periods.get(root.id) === periodMs) return;
      periods.set(root.id, periodMs);
      event("tickPeriod", { vm: labelOf(root.vm), rootContextId: root.id, periodMs });
    },
    tick() {
      ticks++;
    },
    httpCall(root, token, request) {
      const call = calls.length;
      calls.push({ call, vm: labelOf(root.vm), atMs: monoNow(), root, token, request, answer: undefined, answered: null });
      event("httpCall", {
        call, vm: labelOf(root.vm), cluster: request.cluster, headers: pairs(request.headers), body: text(request.body), timeoutMs: request.timeoutMs,
      });
    },
    httpCallRefused(root, cluster, reason) {
      event("httpCallRefused", { vm: labelOf(root.vm), cluster, result: "BadArgument", reason });
    },
    vmFailure(vm, message) {
      if (vm.label === "canary" && message === "killed") return;
      vmFailures.push({ step: stepIndex, atMs: monoNow(), vm: labelOf(vm), message });
      event("vmFailure", { vm: labelOf(vm), message });
    },
  };

  // ---- the VMs ------------------------------------------------------------------------------
  // A cluster the script knows answers only when the script says so: a thenable the host awaits.
  const clusters: Record<string, ClusterHandler> = {};
  for (const name of (vmSpec.knownClusters as string[] | undefined) ?? []) {
    clusters[name] = () => ({
      then(onReply: (r: ClusterReply) => void) {
        calls[calls.length - 1].answer = onReply;
        return undefined as never;
      },
    }) as unknown as Promise<ClusterReply>;
  }
  const vmOptions = {
    clock, stats, shared, log, logLevel,
    vmId: (vmSpec.vmId as string | undefined) ?? "",
    vmConfiguration: configText(vmSpec.vmConfig),
    node: props.node,
    properties: props.top,
    propertyMode: (vmSpec.propertyMode as PropertyMode | undefined) ?? "legacy",
    allowOnHeadersStopIteration: (vmSpec.allowOnHeadersStopIteration as boolean | undefined) ?? false,
    failStrategy: (vmSpec.failOpen as boolean | undefined) === false ? ("closed" as const) : ("open" as const),
    clusters,
    observer,
  };
  const compiled = await compileModule(readFileSync(wasmPath));
  const canary = canaryOn ? new Canary(compiled, vmOptions) : false;
  const pluginOptions = { rootId: (vmSpec.rootId as string | undefined) ?? "", name: (vmSpec.name as string | undefined) ?? "cpphost-run" };
  const workers: Plugin[] = [];

  const outcome = (results: Array<PluginResult | undefined>, canaryResult: PluginResult | undefined): Obj => {
    const r: Obj = { canary: !canaryOn ? "off" : canaryResult && !canaryResult.ok ? "rejected" : "accepted" };
    if (canaryResult && !canaryResult.ok) {
      r.accepted = false;
      r.error = `Unable to create Wasm (${canaryResult.stage})`;
      return r;
    }
    r.accepted = results.every((x) => x?.ok);
    r.workers = results.map((x, i) => ({ worker: i, ok: x?.ok ?? false, rootContextId: x?.ok ? workers[i].root.id : 0 }));
    return r;
  };

  const firstConfig = configText(vmSpec.pluginConfig);
  const startResults: PluginResult[] = [];
  let loadCanary: PluginResult | undefined;
  for (let i = 0; i < workersN; i++) {
    const vm = instantiate(compiled, { ...vmOptions, label: `worker${i}` });
    const plugin = startPlugin(vm, { ...pluginOptions, configuration: firstConfig, canary });
    if (i === 0) loadCanary = plugin.canaryResult;
    if (loadCanary && !loadCanary.ok) break;
    workers.push(plugin);
    startResults.push(plugin.result);
  }
  const load = outcome(startResults, loadCanary);
  load.events = loadEvents;

  // ---- steps --------------------------------------------------------------------------------
  const ignored = (stream: string, reason: string): void => void event("ignored", { stream, reason });
  const find = (name: string): StreamRecord | undefined => {
    const rec = byName.get(name);
    if (!rec) ignored(name, "no such stream");
    return rec;
  };
  const optBody = (st: Obj): Buffer | undefined =>
    st.data !== undefined ? bytes(st.data) : st.dataBase64 !== undefined ? Buffer.from(st.dataBase64 as string, "base64") : undefined;

  const runStep = (st: Obj, index: number): Obj => {
    const out: Obj = { step: index, op: st.op as string };
    if (st.stream !== undefined) out.stream = st.stream;
    out.atMs = monoNow();
    const stepEvents: Json[] = [];
    events = stepEvents;
    stepIndex = index;
    const name = st.stream as string;
    switch (st.op) {
      case "request": {
        const old = byName.get(name);
        if (old && old.done === null) {
          ignored(name, "stream is still open");
          break;
        }
        const worker = (st.worker as number | undefined) ?? 0;
        const body = optBody(st);
        const trailers = st.trailers !== undefined ? headers(st.trailers) : undefined;
        const end = (st.endOfStream as boolean | undefined) ?? true;
        const own = st.properties !== undefined ? properties(st.properties as Obj).top : undefined;
        const stream = workers[worker].newStream(own ? { properties: own } : {});
        const rec: StreamRecord = { name, worker, stream, startMono: monoNow(), done: null };
        streams.push(rec);
        byName.set(name, rec);
        byStream.set(stream, rec);
        if (!stream.filterInstalled) {
          event("requestHeaders", { stream: name, worker, filter: false, reason: "VM failed; fail open: no filter" });
        }
        stream.sendRequestHeaders(headers(st.headers), end && !body && !trailers);
        if (stream.finished || stream.localReply) break;
        if (body) stream.sendRequestBody(body, end && !trailers);
        if (trailers && !stream.finished && !stream.localReply) stream.sendRequestTrailers(trailers);
        break;
      }
      case "response": {
        const rec = find(name);
        if (!rec) break;
        if (rec.done !== null || rec.stream.localReply || rec.stream.downstream.headers) {
          ignored(name, rec.done !== null ? "stream is finished" : rec.stream.localReply ? "a local reply was sent" : "response already started");
          break;
        }
        if (!rec.stream.upstream.headers) {
          ignored(name, "this host takes no response before the request reached the upstream (cpphost-run accepts it with a note)");
          break;
        }
        const body = optBody(st);
        const trailers = st.trailers !== undefined ? headers(st.trailers) : undefined;
        const end = (st.endOfStream as boolean | undefined) ?? true;
        rec.stream.sendResponseHeaders(headers(st.headers), end && !body && !trailers);
        if (body && !rec.stream.finished) rec.stream.sendResponseBody(body, end && !trailers);
        if (trailers && !rec.stream.finished) rec.stream.sendResponseTrailers(trailers);
        break;
      }
      case "requestBody":
      case "responseBody": {
        const rec = find(name);
        if (!rec) break;
        const request = st.op === "requestBody";
        const s = rec.stream;
        const side = request ? s.upstream : s.downstream;
        if (rec.done !== null || (request && s.localReply) || (!request && !s.downstream.headers && !s.upstream.headers) || side.ended) {
          ignored(name, rec.done !== null ? "stream is finished" : request && s.localReply ? "a local reply was sent" : "this direction already ended");
          break;
        }
        const eos = (st.endOfStream as boolean | undefined) ?? true;
        if (request) s.sendRequestBody(optBody(st)!, eos);
        else s.sendResponseBody(optBody(st)!, eos);
        break;
      }
      case "requestTrailers":
      case "responseTrailers": {
        const rec = find(name);
        if (!rec) break;
        if (rec.done !== null) {
          ignored(name, "the stream cannot take trailers now");
          break;
        }
        if (st.op === "requestTrailers") rec.stream.sendRequestTrailers(headers(st.trailers));
        else rec.stream.sendResponseTrailers(headers(st.trailers));
        break;
      }
      case "reset":
      case "finish": {
        const rec = find(name);
        if (!rec) break;
        if (rec.done !== null) {
          ignored(name, `stream already finished (${rec.done})`);
          break;
        }
        if (st.op === "finish") rec.finishing = "finish";
        rec.stream.reset();
        break;
      }
      case "advance": {
        ticks = 0;
        clock.advance(st.ms as number);
        out.ticks = ticks;
        break;
      }
      case "wallStep":
        throw new Error("wallStep needs the TestClock's wall-clock step (host/clock.ts), not available on this branch");
      case "answerHttpCall": {
        const index = st.call as number;
        const e = event("httpCallResponse", { call: index });
        const call = calls[index];
        if (!call) {
          Object.assign(e, { delivered: false, reason: `only ${calls.length} http call(s) were made` });
          break;
        }
        if (call.answered !== null) {
          Object.assign(e, { delivered: false, reason: "already answered" });
          break;
        }
        if (call.root.deleted || !call.root.pendingCalls.has(call.token) || !call.answer) {
          Object.assign(e, { delivered: false, reason: "the calling VM or context is gone" });
          break;
        }
        const reset = st.reset === true;
        call.answered = reset ? "reset" : "response";
        Object.assign(e, { delivered: true, vm: call.vm });
        if (reset) {
          e.reset = true;
          call.answer({ reset: true });
        } else {
          e.status = st.status as number;
          call.answer({
            status: st.status as number,
            headers: headers(st.headers).pairs(),
            body: st.body !== undefined ? bytes(st.body) : undefined,
            trailers: st.trailers !== undefined ? headers(st.trailers).pairs() : undefined,
          });
        }
        clock.advance(0); // the reply was scheduled for "now"
        break;
      }
      case "reconfigure": {
        const slot = events.length;
        events.push(null);
        const next = configText(st.pluginConfig);
        const results: PluginResult[] = [];
        let canaryResult: PluginResult | undefined;
        for (const w of workers) {
          const r = w.reconfigure(next);
          if (r.canary && results.length === 0) canaryResult = r;
          if (canaryResult && !canaryResult.ok) break;
          results.push(r);
        }
        events[slot] = { type: "reconfigure", atMs: monoNow(), ...outcome(results, canaryResult) };
        break;
      }
      case "metrics":
        out.metrics = metrics();
        break;
      default:
        throw new Error(`unknown op ${JSON.stringify(st.op)}`);
    }
    out.events = stepEvents;
    events = loadEvents;
    return out;
  };

  const metrics = (): Obj[] => {
    const list: Obj[] = [];
    for (const c of stats.counters.values()) list.push({ name: c.name, type: "counter", value: Number(c.value) });
    for (const g of stats.gauges.values()) list.push({ name: g.name, type: "gauge", value: Number(BigInt.asIntN(64, g.value)) });
    for (const h of stats.histograms.values()) list.push({ name: h.name, type: "histogram", samples: [...(h.raw ?? [])] });
    return list.sort((a, b) => ((a.name as string) < (b.name as string) ? -1 : (a.name as string) > (b.name as string) ? 1 : 0));
  };

  const stepResults: Obj[] = [];
  if (load.accepted) (script.steps ?? []).forEach((st, i) => stepResults.push(runStep(st, i)));
  stepIndex = (script.steps ?? []).length;

  return {
    module: { abi: compiled.abi, engine: "v8", bytes: readFileSync(wasmPath).length },
    load,
    steps: stepResults,
    streams: streams.map((s) => ({ stream: s.name, worker: s.worker, filter: s.stream.filterInstalled, localReply: s.stream.localReply?.status ?? null, done: s.done })),
    httpCalls: calls.map((c) => ({
      call: c.call, vm: c.vm, atMs: c.atMs, cluster: c.request.cluster, path: c.request.headers.get(":path") ?? null, timeoutMs: c.request.timeoutMs, answered: c.answered,
    })),
    metrics: metrics(),
    clock: { monotonicMs: monoNow(), wallMs: clock.now() },
    log: logOut,
    vmFailures,
    hostErrors: [],
  };
}
