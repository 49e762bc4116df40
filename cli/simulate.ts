/**
 * `hfi simulate`: what the plugin would do with one request, asked of the plugin itself.
 *
 * How each rule is explained with the real engine (no second implementation of matching):
 *   - does it match? A fresh plugin gets that one rule alone, percentage 100 and no sampling
 *     header; the request is sent; a fault means the rule matches.
 *   - why not? The same with the policy's selector removed (if it now matches, the selector
 *     excludes this workload), then with each condition of the match alone (method, path, each
 *     header): every condition that fails alone is a reason.
 * Rules are tried in order and the first match decides, so later matching rules are shadowed.
 * The observed rate comes from n requests sent through one plugin configured with the whole set
 * as written (percentages, sampling headers), counting what it did. Only the first held request
 * is driven through its hold on the plugin's timers (to show the hold and what follows it);
 * later ones are counted when the plugin holds them and then reset, so the simulated clock stays
 * put and no duration_seconds runs out during the draws.
 */
import { targets, type NodeInfo, type PropertyValue, type Traffic } from "../host/index";
import { effectivePolicies } from "../host/runner/effective-policies";
import { describeFault } from "../host/fault-words";
import { formatTimeLeft } from "../host/time-left";
import { drive, finish, startEngine, type Engine } from "./engine";
import { CliError } from "./errors";
import { isRefusal, parseLogLine } from "./messages";
import { isObject, loadSources } from "./sources";
import { judgedSettings, policyName } from "./validate";
import { directionOf } from "./scope";

export interface SimulateOptions {
  files: string[];
  workload?: string;
  namespace?: string;
  labels: Array<[string, string]>;
  headers: Array<[string, string]>;
  requests: number;
  method: string;
  path: string;
  /** The kind of proxy (its node id); default: the bootstrap's node id, if any. */
  proxy?: targets.ProxyKind;
  /** The listener the request comes through; default: what the proxy kind implies. */
  direction?: "inbound" | "outbound";
  /** Where the request goes: SERVICE[.NAMESPACE][:PORT][/SUBSET], as the proxy names it. */
  to?: string;
  /** Where the request goes, as an Envoy cluster name (plain Envoy, Envoy Gateway, or exact). */
  cluster?: string;
}

export type RuleVerdict = "matches" | "decides" | "shadowed" | "no match" | "not this workload" | "not this traffic" | "invalid";

export interface RuleReport {
  policy: string;
  rule: number;
  verdict: RuleVerdict;
  /** Why it does not match (each failing condition), or the plugin's error. */
  reasons: string[];
  fault: string;
  percentage: number;
  samplingHeader?: string;
}

export interface SimulationResult {
  /** false when the configuration says enabled: false (nothing is injected). */
  enabled: boolean;
  request: { method: string; path: string; headers: Array<[string, string]> };
  /** What the proxy reports about the request: its kind, the listener's direction, the cluster. */
  traffic: { proxy: string; direction: string; cluster: string | null };
  workload: { name: string; namespace: string; labels: Record<string, string> };
  rules: RuleReport[];
  decision?: { policy: string; rule: number; fault: string; percentage: number };
  observed: {
    requests: number;
    faulted: number;
    rate: number;
    /** e.g. {"abort 503": 200, "delay 1500 ms": 0}. */
    outcomes: Record<string, number>;
    byPolicy: Record<string, number>;
  };
  /** Each policy's state after the draws, as the plugin published it (what /policies and
   * hfi status show), with the seconds left in it (null: nothing ends it). */
  states: Array<{ policy: string; state: string; timeLeftSeconds: number | null }>;
  notes: string[];
}

type Json = Record<string, unknown>;

