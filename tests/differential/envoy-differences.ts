/**
 * Where cpphost-run's small filter-manager model differs from Envoy itself, checked in Envoy's
 * source. The project's host follows Envoy; each entry rewrites cpphost-run's observation into
 * what Envoy would show, so the comparison stays exact everywhere else. The suite fails when an
 * entry no longer changes anything in any scenario (a stale excuse).
 */
import type { Json, Script } from "./script-runner";

type Obj = { [key: string]: Json };

export interface EnvoyDifference {
  name: string;
  /** Why Envoy differs from cpphost-run here, with the source read. */
  why: string;
  /** Rewrites a normalised cpphost-run observation in place; returns how many places changed. */
  apply(observed: Obj, script: Script): number;
}

/** Every localReply event of a normalised observation, with its stream name. */
function localReplies(observed: Obj): Array<{ stream: string; event: Obj }> {
  const out: Array<{ stream: string; event: Obj }> = [];
  const groups = [((observed.load as Obj).events as Obj), ...(observed.steps as Obj[]).map((s) => s.events as Obj)];
  for (const g of groups) {
    for (const [stream, events] of Object.entries(g.byStream as Record<string, Obj[]>)) {
      for (const e of events) if (e.type === "localReply") out.push({ stream, event: e });
    }
  }
  return out;
}

/** The :method each stream's request step gave. */
function methods(script: Script): Map<string, string> {
  const m = new Map<string, string>();
  for (const st of script.steps ?? []) {
    if (st.op !== "request") continue;
    const hs = st.headers as Json;
    const entries: Array<[Json, Json]> = Array.isArray(hs) ? (hs as Json[][]).map((p) => [p[0], p[1]]) : Object.entries(hs as Obj);
    const method = entries.find(([k]) => k === ":method")?.[1];
    if (typeof method === "string") m.set(st.stream as string, method);
  }
  return m;
}

export const ENVOY_DIFFERENCES: EnvoyDifference[] = [
  {
    name: "gRPC local reply header order",
    why:
      "Envoy's Http::Utility::prepareLocalReply (source/common/http/utility.cc) starts from `:status`, " +
      "applies the filter's headers (modify_headers), then sets content-type, grpc-status and grpc-message; " +
      "Envoy's header map keeps insertion order, so the plugin's headers come before them. cpphost-run " +
      "adds the gRPC headers first.",
    apply(observed) {
      let n = 0;
      for (const { event } of localReplies(observed)) {
        const sent = event.sent as Obj | undefined;
        if (!sent || sent.grpc !== true) continue;
        const hs = sent.headers as Array<[string, string]>;
        const grpcNames = ["content-type", "grpc-status", "grpc-message"];
        const reordered = [
          ...hs.filter(([k]) => k === ":status"),
          ...hs.filter(([k]) => k !== ":status" && !grpcNames.includes(k)),
          ...grpcNames.flatMap((g) => hs.filter(([k]) => k === g)),
        ];
        if (JSON.stringify(reordered) !== JSON.stringify(hs)) {
          sent.headers = reordered;
          n++;
        }
      }
      return n;
    },
  },
  {
    name: "local reply to HEAD has no body",
    why:
      "Envoy's Http::Utility::encodeLocalReply (source/common/http/utility.cc) encodes only the headers " +
      "(end of stream) for a HEAD request, keeping content-length; the filter's onResponseBody is not " +
      "called. cpphost-run sends the body.",
    apply(observed, script) {
      let n = 0;
      const method = methods(script);
      for (const { stream, event } of localReplies(observed)) {
        const sent = event.sent as Obj | undefined;
        if (!sent || method.get(stream) !== "HEAD" || sent.body === "") continue;
        sent.body = "";
        delete sent.onResponseBody;
        n++;
      }
      return n;
    },
  },
  {
    name: "proxy_close_stream resets the stream",
    why:
      "Envoy's Context::closeStream (source/extensions/common/wasm/context.cc) defers " +
      "decoder_callbacks_->resetStream() until the VM call returns; the connection manager's " +
      "ActiveStream::resetStream → doEndStream (source/common/http/conn_manager_impl.cc) resets the " +
      "downstream stream and destroys the filters: the stream ends as a reset. cpphost-run records the " +
      "close and leaves the stream open.",
    apply(observed) {
      let n = 0;
      const closed = new Set<string>();
      const groups = [((observed.load as Obj).events as Obj), ...(observed.steps as Obj[]).map((s) => s.events as Obj)];
      for (const g of groups) {
        for (const [stream, events] of Object.entries(g.byStream as Record<string, Obj[]>)) {
          const at = events.findIndex((e) => e.type === "closeStream");
          if (at < 0 || closed.has(stream) || events.some((e) => e.type === "streamDone")) continue;
          closed.add(stream);
          events.splice(at + 1, 0, { type: "streamDone", atMs: events[at].atMs, stream, reason: "reset" });
          n++;
        }
      }
      for (const st of observed.streams as Obj[]) {
        if (closed.has(st.stream as string) && st.done === null) st.done = "reset";
      }
      return n;
    },
  },
];
