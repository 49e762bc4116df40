/**
 * `hfi render`: the WasmPlugin and the defensive stats EnvoyFilter for a set of policies, with
 * the workload named once. The shipped manifests in k8s/ are the templates (so whatever they
 * carry, e.g. stats tags, comes along); hfi sets the namespace, the WasmPlugin selector, the
 * EnvoyFilter workloadSelector, every policy's selector, the image and the control plane.
 * Before printing, both objects are checked against Istio's CRD models and the pluginConfig
 * against the plugin itself.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse, stringify } from "yaml";
import { validateIstioObject, type KubeObject } from "../tests/deploy/lib/istio-schema";
import { REPO_ROOT } from "./engine";
import { CliError } from "./errors";
import { isObject, loadSources } from "./sources";
import { policyName, validateConfiguration } from "./validate";

export interface RenderOptions {
  files: string[];
  selector: Array<[string, string]>;
  namespace: string;
  image?: string;
  controlPlane?: string;
}

const WASMPLUGIN_TEMPLATE = path.join(REPO_ROOT, "k8s", "base", "wasmplugin.yaml");
const ENVOYFILTER_TEMPLATE = path.join(REPO_ROOT, "k8s", "base", "envoyfilter-wasm-stats.yaml");
/** Labels Istio's selector semantics compare a policy's `service` with (assembly/policyset/store.ts). */
const SERVICE_LABELS = ["app", "service.istio.io/canonical-name"];

type Json = Record<string, unknown>;

export async function render(o: RenderOptions): Promise<string> {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(o.namespace)) throw new CliError(`hfi render: --namespace must be a Kubernetes namespace name, got "${o.namespace}"`);
  const labels = Object.fromEntries(o.selector);
  const loaded = loadSources(o.files);
  for (const p of loaded.problems) if (p.severity !== "warning") throw new CliError(`${p.at.file}:${p.at.line}:${p.at.column}: ${p.message} (run hfi validate)`);
  const policies = loaded.configurations.flatMap((c) => c.policies.map((p) => structuredClone(p.value)));
  if (policies.length === 0) throw new CliError("hfi render: no policies in the given files");

  // Each policy names the same workload as the manifests (or refuses when it names another).
  const service = SERVICE_LABELS.map((k) => labels[k]).find((v) => v !== undefined);
  for (const p of policies) {
    const name = policyName(p) ?? "(unnamed)";
    if (!isObject(p) || !isObject(p.spec)) continue; // the plugin's check below names it
    const sel = isObject(p.spec.selector) ? p.spec.selector : {};
    for (const [key, want] of [["service", service], ["namespace", o.namespace]] as const) {
      const have = sel[key];
      if (typeof have === "string" && have !== "" && have !== "*" && want !== undefined && have !== want) {
        throw new CliError(`hfi render: policy "${name}" selects ${key} "${have}", but the workload is ${key} "${want}" (change the policy or the flags)`);
      }
      if (typeof have === "string" && have !== "" && have !== "*" && want === undefined) {
        throw new CliError(`hfi render: policy "${name}" selects ${key} "${have}", which --selector cannot express; give --selector app=${have}`);
      }
    }
    const { selector: _old, ...rest } = p.spec;
    p.spec = { selector: { ...(service !== undefined ? { service } : {}), namespace: o.namespace }, ...rest };
  }

  const wasmPlugin = readTemplate(WASMPLUGIN_TEMPLATE, "WasmPlugin");
  const spec = wasmPlugin.spec as Json;
  // Names carry the workload, so rendering for a second workload in the namespace adds objects
  // instead of replacing the first one's on apply.
  const target = targetName(o.selector);
  wasmPlugin.metadata = { ...(wasmPlugin.metadata as Json), name: objectName(wasmPlugin, target), namespace: o.namespace };
  spec.selector = { matchLabels: labels };
  if (o.image !== undefined) spec.url = imageUrl(o.image);
  const pluginConfig: Json = { ...(isObject(spec.pluginConfig) ? spec.pluginConfig : {}) };
  const shippedControlPlane = isObject(pluginConfig.control_plane) ? pluginConfig.control_plane : {};
  delete pluginConfig.control_plane;
  delete pluginConfig.control_plane_address;
  delete pluginConfig.poll_interval_ms;
  if (o.controlPlane !== undefined) pluginConfig.control_plane = controlPlane(o.controlPlane, shippedControlPlane, o.namespace);
  pluginConfig.policies = policies;
  spec.pluginConfig = pluginConfig;

  const envoyFilter = readTemplate(ENVOYFILTER_TEMPLATE, "EnvoyFilter");
  envoyFilter.metadata = { ...(envoyFilter.metadata as Json), name: objectName(envoyFilter, target), namespace: o.namespace };
  (envoyFilter.spec as Json).workloadSelector = { labels };

  // Checks: Istio's CRD models for both, the plugin for the pluginConfig.
  for (const obj of [wasmPlugin, envoyFilter]) {
    const problems = await validateIstioObject(obj as KubeObject);
    if (problems.length > 0) throw new CliError(`hfi render: the ${obj.kind} would not pass Istio's schema: ${problems.join("; ")}`);
  }
  const verdict = await validateConfiguration({
    file: "(rendered pluginConfig)", document: 1, kind: "wasm-plugin", at: { file: "(rendered pluginConfig)", line: 1, column: 1 },
    settings: Object.fromEntries(Object.entries(pluginConfig).filter(([k]) => k !== "policies")),
    policies: policies.map((value, i) => ({ value, prefix: ["policies", i], locate: () => ({ file: "(rendered pluginConfig)", line: 1, column: 1 }) })),
    raw: JSON.stringify(pluginConfig), locate: () => ({ file: "(rendered pluginConfig)", line: 1, column: 1 }),
    rootId: typeof spec.pluginName === "string" ? spec.pluginName : "",
  });
  const errors = verdict.filter((p) => p.severity === "error");
  if (errors.length > 0) throw new CliError(`hfi render: the plugin refuses ${errors.length} part(s) of these policies, first: ${errors[0].field}: ${errors[0].message} (run hfi validate)`);
  // The shipped manifest's image is a placeholder: it is never rendered for someone to apply.
  if (o.image === undefined) {
    throw new CliError("hfi render: --image is required: the OCI image of the plugin, best pinned by digest " +
      "(registry/name@sha256:..., which make push prints)");
  }

  const header = `# Rendered by hfi render for the workload ${o.selector.map(([k, v]) => `${k}=${v}`).join(",")} in namespace ${o.namespace}.\n` +
    "# Checked against Istio's CRD models and the plugin; apply with kubectl apply -f.\n";
  return header + [wasmPlugin, envoyFilter].map((obj) => stringify(obj, { lineWidth: 0 })).join("---\n").trimEnd();
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

/** The template's name for one workload: <name>-<workload>, at most 253 characters. */
function objectName(template: Json, target: string): string {
  const base = isObject(template.metadata) && typeof template.metadata.name === "string" ? template.metadata.name : "hfi";
  return target === "" ? base : `${base}-${target}`.slice(0, 253).replace(/-+$/, "");
}
