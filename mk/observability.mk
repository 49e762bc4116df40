# Observability: the Grafana dashboard and Prometheus alerts as code, and their checks.
#   make dashboards          regenerate dashboards/hfi.json and k8s/monitoring/grafana-dashboard.yaml
#   make alerts              regenerate k8s/monitoring/prometheusrule.yaml from alerts/hfi-rules.yaml
#   make test-observability  promtool: check and unit-test the rules, parse and evaluate the
#                            dashboard's PromQL, lint the runner's /stats/prometheus
# promtool comes with Debian's `prometheus` package (.ci/install-system-deps); without it the
# promtool checks are skipped with the reason, except under CI=true where they fail.

.PHONY: dashboards alerts test-observability

dashboards: deps ## regenerate the Grafana dashboard (dashboards/hfi.json and its ConfigMap)
	node --import tsx dashboards/hfi.ts

alerts: deps ## regenerate the PrometheusRule from alerts/hfi-rules.yaml
	node --import tsx alerts/prometheusrule.ts

test-observability: build/plugin.wasm ## promtool and PromQL checks of the alerts, the dashboard and /stats/prometheus
	node --import tsx --test tests/observability/*.test.ts

.PHONY: docs
docs: deps ## regenerate the metric tables of docs/metrics.md from the plugin's definitions
	node --import tsx scripts/metrics-doc.ts --write
