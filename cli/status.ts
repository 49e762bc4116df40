/**
 * `hfi status`: per-policy counts and the plugin's totals, read from Envoy's Prometheus output.
 *
 * Per-policy series, as /stats/prometheus shows them with the shipped tag configuration:
 *   hfi_faults_policy_matched_total{hfi_policy="<name>"}
 *   hfi_faults_policy_injected_total{hfi_policy="<name>",hfi_fault="abort|delay|..."}
 *   hfi_faults_policy_dry_run_total{hfi_policy="<name>",hfi_fault="..."}
 *   hfi_faults_policy_overflow_total{hfi_policy="<name>"}
 *   hfi_faults_policy_state{hfi_policy="<name>"}, hfi_faults_policy_state_until_seconds{...}:
 *     the state the plugin works out (assembly/observe/policy-state.ts), and when it ends
 * Totals: TOTALS below (assembly/metrics.ts names them).
 */
import { POLICY_STATES } from "../host/plugin-vocabulary";
import { formatTimeLeft } from "../host/time-left";
import { CliError } from "./errors";

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PolicyRow {
  policy: string;
  matched: number;
  injected: number;
  /** Injections by fault kind. */
  byFault: Record<string, number>;
  dryRun: number;
  overflow: number;
  /** The state the plugin published (hfi_faults_policy_state); "-" when it publishes none
   * (policies past max_labelled_policies share `_other` and have no state of their own). */
  state: string;
  /** Seconds left in that state (hfi_faults_policy_state_until_seconds); null: nothing ends it. */
  timeLeftSeconds: number | null;
  /** What the counters say happened: in the last interval with --watch, else since start. */
  activity: string;
}

export interface StatusSnapshot {
  policies: PolicyRow[];
  totals: Record<string, number | undefined>;
}

export const TOTALS: Array<[label: string, metric: string]> = [
  ["aborts", "hfi_faults_aborts_total"],
  ["delays", "hfi_faults_delays_total"],
  ["resets", "hfi_faults_resets_total"],
  ["response faults", "hfi_faults_response_faults_total"],
  ["active", "hfi_faults_active"],
  ["overflow", "hfi_faults_overflow_total"],
  ["budget skipped", "hfi_faults_budget_skipped_total"],
  ["guard trips", "hfi_faults_guard_trips_total"],
  ["config errors", "hfi_faults_config_errors_total"],
  ["fetch failures", "hfi_faults_policy_fetch_failures_total"],
  ["policy updates", "hfi_faults_policy_updates_total"],
];

/** Prometheus text exposition (what Envoy's /stats/prometheus writes) into samples. */
export function parsePrometheus(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\S+)?$/.exec(line);
    if (!m) continue;
    const value = Number(m[4] === "+Inf" ? Infinity : m[4] === "-Inf" ? -Infinity : m[4]);
    // "hello world" has the shape of a sample but no number: not one.
    if (Number.isNaN(value) && m[4] !== "NaN") continue;
    out.push({ name: m[1], labels: m[3] ? parseLabels(m[3]) : {}, value });
  }
  return out;
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const re = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    labels[m[1]] = m[2].replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
  }
  return labels;
}

export function snapshot(samples: Sample[], previous?: StatusSnapshot, now = Date.now()): StatusSnapshot {
  const rows = new Map<string, PolicyRow>();
  const row = (policy: string): PolicyRow => {
    let r = rows.get(policy);
    if (!r) rows.set(policy, (r = { policy, matched: 0, injected: 0, byFault: {}, dryRun: 0, overflow: 0, state: "-", timeLeftSeconds: null, activity: "" }));
    return r;
  };
  for (const s of samples) {
    const policy = s.labels.hfi_policy;
    if (policy === undefined) continue;
    if (s.name === "hfi_faults_policy_matched_total") row(policy).matched += s.value;
    else if (s.name === "hfi_faults_policy_injected_total") {
      const r = row(policy);
      r.injected += s.value;
      const kind = s.labels.hfi_fault ?? "fault";
      r.byFault[kind] = (r.byFault[kind] ?? 0) + s.value;
    } else if (s.name === "hfi_faults_policy_dry_run_total") row(policy).dryRun += s.value;
    else if (s.name === "hfi_faults_policy_overflow_total") row(policy).overflow += s.value;
    else if (s.name === "hfi_faults_policy_state") row(policy).state = POLICY_STATES[s.value] ?? `state ${s.value}`;
    else if (s.name === "hfi_faults_policy_state_until_seconds") row(policy).timeLeftSeconds = s.value > 0 ? Math.max(0, s.value - now / 1000) : null;
  }
  const before = new Map(previous?.policies.map((p) => [p.policy, p]));
  for (const r of rows.values()) r.activity = activityOf(r, before.get(r.policy));
  const totals: Record<string, number | undefined> = {};
  for (const [label, metric] of TOTALS) {
    const found = samples.filter((s) => s.name === metric);
    totals[label] = found.length === 0 ? undefined : found.reduce((a, s) => a + s.value, 0);
  }
  return { policies: [...rows.values()].sort((a, b) => (a.policy < b.policy ? -1 : a.policy > b.policy ? 1 : 0)), totals };
}