export async function simulate(o: SimulateOptions): Promise<SimulationResult> {
  const method = o.method.toUpperCase();
  if (!o.path.startsWith("/")) throw new CliError(`hfi simulate: the path must start with /, got "${o.path}"`);
  const loaded = loadSources(o.files);
  for (const p of loaded.problems) if (p.severity !== "warning") throw new CliError(`${p.at.file}:${p.at.line}:${p.at.column}: ${p.message} (run hfi validate)`);
  if (loaded.configurations.length === 0) throw new CliError("hfi simulate: no policies in the given files");

  // One configuration: the first configuration's settings, every policy in file order.
  const withSettings = loaded.configurations.find((c) => c.settings && Object.keys(c.settings).length > 0);
  const settings: Json = judgedSettings(withSettings?.settings);
  delete settings.control_plane; // the simulation polls nothing
  delete settings.control_plane_address;
  delete settings.poll_interval_ms;
  const policyHeader = typeof settings.policy_header === "string" && settings.policy_header !== "" ? settings.policy_header : "x-hfi-policy";
  settings.policy_header = policyHeader;
  const notes: string[] = [];
  if (settings.enabled === false) notes.push("enabled: false in the configuration: the plugin injects nothing (rules are explained as if enabled)");
  const policies = loaded.configurations.flatMap((c) => c.policies.map((p) => p.value));
  const names = policies.map(policyName);
  const twice = [...new Set(names.filter((n, i) => n !== undefined && names.indexOf(n) !== i))];
  if (twice.length > 0) notes.push(`policies named twice (${twice.join(", ")}): all copies are simulated in file order; a control plane's copy would replace the configuration's`);
  const fromFile = nodeFor(o, loaded.configurations.find((c) => c.node)?.node);
  const node = o.proxy === undefined ? fromFile : targets.asKind(fromFile, o.proxy);
  const kind = targets.kindOfNodeId(node.id);
  const traffic = trafficFor(o, kind, node);
  const trafficView = {
    proxy: kind === "envoy" ? "plain Envoy" : kind,
    direction: traffic.listenerDirection === targets.INBOUND ? "inbound" : traffic.listenerDirection === targets.OUTBOUND ? "outbound" : "unspecified",
    cluster: traffic.clusterName ?? null,
  };
  const meta = (node.metadata ?? {}) as Record<string, PropertyValue>;
  const labels = (isObject(meta.LABELS) ? meta.LABELS : {}) as Record<string, string>;
  const workload = { name: String(meta.WORKLOAD_NAME ?? ""), namespace: String(meta.NAMESPACE ?? ""), labels };
  const rootId = loaded.configurations[0].rootId;
  const maxHoldMs = 2 * 86_400_000;
  const request = { method, path: o.path, headers: o.headers };

  const ask = async (policy: unknown, extra: Json = {}): Promise<{ matched: boolean; errors: string[] }> => {
    const engine = await startEngine(JSON.stringify({ ...settings, enabled: true, ...extra, policies: [policy] }), { rootId, node, traffic });
    const errors = engineErrors(engine);
    const outcome = drive(engine, method, o.path, o.headers, policyHeader, maxHoldMs);
    return { matched: outcome.fault !== "none", errors };
  };

  const rules: RuleReport[] = [];
  let decision: SimulationResult["decision"];
  for (const p of policies) {
    const name = policyName(p) ?? "(unnamed)";
    const spec = isObject(p) && isObject(p.spec) ? p.spec : {};
    const ruleList = Array.isArray(spec.rules) ? spec.rules : [];
    for (const [index, rule] of ruleList.entries()) {
      const r = isObject(rule) ? rule : {};
      const fault = isObject(r.fault) ? r.fault : {};
      const match = isObject(r.match) ? r.match : {};
      const report: RuleReport = {
        policy: name,
        rule: index,
        verdict: "no match",
        reasons: [],
        fault: describeFault(fault),
        percentage: typeof fault.percentage === "number" ? fault.percentage : 0,
        ...(isObject(fault.sampling) && typeof fault.sampling.header === "string" ? { samplingHeader: fault.sampling.header } : {}),
      };
      const certain: Json = { ...fault, percentage: 100 };
      delete certain.sampling;
      delete certain.duration_seconds;
      // A from_headers rule with no fault of its own injects only what a request asks for: the
      // probe gives it one to observe, so that matching shows.
      if (certain.from_headers === true && !["abort", "delay", "reset", "response"].some((k) => k in certain)) certain.abort = { httpStatus: 503 };
      const scope: Json = {};
      if (spec.direction !== undefined) scope.direction = spec.direction;
      if (spec.destination !== undefined) scope.destination = spec.destination;
      // Conditions judged alone are judged on any listener: the scope is a reason of its own.
      const anywhere: Json = { direction: "any" };
      const alone = (m: unknown, selector: unknown, where: Json) => policyWith(name, selector, where, { ...r, match: m, fault: certain });
      // The plugin's verdict on the rule as written; then, for matching, at percentage 100.
      const written = await ask(policyWith(name, spec.selector, scope, rule));
      const asWritten = written.errors.length > 0 ? written : await ask(alone(r.match, spec.selector, scope));
      if (asWritten.errors.length > 0) {
        report.verdict = "invalid";
        report.reasons = asWritten.errors;
      } else if (asWritten.matched) {
        report.verdict = decision ? "shadowed" : "decides";
        if (!decision) decision = { policy: name, rule: index, fault: report.fault, percentage: report.percentage };
      } else {
        const anyWorkload = spec.selector === undefined ? asWritten : await ask(alone(r.match, undefined, scope));
        const anyTraffic = await ask(alone(r.match, spec.selector, anywhere));
        if (spec.selector !== undefined && anyWorkload.matched) {
          report.verdict = "not this workload";
          report.reasons.push(describeSelector(spec.selector, workload));
        } else if (anyTraffic.matched) {
          report.verdict = "not this traffic";
          report.reasons.push(...await scopeReasons(ask, (where) => alone({}, undefined, where), scope, kind, trafficView));
        } else {
          for (const [key, condition] of conditions(match)) {
            const one = await ask(alone(key === "headers" ? { headers: [condition] } : { [key]: condition }, undefined, anywhere));
            if (!one.matched) report.reasons.push(describeCondition(key, condition, request));
          }
          if (spec.selector !== undefined) {
            const selectorOnly = await ask(alone({}, spec.selector, anywhere));
            if (!selectorOnly.matched) report.reasons.push(describeSelector(spec.selector, workload));
          }
          report.reasons.push(...await scopeReasons(ask, (where) => alone({}, undefined, where), scope, kind, trafficView));
          if (report.reasons.length === 0) report.reasons.push("the conditions hold one by one but not together");
        }
      }
      rules.push(report);
    }
  }

  // The draws: the whole set as written.
  const engine = await startEngine(JSON.stringify({ ...settings, policies }), { rootId, node, traffic });
  const observed: SimulationResult["observed"] = { requests: o.requests, faulted: 0, rate: 0, outcomes: {}, byPolicy: {} };
  let firstHold: string | undefined;
  for (let i = 0; i < o.requests; i++) {
    const stream = engine.request(method, o.path, o.headers);
    let label: string;
    let policy: string | undefined;
    if (stream.localReply) {
      label = `abort ${stream.localReply.status}`;
      policy = stream.localReply.headers[policyHeader];
    } else if (stream.state === "reset") {
      label = "reset";
      policy = decision?.policy;
    } else if (stream.upstream.headers !== undefined) {
      // Reached the upstream: a response fault shows only in the answer.
      const out = finish(engine, stream, policyHeader, maxHoldMs);
      if (out.fault !== "response") continue;
      label = `response ${out.status}`;
      policy = out.policy;
    } else if (firstHold === undefined) {
      const out = finish(engine, stream, policyHeader, maxHoldMs);
      firstHold = out.fault === "delay+abort" ? `held ${out.heldMs} ms, then abort ${out.status}` :
        out.fault === "reset" ? `held ${out.heldMs} ms, then reset` :
        out.fault === "response" ? `held ${out.heldMs} ms, then response ${out.status}` : `held ${out.heldMs} ms`;
      label = firstHold;
      policy = out.policy;
    } else {
      stream.reset();
      label = firstHold;
      policy = decision?.policy;
    }
    observed.faulted++;
    observed.outcomes[label] = (observed.outcomes[label] ?? 0) + 1;
    if (policy) observed.byPolicy[policy] = (observed.byPolicy[policy] ?? 0) + 1;
  }
  observed.rate = observed.requests === 0 ? 0 : observed.faulted / observed.requests;
  const published = effectivePolicies(engine.vm, engine.stats, engine.clock.now()).workers[0]?.policies ?? [];
  const states = published.map((p) => ({ policy: p.name, state: p.state, timeLeftSeconds: p.timeLeftSeconds }));
  if (decision) {
    const d = rules.find((r) => r.policy === decision!.policy && r.rule === decision!.rule);
    const header = d?.samplingHeader;
    if (header) {
      const given = o.headers.find(([k]) => k === header.toLowerCase());
      notes.push(given ? `sampled by header ${header}: the same value always gets the same answer` : `sampled by header ${header}, absent here: the plugin draws at random`);
    }
  }
  return { enabled: settings.enabled !== false, request, traffic: trafficView, workload, rules, decision, observed, states, notes };
}

