// k8s/ must apply cleanly to a cluster with Istio: every manifest valid for Istio's CRDs
// (including no unknown fields, as `kubectl apply` checks), wired together as documented.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, test } from "node:test";
import { parseAllDocuments } from "yaml";
import { validateIstioObject, type KubeObject } from "./lib/istio-schema";
import { hasTool } from "./lib/tools";
import {
  clone, ENVOY_YAML, findObject, K8S_DIR, kustomizeResources, readYaml, ROOT_ID, STATS_PREFIX,
  wasmHttpFilters,
} from "./lib/project";

describe("k8s/ kustomization", () => {
  test("parses, and every resource and configuration it names exists", () => {
    const k = readYaml(path.join(K8S_DIR, "kustomization.yaml"));
    assert.equal(k.kind, "Kustomization");
    assert.ok(k.namespace, "kustomization sets the namespace");
    for (const rel of [...k.resources, ...(k.configurations ?? [])]) {
      assert.ok(fs.existsSync(path.join(K8S_DIR, rel)), `k8s/${rel} is listed but missing`);
    }
  });

  test("lists every manifest in k8s/ (none silently left out of `kubectl apply -k`)", () => {
    const k = readYaml(path.join(K8S_DIR, "kustomization.yaml"));
    const listed = new Set<string>([...k.resources, ...(k.configurations ?? []), "kustomization.yaml"]);
    const files = fs.readdirSync(K8S_DIR).filter((f) => /\.ya?ml$/.test(f));
    assert.deepEqual(files.filter((f) => !listed.has(f)), []);
  });

  test("its images entry is the one that rewrites the WasmPlugin url", () => {
    const k = readYaml(path.join(K8S_DIR, "kustomization.yaml"));
    const url: string = findObject("WasmPlugin").spec.url;
    const names = (k.images ?? []).map((i: { name: string }) => i.name);
    assert.ok(names.some((n: string) => url.startsWith(`${n}:`) || url.startsWith(`${n}@`)),
      `no images entry matches ${url}`);
  });
});

describe("k8s/ manifests against Istio's CRD schemas", () => {
  for (const { file, obj } of kustomizeResources()) {
    test(`${file}: ${obj.kind} ${obj.metadata?.name} is valid`, async () => {
      assert.deepEqual(await validateIstioObject(obj), []);
    });
  }

  test("a misspelled WasmPlugin field is refused, naming it", async () => {
    const broken = clone(findObject("WasmPlugin"));
    broken.spec.failStratgy = broken.spec.failStrategy;
    delete broken.spec.failStrategy;
    assert.deepEqual(await validateIstioObject(broken), [
      "spec.failStratgy: unknown field (not in the WasmPlugin schema)",
    ]);
  });

  test("a bad failStrategy value is refused", async () => {
    const broken = clone(findObject("WasmPlugin"));
    broken.spec.failStrategy = "FAIL_OPPEN";
    const problems = await validateIstioObject(broken);
    assert.equal(problems.length, 1, problems.join("\n"));
    assert.match(problems[0], /^spec\.failStrategy: must be equal to one of the allowed values/);
  });

  test("a misspelled nested field (selector.matchLabel) is refused", async () => {
    const broken = clone(findObject("WasmPlugin"));
    broken.spec.selector = { matchLabel: broken.spec.selector.matchLabels };
    const problems = await validateIstioObject(broken);
    assert.ok(problems.includes("spec.selector.matchLabel: unknown field (not in the WasmPlugin schema)"), problems.join("\n"));
  });

  test("a bad EnvoyFilter applyTo and a misspelled patch field are refused", async () => {
    const broken = clone(findObject("EnvoyFilter"));
    broken.spec.configPatches[0].applyTo = "BOOT_STRAP";
    broken.spec.configPatches[0].patch.operaton = "MERGE";
    const problems = await validateIstioObject(broken);
    assert.ok(problems.some((p) => p.startsWith("spec.configPatches[0].applyTo: must be equal to one of the allowed values")), problems.join("\n"));
    assert.ok(problems.includes("spec.configPatches[0].patch.operaton: unknown field (not in the EnvoyFilter schema)"), problems.join("\n"));
  });

  test("pluginConfig stays free-form: policy fields are the plugin's business, not the CRD's", async () => {
    const plugin = clone(findObject("WasmPlugin"));
    plugin.spec.pluginConfig.some_future_setting = { anything: [1, 2] };
    assert.deepEqual(await validateIstioObject(plugin), []);
  });
});