/**
 * What the counters say about a policy. With a previous snapshot (--watch) the words are about
 * the last interval; otherwise about everything since the proxy started.
 */
function activityOf(r: PolicyRow, prev: PolicyRow | undefined): string {
  const d = (x: number, y: number | undefined) => (prev === undefined ? x : x - (y ?? 0));
  const overflow = d(r.overflow, prev?.overflow);
  const injected = d(r.injected, prev?.injected);
  const dry = d(r.dryRun, prev?.dryRun);
  const matched = d(r.matched, prev?.matched);
  if (overflow > 0) return "overflowing";
  if (injected > 0) return "injecting";
  if (dry > 0) return "dry run";
  if (matched > 0) return "matching, sampled out";
  return prev === undefined ? "no traffic" : "idle";
}

export function formatStatus(s: StatusSnapshot, source: string): string {
  const lines: string[] = [`hfi status from ${source}`];
  if (s.policies.length === 0) {
    lines.push("no per-policy series (hfi_faults_policy_*{hfi_policy=...}) in this output: totals only");
  } else {
    const table = [["POLICY", "STATE", "TIME LEFT", "MATCHED", "INJECTED", "OVERFLOW", "ACTIVITY"]];
    for (const r of s.policies) {
      const kinds = Object.entries(r.byFault).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(", ");
      const dry = r.dryRun > 0 ? ` (+${r.dryRun} dry run)` : "";
      table.push([r.policy, r.state, formatTimeLeft(r.timeLeftSeconds), String(r.matched), `${r.injected}${kinds ? ` (${kinds})` : ""}${dry}`, String(r.overflow), r.activity]);
    }
    const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
    for (const row of table) lines.push(row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]))).join("  "));
  }
  const totals = TOTALS.map(([label]) => `${label} ${s.totals[label] ?? "-"}`).join(", ");
  lines.push(`totals: ${totals}`);
  return lines.join("\n");
}

export interface StatusOptions {
  admin?: string;
  prometheus?: string;
  watch: boolean;
  intervalMs: number;
  /** Refreshes before returning with --watch (default: until interrupted). */
  count?: number;
  out: (s: string) => void;
}

/** The URL that serves the Prometheus text. */
export function metricsUrl(o: { admin?: string; prometheus?: string }): string {
  const raw = (o.admin ?? o.prometheus)!;
  const withScheme = /^[a-z]+:\/\//i.test(raw) ? raw : `http://${raw}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw new CliError(`hfi status: not a URL: "${raw}"`);
  }
  if (o.admin !== undefined || u.pathname === "/" || u.pathname === "") u.pathname = `${u.pathname.replace(/\/$/, "")}/stats/prometheus`;
  return u.toString();
}

async function fetchText(url: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new CliError(`hfi status: cannot read ${url}: ${cause?.code ?? cause?.message ?? (e as Error).message}`, 1);
  }
  if (!res.ok) throw new CliError(`hfi status: ${url} answered ${res.status}`, 1);
  return res.text();
}

/**
 * The samples in what `url` answered. A body without a single one (a web page, another
 * service's "hello") is refused, naming the flag, its value and the URL read: a table of
 * dashes for it would read as a plugin that counted nothing.
 */
function samplesFrom(body: string, url: string, o: { admin?: string; prometheus?: string }): Sample[] {
  const samples = parsePrometheus(body);
  if (samples.length > 0) return samples;
  const first = body.split("\n").map((l) => l.trim()).find((l) => l !== "");
  const got = first === undefined ? "an empty body" : JSON.stringify(first.length > 60 ? `${first.slice(0, 60)}...` : first);
  const [flag, expected] =
    o.admin !== undefined
      ? [`--admin ${o.admin}`, "Envoy's admin address (e.g. localhost:9901), which serves them at /stats/prometheus"]
      : [`--prometheus ${o.prometheus}`, "a URL serving Envoy's Prometheus text (e.g. a sidecar's :15090/stats/prometheus)"];
  throw new CliError(`hfi status: ${flag}: ${url} answered ${got}, not Prometheus metrics; expected ${expected}`, 1);
}

export async function status(o: StatusOptions): Promise<number> {
  const url = metricsUrl(o);
  let previous: StatusSnapshot | undefined;
  for (let i = 0; ; i++) {
    const s = snapshot(samplesFrom(await fetchText(url), url, o), o.watch ? previous : undefined);
    if (o.watch && process.stdout.isTTY) o.out("\x1b[H\x1b[2J");
    o.out(formatStatus(s, url) + (o.watch ? `\n(every ${o.intervalMs / 1000} s; Ctrl-C stops)\n` : ""));
    if (!o.watch || (o.count !== undefined && i + 1 >= o.count)) return 0;
    previous = s;
    await new Promise((r) => setTimeout(r, o.intervalMs));
  }
}
