/**
 * What both hosts can observe, in a form where equal means "Envoy would behave the same":
 *
 * - events are grouped per stream (in order) plus the events of no stream (tick periods, HTTP
 *   calls, reconfigurations, VM failures) ordered by time and VM. Why: when one callback resumes
 *   several streams (a tick releasing a crowd), Envoy runs each continueDecoding inside the
 *   after-VM-call action (source/extensions/common/wasm/context.cc, continueStream), so stream A's
 *   body callbacks come before stream B's continue; cpphost-run's driver records all continues
 *   first and resumes the streams afterwards. Only that interleaving differs; each stream's own
 *   sequence is the same in both and in Envoy.
 * - VM failure messages and a refused configuration's error text are engine-specific (V8 vs
 *   WAMR trap texts): their presence, VM and time are compared, not the text.
 * - `module` (engine name) and `hostErrors` (cpp-host's internal trace) are not compared.
 * - A step's `ticks` is not compared: cpphost-run counts timer firings, and like Envoy's
 *   Wasm::tickHandler its timer of a root context that was shut down (after a reconfiguration)
 *   keeps firing without calling proxy_on_tick; this host cancels that timer. The plugin sees
 *   the same proxy_on_tick calls in both (the tickPeriod events and their effects are compared).
 */
import type { Json, Observed } from "./script-runner";

type Obj = { [key: string]: Json };

function normEvent(e: Json): Json {
  if (!e || typeof e !== "object" || Array.isArray(e)) return e;
  const o: Obj = { ...e };
  if (o.type === "vmFailure") delete o.message;
  if (o.type === "reconfigure") delete o.error;
  return o;
}

function normEvents(events: Json[] | undefined): Obj {
  const byStream: Record<string, Json[]> = {};
  const other: Obj[] = [];
  for (const e of events ?? []) {
    const n = normEvent(e) as Obj;
    if (typeof n.stream === "string") (byStream[n.stream] ??= []).push(n);
    else other.push(n);
  }
  other.sort((a, b) => (a.atMs as number) - (b.atMs as number) || String(a.vm ?? "").localeCompare(String(b.vm ?? "")));
  return { byStream, other };
}

export function normalise(o: Observed): Obj {
  const load = o.load as Obj;
  return {
    load: { canary: load.canary, accepted: load.accepted, workers: load.workers ?? null, events: normEvents(load.events as Json[]) },
    steps: o.steps.map((s) => {
      const n: Obj = { step: s.step, op: s.op, atMs: s.atMs, events: normEvents(s.events as Json[]) };
      if (s.stream !== undefined) n.stream = s.stream;
      if (s.metrics !== undefined) n.metrics = s.metrics;
      return n;
    }),
    streams: o.streams,
    httpCalls: o.httpCalls,
    metrics: o.metrics,
    clock: o.clock,
    log: [...o.log].sort((a, b) => String(a.step).localeCompare(String(b.step), undefined, { numeric: true }) || (a.atMs as number) - (b.atMs as number) || String(a.vm).localeCompare(String(b.vm))),
    vmFailures: o.vmFailures.map((f) => ({ step: f.step, atMs: f.atMs, vm: f.vm })),
  };
}

/** JSON text with object keys sorted: equal text means equal values. */
export function canon(x: Json): string {
  if (Array.isArray(x)) return `[${x.map(canon).join(",")}]`;
  if (x && typeof x === "object") return `{${Object.keys(x).sort().map((k) => `${JSON.stringify(k)}:${canon(x[k])}`).join(",")}}`;
  return JSON.stringify(x);
}

/** Paths where two normalised observations differ, with both values (at most `limit`). */
export function differences(a: Json, b: Json, limit = 20, path = "$", out: string[] = []): string[] {
  if (out.length >= limit) return out;
  if (canon(a) === canon(b)) return out;
  const isObj = (x: Json): x is Obj => !!x && typeof x === "object" && !Array.isArray(x);
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) differences(a[i] ?? null, b[i] ?? null, limit, `${path}[${i}]`, out);
    return out;
  }
  if (isObj(a) && isObj(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (canon(a[k] ?? null) !== canon(b[k] ?? null)) differences(a[k] ?? null, b[k] ?? null, limit, `${path}.${k}`, out);
    }
    return out;
  }
  out.push(`${path}: project host ${JSON.stringify(a)} | cpphost-run ${JSON.stringify(b)}`);
  return out;
}

/**
 * Poll times are jittered from WASI random_get, which both hosts fill from a CSPRNG (cpp-host:
 * RAND_bytes), so two runs never agree on them. For scenarios that poll, the jittered numbers
 * (tick periods, when a call was made, "next in N ms") are masked; what is compared is that
 * the same calls, ticks, answers and log lines happen in the same order. The jitter's bounds
 * are the poll schedule's own tests (tests/unit/controlplane.spec.ts, tests/integration/).
 */
export function maskRandomTiming(n: Obj): Obj {
  const maskEvents = (events: Obj): void => {
    for (const e of events.other as Obj[]) {
      if (e.type === "tickPeriod" && e.periodMs !== 0) e.periodMs = "jittered";
      if (e.type === "tickPeriod" || e.type === "httpCall" || e.type === "httpCallResponse") e.atMs = "jittered";
    }
  };
  maskEvents((n.load as Obj).events as Obj);
  for (const s of n.steps as Obj[]) maskEvents(s.events as Obj);
  for (const c of n.httpCalls as Obj[]) c.atMs = "jittered";
  for (const l of n.log as Obj[]) {
    const text = String(l.message);
    if (/next in \d+ ms/.test(text)) {
      l.message = text.replace(/next in \d+ ms/, "next in N ms");
      l.atMs = "jittered";
    }
  }
  return n;
}
