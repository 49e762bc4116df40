/**
 * `/policies` of the runner's admin: the policy set in force in every worker VM, as each
 * worker published it in Proxy-Wasm shared data (`hfi.effective.<slot>`, written by the plugin's
 * assembly/observe/effective.ts when its set changes; `hfi.effective.vms` counts the slots),
 * with the counts from the plugin's per-policy metrics (proxy-wide, like Envoy's stats).
 */
import type { StatsStore, WasmVm } from "../index";

export interface PolicyView {
  name: string;
  /** The `hfi_policy` label its metrics carry (the name escaped, or `_other` past the cap). */
  label: string;
  source: "configuration" | "control plane";
  etag?: string;
  applies: boolean;
  why: string;
  state: "active" | "expired" | "not yet started" | "window closed" | "dry run" | "halted" | "not for this workload";
  /** Seconds until its last rule expires; null when some rule never does. */
  timeLeftSeconds: number | null;
  rules: number;
  percentageMax: number;
  counts: { matched: number; injected: Record<string, number>; dryRun: Record<string, number>; overflow: number };
}

export interface WorkerView {
  slot: number;
  publishedAt: string;
  workload: string;
  namespace: string;
  identityFrom: string;
  mode: "inject" | "dry_run";
  enabled: boolean;
  policies: PolicyView[];
}

type Row = [string, string, number, string, string, number, number, number, number, number, number?, number?];
interface Published {
  slot: number; at: number; workload: string; app: string; namespace: string; identity_from: string;
  dry_run: boolean; enabled: boolean; etag: string; policies: Row[];
}

/** Every worker's published set (workers that have not served anything yet have none). */
export function effectivePolicies(vm: WasmVm, stats: StatsStore, now = Date.now()): { workers: WorkerView[] } {
  const read = (key: string): Buffer | undefined => {
    const e = vm.shared.getData(vm.vmId, key);
    return typeof e === "number" ? undefined : Buffer.from(e.value);
  };
  const count = read("hfi.effective.vms");
  const n = count && count.length >= 8 ? Number(count.readBigInt64LE()) : 0;
  const workers: WorkerView[] = [];
  for (let i = 0; i < n; i++) {
    const raw = read(`hfi.effective.${i}`);
    if (!raw) continue;
    const p = JSON.parse(raw.toString("utf8")) as Published;
    workers.push({
      slot: p.slot,
      publishedAt: new Date(p.at).toISOString(),
      workload: p.workload,
      namespace: p.namespace,
      identityFrom: p.identity_from,
      mode: p.dry_run ? "dry_run" : "inject",
      enabled: p.enabled,
      policies: p.policies.map((row) => policyView(row, p, stats, now)),
    });
  }
  return { workers };
}

function policyView(row: Row, p: Published, stats: StatsStore, now: number): PolicyView {
  const [name, label, live, service, namespace, applies, dryRun, expires, rules, percentageMax, notBefore = -1, notAfter = -1] = row;
  const metric = (m: string, kind?: string): number =>
    stats.value(`wasmcustom.hfi_faults_policy_${m}.hfi_policy.${label}${kind ? `.hfi_fault.${kind}` : ""}`) ?? 0;
  // metric("halted"): hfi_faults_policy_halted, a gauge (1 while a guard halts the policy).
  const expired = expires >= 0 && expires <= now;
  return {
    name,
    label,
    source: live ? "control plane" : "configuration",
    ...(live ? { etag: p.etag } : {}),
    applies: applies === 1,
    why: why(service, namespace, p, applies === 1),
    // A guard halts a policy per proxy; the plugin says so in its halted gauge (docs/safety.md).
    state: applies !== 1 ? "not for this workload" : expired ? "expired" :
      notBefore >= 0 && now < notBefore ? "not yet started" : notAfter >= 0 && now >= notAfter ? "window closed" :
      metric("halted") > 0 ? "halted" : dryRun || p.dry_run ? "dry run" : "active",
    // Time left in the rule's duration, or else in its schedule window.
    timeLeftSeconds: expires >= 0 ? Math.max(0, Math.round((expires - now) / 1000)) : notAfter >= 0 ? Math.max(0, Math.round((notAfter - now) / 1000)) : null,
    rules,
    percentageMax,
    counts: {
      matched: metric("matched_total"),
      injected: { abort: metric("injected_total", "abort"), delay: metric("injected_total", "delay") },
      dryRun: { abort: metric("dry_run_total", "abort"), delay: metric("dry_run_total", "delay") },
      overflow: metric("overflow_total"),
    },
  };
}

function why(service: string, namespace: string, p: Published, applies: boolean): string {
  const s = service === "" ? "*" : service;
  const ns = namespace === "" ? "*" : namespace;
  if (s === "*" && ns === "*") return "no selector: applies to every workload";
  const here = `workload "${p.workload || "?"}"${p.app ? ` (app "${p.app}")` : ""} in namespace "${p.namespace || "?"}"`;
  return `selector service "${s}", namespace "${ns}" ${applies ? "matches" : "does not match"} ${here}`;
}

/** The same as a table for a person. */
export function renderPoliciesText(view: { workers: WorkerView[] }): string {
  if (view.workers.length === 0) return "no worker has published its policy set yet (each does when it serves its first request)\n";
  const out: string[] = [];
  for (const w of view.workers) {
    out.push(`worker slot ${w.slot}: workload "${w.workload}" in namespace "${w.namespace}" (identity from ${w.identityFrom}), mode ${w.mode}${w.enabled ? "" : ", injection disabled"}, published ${w.publishedAt}`);
    const rows = [["POLICY", "SOURCE", "STATE", "TIME LEFT", "MATCHED", "INJECTED", "DRY RUN", "OVERFLOW", "WHY"]];
    for (const p of w.policies) {
      const kinds = (r: Record<string, number>) => Object.entries(r).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`).join(", ") || "0";
      rows.push([p.name, p.source + (p.etag ? ` ${p.etag}` : ""), p.state, p.timeLeftSeconds === null ? "-" : `${p.timeLeftSeconds} s`,
        String(p.counts.matched), kinds(p.counts.injected), kinds(p.counts.dryRun), String(p.counts.overflow), p.why]);
    }
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    for (const r of rows) out.push("  " + r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join("  "));
    if (w.policies.length === 0) out.push("  (no policies)");
  }
  return out.join("\n") + "\n";
}
