/**
 * `hfi render`: the objects that install the plugin with a set of policies at one attach point:
 * a sidecar (WasmPlugin or TrafficExtension with a selector, plus the stats EnvoyFilter), an
 * ambient waypoint or an Istio gateway (targetRefs), or Envoy Gateway (EnvoyExtensionPolicy).
 * The shipped manifests in k8s/ are the templates (so whatever they carry comes along); hfi sets
 * the namespace, the attachment, the image and the control plane, and keeps every policy to what
 * that proxy can see. Before printing, each object is checked against its CRD's own schema
 * (k8s/schemas/) and the pluginConfig against the plugin itself.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse, stringify } from "yaml";
import { validateKubeObject, type KubeObject } from "./crd-schema";
import { REPO_ROOT } from "./engine";
import { CliError } from "./errors";
import { isObject, loadSources } from "./sources";
import { policyName, validateConfiguration } from "./validate";
import { directionOf } from "./scope";

export type RenderTarget = "sidecar" | "waypoint" | "gateway" | "envoy-gateway";
export const RENDER_TARGETS: readonly RenderTarget[] = ["sidecar", "waypoint", "gateway", "envoy-gateway"];

export interface RenderOptions {
  files: string[];
  namespace: string;
  /** Where the filter goes (default sidecar). */
  target?: RenderTarget;
  /** sidecar: the workload's pod labels. */
  selector?: Array<[string, string]>;
  /** waypoint: the waypoint Gateway's name, or a Service bound to a waypoint. */
  waypoint?: string;
  service?: string;
  /** gateway, envoy-gateway: a Gateway API Gateway's name; envoy-gateway: or an HTTPRoute's. */
  gateway?: string;
  route?: string;
  /** Istio's API for the plugin: WasmPlugin (default) or TrafficExtension (Istio 1.30 and later). */
  api?: "wasmplugin" | "trafficextension";
  image?: string;
  /** Where `make push` leaves the image it pinned (used when --image is not given). */
  pinnedImageFile?: string;
  controlPlane?: string;
}

const WASMPLUGIN_TEMPLATE = path.join(REPO_ROOT, "k8s", "base", "wasmplugin.yaml");
/** The stats_tags that make hfi_policy and hfi_fault labels: envoy/envoy.yaml's, written once. */
const ENVOY_BOOTSTRAP = path.join(REPO_ROOT, "envoy", "envoy.yaml");
/** The pod annotation Istio's injection templates read a bootstrap override from. */
export const BOOTSTRAP_OVERRIDE_ANNOTATION = "sidecar.istio.io/bootstrapOverride";
const ENVOYFILTER_TEMPLATE = path.join(REPO_ROOT, "k8s", "base", "envoyfilter-wasm-stats.yaml");
export const PINNED_IMAGE_FILE = path.join(REPO_ROOT, "build", "image.pinned");
/** Labels Istio's selector semantics compare a policy's `service` with (assembly/policyset/store.ts). */
const SERVICE_LABELS = ["app", "service.istio.io/canonical-name"];
const GATEWAY_API = "gateway.networking.k8s.io";

type Json = Record<string, unknown>;

/** What one target is: the objects' name suffix, what it attaches to, and what it says in the header. */
interface Attach {
  /** WasmPlugin/TrafficExtension: selector or targetRefs. */
  istio?: Json;
  suffix: string;
  what: string;
  /** Directions a proxy of this kind never reports: a policy asking for one would match nothing. */
  never?: "inbound" | "outbound" | "both";
}

