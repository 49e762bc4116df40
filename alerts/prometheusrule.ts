/**
 * k8s/monitoring/prometheusrule.yaml from alerts/hfi-rules.yaml: the same rule groups wrapped in
 * a PrometheusRule for the Prometheus Operator. `make alerts` writes it; a test keeps the
 * committed file equal to this output.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parse, stringify } from "yaml";

export const RULES_FILE = path.join(__dirname, "hfi-rules.yaml");
export const PROMETHEUS_RULE_FILE = path.join(__dirname, "..", "k8s", "monitoring", "prometheusrule.yaml");

const HEADER = `# Generated from alerts/hfi-rules.yaml by \`make alerts\` (alerts/prometheusrule.ts): edit the rules
# there. The Prometheus Operator loads it; kube-prometheus-stack selects PrometheusRules by its
# release label (ruleSelector), so set "release" to your Helm release name.
#   kubectl apply -n <namespace> -f k8s/monitoring/prometheusrule.yaml
`;

export function prometheusRuleYaml(rulesText = readFileSync(RULES_FILE, "utf8")): string {
  const rules = parse(rulesText) as { groups: unknown[] };
  const manifest = {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: {
      name: "hfi-fault-injection",
      labels: { "app.kubernetes.io/name": "hfi-fault-injection", release: "prometheus" },
    },
    spec: { groups: rules.groups },
  };
  return HEADER + stringify(manifest, { lineWidth: 0 });
}

if (require.main === module) {
  writeFileSync(PROMETHEUS_RULE_FILE, prometheusRuleYaml());
  console.log(`wrote ${path.relative(process.cwd(), PROMETHEUS_RULE_FILE)}`);
}