function policyWith(name: string, selector: unknown, scope: Json, rule: unknown): Json {
  return { metadata: { name }, spec: { ...(selector !== undefined ? { selector } : {}), ...scope, rules: [rule] } };
}

type Ask = (policy: unknown) => Promise<{ matched: boolean; errors: string[] }>;

/** Why the request is outside the policy's direction or destination (each judged alone by the
 * plugin); empty when it is inside both. */
async function scopeReasons(ask: Ask, only: (where: Json) => unknown, scope: Json, kind: targets.ProxyKind, t: SimulationResult["traffic"]): Promise<string[]> {
  const reasons: string[] = [];
  // Asked alone, the direction the plugin keeps the policy to here is given explicitly.
  if (!(await ask(only({ direction: directionOf(scope, kind) }))).matched) {
    const said = typeof scope.direction === "string" ? `direction ${scope.direction}` :
      `no direction (on a ${t.proxy}: ${scope.destination === undefined ? "inbound" : "outbound, as a destination implies"})`;
    reasons.push(`${said}, request comes through ${t.direction === "unspecified" ? "a listener without a direction" : `an ${t.direction} listener`}`);
  }
  if (scope.destination !== undefined && !(await ask(only({ direction: "any", destination: scope.destination }))).matched) {
    reasons.push(`destination ${JSON.stringify(scope.destination)}, request goes to ${t.cluster === null ? "no cluster (no route)" : `cluster ${JSON.stringify(t.cluster)}`}`);
  }
  return reasons;
}