function attachment(o: RenderOptions): Attach {
  const target = o.target ?? "sidecar";
  const given = (["selector", "waypoint", "service", "gateway", "route"] as const).filter((k) => (k === "selector" ? (o.selector ?? []).length > 0 : o[k] !== undefined));
  const allowed: Record<RenderTarget, string[]> = { sidecar: ["selector"], waypoint: ["waypoint", "service"], gateway: ["gateway"], "envoy-gateway": ["gateway", "route"] };
  const stray = given.filter((k) => !allowed[target].includes(k));
  if (stray.length > 0) throw new CliError(`hfi render: --${stray[0]} does not apply to --target ${target} (it takes ${allowed[target].map((k) => `--${k}`).join(" or ")})`);
  const name = (flag: string, v: string) => {
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(v) || v.length > 253) throw new CliError(`hfi render: --${flag} must be a Kubernetes object name, got "${v}"`);
    return v;
  };
  switch (target) {
    case "sidecar": {
      const selector = o.selector ?? [];
      if (selector.length === 0) throw new CliError("hfi render: --selector k=v is required for --target sidecar (the workload's pod labels)");
      return { istio: { selector: { matchLabels: Object.fromEntries(selector) } }, suffix: targetName(selector), what: `the workload ${selector.map(([k, v]) => `${k}=${v}`).join(",")}` };
    }
    case "waypoint": {
      if ((o.waypoint === undefined) === (o.service === undefined)) throw new CliError("hfi render: --target waypoint takes one of --waypoint NAME (the waypoint Gateway) or --service NAME (a Service bound to a waypoint)");
      const ref = o.waypoint !== undefined ? { group: GATEWAY_API, kind: "Gateway", name: name("waypoint", o.waypoint) } : { group: "", kind: "Service", name: name("service", o.service!) };
      // A waypoint's HTTP listener is inbound (SERVER); Istio matches no port there.
      return { istio: { targetRefs: [ref], match: [{ mode: "SERVER" }] }, suffix: `${ref.kind === "Gateway" ? "waypoint" : "svc"}-${ref.name}`, what: `the waypoint ${ref.kind === "Gateway" ? `Gateway ${ref.name}` : `of the Service ${ref.name}`}`, never: "outbound" };
    }
    case "gateway": {
      if (o.gateway === undefined) throw new CliError("hfi render: --target gateway takes --gateway NAME (a Gateway API Gateway)");
      return { istio: { targetRefs: [{ group: GATEWAY_API, kind: "Gateway", name: name("gateway", o.gateway) }] }, suffix: `gw-${o.gateway}`, what: `the Gateway ${o.gateway}`, never: "inbound" };
    }
    case "envoy-gateway": {
      if ((o.gateway === undefined) === (o.route === undefined)) throw new CliError("hfi render: --target envoy-gateway takes one of --gateway NAME or --route NAME (an HTTPRoute)");
      const kind = o.gateway !== undefined ? "Gateway" : "HTTPRoute";
      const n = name(o.gateway !== undefined ? "gateway" : "route", (o.gateway ?? o.route)!);
      // Envoy Gateway sets no traffic_direction on its listeners (envoyproxy/gateway v1.9.0).
      return { suffix: `${kind === "Gateway" ? "gw" : "route"}-${n}`, what: `the ${kind} ${n} (Envoy Gateway)`, istio: { targetRefs: [{ group: GATEWAY_API, kind, name: n }] }, never: "both" };
    }
  }
}

