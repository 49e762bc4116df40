// Where the tags come from: the stats_tags that envoy/envoy.yaml (compose, `make run`) and the
// EnvoyFilter (mesh) ship are the same list, anchored to HFI's per-policy names, and the runner
// reads them from the bootstrap it runs. (Both files are checked against Envoy's protos in
// tests/deploy/envoy-config.test.ts.)
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { parse, parseAllDocuments } from "yaml";
import { readPluginSource } from "../../host/runner/plugin-source";
import { StatsStore } from "../../host/metrics";
import { TagProducer } from "../../host/tag-extraction";
import { EnvoySchema } from "../deploy/lib/envoy-schema";
import { BOOTSTRAP_TYPE } from "../deploy/lib/project";
import { ROOT } from "./lib/promtool";

const ENVOY_YAML = path.join(ROOT, "tests", "fixtures", "envoy.yaml"); // the committed envoy/envoy.yaml (users edit the working copy)
const ENVOY_FILTER = path.join(ROOT, "k8s", "base", "envoyfilter-wasm-stats.yaml");

const composeTags = () => parse(readFileSync(ENVOY_YAML, "utf8")).stats_config.stats_tags;
function meshTags(): unknown {
  const filter = parseAllDocuments(readFileSync(ENVOY_FILTER, "utf8")).map((d) => d.toJS()).find((o) => o?.kind === "EnvoyFilter");
  const patch = filter.spec.configPatches.find((p: { applyTo: string }) => p.applyTo === "BOOTSTRAP");
  return patch.patch.value.stats_config.stats_tags;
}

describe("the shipped stats_tags", () => {
  test("the EnvoyFilter's BOOTSTRAP merge carries exactly the compose Envoy's list", () => {
    assert.deepEqual(meshTags(), composeTags());
  });

  test("Envoy's protos check them in both files (a misspelled field is caught)", () => {
    const schema = EnvoySchema.forBootstrap();
    const bootstrap = parse(readFileSync(ENVOY_YAML, "utf8"));
    assert.deepEqual(schema.check(bootstrap, BOOTSTRAP_TYPE), []);
    assert.deepEqual(schema.check({ stats_config: { stats_tags: meshTags() } }, BOOTSTRAP_TYPE, { partial: true }), []);
    bootstrap.stats_config.stats_tags[2].regx = bootstrap.stats_config.stats_tags[2].regex;
    delete bootstrap.stats_config.stats_tags[2].regex;
    assert.deepEqual(schema.check(bootstrap, BOOTSTRAP_TYPE), ["stats_config.stats_tags[2].regx: unknown field of envoy.config.metrics.v3.TagSpecifier"]);
  });

  test("hfi_policy and hfi_fault, each regex anchored to ^wasmcustom\\.hfi_faults_policy_", () => {
    const tags = composeTags() as Array<{ tag_name: string; regex: string }>;
    assert.deepEqual(tags.map((t) => t.tag_name), ["hfi_policy", "hfi_policy", "hfi_fault"]);
    for (const t of tags) assert.ok(t.regex.startsWith("^wasmcustom\\.hfi_faults_policy_"), t.regex);
  });

  test("a policy name with dots and dashes comes out whole in every per-policy metric", () => {
    const p = new TagProducer({ stats_tags: composeTags() });
    const policy = "team-a.checkout.v1.2-beta";
    for (const base of ["matched_total", "overflow_total", "halted", "guard_trips_total", "percentage_max"]) {
      const r = p.produceTags(`wasmcustom.hfi_faults_policy_${base}.hfi_policy.${policy}`);
      assert.deepEqual(r, { tagExtractedName: `wasmcustom.hfi_faults_policy_${base}`, tags: [{ name: "hfi_policy", value: policy }] });
    }
    for (const base of ["injected_total", "dry_run_total"]) {
      const r = p.produceTags(`wasmcustom.hfi_faults_policy_${base}.hfi_policy.${policy}.hfi_fault.response`);
      assert.deepEqual(r, {
        tagExtractedName: `wasmcustom.hfi_faults_policy_${base}`,
        tags: [{ name: "hfi_policy", value: policy }, { name: "hfi_fault", value: "response" }],
      });
    }
  });

  test("the runner takes them from the bootstrap it runs", () => {
    const source = readPluginSource(ENVOY_YAML);
    assert.deepEqual(source.statsConfig?.stats_tags, composeTags());
    const stats = new StatsStore({ tags: source.statsConfig });
    stats.counter("wasmcustom.hfi_faults_policy_injected_total.hfi_policy.checkout-fails.hfi_fault.abort").add(1n);
    assert.match(stats.renderPrometheus(), /^hfi_faults_policy_injected_total\{hfi_policy="checkout-fails",hfi_fault="abort"\} 1$/m);
  });
});
