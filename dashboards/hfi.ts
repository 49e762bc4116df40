/**
 * The HFI Grafana dashboard, as code (@grafana/grafana-foundation-sdk). `make dashboards` writes
 * dashboards/hfi.json from it; a test keeps the committed JSON equal to what this produces, and
 * another parses every PromQL expression here with promtool.
 *
 * Metric names and labels: docs/metrics.md. HFI's own series carry the labels Prometheus adds
 * when it scrapes a sidecar (`namespace`, `pod` with the usual Kubernetes pod discovery);
 * `hfi_policy` and `hfi_fault` come from the shipped stats_tags. The workload's own success rate
 * comes from Istio's standard `istio_requests_total`.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { stringify } from "yaml";
import * as common from "@grafana/grafana-foundation-sdk/common";
import { DashboardBuilder, DatasourceVariableBuilder, QueryVariableBuilder, RowBuilder, VariableRefresh, VariableSort } from "@grafana/grafana-foundation-sdk/dashboard";
import type { Dashboard } from "@grafana/grafana-foundation-sdk/dashboard";
import { DataqueryBuilder } from "@grafana/grafana-foundation-sdk/prometheus";
import { PanelBuilder as StatPanel } from "@grafana/grafana-foundation-sdk/stat";
import { PanelBuilder as TimeseriesPanel } from "@grafana/grafana-foundation-sdk/timeseries";

const DATASOURCE = { type: "prometheus", uid: "${datasource}" };

/** Label filters every HFI query starts from. */
const HFI = 'namespace=~"$namespace"';
const POLICY = `${HFI}, hfi_policy=~"$policy"`;
const RATE = "$__rate_interval";
/** Requests the workload's sidecar reported as their source (its calls to its upstreams). */
const ISTIO = 'reporter="source", source_workload_namespace=~"$namespace", source_workload=~"$workload"';

function query(expr: string, legend: string, refId = "A"): DataqueryBuilder {
  return new DataqueryBuilder().expr(expr).legendFormat(legend).refId(refId).datasource(DATASOURCE);
}

function timeseries(title: string, description: string, unit: string, ...targets: DataqueryBuilder[]): TimeseriesPanel {
  const panel = new TimeseriesPanel().title(title).description(description).unit(unit).datasource(DATASOURCE).height(8).span(12).min(0);
  for (const t of targets) panel.withTarget(t);
  return panel.legend(new common.VizLegendOptionsBuilder().displayMode(common.LegendDisplayMode.Table).placement(common.LegendPlacement.Bottom).showLegend(true).calcs(["lastNotNull", "max"]));
}

function stat(title: string, description: string, unit: string, target: DataqueryBuilder): StatPanel {
  return new StatPanel().title(title).description(description).unit(unit).datasource(DATASOURCE).height(8).span(6).withTarget(target);
}