export async function render(o: RenderOptions): Promise<string> {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(o.namespace)) throw new CliError(`hfi render: --namespace must be a Kubernetes namespace name, got "${o.namespace}"`);
  const target = o.target ?? "sidecar";
  if (!RENDER_TARGETS.includes(target)) throw new CliError(`hfi render: --target must be ${RENDER_TARGETS.join(", ")}, got "${target}"`);
  const api = o.api ?? "wasmplugin";
  if (api !== "wasmplugin" && api !== "trafficextension") throw new CliError(`hfi render: --api must be wasmplugin or trafficextension, got "${api}"`);
  if (target === "envoy-gateway" && o.api !== undefined) throw new CliError("hfi render: --api is Istio's choice; --target envoy-gateway renders an EnvoyExtensionPolicy");
  const attach = attachment(o);
  const loaded = loadSources(o.files);
  for (const p of loaded.problems) if (p.severity !== "warning") throw new CliError(`${p.at.file}:${p.at.line}:${p.at.column}: ${p.message} (run hfi validate)`);
  const policies = loaded.configurations.flatMap((c) => c.policies.map((p) => structuredClone(p.value)));
  if (policies.length === 0) throw new CliError("hfi render: no policies in the given files");

  if (target === "sidecar") selectWorkload(policies, Object.fromEntries(o.selector ?? []), o.namespace);
  else keepToProxy(policies, target, attach);
  // The image is checked last: the policies' problems are worth seeing first.
  const pinned = imageFor(o);

  const template = readTemplate(WASMPLUGIN_TEMPLATE, "WasmPlugin");
  const spec = template.spec as Json;
  const image = pinned ?? String(spec.url);
  const pluginConfig: Json = { ...(isObject(spec.pluginConfig) ? spec.pluginConfig : {}) };
  const shippedControlPlane = isObject(pluginConfig.control_plane) ? pluginConfig.control_plane : {};
  delete pluginConfig.control_plane;
  delete pluginConfig.control_plane_address;
  delete pluginConfig.poll_interval_ms;
  if (o.controlPlane !== undefined) {
    // Envoy Gateway's proxies have no cluster for an arbitrary Service to poll.
    if (target === "envoy-gateway") throw new CliError("hfi render: --control-plane is not available with --target envoy-gateway (its Envoy has no cluster for the control plane's Service); put the policies in the configuration");
    pluginConfig.control_plane = controlPlane(o.controlPlane, shippedControlPlane, o.namespace);
  }
  pluginConfig.policies = policies;
  const pluginName = typeof spec.pluginName === "string" ? spec.pluginName : "hfi-fault-injection";
  const baseName = isObject(template.metadata) && typeof template.metadata.name === "string" ? template.metadata.name : "hfi";
  const objectMeta = (base: string, source: Json) => ({ ...(isObject(source.metadata) ? source.metadata : {}), name: objectName(base, attach.suffix), namespace: o.namespace });

  const objects: Json[] = [];
  if (target === "envoy-gateway") {
    objects.push({
      apiVersion: "gateway.envoyproxy.io/v1alpha1",
      kind: "EnvoyExtensionPolicy",
      metadata: objectMeta(baseName, template),
      spec: {
        targetRefs: (attach.istio as Json).targetRefs,
        wasm: [{
          name: pluginName,
          rootID: pluginName,
          code: { type: "Image", image: { url: image.replace(/^oci:\/\//, "") } },
          config: pluginConfig,
          // As the WasmPlugin's FAIL_OPEN: a plugin that fails must not take the traffic down.
          failOpen: spec.failStrategy !== "FAIL_CLOSE",
        }],
      },
    });
    objects.push(envoyProxyStats(objectName("hfi-stats", attach.suffix), o.namespace));
  } else {
    const matchMode = target === "sidecar" ? sidecarMatch(policies) : undefined;
    const placement: Json = { ...attach.istio, ...(matchMode ? { match: matchMode } : {}) };
    if (api === "wasmplugin") {
      const { selector: _s, targetRefs: _t, match: _m, ...rest } = spec;
      objects.push({ ...template, metadata: objectMeta(baseName, template), spec: { ...placement, ...rest, url: imageUrl(image), pluginConfig } });
    } else {
      const wasm: Json = { url: imageUrl(image), pluginName, pluginConfig };
      for (const k of ["imagePullPolicy", "imagePullSecret", "sha256", "type", "failStrategy", "verificationKey", "vmConfig"]) if (spec[k] !== undefined) wasm[k] = spec[k];
      objects.push({
        apiVersion: "extensions.istio.io/v1alpha1",
        kind: "TrafficExtension",
        metadata: objectMeta(baseName, template),
        spec: { ...placement, ...(spec.phase !== undefined ? { phase: spec.phase } : {}), ...(spec.priority !== undefined ? { priority: spec.priority } : {}), wasm },
      });
    }
    if (target === "sidecar") {
      const envoyFilter = readTemplate(ENVOYFILTER_TEMPLATE, "EnvoyFilter");
      envoyFilter.metadata = objectMeta(isObject(envoyFilter.metadata) && typeof envoyFilter.metadata.name === "string" ? envoyFilter.metadata.name : "hfi-wasm-stats", envoyFilter);
      (envoyFilter.spec as Json).workloadSelector = { labels: Object.fromEntries(o.selector ?? []) };
      objects.push(envoyFilter);
    }
    if (target === "sidecar" || target === "gateway") objects.push(statsBootstrap(objectName("hfi-stats-bootstrap", attach.suffix), o.namespace));
  }

  // Checks: each object against its CRD's own schema, the pluginConfig against the plugin.
  for (const obj of objects) {
    if (obj.kind === "ConfigMap") continue; // a core object: its shape is built here, not a CRD's
    const problems = validateKubeObject(obj as KubeObject);
    if (problems.length > 0) throw new CliError(`hfi render: the ${obj.kind} would not pass its CRD's schema: ${problems.join("; ")}`);
  }
  const verdict = await validateConfiguration({
    file: "(rendered pluginConfig)", document: 1, kind: "wasm-plugin", at: { file: "(rendered pluginConfig)", line: 1, column: 1 },
    settings: Object.fromEntries(Object.entries(pluginConfig).filter(([k]) => k !== "policies")),
    policies: policies.map((value, i) => ({ value, prefix: ["policies", i], locate: () => ({ file: "(rendered pluginConfig)", line: 1, column: 1 }) })),
    raw: JSON.stringify(pluginConfig), locate: () => ({ file: "(rendered pluginConfig)", line: 1, column: 1 }),
    rootId: pluginName,
  });
  const errors = verdict.filter((p) => p.severity === "error");
  if (errors.length > 0) throw new CliError(`hfi render: the plugin refuses ${errors.length} part(s) of these policies, first: ${errors[0].field}: ${errors[0].message} (run hfi validate)`);

  if (pinned === undefined) {
    throw new CliError("hfi render: --image is required: the OCI image of the plugin, best pinned by digest " +
      "(registry/name@sha256:..., which make push prints and keeps in build/image.pinned)");
  }
  const bootstrap = objects.find((x) => x.kind === "ConfigMap");
  const proxy = objects.find((x) => x.kind === "EnvoyProxy");
  const header = `# Rendered by hfi render for ${attach.what} in namespace ${o.namespace} (image ${image}).\n` +
    "# Checked against the CRDs' schemas (k8s/schemas/) and the plugin; apply with kubectl apply -f.\n" +
    (bootstrap === undefined ? "" : `# Per-policy labels (hfi_policy, hfi_fault): annotate the ${target === "gateway" ? "gateway's" : "workload's"} pod template with\n` +
      `#   ${BOOTSTRAP_OVERRIDE_ANNOTATION}: ${(bootstrap.metadata as Json).name}\n# and restart it (docs/deploying.md, "Metrics and their labels on each target").\n`) +
    (proxy === undefined ? "" : "# Per-policy labels (hfi_policy, hfi_fault): have the Gateway use the EnvoyProxy below, in its\n" +
      `#   spec.infrastructure.parametersRef: {group: gateway.envoyproxy.io, kind: EnvoyProxy, name: ${(proxy.metadata as Json).name}}\n` +
      "# (it replaces an EnvoyProxy the Gateway already names: merge the two then; docs/deploying.md).\n");
  return header + objects.map((obj) => stringify(obj, { lineWidth: 0 })).join("---\n").trimEnd();
}

/** `{stats_config: {stats_tags}}` with envoy/envoy.yaml's tags: the bootstrap part that turns
 * the per-policy stat names into the hfi_policy and hfi_fault labels. */
function statsConfig(): Json {
  const envoy = parse(readFileSync(ENVOY_BOOTSTRAP, "utf8")) as { stats_config?: { stats_tags?: unknown[] } };
  const tags = envoy.stats_config?.stats_tags;
  if (!Array.isArray(tags) || tags.length === 0) throw new CliError(`hfi render: ${ENVOY_BOOTSTRAP} has no stats_config.stats_tags to carry`);
  return { stats_config: { stats_tags: tags } };
}

/**
 * A bootstrap override with the stats_tags of envoy/envoy.yaml: Istio's agent merges
 * `custom_bootstrap.json` into the proxy's bootstrap when the pod names the ConfigMap in
 * BOOTSTRAP_OVERRIDE_ANNOTATION (sidecars; gateways since Istio 1.27).
 */
function statsBootstrap(name: string, namespace: string): Json {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace, labels: { "app.kubernetes.io/name": "hfi-fault-injection" } },
    data: { "custom_bootstrap.json": JSON.stringify(statsConfig(), null, 2) },
  };
}