describe("k8s/wasmplugin.yaml", () => {
  const plugin = findObject("WasmPlugin");

  test("pulls an OCI image, fails open, and names the plugin's root id", () => {
    assert.match(plugin.spec.url, /^oci:\/\//);
    assert.ok(plugin.spec.imagePullPolicy, "imagePullPolicy is set");
    assert.ok(plugin.spec.phase, "phase is set");
    assert.equal(plugin.spec.failStrategy, "FAIL_OPEN");
    assert.equal(plugin.spec.pluginName, ROOT_ID);
    assert.ok(Object.keys(plugin.spec.selector?.matchLabels ?? {}).length > 0, "selects workloads by label");
  });

  test("polls the HFI control plane through its Istio outbound cluster", () => {
    const cp = plugin.spec.pluginConfig.control_plane;
    assert.match(cp.cluster, /^outbound\|\d+\|\|.+/);
    assert.equal(cp.path, "/v1/policies");
    assert.ok(cp.authority.startsWith(cp.cluster.split("||")[1]), "authority is the cluster's host");
  });

  test("carries the same example policies and settings as the compose Envoy (no drift)", () => {
    const [filter] = wasmHttpFilters(readYaml(ENVOY_YAML));
    const local = JSON.parse(filter.typed_config.config.configuration.value);
    const { control_plane: _cp, ...mesh } = plugin.spec.pluginConfig;
    assert.deepEqual(mesh, local);
  });
});

describe("k8s/envoyfilter-wasm-stats.yaml", () => {
  const filter = findObject("EnvoyFilter");
  const plugin = findObject("WasmPlugin");

  test("is one BOOTSTRAP MERGE adding the plugin's stats prefix to the inclusion list", () => {
    assert.equal(filter.spec.configPatches.length, 1);
    const [patch] = filter.spec.configPatches;
    assert.equal(patch.applyTo, "BOOTSTRAP");
    assert.equal(patch.patch.operation, "MERGE");
    assert.deepEqual(patch.patch.value.stats_config.stats_matcher.inclusion_list.patterns, [{ prefix: STATS_PREFIX }]);
  });

  test("selects the same workloads as the WasmPlugin", () => {
    assert.deepEqual(filter.spec.workloadSelector.labels, plugin.spec.selector.matchLabels);
  });
});

describe("kubectl kustomize k8s/", () => {
  test("renders objects that are still valid, in the kustomization's namespace", async (t) => {
    // kubectl is not a Debian package, so CI cannot be asked to install it: optional check.
    if (!hasTool("kubectl")) return t.skip("kubectl not installed (optional: renders the kustomization)");
    const run = spawnSync("kubectl", ["kustomize", K8S_DIR], { encoding: "utf8", timeout: 60_000 });
    assert.equal(run.status, 0, run.stderr);
    const k = readYaml(path.join(K8S_DIR, "kustomization.yaml"));
    const rendered = parseAllDocuments(run.stdout).map((d) => d.toJS() as KubeObject);
    assert.equal(rendered.length, kustomizeResources().length);
    for (const obj of rendered) {
      assert.equal(obj.metadata?.namespace, k.namespace);
      assert.deepEqual(await validateIstioObject(obj), [], `${obj.kind} after kustomize`);
    }
    const image = k.images[0];
    const url = rendered.find((o) => o.kind === "WasmPlugin")?.spec as { url: string };
    assert.equal(url.url, `${image.newName ?? image.name}:${image.newTag}`);
  });
});