export function buildDashboard(): Dashboard {
  return new DashboardBuilder("HFI fault injection")
    .uid("hfi-fault-injection")
    .description("Faults HFI injects per policy and kind, what it could not inject, its health, and the workload's own success rate beside it.")
    .tags(["hfi", "envoy", "istio", "fault-injection"])
    .refresh("30s")
    .time({ from: "now-1h", to: "now" })
    .timezone("browser")
    .withVariable(new DatasourceVariableBuilder("datasource").label("Prometheus").type("prometheus"))
    .withVariable(
      new QueryVariableBuilder("namespace")
        .label("Namespace")
        .datasource(DATASOURCE)
        .query("label_values(hfi_faults_aborts_total, namespace)")
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .sort(VariableSort.AlphabeticalAsc)
        .multi(true)
        .includeAll(true)
        .allValue(".*"),
    )
    .withVariable(
      new QueryVariableBuilder("policy")
        .label("Policy")
        .datasource(DATASOURCE)
        .query('label_values(hfi_faults_policy_matched_total{namespace=~"$namespace"}, hfi_policy)')
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .sort(VariableSort.AlphabeticalAsc)
        .multi(true)
        .includeAll(true)
        .allValue(".*"),
    )
    .withVariable(
      new QueryVariableBuilder("workload")
        .label("Workload")
        .datasource(DATASOURCE)
        .query('label_values(istio_requests_total{reporter="source", source_workload_namespace=~"$namespace"}, source_workload)')
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .sort(VariableSort.AlphabeticalAsc)
        .multi(true)
        .includeAll(true)
        .allValue(".*"),
    )

    .withRow(new RowBuilder("Experiments"))
    .withPanel(
      timeseries(
        "Injections per policy and kind",
        "Faults injected per second, by policy (hfi_policy) and fault kind (hfi_fault).",
        "reqps",
        query(`sum by (hfi_policy, hfi_fault) (rate(hfi_faults_policy_injected_total{${POLICY}}[${RATE}]))`, "{{hfi_policy}} {{hfi_fault}}"),
      ),
    )
    .withPanel(
      timeseries(
        "Effective percentage (injected / matched)",
        "Share of the requests a policy matched that got a fault of each kind. Compare it with the rule's percentage: a policy whose rules differ in percentage shows their weighted mix.",
        "percentunit",
        query(
          `sum by (hfi_policy, hfi_fault) (rate(hfi_faults_policy_injected_total{${POLICY}}[${RATE}]))\n/ on (hfi_policy) group_left ()\nsum by (hfi_policy) (rate(hfi_faults_policy_matched_total{${POLICY}}[${RATE}]))`,
          "{{hfi_policy}} {{hfi_fault}}",
        ),
      ),
    )
    .withPanel(
      timeseries(
        "Matched vs injected per policy",
        "Requests a rule of the policy matched (before sampling), beside the faults injected into them and the faults a dry run would have injected.",
        "reqps",
        query(`sum by (hfi_policy) (rate(hfi_faults_policy_matched_total{${POLICY}}[${RATE}]))`, "{{hfi_policy}} matched", "A"),
        query(`sum by (hfi_policy) (rate(hfi_faults_policy_injected_total{${POLICY}}[${RATE}]))`, "{{hfi_policy}} injected", "B"),
        query(`sum by (hfi_policy) (rate(hfi_faults_policy_dry_run_total{${POLICY}}[${RATE}]))`, "{{hfi_policy}} dry run", "C"),
      ),
    )
    .withPanel(
      timeseries(
        "Workload success rate beside the injected share",
        "Istio's view of the selected workload's calls to its upstreams (istio_requests_total, reported by its sidecar as source): the share that did not end in 5xx, beside the share of those requests HFI aborted.",
        "percentunit",
        query(
          `sum(rate(istio_requests_total{${ISTIO}, response_code!~"5.."}[${RATE}]))\n/\nsum(rate(istio_requests_total{${ISTIO}}[${RATE}]))`,
          "upstream success rate",
          "A",
        ),
        query(`sum(rate(hfi_faults_aborts_total{${HFI}}[${RATE}]))\n/\nsum(rate(istio_requests_total{${ISTIO}}[${RATE}]))`, "share aborted by HFI", "B"),
      ),
    )

    .withRow(new RowBuilder("Capacity and delays"))
    .withPanel(
      timeseries(
        "Delay percentiles",
        "Delays HFI held requests for, from the hfi_faults_delay_duration_milliseconds histogram (Envoy's default buckets; Envoy latches histograms at its stats flush, every 5 s).",
        "ms",
        query(`histogram_quantile(0.5, sum by (le) (rate(hfi_faults_delay_duration_milliseconds_bucket{${HFI}}[${RATE}])))`, "p50", "A"),
        query(`histogram_quantile(0.9, sum by (le) (rate(hfi_faults_delay_duration_milliseconds_bucket{${HFI}}[${RATE}])))`, "p90", "B"),
        query(`histogram_quantile(0.99, sum by (le) (rate(hfi_faults_delay_duration_milliseconds_bucket{${HFI}}[${RATE}])))`, "p99", "C"),
      ),
    )
    .withPanel(
      timeseries(
        "Active holds",
        "Requests held by a delay right now, per proxy (hfi_faults_active); max_active_faults caps it.",
        "short",
        query(`sum by (pod) (hfi_faults_active{${HFI}})`, "{{pod}}"),
      ),
    )
    .withPanel(
      timeseries(
        "Overflow (faults skipped at max_active_faults)",
        "Faults not injected because the proxy already held max_active_faults, per proxy and per policy.",
        "short",
        query(`sum by (pod) (increase(hfi_faults_overflow_total{${HFI}}[${RATE}]))`, "{{pod}}", "A"),
        query(`sum by (hfi_policy) (increase(hfi_faults_policy_overflow_total{${POLICY}}[${RATE}]))`, "{{hfi_policy}}", "B"),
      ),
    )

    .withPanel(
      timeseries(
        "Guard: halted policies and trips",
        "Policies a guard halts right now (hfi_faults_policy_halted is 1 while halted) and guard trips per policy.",
        "short",
        query(`max by (hfi_policy) (hfi_faults_policy_halted{${POLICY}})`, "{{hfi_policy}} halted", "A"),
        query(`sum by (hfi_policy) (increase(hfi_faults_policy_guard_trips_total{${POLICY}}[${RATE}]))`, "{{hfi_policy}} trips", "B"),
      ),
    )

    .withRow(new RowBuilder("Configuration and control plane"))
    .withPanel(
      stat(
        "Configuration problems in force",
        "Problems in the configuration each proxy runs now (hfi_faults_config_problems); refused parts are not in force.",
        "short",
        query(`max(hfi_faults_config_problems{${HFI}})`, "problems"),
      ),
    )
    .withPanel(
      stat(
        "Configuration errors (time range)",
        "Configurations refused in the selected time range (hfi_faults_config_errors_total).",
        "short",
        query(`sum(increase(hfi_faults_config_errors_total{${HFI}}[$__range]))`, "errors"),
      ),
    )
    .withPanel(
      timeseries(
        "Control-plane fetches",
        "Failed policy fetches and applied policy updates per proxy. Failures that go on for 5 minutes raise HFIPolicyFetchFailing.",
        "short",
        query(`sum by (pod) (increase(hfi_faults_policy_fetch_failures_total{${HFI}}[${RATE}]))`, "{{pod}} failures", "A"),
        query(`sum by (pod) (increase(hfi_faults_policy_updates_total{${HFI}}[${RATE}]))`, "{{pod}} updates", "B"),
      ),
    )
    .build();
}