/**
 * Envoy Gateway's way to the same stats_tags: an EnvoyProxy whose bootstrap is merged into the
 * one Envoy Gateway generates (`type: Merge`, envoyproxy/gateway v1.9.0 api/v1alpha1).
 */
function envoyProxyStats(name: string, namespace: string): Json {
  return {
    apiVersion: "gateway.envoyproxy.io/v1alpha1",
    kind: "EnvoyProxy",
    metadata: { name, namespace, labels: { "app.kubernetes.io/name": "hfi-fault-injection" } },
    spec: { bootstrap: { type: "Merge", value: stringify(statsConfig(), { lineWidth: 0 }) } },
  };
}

/** Each policy names the sidecar's workload (or refuses when it names another). */
function selectWorkload(policies: unknown[], labels: Record<string, string>, namespace: string): void {
  const service = SERVICE_LABELS.map((k) => labels[k]).find((v) => v !== undefined);
  for (const p of policies) {
    const name = policyName(p) ?? "(unnamed)";
    if (!isObject(p) || !isObject(p.spec)) continue; // the plugin's check names it
    const sel = isObject(p.spec.selector) ? p.spec.selector : {};
    for (const [key, want] of [["service", service], ["namespace", namespace]] as const) {
      const have = sel[key];
      if (typeof have === "string" && have !== "" && have !== "*" && want !== undefined && have !== want) {
        throw new CliError(`hfi render: policy "${name}" selects ${key} "${have}", but the workload is ${key} "${want}" (change the policy or the flags)`);
      }
      if (typeof have === "string" && have !== "" && have !== "*" && want === undefined) {
        throw new CliError(`hfi render: policy "${name}" selects ${key} "${have}", which --selector cannot express; give --selector app=${have}`);
      }
    }
    const { selector: _old, ...rest } = p.spec;
    p.spec = { selector: { ...(service !== undefined ? { service } : {}), namespace }, ...rest };
  }
}

