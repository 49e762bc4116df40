// The Grafana dashboard: the committed JSON (and its ConfigMap) is what dashboards/hfi.ts
// generates, every PromQL expression in it parses with promtool, and the key panels compute the
// right numbers from sample series (promtool test rules).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { stringify } from "yaml";
import { CONFIGMAP_FILE, DASHBOARD_FILE, buildDashboard, dashboardConfigMapYaml, dashboardExpressions, dashboardJson } from "../../dashboards/hfi";
import { hfiNamesIn, knownSeriesNames } from "./lib/metric-names";
import { needPromtool, promtool, withTempDir, writeFiles } from "./lib/promtool";

/** Grafana's variables replaced by values Prometheus would get (all namespaces, policies, workloads). */
function concrete(expr: string): string {
  const out = expr
    .replaceAll("$__rate_interval", "5m")
    .replaceAll("$__range", "1h")
    .replaceAll("$namespace", ".*")
    .replaceAll("$policy", ".*")
    .replaceAll("$workload", ".*");
  assert.ok(!out.includes("$"), `unreplaced variable in ${expr}`);
  return out;
}

/** The PromQL inside every query variable: label_values(<selector>, label). */
function variableSelectors(): string[] {
  const d = buildDashboard();
  return (d.templating?.list ?? [])
    .map((v) => (typeof v.query === "string" ? v.query : ""))
    .filter((q) => q.startsWith("label_values("))
    .map((q) => q.slice("label_values(".length, q.lastIndexOf(",")));
}

/** A rules file recording every expression, so that promtool's PromQL parser reads each one. */
function recordingRules(exprs: string[]): string {
  return stringify({ groups: [{ name: "hfi-dashboard", rules: exprs.map((expr, i) => ({ record: `hfi_dashboard:expr_${i}`, expr })) }] });
}

function panelExpr(title: string, refId = "A"): string {
  const panel = (buildDashboard().panels ?? []).find((p) => (p as { title?: string }).title === title) as { targets?: Array<{ refId?: string; expr?: string }> } | undefined;
  assert.ok(panel, `no panel "${title}"`);
  const target = panel.targets?.find((t) => t.refId === refId);
  assert.ok(target?.expr, `panel "${title}" has no query ${refId}`);
  return target.expr;
}

