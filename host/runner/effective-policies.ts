/**
 * `/policies` of the runner's admin: the policy set in force in every worker VM, as each
 * worker published it in Proxy-Wasm shared data (`hfi.effective.<slot>`, written by the plugin's
 * assembly/observe/effective.ts when its set changes; `hfi.effective.vms` counts the slots),
 * with the counts from the plugin's per-policy metrics (proxy-wide, like Envoy's stats).
 */
import type { StatsStore, WasmVm } from "../index";
import { FAULT_KINDS } from "../plugin-vocabulary";
import { formatTimeLeft } from "../time-left";

export interface PolicyView {
  name: string;
  /** The `hfi_policy` label its metrics carry (the name escaped, or `_other` past the cap). */
  label: string;
  source: "configuration" | "control plane";
  etag?: string;
  applies: boolean;
  why: string;
  /** The listener direction it keeps to in this proxy (inbound, outbound, any), resolved by the
   * plugin from `spec.direction` and the proxy kind. */
  direction: string;
  /** Its destination ("service reviews, port 9080", "cluster c"); "" for any. */
  destination: string;
  /** The state the plugin published (assembly/observe/policy-state.ts). */
  state: string;
  /** Seconds left in that state; null when nothing ends it. */
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

type Row = [string, string, number, string, string, number, number, number, number, number, number, number, string, number, string?, string?];
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
    // The JSON comes in pieces: `hfi.effective.<slot>` holds their count (assembly/observe/effective.ts).
    const head = read(`hfi.effective.${i}`);
    const pieces = head && head.length === 8 ? Number(head.readBigInt64LE()) : 0;
    const parts: Buffer[] = [];
    for (let k = 0; k < pieces; k++) {
      const part = read(`hfi.effective.${i}.${k}`);
      if (part) parts.push(part);
    }
    const raw = parts.length === pieces && pieces > 0 ? Buffer.concat(parts) : undefined;
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
  const [name, label, live, service, namespace, applies, , , rules, percentageMax, , , state, until, direction, destination] = row;
  const metric = (m: string, kind?: string): number =>
    stats.value(`wasmcustom.hfi_faults_policy_${m}.hfi_policy.${label}${kind ? `.hfi_fault.${kind}` : ""}`) ?? 0;
  const kinds = (m: string) => Object.fromEntries(FAULT_KINDS.map((k) => [k, metric(m, k)]));
  return {
    name,
    label,
    source: live ? "control plane" : "configuration",
    ...(live ? { etag: p.etag } : {}),
    applies: applies === 1,
    why: why(service, namespace, p, applies === 1) + scope(direction, destination),
    direction: direction ?? "any",
    destination: destination ?? "",
    state,
    timeLeftSeconds: until >= 0 ? Math.max(0, Math.round((until - now) / 1000)) : null,
    rules,
    percentageMax,
    counts: {
      matched: metric("matched_total"),
      injected: kinds("injected_total"),
      dryRun: kinds("dry_run_total"),
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

/** "; inbound requests only", "; outbound, to service reviews": where within the proxy. */
function scope(direction: string | undefined, destination: string | undefined): string {
  const to = destination ? `to ${destination}` : "";
  if (!direction || direction === "any") return to ? `; ${to}` : "";
  return `; ${direction} only${to ? `, ${to}` : ""}`;
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
      rows.push([p.name, p.source + (p.etag ? ` ${p.etag}` : ""), p.state, formatTimeLeft(p.timeLeftSeconds),
        String(p.counts.matched), kinds(p.counts.injected), kinds(p.counts.dryRun), String(p.counts.overflow), p.why]);
    }
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    for (const r of rows) out.push("  " + r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join("  "));
    if (w.policies.length === 0) out.push("  (no policies)");
  }
  return out.join("\n") + "\n";
}