/** The request's per-request attributes, as the simulated proxy of `kind` would report them. */
function trafficFor(o: SimulateOptions, kind: targets.ProxyKind, node: NodeInfo): Traffic {
  const namespace = String((node.metadata as Record<string, unknown> | undefined)?.NAMESPACE || "default");
  const to = o.to === undefined ? undefined : targets.parseService(o.to, namespace);
  if (o.to !== undefined && to === undefined) {
    throw new CliError(`hfi simulate: --to must be SERVICE[.NAMESPACE][:PORT][/SUBSET] with a port from 1 to 65535, e.g. reviews.bookinfo:9080/v2, got "${o.to}"`);
  }
  // Without --direction: what that kind of proxy's listeners are (a sidecar's outbound with --to).
  const side = o.direction ?? (kind === "gateway" || (kind === "sidecar" && to !== undefined) ? "outbound" : "inbound");
  let t = kind === "envoy" && o.cluster !== undefined ? targets.envoyTo(o.cluster) : targets.trafficOf(kind, side, to);
  if (o.direction !== undefined) t = { ...t, listenerDirection: o.direction === "inbound" ? targets.INBOUND : targets.OUTBOUND };
  if (o.cluster !== undefined) t = { ...t, clusterName: o.cluster };
  return t;
}

function engineErrors(engine: Engine): string[] {
  const out: string[] = [];
  for (const l of engine.lines()) {
    const m = parseLogLine(l.message);
    if (isRefusal(m)) out.push(`configuration refused: ${m.refused}`);
    else if (m && m.severity === "error") out.push(`${m.field}: ${m.message}`);
  }
  return out;
}

function nodeFor(o: SimulateOptions, fromFile: NodeInfo | undefined): NodeInfo {
  const node: NodeInfo = structuredClone(fromFile ?? {});
  const meta: Record<string, PropertyValue> = { ...(node.metadata ?? {}) };
  if (o.workload !== undefined) meta.WORKLOAD_NAME = o.workload;
  if (o.namespace !== undefined) meta.NAMESPACE = o.namespace;
  if (o.labels.length > 0) meta.LABELS = { ...(isObject(meta.LABELS) ? (meta.LABELS as Record<string, PropertyValue>) : {}), ...Object.fromEntries(o.labels) };
  node.metadata = meta;
  return node;
}

function conditions(match: Json): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  if (match.method !== undefined) out.push(["method", match.method]);
  if (match.path !== undefined) out.push(["path", match.path]);
  if (Array.isArray(match.headers)) for (const h of match.headers) out.push(["headers", h]);
  return out;
}