/**
 * On a waypoint or a gateway the proxy is the waypoint's or the gateway's own deployment: a
 * selector naming a workload would match nothing (or, naming the gateway, everything), and a
 * direction its listeners never report matches nothing. Both are refused with what to write.
 */
function keepToProxy(policies: unknown[], target: RenderTarget, attach: Attach): void {
  for (const p of policies) {
    const name = policyName(p) ?? "(unnamed)";
    if (!isObject(p) || !isObject(p.spec)) continue;
    const sel = isObject(p.spec.selector) ? p.spec.selector : {};
    for (const key of ["service", "namespace"]) {
      const have = sel[key];
      if (typeof have === "string" && have !== "" && have !== "*") {
        throw new CliError(`hfi render: policy "${name}" selects ${key} "${have}", but on --target ${target} the proxy is ${attach.what}, not that workload: ` +
          `say where requests go with destination: {${key}: ${have}} instead`);
      }
    }
    const d = p.spec.direction;
    if (typeof d === "string" && d !== "any" && (attach.never === "both" || attach.never === d)) {
      throw new CliError(`hfi render: policy "${name}" has direction: ${d}, which ${attach.what} never reports for a request (it would match nothing); leave direction out or say any`);
    }
  }
}

/** The match of a sidecar's plugin: exactly the sides the policies use (docs/policies.md). */
function sidecarMatch(policies: unknown[]): Json[] | undefined {
  const sides = new Set<string>();
  for (const p of policies) {
    const d = directionOf(isObject(p) && isObject(p.spec) ? p.spec : {}, "sidecar");
    if (d === "any") sides.add("inbound").add("outbound");
    else sides.add(d);
  }
  if (sides.has("inbound") && sides.has("outbound")) return undefined; // Istio's default: both
  return [{ mode: sides.has("outbound") ? "CLIENT" : "SERVER" }];
}