describe("dashboards/hfi.json", () => {
  test("is what dashboards/hfi.ts generates (run `make dashboards` after editing it)", () => {
    assert.equal(readFileSync(DASHBOARD_FILE, "utf8"), dashboardJson());
    assert.equal(readFileSync(CONFIGMAP_FILE, "utf8"), dashboardConfigMapYaml());
  });

  test("has the panels the issue asks for", () => {
    const titles = (buildDashboard().panels ?? []).map((p) => (p as { title?: string }).title);
    for (const t of [
      "Injections per policy and kind",
      "Effective percentage (injected / matched)",
      "Matched vs injected per policy",
      "Workload success rate beside the injected share",
      "Delay percentiles",
      "Active holds",
      "Overflow (faults skipped at max_active_faults)",
      "Configuration problems in force",
      "Control-plane fetches",
      "Guard: halted policies and trips",
    ]) {
      assert.ok(titles.includes(t), `missing panel ${t}`);
    }
    assert.match(panelExpr("Delay percentiles"), /^histogram_quantile\(0\.5, sum by \(le\) \(rate\(hfi_faults_delay_duration_milliseconds_bucket\{/);
    assert.match(panelExpr("Workload success rate beside the injected share"), /istio_requests_total/);
  });

  test("uses only HFI metric names the plugin defines or the agreed scheme names", () => {
    const known = knownSeriesNames();
    for (const expr of [...dashboardExpressions(buildDashboard()), ...variableSelectors()]) {
      for (const name of hfiNamesIn(expr)) assert.ok(known.has(name), `unknown metric ${name} in ${expr}`);
    }
  });

  test("every PromQL expression (panels and variables) parses with promtool", (t) => {
    if (!needPromtool(t)) return;
    const exprs = [...dashboardExpressions(buildDashboard()), ...variableSelectors()].map(concrete);
    assert.equal(exprs.length, 22);
    withTempDir((dir) => {
      const { rules } = writeFiles(dir, { rules: recordingRules(exprs) });
      const r = promtool(["check", "rules", rules]);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, new RegExp(`SUCCESS: ${exprs.length} rules found`));
      // The same route refuses an expression that does not parse.
      const bad = writeFiles(dir, { rules: recordingRules([...exprs, "sum by (hfi_policy (rate(x[5m]))"]) });
      const refused = promtool(["check", "rules", bad.rules]);
      assert.notEqual(refused.status, 0);
      assert.match(refused.stdout + refused.stderr, /expr_22/);
    });
  });

  test("the effective percentage, success rate and delay percentile panels compute the right numbers", (t) => {
    if (!needPromtool(t)) return;
    const exprs = {
      effective: concrete(panelExpr("Effective percentage (injected / matched)")),
      success: concrete(panelExpr("Workload success rate beside the injected share", "A")),
      aborted: concrete(panelExpr("Workload success rate beside the injected share", "B")),
      p50: concrete(panelExpr("Delay percentiles", "A")),
    };
    const rules = stringify({ groups: [{ name: "panels", rules: Object.entries(exprs).map(([k, expr]) => ({ record: `panel:${k}`, expr })) }] });
    const tests = stringify({
      rule_files: ["panels.yaml"],
      evaluation_interval: "1m",
      tests: [
        {
          interval: "1m",
          input_series: [
            { series: 'hfi_faults_policy_matched_total{namespace="demo",pod="a",hfi_policy="flaky-api"}', values: "0+60x20" },
            { series: 'hfi_faults_policy_matched_total{namespace="demo",pod="b",hfi_policy="flaky-api"}', values: "0+60x20" },
            { series: 'hfi_faults_policy_injected_total{namespace="demo",pod="a",hfi_policy="flaky-api",hfi_fault="abort"}', values: "0+12x20" },
            { series: 'hfi_faults_policy_injected_total{namespace="demo",pod="b",hfi_policy="flaky-api",hfi_fault="abort"}', values: "0+12x20" },
            { series: 'hfi_faults_aborts_total{namespace="demo",pod="a"}', values: "0+30x20" },
            { series: 'istio_requests_total{reporter="source",source_workload_namespace="demo",source_workload="frontend",response_code="200"}', values: "0+240x20" },
            { series: 'istio_requests_total{reporter="source",source_workload_namespace="demo",source_workload="frontend",response_code="503"}', values: "0+60x20" },
            { series: 'hfi_faults_delay_duration_milliseconds_bucket{namespace="demo",pod="a",le="1000"}', values: "0+0x20" },
            { series: 'hfi_faults_delay_duration_milliseconds_bucket{namespace="demo",pod="a",le="2500"}', values: "0+10x20" },
            { series: 'hfi_faults_delay_duration_milliseconds_bucket{namespace="demo",pod="a",le="+Inf"}', values: "0+10x20" },
          ],
          promql_expr_test: [
            { expr: "panel:effective", eval_time: "10m", exp_samples: [{ labels: 'panel:effective{hfi_policy="flaky-api",hfi_fault="abort"}', value: 0.2 }] },
            { expr: "panel:success", eval_time: "10m", exp_samples: [{ labels: "panel:success", value: 0.8 }] },
            { expr: "panel:aborted", eval_time: "10m", exp_samples: [{ labels: "panel:aborted", value: 0.1 }] },
            { expr: "panel:p50", eval_time: "10m", exp_samples: [{ labels: "panel:p50", value: 1750 }] },
          ],
        },
      ],
    });
    withTempDir((dir) => {
      const files = writeFiles(dir, { "panels.yaml": rules, "panels.test.yaml": tests });
      const r = promtool(["test", "rules", files["panels.test.yaml"]], undefined, dir);
      assert.equal(r.status, 0, r.stdout + r.stderr);
    });
  });
});