function kindOf(c: unknown): string {
  if (!isObject(c)) return JSON.stringify(c);
  const k = Object.keys(c).find((x) => x !== "name");
  if (k === undefined) return "(no condition)";
  if (k === "present") return c.present ? "present" : "absent";
  return `${k} ${JSON.stringify(c[k])}`;
}

function describeCondition(key: string, c: unknown, req: { method: string; path: string; headers: Array<[string, string]> }): string {
  if (key === "method") return `method ${kindOf(c)}, request method ${JSON.stringify(req.method)}`;
  if (key === "path") return `path ${kindOf(c)}, request path ${JSON.stringify(req.path)}`;
  const name = isObject(c) && typeof c.name === "string" ? c.name.toLowerCase() : "?";
  const values = req.headers.filter(([k]) => k === name).map(([, v]) => v);
  return `header ${name} ${kindOf(c)}, request ${values.length ? `has ${JSON.stringify(values.join(","))}` : "has no such header"}`;
}

function describeSelector(sel: unknown, w: { name: string; namespace: string; labels: Record<string, string> }): string {
  const s = isObject(sel) ? sel : {};
  const who = `workload ${JSON.stringify(w.name)}${w.labels.app ? ` (app ${JSON.stringify(w.labels.app)})` : ""} in namespace ${JSON.stringify(w.namespace)}`;
  const parts = ["service", "namespace"].filter((k) => typeof s[k] === "string" && s[k] !== "" && s[k] !== "*").map((k) => `${k} ${JSON.stringify(s[k])}`);
  return `selector ${parts.join(", ") || "(any)"} does not select ${who}`;
}

function percent(x: number): string {
  return `${(Math.round(x * 10000) / 100).toString()} %`;
}

export function formatSimulation(r: SimulationResult): string {
  const lines: string[] = [];
  const w = r.workload;
  const labels = Object.entries(w.labels).map(([k, v]) => `${k}=${v}`).join(",");
  lines.push(`${r.request.method} ${r.request.path}${r.request.headers.map(([k, v]) => `  ${k}: ${v}`).join("")}`);
  lines.push(`workload ${JSON.stringify(w.name)} namespace ${JSON.stringify(w.namespace)}${labels ? ` labels ${labels}` : ""}`);
  const t = r.traffic;
  lines.push(`${t.proxy}: ${t.direction === "unspecified" ? "a listener without a direction" : `${t.direction} listener`}, ${t.cluster === null ? "no route" : `cluster ${t.cluster}`}`);
  lines.push("");
  for (const rule of r.rules) {
    const head = `policy ${rule.policy} rule ${rule.rule}: `;
    switch (rule.verdict) {
      case "decides":
        lines.push(`${head}MATCH -> ${rule.fault} at ${rule.percentage} %${rule.samplingHeader ? ` (sampled by ${rule.samplingHeader})` : ""}`);
        break;
      case "shadowed":
        lines.push(`${head}matches, but an earlier rule decides`);
        break;
      case "invalid":
        lines.push(`${head}invalid, dropped by the plugin: ${rule.reasons.join("; ")}`);
        break;
      default:
        lines.push(`${head}${rule.verdict}: ${rule.reasons.join("; ")}`);
    }
  }
  if (r.rules.length === 0) lines.push("(no rules)");
  lines.push("");
  const o = r.observed;
  if (r.decision) {
    lines.push(`decision: policy ${r.decision.policy} rule ${r.decision.rule}: ${r.decision.fault}`);
    lines.push(`configured: ${r.enabled ? `${r.decision.percentage} %` : `0 % (enabled: false; the rule says ${r.decision.percentage} %)`}   observed: ${percent(o.rate)} (${o.faulted} of ${o.requests} requests)`);
  } else {
    lines.push("decision: no rule matches; the request goes to the upstream untouched");
    lines.push(`observed: ${percent(o.rate)} (${o.faulted} of ${o.requests} requests)`);
  }
  for (const [label, n] of Object.entries(o.outcomes)) lines.push(`  ${label}: ${n}`);
  // A state other than active explains an observed rate below the configured one.
  for (const s of r.states) {
    if (s.state === "active" || s.state === "not for this workload") continue;
    lines.push(`state after the draws: policy ${s.policy}: ${s.state}${s.timeLeftSeconds === null ? "" : ` (${formatTimeLeft(s.timeLeftSeconds)} left)`}`);
  }
  for (const note of r.notes) lines.push(`note: ${note}`);
  return lines.join("\n");
}
