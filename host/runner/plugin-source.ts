/**
 * Where `make run` gets the plugin configuration: the same files the other local and deployed
 * paths use, so they cannot drift apart.
 *
 *   *.yaml / *.yml  an Envoy bootstrap (envoy/envoy.yaml): its one Wasm HTTP filter gives the
 *                   configuration string, root id and vm config; `node` gives the node metadata.
 *                   An Istio WasmPlugin manifest (k8s/base/wasmplugin.yaml) works too: pluginConfig
 *                   and pluginName.
 *   *.json (other)  the plugin configuration itself (root id hfi-fault-injection).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import type { NodeInfo, PropertyValue, StatsTagConfig } from "../index";

export const WASM_FILTER_TYPE = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm";
export const DEFAULT_ROOT_ID = "hfi-fault-injection";

/** Everything the runner needs from a configuration file. */
export interface PluginSource {
  /** The file it came from. */
  file: string;
  /** What kind of file it was. */
  kind: "envoy-bootstrap" | "wasm-plugin" | "plugin-json";
  /** The plugin configuration string handed to proxy_on_configure. */
  configuration: string;
  rootId: string;
  /** Envoy vm_config.vm_id and vm_config.configuration, when given. */
  vmId?: string;
  vmConfiguration?: string;
  /** Envoy's node (id, cluster, metadata): node.metadata.* properties. */
  node?: NodeInfo;
  /** The bootstrap's `stats_config` (its `stats_tags` give /stats/prometheus its labels). */
  statsConfig?: StatsTagConfig;
}

/** Reads and interprets a configuration file; throws an Error with a readable message. */
export function readPluginSource(file: string): PluginSource {
  const text = readFileSync(file, "utf8");
  return parsePluginSource(text, file);
}

export function parsePluginSource(text: string, file: string): PluginSource {
  const ext = path.extname(file).toLowerCase();
  if (ext !== ".yaml" && ext !== ".yml") {
    return { file, kind: "plugin-json", configuration: text, rootId: DEFAULT_ROOT_ID };
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new Error(`${file} is not valid YAML: ${(e as Error).message}`);
  }
  if (!isObject(doc)) throw new Error(`${file}: expected an Envoy bootstrap or a WasmPlugin, got ${typeName(doc)}`);
  if (doc.kind === "WasmPlugin") return fromWasmPlugin(doc, file);
  return fromEnvoyBootstrap(doc, file);
}

function fromEnvoyBootstrap(doc: Record<string, unknown>, file: string): PluginSource {
  const filters = findWasmFilters(doc);
  if (filters.length === 0) throw new Error(`${file}: no HTTP filter with "@type: ${WASM_FILTER_TYPE}"`);
  if (filters.length > 1) throw new Error(`${file}: ${filters.length} Wasm HTTP filters; the runner runs exactly one`);
  const config = filters[0].config;
  if (!isObject(config)) throw new Error(`${file}: the Wasm filter has no "config"`);
  const source: PluginSource = {
    file,
    kind: "envoy-bootstrap",
    configuration: anyToString(config.configuration, `${file}: config.configuration`),
    rootId: typeof config.root_id === "string" ? config.root_id : "",
  };
  const vm = config.vm_config;
  if (isObject(vm)) {
    if (typeof vm.vm_id === "string") source.vmId = vm.vm_id;
    if (vm.configuration !== undefined) source.vmConfiguration = anyToString(vm.configuration, `${file}: vm_config.configuration`);
  }
  const node = doc.node;
  if (isObject(node)) {
    source.node = {};
    if (typeof node.id === "string") source.node.id = node.id;
    if (typeof node.cluster === "string") source.node.cluster = node.cluster;
    if (isObject(node.metadata)) source.node.metadata = toProperties(node.metadata);
  }
  const stats = doc.stats_config ?? doc.statsConfig;
  if (isObject(stats)) source.statsConfig = stats as StatsTagConfig;
  return source;
}

function fromWasmPlugin(doc: Record<string, unknown>, file: string): PluginSource {
  const spec = isObject(doc.spec) ? doc.spec : {};
  const cfg = spec.pluginConfig;
  return {
    file,
    kind: "wasm-plugin",
    configuration: cfg === undefined ? "" : JSON.stringify(cfg),
    rootId: typeof spec.pluginName === "string" ? spec.pluginName : "",
  };
}

/** Every object in the document whose `@type` is Envoy's Wasm HTTP filter. */
function findWasmFilters(node: unknown, out: Array<Record<string, unknown>> = []): Array<Record<string, unknown>> {
  if (Array.isArray(node)) {
    for (const item of node) findWasmFilters(item, out);
  } else if (isObject(node)) {
    if (node["@type"] === WASM_FILTER_TYPE) out.push(node);
    else for (const v of Object.values(node)) findWasmFilters(v, out);
  }
  return out;
}

/** A google.protobuf.Any holding a StringValue (or a bare string) as Envoy passes it on. */
function anyToString(value: unknown, where: string): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (isObject(value)) {
    const type = value["@type"];
    if (type === "type.googleapis.com/google.protobuf.StringValue" || type === "type.googleapis.com/google.protobuf.BytesValue") {
      return typeof value.value === "string" ? value.value : "";
    }
    if (type === "type.googleapis.com/google.protobuf.Struct") {
      const { "@type": _t, ...rest } = value;
      return JSON.stringify(rest);
    }
    throw new Error(`${where}: unsupported "@type" ${JSON.stringify(type)} (use google.protobuf.StringValue)`);
  }
  throw new Error(`${where}: expected a StringValue, got ${typeName(value)}`);
}

function toProperties(o: Record<string, unknown>): { [key: string]: PropertyValue } {
  const out: { [key: string]: PropertyValue } = {};
  for (const [k, v] of Object.entries(o)) {
    const p = toProperty(v);
    if (p !== undefined) out[k] = p;
  }
  return out;
}

function toProperty(v: unknown): PropertyValue | undefined {
  if (typeof v === "string" || typeof v === "boolean" || typeof v === "bigint") return v;
  if (typeof v === "number") return v;
  if (Array.isArray(v)) return v.map(toProperty).filter((x): x is PropertyValue => x !== undefined);
  if (isObject(v)) return toProperties(v);
  return undefined;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function typeName(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "a list" : typeof v;
}