/** --image, else the image `make push` pinned; undefined when neither (a placeholder is never rendered). */
function imageFor(o: RenderOptions): string | undefined {
  if (o.image !== undefined) return o.image;
  const file = o.pinnedImageFile ?? PINNED_IMAGE_FILE;
  if (!existsSync(file)) return undefined;
  const pinned = readFileSync(file, "utf8").trim();
  return /@sha256:[0-9a-f]{64}$/.test(pinned) ? pinned : undefined;
}

function readTemplate(file: string, kind: string): Json {
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new CliError(`hfi render: cannot read the template ${file}: ${(e as Error).message}`);
  }
  if (!isObject(doc) || doc.kind !== kind || !isObject(doc.spec)) throw new CliError(`hfi render: ${file} is not a ${kind}`);
  return doc;
}

/** An image reference as WasmPlugin.spec.url wants it (oci:// for registry images). */
function imageUrl(ref: string): string {
  if (/^(oci|https?|file):\/\//.test(ref)) return ref;
  if (!/^[a-z0-9.-]+(:\d+)?\/[^\s]+$/i.test(ref)) throw new CliError(`hfi render: --image must be a URL or registry/name[:tag][@sha256:...], got "${ref}"`);
  return `oci://${ref}`;
}

/**
 * http://host:port[/path] -> the plugin's control_plane block: Istio's outbound cluster name
 * for the service, the authority, the path; polling settings kept from the template.
 */
function controlPlane(url: string, shipped: Json, namespace: string): Json {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new CliError(`hfi render: --control-plane must be a URL like http://hfi-control-plane.boifi.svc.cluster.local:8080, got "${url}"`);
  }
  if (u.protocol !== "http:") throw new CliError(`hfi render: --control-plane must be http:// (the plugin calls it through the sidecar), got "${url}"`);
  const port = u.port === "" ? 80 : Number(u.port);
  const block: Json = {
    cluster: `outbound|${port}||${serviceFqdn(u.hostname, namespace)}`,
    authority: `${u.hostname}:${port}`,
    path: u.pathname === "/" ? "/v1/policies" : u.pathname,
  };
  for (const k of ["poll_interval_ms", "timeout_ms"]) if (shipped[k] !== undefined) block[k] = shipped[k];
  return block;
}

/**
 * The host as Istio names the service in its outbound cluster names: <name>.<namespace>.svc.
 * cluster.local. A bare name is in the rendered namespace; name.namespace and name.namespace.svc
 * are completed; any other host (an external one, a ServiceEntry) stays as written.
 */
export function serviceFqdn(host: string, namespace: string): string {
  const parts = host.split(".");
  if (host.endsWith(".svc.cluster.local")) return host;
  if (parts.length === 1) return `${host}.${namespace}.svc.cluster.local`;
  if (parts.length === 2) return `${host}.svc.cluster.local`;
  if (parts.length === 3 && parts[2] === "svc") return `${host}.cluster.local`;
  return host;
}

/** The workload in an object name: the selector's values, DNS-1123, joined with "-". */
function targetName(selector: Array<[string, string]>): string {
  return selector.map(([, v]) => v.toLowerCase().replace(/[^a-z0-9-]+/g, "-")).join("-").replace(/^-+|-+$/g, "");
}

/** The template's name for one target: <name>-<target>, at most 253 characters. */
function objectName(base: string, target: string): string {
  return target === "" ? base : `${base}-${target}`.slice(0, 253).replace(/-+$/, "");
}
