// k8s/ must apply cleanly to a cluster with Istio: every manifest valid for Istio's CRDs
// (including no unknown fields, as `kubectl apply` checks), wired together as documented.
// `kubectl apply -k k8s/` installs the plugin inert (no policies, no control plane); the
// overlays k8s/demo/ and k8s/control-plane/ add what their names say, and only that. Each
// rendering is checked as Istio would see it, and its pluginConfig is run in the real plugin.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, test } from "node:test";
import { parseAllDocuments } from "yaml";
import type { ClusterHandler, ClusterRequest } from "../../host/index";
import { respond, startHfi, type Hfi } from "../helpers/hfi";
import { createHash } from "node:crypto";
import { knownKinds, validateKubeObject, type KubeObject } from "../../cli/crd-schema";
import { byKindAndName, mergePatch, renderKustomization } from "./lib/kustomize";
import {
  clone, ENVOY_YAML, findObject, K8S_BASE_DIR, K8S_DIR, K8S_OVERLAYS, kustomizeResources, readYaml, ROOT_ID,
  STATS_PREFIX, wasmHttpFilters, type Yaml,
} from "./lib/project";
import { hasTool } from "./lib/tools";

const KUSTOMIZATIONS = [K8S_DIR, K8S_BASE_DIR, ...K8S_OVERLAYS.map((o) => path.join(K8S_DIR, o))];
const rel = (dir: string) => `${path.relative(path.dirname(K8S_DIR), dir)}/`;

function renderedPlugin(dir: string): Yaml {
  const plugins = renderKustomization(dir).filter((o) => o.kind === "WasmPlugin");
  assert.equal(plugins.length, 1, `${rel(dir)} renders one WasmPlugin`);
  return plugins[0];
}

/** The compose Envoy's plugin configuration (envoy/envoy.yaml), parsed. */
function composeConfiguration(): Yaml {
  const [filter] = wasmHttpFilters(readYaml(ENVOY_YAML));
  return JSON.parse(filter.typed_config.config.configuration.value);
}

/**
 * The rendered pluginConfig in the real plugin, the way Istio hands it over (the Struct as
 * JSON), with every cluster name answering so that any HTTP call it makes is seen.
 */
async function runPluginConfig(pluginConfig: Yaml): Promise<{ hfi: Hfi; calls: ClusterRequest[] }> {
  const calls: ClusterRequest[] = [];
  const anyCluster = new Proxy({} as Record<string, ClusterHandler>, {
    get: (_, name) => (typeof name === "string" ? (req: ClusterRequest) => (calls.push(req), { status: 200, body: '{"policies": []}' }) : undefined),
  });
  const hfi = await startHfi(JSON.stringify(pluginConfig), { clusters: anyCluster });
  return { hfi, calls };
}

function statusOf(hfi: Hfi, path: string): number {
  const stream = hfi.request("GET", path);
  if (stream.localReply) return stream.localReply.status;
  respond(stream);
  const { status } = stream.reply;
  assert.ok(status !== undefined, `${path}: no reply`);
  return status;
}

describe("k8s/ kustomizations", () => {
  test("k8s/ is the base and nothing else; the overlays build on the base", () => {
    assert.deepEqual(readYaml(path.join(K8S_DIR, "kustomization.yaml")).resources, ["base"]);
    assert.deepEqual(fs.readdirSync(K8S_DIR).filter((f) => /\.ya?ml$/.test(f)), ["kustomization.yaml"]);
    const dirs = fs.readdirSync(K8S_DIR, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    // k8s/monitoring/ holds the PrometheusRule and the Grafana dashboard ConfigMap, applied with
    // -f into the monitoring stack's namespaces (checked by tests/observability/), not with -k;
    // k8s/schemas/ the CRDs everything is checked against (never applied).
    assert.deepEqual(dirs.sort(), ["base", "monitoring", "schemas", ...K8S_OVERLAYS].sort(), "every directory in k8s/ is the base, a tested overlay, monitoring/ or schemas/");
    assert.ok(!fs.existsSync(path.join(K8S_DIR, "monitoring", "kustomization.yaml")), "monitoring/ is not a kustomization over the plugin");
    for (const overlay of K8S_OVERLAYS) {
      const resources: string[] = readYaml(path.join(K8S_DIR, overlay, "kustomization.yaml")).resources;
      assert.equal(resources[0], "../base", overlay);
      for (const r of resources.slice(1)) assert.ok(!r.includes("/"), `${overlay}: ${r} is a file of the overlay, not another base`);
    }
  });

  test("every file a kustomization names exists, and every manifest is named (none silently left out)", () => {
    for (const dir of KUSTOMIZATIONS) {
      const k = readYaml(path.join(dir, "kustomization.yaml"));
      assert.equal(k.kind, "Kustomization", rel(dir));
      const named = [...(k.resources ?? []), ...(k.configurations ?? []), ...(k.patches ?? []).map((p: { path: string }) => p.path)];
      for (const f of named) assert.ok(fs.existsSync(path.join(dir, f)), `${rel(dir)}${f} is listed but missing`);
      const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && f !== "kustomization.yaml");
      assert.deepEqual(files.filter((f) => !named.includes(f)), [], `${rel(dir)} has manifests its kustomization does not name`);
    }
  });

  test("the base sets the namespace, and its images entry is the one that rewrites the WasmPlugin url", () => {
    const k = readYaml(path.join(K8S_BASE_DIR, "kustomization.yaml"));
    assert.ok(k.namespace, "the base sets the namespace");
    const url: string = findObject("WasmPlugin").spec.url;
    const names = (k.images ?? []).map((i: { name: string }) => i.name);
    assert.ok(names.some((n: string) => url.startsWith(`${n}:`) || url.startsWith(`${n}@`)), `no images entry matches ${url}`);
  });
});

