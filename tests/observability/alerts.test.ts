// The alerting rules (alerts/hfi-rules.yaml) checked and unit-tested with promtool, and the
// PrometheusRule manifest (k8s/monitoring/prometheusrule.yaml) kept identical in content.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { parse, stringify } from "yaml";
import { PROMETHEUS_RULE_FILE, RULES_FILE, prometheusRuleYaml } from "../../alerts/prometheusrule";
import { hfiNamesIn, knownSeriesNames } from "./lib/metric-names";
import { needPromtool, promtool, withTempDir, writeFiles } from "./lib/promtool";

const TESTS_FILE = path.join(path.dirname(RULES_FILE), "hfi-rules.test.yaml");

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
}
const groups = (): Array<{ name: string; rules: Rule[] }> => parse(readFileSync(RULES_FILE, "utf8")).groups;
const alertNames = () => groups().flatMap((g) => g.rules.filter((r) => r.alert).map((r) => r.alert!));

describe("alerts/hfi-rules.yaml", () => {
  test("promtool check rules accepts it", (t) => {
    if (!needPromtool(t)) return;
    const r = promtool(["check", "rules", RULES_FILE]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /SUCCESS: 8 rules found/);
  });

  test("promtool check rules refuses a broken expression (the check is real)", (t) => {
    if (!needPromtool(t)) return;
    withTempDir((dir) => {
      const broken = readFileSync(RULES_FILE, "utf8").replace("increase(hfi_faults_overflow_total[5m]) > 0", "increase(hfi_faults_overflow_total[5m] > 0");
      const { file } = writeFiles(dir, { file: broken });
      const r = promtool(["check", "rules", file]);
      assert.notEqual(r.status, 0);
      assert.match(r.stdout + r.stderr, /parse error/);
    });
  });

  test("promtool test rules: every alert fires in a case and stays silent in another", (t) => {
    if (!needPromtool(t)) return;
    const r = promtool(["test", "rules", TESTS_FILE]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /SUCCESS/);
  });

  test("the unit tests cover every alert both ways", () => {
    const cases = (parse(readFileSync(TESTS_FILE, "utf8")).tests as Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }>).flatMap(
      (c) => c.alert_rule_test ?? [],
    );
    for (const name of alertNames()) {
      assert.ok(cases.some((c) => c.alertname === name && c.exp_alerts.length > 0), `${name}: no case where it fires`);
      assert.ok(cases.some((c) => c.alertname === name && c.exp_alerts.length === 0), `${name}: no case where it stays silent`);
    }
    assert.deepEqual(alertNames(), [
      "HFIPolicyFetchFailing",
      "HFIConfigurationProblems",
      "HFIFaultOverflowRising",
      "HFIPolicyInjectingAboveConfigured",
      "HFIPolicyInjectingMoreThanMatched",
      "HFIPolicyLabelCapReached",
    ]);
  });

  test("a rule that no longer fires fails its unit test (the tests are real)", (t) => {
    if (!needPromtool(t)) return;
    withTempDir((dir) => {
      const weakened = readFileSync(RULES_FILE, "utf8").replace("expr: hfi_faults_config_problems > 0", "expr: hfi_faults_config_problems > 5");
      const files = writeFiles(dir, { "hfi-rules.yaml": weakened, "hfi-rules.test.yaml": readFileSync(TESTS_FILE, "utf8") });
      const r = promtool(["test", "rules", files["hfi-rules.test.yaml"]], undefined, dir);
      assert.notEqual(r.status, 0);
      assert.match(r.stdout + r.stderr, /HFIConfigurationProblems/);
    });
  });

  test("uses only HFI metric names the plugin defines or the agreed scheme names", () => {
    const known = knownSeriesNames();
    for (const rule of groups().flatMap((g) => g.rules)) {
      for (const name of hfiNamesIn(rule.expr)) assert.ok(known.has(name), `${rule.alert ?? rule.record}: unknown metric ${name}`);
    }
  });
});

describe("k8s/monitoring/prometheusrule.yaml", () => {
  test("is what `make alerts` generates from the rules file", () => {
    assert.equal(readFileSync(PROMETHEUS_RULE_FILE, "utf8"), prometheusRuleYaml(), "run `make alerts` and commit the result");
  });

  test("carries exactly the rule groups of alerts/hfi-rules.yaml", () => {
    const manifest = parse(readFileSync(PROMETHEUS_RULE_FILE, "utf8"));
    assert.equal(manifest.apiVersion, "monitoring.coreos.com/v1");
    assert.equal(manifest.kind, "PrometheusRule");
    assert.deepEqual(manifest.spec.groups, groups());
  });

  test("its groups pass promtool check rules too", (t) => {
    if (!needPromtool(t)) return;
    withTempDir((dir) => {
      const manifest = parse(readFileSync(PROMETHEUS_RULE_FILE, "utf8"));
      const { file } = writeFiles(dir, { file: stringify({ groups: manifest.spec.groups }) });
      const r = promtool(["check", "rules", file]);
      assert.equal(r.status, 0, r.stdout + r.stderr);
    });
  });
});
