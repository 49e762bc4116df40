/**
 * The metric tables of docs/metrics.md, made from what the plugin defines: names and types are
 * read from assembly/metrics.ts, state numbers from assembly/observe/policy-state.ts; only the
 * meaning of each is written here. `make docs` rewrites the tables between their markers;
 * tests/observability/metrics-doc.test.ts fails when the page and the code disagree, or when a
 * metric has no meaning written here.
 *
 *   node --import tsx scripts/metrics-doc.ts          print the generated page
 *   node --import tsx scripts/metrics-doc.ts --write  rewrite docs/metrics.md
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..");
export const PAGE = path.join(ROOT, "docs", "metrics.md");

/** What each metric means, for a person. Keyed by the name assembly/metrics.ts defines. */
export const MEANINGS: Record<string, string> = {
  hfi_faults_aborts_total: "aborts answered (a rule's or one asked for by `x-envoy-fault-abort-request`)",
  hfi_faults_delays_total: "delays started: request delays and response holds (a start delay alone is not one)",
  hfi_faults_delay_duration_milliseconds: "time each delay held its request or response (ms, start delay included), one sample per delay, also when the client left",
  hfi_faults_active: "requests or responses held right now, all workers (kept right with +1/−1)",
  hfi_faults_overflow_total: "faults refused for room: `max_active_faults` or `max_fault_percentage` ([safety](safety.md)); always with the policy's `hfi_faults_policy_overflow_total`",
  hfi_faults_config_errors_total: "rules, settings and configurations refused, each distinct configuration or control-plane answer counted once per proxy ([how](how-it-works.md#configuration-problems-counted-once-per-proxy))",
  hfi_faults_policy_fetch_failures_total: "control-plane polls that did not yield a clean set",
  hfi_faults_policy_updates_total: "control-plane policy sets applied",
  hfi_faults_config_problems: "problems in the configuration in force now (static + live set; the same value from every worker)",
  hfi_faults_resets_total: "streams reset by `fault.reset` ([faults](faults.md#reset))",
  hfi_faults_response_faults_total: "upstream answers rewritten by `fault.response` ([faults](faults.md#response-faults))",
  hfi_faults_budget_exhausted_total: "`max_injections` budgets that ran out (once per proxy and budget)",
  hfi_faults_budget_skipped_total: "requests planned for a fault but left alone because the rule's `max_injections` is spent (not overflow)",
  hfi_faults_guard_trips_total: "guard trips, all policies ([safety](safety.md))",
  hfi_faults_policy_lease_expired_total: "live policy sets dropped because `control_plane.lease_seconds` passed without a good poll (once per proxy per outage)",
  hfi_faults_policy_matched_total: "a rule of the policy matched (before sampling and admission; excluded requests are not matched)",
  hfi_faults_policy_injected_total: "faults of that kind injected, counted when acted on",
  hfi_faults_policy_dry_run_total: "faults of that kind a dry run would have injected",
  hfi_faults_policy_overflow_total: "the policy's faults refused for room (`max_active_faults`, `max_fault_percentage`)",
  hfi_faults_policy_percentage_max: "the highest percentage among the policy's rules, rounded up to a whole percent (the same value from every worker)",
  hfi_faults_policy_halted: "1 while the policy's guard halts it (under `_other`: how many of those policies are halted)",
  hfi_faults_policy_guard_trips_total: "the policy's guard trips",
  hfi_faults_policy_state: "the policy's state, as a number (table below); the same in `/policies`, `hfi status` and `hfi simulate`",
  hfi_faults_policy_state_until_seconds: "when that state ends, in Unix seconds (0: nothing ends it)",
};

const TYPE_NAMES: Record<string, string> = { Counter: "counter", Gauge: "gauge", Histogram: "histogram" };