/** The committed JSON: stable key order as built, two-space indent, final newline. */
export function dashboardJson(): string {
  return JSON.stringify(buildDashboard(), null, 2) + "\n";
}

export const DASHBOARD_FILE = path.join(__dirname, "hfi.json");
export const CONFIGMAP_FILE = path.join(__dirname, "..", "k8s", "monitoring", "grafana-dashboard.yaml");

/**
 * The dashboard as a ConfigMap that Grafana's dashboard sidecar (kube-prometheus-stack,
 * grafana chart `sidecar.dashboards`) picks up by its default label `grafana_dashboard: "1"`.
 */
export function dashboardConfigMapYaml(): string {
  const manifest = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: "hfi-fault-injection-dashboard",
      labels: { "app.kubernetes.io/name": "hfi-fault-injection", grafana_dashboard: "1" },
    },
    data: { "hfi.json": dashboardJson() },
  };
  return (
    "# Generated from dashboards/hfi.ts by `make dashboards`: edit the dashboard there.\n" +
    "#   kubectl apply -n <grafana namespace> -f k8s/monitoring/grafana-dashboard.yaml\n" +
    stringify(manifest, { lineWidth: 0 })
  );
}

/** Every PromQL expression in a dashboard (panel targets and query variables). */
export function dashboardExpressions(d: Dashboard): string[] {
  const out: string[] = [];
  for (const panel of d.panels ?? []) {
    for (const t of (panel as { targets?: Array<{ expr?: string }> }).targets ?? []) if (t.expr) out.push(t.expr);
  }
  return out;
}

if (require.main === module) {
  writeFileSync(DASHBOARD_FILE, dashboardJson());
  writeFileSync(CONFIGMAP_FILE, dashboardConfigMapYaml());
  for (const f of [DASHBOARD_FILE, CONFIGMAP_FILE]) console.log(`wrote ${path.relative(process.cwd(), f)}`);
}
