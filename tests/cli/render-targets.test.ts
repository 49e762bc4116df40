/**
 * `hfi render --target`: every attach point (sidecar, ambient waypoint, Istio gateway, Envoy
 * Gateway; WasmPlugin or TrafficExtension) renders objects that pass their CRD's own schema and
 * CEL rules (k8s/schemas/), carry the policies the plugin accepts, never collide by name, and
 * keep each policy to what that proxy can see.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import { parseAllDocuments } from "yaml";
import { validateKubeObject, type KubeObject } from "../../cli/crd-schema";
import { render } from "../../cli/render";
import { TagProducer } from "../../host/index";
import { hfi } from "./helpers";

const tmp = mkdtempSync(path.join(os.tmpdir(), "hfi-render-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

const IMAGE = `ghcr.io/you/hfi-fault-injection@sha256:${"b".repeat(64)}`;
const rules = "rules: [{match: {path: {prefix: /}}, fault: {percentage: 20, abort: {httpStatus: 503}}}]";
function file(name: string, ...policies: string[]): string {
  const f = path.join(tmp, name);
  writeFileSync(f, policies.map((p) => `- ${p}`).join("\n") + "\n");
  return f;
}
const toReviews = file("to-reviews.yaml", `{metadata: {name: reviews-20}, spec: {destination: {service: reviews, namespace: bookinfo}, ${rules}}}`);
const plain = file("plain.yaml", `{metadata: {name: receives}, spec: {${rules}}}`);
const both = file("both.yaml", `{metadata: {name: receives}, spec: {${rules}}}`, `{metadata: {name: calls}, spec: {direction: outbound, ${rules}}}`);

type Obj = KubeObject & { spec: any; metadata: { name: string; namespace: string } };
async function objects(...argv: string[]): Promise<Obj[]> {
  const r = await hfi("render", ...argv, "--namespace", "bookinfo", "--image", IMAGE);
  assert.equal(r.code, 0, r.stderr);
  const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as Obj);
  for (const d of docs) if (d.kind !== "ConfigMap") assert.deepEqual(validateKubeObject(d), [], `${d.kind} ${d.metadata.name}`);
  return docs;
}

describe("hfi render --target", () => {
  test("sidecar: the WasmPlugin's match covers exactly the directions the policies use", async () => {
    const inbound = await objects("-f", plain, "--selector", "app=reviews");
    assert.deepEqual(inbound.map((o) => o.kind), ["WasmPlugin", "EnvoyFilter", "ConfigMap"]);
    assert.deepEqual(inbound[0].spec.match, [{ mode: "SERVER" }], "a policy without direction or destination: the requests the workload receives");
    const outbound = await objects("-f", toReviews, "--selector", "app=frontend");
    assert.deepEqual(outbound[0].spec.match, [{ mode: "CLIENT" }], "a destination: the calls the workload makes");
    const mixed = await objects("-f", both, "--selector", "app=frontend");
    assert.equal(mixed[0].spec.match, undefined, "both sides: Istio's default, no match");
  });

  test("waypoint: targetRefs to the waypoint Gateway or a Service bound to it, mode SERVER, no EnvoyFilter", async () => {
    const [byGateway] = await objects("-f", toReviews, "--target", "waypoint", "--waypoint", "waypoint");
    assert.equal(byGateway.kind, "WasmPlugin");
    assert.deepEqual(byGateway.spec.targetRefs, [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "waypoint" }]);
    assert.equal(byGateway.spec.selector, undefined, "a waypoint ignores selector; targetRefs and selector are exclusive");
    assert.deepEqual(byGateway.spec.match, [{ mode: "SERVER" }]);
    assert.equal(byGateway.metadata.name, "hfi-fault-injection-waypoint-waypoint");
    const byService = await objects("-f", toReviews, "--target", "waypoint", "--service", "reviews");
    assert.equal(byService.length, 1, "no bootstrap override: Istio's waypoint template does not read one");
    assert.deepEqual(byService[0].spec.targetRefs, [{ group: "", kind: "Service", name: "reviews" }]);
    assert.equal(byService[0].metadata.name, "hfi-fault-injection-svc-reviews");
  });

  test("the bootstrap override ConfigMap carries envoy.yaml's stats_tags, and they turn a per-policy stat into its labels", async () => {
    const r = await hfi("render", "-f", plain, "--selector", "app=reviews", "--namespace", "bookinfo", "--image", IMAGE);
    assert.match(r.stdout, /^# {3}sidecar\.istio\.io\/bootstrapOverride: hfi-stats-bootstrap-reviews$/m);
    const map = parseAllDocuments(r.stdout).map((d) => d.toJS() as Obj).find((d) => d.kind === "ConfigMap") as Obj & { data: Record<string, string> };
    const bootstrap = JSON.parse(map.data["custom_bootstrap.json"]);
    const envoy = parseAllDocuments(readFileSync(path.join(__dirname, "..", "..", "envoy", "envoy.yaml"), "utf8"))[0].toJS();
    assert.deepEqual(bootstrap, { stats_config: { stats_tags: envoy.stats_config.stats_tags } }, "written once, in envoy/envoy.yaml");
    const tags = new TagProducer({ stats_tags: bootstrap.stats_config.stats_tags });
    const extracted = tags.produceTags("wasmcustom.hfi_faults_policy_injected_total.hfi_policy.checkout-fails.hfi_fault.abort");
    assert.equal(extracted.tagExtractedName, "wasmcustom.hfi_faults_policy_injected_total");
    assert.deepEqual(Object.fromEntries(extracted.tags.map((t) => [t.name, t.value])), { hfi_policy: "checkout-fails", hfi_fault: "abort" });
    const [gatewayPlugin, gatewayMap] = await objects("-f", plain, "--target", "gateway", "--gateway", "ingress");
    assert.deepEqual([gatewayPlugin.kind, gatewayMap.kind, gatewayMap.metadata.name], ["WasmPlugin", "ConfigMap", "hfi-stats-bootstrap-gw-ingress"]);
  });

  test("gateway: targetRefs to a Gateway API Gateway", async () => {
    const [plugin] = await objects("-f", plain, "--target", "gateway", "--gateway", "ingress");
    assert.deepEqual(plugin.spec.targetRefs, [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "ingress" }]);
    assert.equal(plugin.metadata.name, "hfi-fault-injection-gw-ingress");
  });

  test("envoy-gateway: an EnvoyExtensionPolicy with an OCI image source, on a Gateway or an HTTPRoute, and the EnvoyProxy that labels its metrics", async () => {
    const [policy, proxy] = await objects("-f", plain, "--target", "envoy-gateway", "--route", "shop");
    assert.equal(policy.kind, "EnvoyExtensionPolicy");
    assert.equal(proxy.kind, "EnvoyProxy");
    assert.equal(proxy.metadata.name, "hfi-stats-route-shop");
    assert.equal(proxy.spec.bootstrap.type, "Merge");
    const merged = parseAllDocuments(proxy.spec.bootstrap.value)[0].toJS();
    const envoy = parseAllDocuments(readFileSync(path.join(__dirname, "..", "..", "envoy", "envoy.yaml"), "utf8"))[0].toJS();
    assert.deepEqual(merged, { stats_config: { stats_tags: envoy.stats_config.stats_tags } });
    assert.deepEqual(policy.spec.targetRefs, [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute", name: "shop" }]);
    const wasm = policy.spec.wasm[0];
    assert.deepEqual([wasm.name, wasm.rootID, wasm.code, wasm.failOpen], ["hfi-fault-injection", "hfi-fault-injection", { type: "Image", image: { url: IMAGE } }, true]);
    assert.deepEqual(wasm.config.policies.map((p: { metadata: { name: string } }) => p.metadata.name), ["receives"]);
    const [onGateway] = await objects("-f", plain, "--target", "envoy-gateway", "--gateway", "eg");
    assert.equal(onGateway.metadata.name, "hfi-fault-injection-gw-eg");
    // The schema check is real: Envoy Gateway's CEL rules refuse a Service as a target.
    const wrong = structuredClone(onGateway);
    wrong.spec.targetRefs[0].kind = "Service";
    assert.ok(validateKubeObject(wrong).some((p) => p.includes("can only have a targetRefs[*].kind of Gateway")), JSON.stringify(validateKubeObject(wrong)));
  });

  test("--api trafficextension: the same attachment as a TrafficExtension (Istio 1.30), for every Istio target", async () => {
    for (const argv of [["--selector", "app=reviews"], ["--target", "waypoint", "--waypoint", "waypoint"], ["--target", "gateway", "--gateway", "ingress"]]) {
      const [ext] = await objects("-f", argv[0] === "--selector" ? plain : toReviews, ...argv, "--api", "trafficextension");
      assert.equal(ext.kind, "TrafficExtension", argv.join(" "));
      assert.equal(ext.spec.wasm.url, `oci://${IMAGE}`);
      assert.equal(ext.spec.wasm.pluginName, "hfi-fault-injection");
      assert.ok(Array.isArray(ext.spec.wasm.pluginConfig.policies));
    }
  });

  test("two targets in one namespace never collide by name", async () => {
    const names = new Set<string>();
    for (const argv of [["--selector", "app=frontend"], ["--selector", "app=reviews"], ["--target", "waypoint", "--waypoint", "frontend"],
      ["--target", "waypoint", "--service", "frontend"], ["--target", "gateway", "--gateway", "frontend"], ["--target", "envoy-gateway", "--route", "frontend"]]) {
      for (const o of await objects("-f", plain, ...argv)) {
        const key = `${o.kind}/${o.metadata.name}`;
        assert.ok(!names.has(key), `${key} rendered twice`);
        names.add(key);
      }
    }
  });

  test("a policy is kept to what the proxy can see: a selector on a waypoint, a direction a listener never reports", async () => {
    const selecting = file("selecting.yaml", `{metadata: {name: s}, spec: {selector: {service: reviews}, ${rules}}}`);
    const r = await hfi("render", "-f", selecting, "--target", "waypoint", "--waypoint", "w", "--namespace", "bookinfo", "--image", IMAGE);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /policy "s" selects service "reviews", but on --target waypoint the proxy is the waypoint Gateway w, not that workload: say where requests go with destination: \{service: reviews\} instead/);
    for (const [dir, argv] of [["outbound", ["--target", "waypoint", "--waypoint", "w"]], ["inbound", ["--target", "gateway", "--gateway", "g"]], ["inbound", ["--target", "envoy-gateway", "--gateway", "g"]]] as const) {
      const f = file(`dir-${dir}.yaml`, `{metadata: {name: d}, spec: {direction: ${dir}, ${rules}}}`);
      const out = await hfi("render", "-f", f, ...argv, "--namespace", "bookinfo", "--image", IMAGE);
      assert.equal(out.code, 2, argv.join(" "));
      assert.match(out.stderr, new RegExp(`policy "d" has direction: ${dir}, which .* never reports for a request \\(it would match nothing\\)`));
    }
  });

  test("flags that do not fit the target are errors that say what it takes", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["--target", "waypoint", "--selector", "app=x"], /--selector does not apply to --target waypoint \(it takes --waypoint or --service\)/],
      [["--target", "waypoint"], /--target waypoint takes one of --waypoint NAME/],
      [["--target", "gateway"], /--target gateway takes --gateway NAME/],
      [["--target", "envoy-gateway", "--gateway", "a", "--route", "b"], /takes one of --gateway NAME or --route NAME/],
      [["--target", "envoy-gateway", "--gateway", "a", "--api", "trafficextension"], /--api is Istio's choice/],
      [["--target", "envoy-gateway", "--gateway", "a", "--control-plane", "http://cp:8080"], /--control-plane is not available with --target envoy-gateway/],
      [["--target", "mesh"], /--target must be sidecar, waypoint, gateway, envoy-gateway, got "mesh"/],
      [["--target", "gateway", "--gateway", "Bad_Name"], /--gateway must be a Kubernetes object name/],
    ];
    for (const [argv, want] of cases) {
      const r = await hfi("render", "-f", plain, "--namespace", "bookinfo", "--image", IMAGE, ...argv);
      assert.equal(r.code, 2, argv.join(" "));
      assert.match(r.stderr, want, argv.join(" "));
    }
  });

  test("without --image, the image make push pinned; without either, an error", async () => {
    const pinnedFile = path.join(tmp, "image.pinned");
    writeFileSync(pinnedFile, `${IMAGE}\n`);
    const out = await render({ files: [plain], namespace: "bookinfo", selector: [["app", "reviews"]], pinnedImageFile: pinnedFile });
    assert.match(out, new RegExp(`url: oci://${IMAGE.replace(/[.@]/g, "\\$&")}`));
    await assert.rejects(render({ files: [plain], namespace: "bookinfo", selector: [["app", "reviews"]], pinnedImageFile: path.join(tmp, "none") }), /--image is required/);
  });
});