describe("k8s/base manifests against Istio's CRD schemas", () => {
  for (const { file, obj } of kustomizeResources()) {
    test(`${file}: ${obj.kind} ${obj.metadata?.name} is valid`, async () => {
      assert.deepEqual(validateKubeObject(obj), []);
    });
  }

  test("a misspelled WasmPlugin field is refused, naming it", async () => {
    const broken = clone(findObject("WasmPlugin"));
    broken.spec.failStratgy = broken.spec.failStrategy;
    delete broken.spec.failStrategy;
    assert.deepEqual(validateKubeObject(broken), [
      "spec.failStratgy: unknown field (not in the WasmPlugin schema)",
    ]);
  });

  test("a bad failStrategy value is refused", async () => {
    const broken = clone(findObject("WasmPlugin"));
    broken.spec.failStrategy = "FAIL_OPPEN";
    const problems = validateKubeObject(broken);
    assert.equal(problems.length, 1, problems.join("\n"));
    assert.match(problems[0], /^spec\.failStrategy: must be equal to one of the allowed values/);
  });

  test("a misspelled nested field (selector.matchLabel) is refused", async () => {
    const broken = clone(findObject("WasmPlugin"));
    broken.spec.selector = { matchLabel: broken.spec.selector.matchLabels };
    const problems = validateKubeObject(broken);
    assert.ok(problems.includes("spec.selector.matchLabel: unknown field (not in the WasmPlugin schema)"), problems.join("\n"));
  });

  test("a bad EnvoyFilter applyTo and a misspelled patch field are refused", async () => {
    const broken = clone(findObject("EnvoyFilter"));
    broken.spec.configPatches[0].applyTo = "BOOT_STRAP";
    broken.spec.configPatches[0].patch.operaton = "MERGE";
    const problems = validateKubeObject(broken);
    assert.ok(problems.some((p) => p.startsWith("spec.configPatches[0].applyTo: must be equal to one of the allowed values")), problems.join("\n"));
    assert.ok(problems.includes("spec.configPatches[0].patch.operaton: unknown field (not in the EnvoyFilter schema)"), problems.join("\n"));
  });

  test("pluginConfig stays free-form: policy fields are the plugin's business, not the CRD's", async () => {
    const plugin = clone(findObject("WasmPlugin"));
    plugin.spec.pluginConfig.some_future_setting = { anything: [1, 2] };
    assert.deepEqual(validateKubeObject(plugin), []);
  });
});