/** The string and type lists of assembly/metrics.ts, in order. */
export function definedMetrics(): { totals: Array<{ name: string; type: string }>; perPolicy: Array<{ name: string; type: string; kind: boolean }> } {
  const text = readFileSync(path.join(ROOT, "assembly", "metrics.ts"), "utf8");
  const list = (name: string, item: RegExp) => {
    const m = new RegExp(`const ${name}\\b[^=]*=\\s*\\[([^\\]]*)\\]`).exec(text);
    if (!m) throw new Error(`${name} not found in assembly/metrics.ts`);
    return [...m[1].matchAll(item)].map((x) => x[1]);
  };
  const names = list("NAMES", /"([^"]+)"/g);
  const types = list("TYPES", /MetricType\.(\w+)/g);
  const policyNames = list("POLICY_NAMES", /"([^"]+)"/g);
  const policyTypes = list("POLICY_TYPES", /MetricType\.(\w+)/g);
  if (names.length !== types.length || policyNames.length !== policyTypes.length) throw new Error("assembly/metrics.ts: a name without a type");
  // The per-policy metrics that carry a fault kind (Metrics.definePolicy with a kind).
  const withKind = new Set(["hfi_faults_policy_injected_total", "hfi_faults_policy_dry_run_total"]);
  return {
    totals: names.map((name, i) => ({ name, type: TYPE_NAMES[types[i]] })),
    perPolicy: policyNames.map((name, i) => ({ name, type: TYPE_NAMES[policyTypes[i]], kind: withKind.has(name) })),
  };
}

function stateNames(): string[] {
  const text = readFileSync(path.join(ROOT, "assembly", "observe", "policy-state.ts"), "utf8");
  const m = /const STATE_NAMES\b[^=]*=\s*\[([^\]]*)\]/.exec(text);
  if (!m) throw new Error("STATE_NAMES not found");
  return [...m[1].matchAll(/"([^"]+)"/g)].map((x) => x[1]);
}

function meaning(name: string): string {
  const m = MEANINGS[name];
  if (m === undefined) throw new Error(`${name}: no meaning written in scripts/metrics-doc.ts`);
  return m;
}

/** The generated blocks, by marker name. */
export function blocks(): Record<string, string> {
  const d = definedMetrics();
  const totals = ["| in `/stats` | in `/stats/prometheus` | type | meaning |", "|---|---|---|---|"];
  for (const m of d.totals) {
    const prom = m.type === "histogram" ? `\`${m.name}_bucket{le=...}\`, \`_sum\`, \`_count\`` : `\`${m.name}\``;
    totals.push(`| \`wasmcustom.${m.name}\` | ${prom} | ${m.type} | ${meaning(m.name)} |`);
  }
  const per = ["| the plugin defines (in `/stats` under `wasmcustom.`) | in `/stats/prometheus` | type | meaning |", "|---|---|---|---|"];
  for (const m of d.perPolicy) {
    const stat = `${m.name}.hfi_policy.<policy>${m.kind ? ".hfi_fault.<kind>" : ""}`;
    const prom = `${m.name}{hfi_policy="<policy>"${m.kind ? ',hfi_fault="<kind>"' : ""}}`;
    per.push(`| \`${stat}\` | \`${prom}\` | ${m.type} | ${meaning(m.name)} |`);
  }
  const states = ["| `hfi_faults_policy_state` | state |", "|---|---|"];
  stateNames().forEach((s, i) => states.push(`| ${i} | ${s} |`));
  return { "metric-totals": totals.join("\n"), "metric-per-policy": per.join("\n"), "policy-states": states.join("\n") };
}

/** `page` with every generated block replaced by what the code defines now. */
export function render(page: string): string {
  let out = page;
  for (const [name, body] of Object.entries(blocks())) {
    const re = new RegExp(`(<!-- generated: ${name} \\(scripts/metrics-doc\\.ts\\) -->\\n)[\\s\\S]*?(\\n<!-- end: ${name} -->)`);
    if (!re.test(out)) throw new Error(`docs/metrics.md has no block ${name}`);
    out = out.replace(re, `$1${body}$2`);
  }
  return out;
}

if (require.main === module) {
  const page = readFileSync(PAGE, "utf8");
  const next = render(page);
  if (process.argv.includes("--write")) writeFileSync(PAGE, next);
  else process.stdout.write(next);
}
