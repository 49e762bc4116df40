/**
 * One source of truth: the runner reads the plugin configuration, root id and node metadata from
 * the Envoy bootstrap docker-compose uses (or a WasmPlugin, or plain JSON), and re-applies the
 * file when it changes, keeping the last good configuration when the plugin refuses a new one.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { parsePluginSource, readPluginSource } from "../../host/runner/plugin-source";
import { ENVOY_YAML, ROOT, request, runner, tempDir, waitFor } from "./harness";

test("envoy/envoy.yaml yields the plugin JSON, root id and node metadata", () => {
  const source = readPluginSource(ENVOY_YAML);
  assert.equal(source.kind, "envoy-bootstrap");
  assert.equal(source.rootId, "hfi-fault-injection");
  assert.equal(source.vmId, "hfi");
  const config = JSON.parse(source.configuration);
  assert.deepEqual(config.policies.map((p: { metadata: { name: string } }) => p.metadata.name), ["checkout-fails", "slow-catalog", "flaky-api", "reviews-degraded", "drop-connections"]);
  assert.equal(config.policy_header, "x-hfi-policy");
  assert.deepEqual(source.node?.metadata, { WORKLOAD_NAME: "frontend", NAMESPACE: "demo", LABELS: { app: "frontend" } });
  assert.equal(source.node?.id, "hfi-local");
});

test("a WasmPlugin manifest yields pluginConfig and pluginName", () => {
  const source = readPluginSource(path.join(ROOT, "k8s", "base", "wasmplugin.yaml"));
  assert.equal(source.kind, "wasm-plugin");
  assert.equal(source.rootId, "hfi-fault-injection");
  assert.ok(Array.isArray(JSON.parse(source.configuration).policies));
});

test("a .json file is the plugin configuration itself", () => {
  const source = parsePluginSource('{"policies": []}', "x.json");
  assert.deepEqual(source, { file: "x.json", kind: "plugin-json", configuration: '{"policies": []}', rootId: "hfi-fault-injection" });
});

test("a bootstrap without a Wasm filter, or with two, is refused with a reason", () => {
  assert.throws(() => parsePluginSource("static_resources: {}\n", "e.yaml"), /no HTTP filter with "@type: type.googleapis.com\/envoy.extensions.filters.http.wasm.v3.Wasm"/);
  const text = readFileSync(ENVOY_YAML, "utf8");
  const filter = "- name: envoy.filters.http.wasm";
  const twice = text.replace(filter, text.slice(text.indexOf(filter), text.indexOf("- name: envoy.filters.http.router")) + filter);
  assert.throws(() => parsePluginSource(twice, "e.yaml"), /2 Wasm HTTP filters/);
  assert.throws(() => parsePluginSource("a: [", "e.yaml"), /not valid YAML/);
});

test("editing the configuration file changes behaviour without a restart; a refused edit keeps the last good one", async () => {
  const tmp = tempDir();
  const file = path.join(tmp.dir, "envoy.yaml");
  const original = readFileSync(ENVOY_YAML, "utf8");
  writeFileSync(file, original);
  const r = await runner({ configPath: file });
  try {
    assert.equal((await request(r.proxyPort, "/checkout")).status, 503);
    writeFileSync(file, original.replace('"httpStatus": 503', '"httpStatus": 418'));
    const took = await waitFor(async () => (await request(r.proxyPort, "/checkout")).status === 418, 3000, "/checkout answers 418");
    assert.ok(took < 3000);
    // Both workers have it.
    assert.equal((await request(r.proxyPort, "/checkout")).status, 418);
    assert.equal((await request(r.proxyPort, "/checkout")).status, 418);
    assert.ok(r.lines.some((l) => /configuration accepted on 2 workers/.test(l)), r.lines.join("\n"));

    // Not JSON at all: the plugin refuses it, the 418 stays.
    writeFileSync(file, original.replace(/value: \|[\s\S]*?(\n\s+- name: envoy\.filters\.http\.router)/, "value: |\n                            {not json$1"));
    await waitFor(() => r.lines.some((l) => /configuration refused; the previous one stays in force/.test(l)), 3000, "the refusal is reported");
    assert.equal((await request(r.proxyPort, "/checkout")).status, 418);
    assert.equal(JSON.parse((await request(r.adminPort, "/config")).body).policies[0].spec.rules[0].fault.abort.httpStatus, 418);

    // applyConfig() with a configuration object applies it directly.
    const applied = await r.applyConfig({ policies: [] });
    assert.equal(applied.accepted, true);
    assert.equal((await request(r.proxyPort, "/checkout")).status, 200);
  } finally {
    await r.close();
    tmp.cleanup();
  }
});

test("a configuration the plugin refuses at start is an error naming the file", async () => {
  const tmp = tempDir();
  const file = path.join(tmp.dir, "bad.json");
  writeFileSync(file, "{not json");
  try {
    await assert.rejects(runner({ configPath: file }), /the plugin refused the configuration from .*bad\.json \(configure\)/);
  } finally {
    tmp.cleanup();
  }
});