describe("k8s/base/wasmplugin.yaml", () => {
  const plugin = findObject("WasmPlugin");

  test("pulls an OCI image, fails open, and names the plugin's root id", () => {
    assert.match(plugin.spec.url, /^oci:\/\//);
    assert.ok(plugin.spec.imagePullPolicy, "imagePullPolicy is set");
    assert.ok(plugin.spec.phase, "phase is set");
    assert.equal(plugin.spec.failStrategy, "FAIL_OPEN");
    assert.equal(plugin.spec.pluginName, ROOT_ID);
    assert.ok(Object.keys(plugin.spec.selector?.matchLabels ?? {}).length > 0, "selects workloads by label");
  });

  test("has the compose Envoy's settings, without its policies (no drift)", () => {
    const { policies: _policies, ...settings } = composeConfiguration();
    assert.deepEqual({ ...plugin.spec.pluginConfig, policies: undefined }, { ...settings, policies: undefined });
  });
});

describe("k8s/base/envoyfilter-wasm-stats.yaml", () => {
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

/** What an overlay installs instead of the base's WasmPlugin and EnvoyFilter. */
const KINDS: Record<string, string[]> = { waypoint: ["WasmPlugin", "Gateway"], gateway: ["WasmPlugin"] };

describe("what each kustomization renders", () => {
  for (const dir of KUSTOMIZATIONS) {
    test(`${rel(dir)}: every rendered object is valid for Istio, in the base's namespace, with the base's image`, async () => {
      const base = readYaml(path.join(K8S_BASE_DIR, "kustomization.yaml"));
      const rendered = renderKustomization(dir);
      assert.deepEqual(rendered.map((o) => o.kind).sort(), (KINDS[path.basename(dir)] ?? kustomizeResources().map((r) => r.obj.kind)).sort());
      for (const obj of rendered) {
        assert.equal(obj.metadata?.namespace, base.namespace);
        assert.deepEqual(validateKubeObject(obj), [], `${obj.kind} in ${rel(dir)}`);
      }
      const image = base.images[0];
      assert.equal(renderedPlugin(dir).spec.url, `${image.newName ?? image.name}:${image.newTag}`);
    });
  }

  test("k8s/ (what `kubectl apply -k k8s/` installs): a WasmPlugin with no policies and no control plane", () => {
    const config = renderedPlugin(K8S_DIR).spec.pluginConfig;
    assert.deepEqual(config.policies ?? [], [], "no policies");
    for (const key of ["control_plane", "control_plane_address"]) assert.equal(config[key], undefined, `no ${key}`);
    // An empty configuration would mean the earlier plugin's default: poll control-plane:8080.
    assert.ok(Object.keys(config).length > 0, "pluginConfig is not empty");
  });

  test("k8s/ in the real plugin: nothing injected, no HTTP call in an hour, no error", async () => {
    const { hfi, calls } = await runPluginConfig(renderedPlugin(K8S_DIR).spec.pluginConfig);
    assert.ok(hfi.logs("info").some((l) => /configured: 0 policies/.test(l)), hfi.logs().join("\n"));
    for (const p of ["/checkout", "/catalog", "/api/x", "/"]) assert.equal(statusOf(hfi, p), 200, p);
    hfi.clock.advance(3_600_000);
    assert.deepEqual(calls.map((c) => c.cluster), []);
    assert.equal(hfi.metric("hfi_faults_policy_fetch_failures_total"), 0);
    assert.equal(hfi.metric("hfi_faults_config_errors_total"), 0);
    assert.deepEqual(hfi.logs("warn"), []);
  });

  test("k8s/demo/: the base plus the compose Envoy's example policies, and no control plane", () => {
    const config = renderedPlugin(path.join(K8S_DIR, "demo")).spec.pluginConfig;
    assert.deepEqual(config, composeConfiguration());
    assert.ok(config.policies.length > 0);
    assert.deepEqual(config, mergePatch(renderedPlugin(K8S_DIR).spec.pluginConfig, { policies: config.policies }), "only policies added");
  });

  test("k8s/demo/ in the real plugin: /checkout answers the injected 503, and nothing is polled", async () => {
    const { hfi, calls } = await runPluginConfig(renderedPlugin(path.join(K8S_DIR, "demo")).spec.pluginConfig);
    assert.equal(statusOf(hfi, "/checkout"), 503);
    assert.equal(statusOf(hfi, "/somewhere-else"), 200);
    hfi.clock.advance(3_600_000);
    assert.deepEqual(calls.map((c) => c.cluster), []);
    assert.equal(hfi.metric("hfi_faults_config_errors_total"), 0);
  });

  test("k8s/control-plane/: the base plus the HFI control plane through its Istio outbound cluster, and no policies", () => {
    const config = renderedPlugin(path.join(K8S_DIR, "control-plane")).spec.pluginConfig;
    const cp = config.control_plane;
    assert.match(cp.cluster, /^outbound\|\d+\|\|.+/);
    assert.equal(cp.path, "/v1/policies");
    assert.ok(cp.authority.startsWith(cp.cluster.split("||")[1]), "authority is the cluster's host");
    assert.deepEqual(config, mergePatch(renderedPlugin(K8S_DIR).spec.pluginConfig, { control_plane: cp }), "only the control plane added");
  });

  test("k8s/control-plane/ in the real plugin: polls GET /v1/policies on that cluster, injects nothing by itself", async () => {
    const config = renderedPlugin(path.join(K8S_DIR, "control-plane")).spec.pluginConfig;
    const { hfi, calls } = await runPluginConfig(config);
    hfi.clock.advance(Math.min(config.control_plane.poll_interval_ms, 5000));
    assert.equal(calls.length, 1, "the first poll comes within min(poll_interval_ms, 5 s)");
    assert.equal(calls[0].cluster, config.control_plane.cluster);
    assert.equal(calls[0].headers.get(":method"), "GET");
    assert.equal(calls[0].headers.get(":path"), "/v1/policies");
    assert.equal(calls[0].headers.get(":authority"), config.control_plane.authority);
    assert.equal(statusOf(hfi, "/checkout"), 200);
    assert.equal(hfi.metric("hfi_faults_policy_fetch_failures_total"), 0);
  });

  test("k8s/waypoint/: the WasmPlugin on the namespace's waypoint (targetRefs, SERVER), the waypoint itself, no EnvoyFilter", () => {
    const dir = path.join(K8S_DIR, "waypoint");
    const plugin = renderedPlugin(dir);
    assert.equal(plugin.spec.selector, undefined);
    assert.deepEqual(plugin.spec.targetRefs, [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "waypoint" }]);
    assert.deepEqual(plugin.spec.match, [{ mode: "SERVER" }]);
    const gateway = renderKustomization(dir).find((o) => o.kind === "Gateway") as Yaml;
    assert.equal(gateway.spec.gatewayClassName, "istio-waypoint");
    assert.equal(gateway.metadata.name, "waypoint");
    assert.deepEqual(plugin.spec.pluginConfig, renderedPlugin(K8S_DIR).spec.pluginConfig, "the base's settings, inert");
    assert.equal(readYaml(path.join(dir, "kustomization.yaml")).namespace, readYaml(path.join(K8S_BASE_DIR, "kustomization.yaml")).namespace,
      "the waypoint goes where the base puts the plugin");
  });

  test("k8s/gateway/: the WasmPlugin on a Gateway API gateway (targetRefs), no EnvoyFilter", () => {
    const plugin = renderedPlugin(path.join(K8S_DIR, "gateway"));
    assert.equal(plugin.spec.selector, undefined);
    assert.deepEqual(plugin.spec.targetRefs, [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "ingress" }]);
    assert.equal(plugin.spec.match, undefined, "a gateway's listeners: no mode to choose");
  });

  for (const dir of KUSTOMIZATIONS) {
    test(`kubectl kustomize ${rel(dir)} renders exactly that`, (t) => {
      // kubectl is not a Debian package, so CI cannot be asked to install it: optional check of
      // the renderer the tests above use.
      if (!hasTool("kubectl")) return t.skip("kubectl not installed (optional: compares with the real kustomize)");
      const run = spawnSync("kubectl", ["kustomize", dir], { encoding: "utf8", timeout: 60_000 });
      assert.equal(run.status, 0, run.stderr);
      const real = parseAllDocuments(run.stdout).map((d) => d.toJS() as KubeObject);
      assert.deepEqual(byKindAndName(real), byKindAndName(renderKustomization(dir)));
    });
  }
});

describe("k8s/schemas: the CRDs everything is checked against", () => {
  test("each file is the copy ORIGIN.md names (project, tag, commit), byte for byte, and nothing else is there", () => {
    const dir = path.join(K8S_DIR, "schemas");
    const origin = fs.readFileSync(path.join(dir, "ORIGIN.md"), "utf8");
    const rows = [...origin.matchAll(/^\| `([^`]+\.yaml)` \| ([\w/.-]+) \| ([\w.]+) \| ([0-9a-f]{40}) \| .+ \| ([0-9a-f]{64}) \|$/gm)];
    const files = fs.readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort();
    assert.deepEqual(rows.map((r) => r[1]).sort(), files, "every schema file has its row, and every row its file");
    for (const [, file, , tag, , sha] of rows) {
      const actual = createHash("sha256").update(fs.readFileSync(path.join(dir, file))).digest("hex");
      assert.equal(actual, sha, `${file} differs from ${tag}'s copy recorded in ORIGIN.md`);
      assert.ok(file.includes(tag), `${file}: the name carries the version ${tag}`);
    }
    assert.deepEqual(knownKinds().sort(), [
      "extensions.istio.io/v1alpha1/TrafficExtension", "extensions.istio.io/v1alpha1/WasmPlugin", "gateway.envoyproxy.io/v1alpha1/EnvoyExtensionPolicy",
      "gateway.envoyproxy.io/v1alpha1/EnvoyProxy",
      "gateway.networking.k8s.io/v1/Gateway", "gateway.networking.k8s.io/v1beta1/Gateway", "networking.istio.io/v1alpha3/EnvoyFilter",
    ]);
  });

  test("the CRDs' CEL rules run: a WasmPlugin with both selector and targetRefs, or a cross-namespace target, is refused", () => {
    const both = clone(findObject("WasmPlugin"));
    both.spec.targetRefs = [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "g", namespace: "other" }];
    assert.deepEqual(validateKubeObject(both), [
      "spec: only one of targetRefs or selector can be set",
      "spec.targetRefs[0].namespace: cross namespace referencing is not currently supported",
    ]);
    const badUrl = clone(findObject("WasmPlugin"));
    badUrl.spec.url = "ftp://registry/x";
    assert.deepEqual(validateKubeObject(badUrl), ["spec.url: url must have schema one of [http, https, file, oci]"]);
  });
});
