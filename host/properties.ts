/**
 * proxy_get_property / proxy_set_property. A path is NUL-separated segments; the first names a
 * top-level attribute (node, plugin_root_id, request, ...), the rest descend into maps and
 * lists. Values are serialized as Envoy serializes CEL values: strings and bytes raw, integers
 * as 8-byte little-endian, doubles as 8-byte IEEE, booleans as 1 byte, maps and lists in the
 * pairs encoding. Absent → NotFound. Values set with proxy_set_property live in the stream's
 * filter state (Envoy: key "wasm.<path>") and are found again by a one-segment path; a root
 * context has no stream, so set_property there is NotFound.
 */
import { WasmResult } from "./abi";
import { encodePairs, type HeaderPairs } from "./headers";

export type PropertyValue =
  | string
  | number
  | bigint
  | boolean
  | Uint8Array
  | PropertyValue[]
  | { [key: string]: PropertyValue };

/**
 * The generations of Envoy's property lookup for the bootstrap node (checked in Envoy's
 * source/extensions/common/wasm/context.cc and source/extensions/filters/common/expr/):
 * - before 1.30: the Wasm context answers `node` itself; `xds.*` (CEL attributes since
 *   envoy#24302, wired into Wasm by envoy#31620) exits early without stream info, so a root
 *   context (on_configure, ticks) never sees `xds.node` (fixed by envoy#32077, Envoy 1.30);
 * - 1.30 to 1.32: both `node` and `xds.node`;
 * - 1.33 and later (Istio 1.25+): envoy#36619 removed the Wasm-only tokens; `Context::findValue`
 *   answers plugin_name, plugin_root_id, plugin_vm_id, connection_id and hands everything else
 *   to the CEL StreamActivation, which has `xds` but no `node`.
 */
export type PropertyMode = "legacy" | "both" | "xds" | "pre-1.30";

export const PROPERTY_MODES: readonly PropertyMode[] = ["legacy", "both", "xds", "pre-1.30"];

/** Whether `node` answers as a top-level name under a mode. */
export function answersNode(mode: PropertyMode): boolean {
  return mode !== "xds";
}

/** Whether `xds.node` answers under a mode, from a root context or a stream context. */
export function answersXdsNode(mode: PropertyMode, fromRoot: boolean): boolean {
  if (mode === "both" || mode === "xds") return true;
  return mode === "pre-1.30" && !fromRoot;
}

/** Istio-style node description; `metadata` is what node.metadata.* resolves against. */
export interface NodeInfo {
  id?: string;
  cluster?: string;
  metadata?: { [key: string]: PropertyValue };
}

/** Builds the node metadata an Istio sidecar carries (node.metadata.WORKLOAD_NAME, ...). */
export function istioNode(opts: {
  workloadName?: string;
  namespace?: string;
  podName?: string;
  labels?: Record<string, string>;
  clusterId?: string;
  meshId?: string;
  id?: string;
}): NodeInfo {
  const metadata: { [key: string]: PropertyValue } = {};
  if (opts.workloadName !== undefined) metadata.WORKLOAD_NAME = opts.workloadName;
  if (opts.namespace !== undefined) metadata.NAMESPACE = opts.namespace;
  if (opts.podName !== undefined) metadata.NAME = opts.podName;
  if (opts.labels !== undefined) metadata.LABELS = { ...opts.labels };
  if (opts.clusterId !== undefined) metadata.CLUSTER_ID = opts.clusterId;
  if (opts.meshId !== undefined) metadata.MESH_ID = opts.meshId;
  const id =
    opts.id ??
    (opts.podName && opts.namespace ? `sidecar~10.0.0.1~${opts.podName}.${opts.namespace}~${opts.namespace}.svc.cluster.local` : undefined);
  return { id, cluster: opts.workloadName && opts.namespace ? `${opts.workloadName}.${opts.namespace}` : undefined, metadata };
}

/** Top-level attribute names Envoy resolves itself; any other name is looked up in filter state. */
const ROOT_TOKENS = new Set([
  "request", "response", "connection", "upstream", "source", "destination", "metadata",
  "filter_state", "upstream_filter_state", "xds", "node", "plugin_name", "plugin_root_id",
  "plugin_vm_id", "connection_id",
]);

export function splitPath(path: Uint8Array): string[] {
  const text = Buffer.from(path.buffer, path.byteOffset, path.byteLength).toString("latin1");
  const parts = text.split("\0");
  if (parts.length > 1 && parts[parts.length - 1] === "") parts.pop();
  return parts;
}

/** Resolves a split path. `top` answers for the first segment. */
export function resolveProperty(
  parts: string[],
  top: (name: string) => PropertyValue | undefined,
  filterState: Map<string, Uint8Array> | undefined,
): PropertyValue | undefined {
  if (parts.length === 0) return undefined;
  let value: PropertyValue | undefined;
  if (ROOT_TOKENS.has(parts[0])) value = top(parts[0]);
  else value = filterState?.get(parts[0]);
  for (let i = 1; i < parts.length && value !== undefined; i++) {
    const part = parts[i];
    if (value instanceof Uint8Array || typeof value !== "object") return undefined;
    if (Array.isArray(value)) {
      if (!/^-?\d+$/.test(part)) return undefined;
      value = value[Number(part)];
    } else {
      value = Object.prototype.hasOwnProperty.call(value, part) ? value[part] : undefined;
    }
  }
  return value;
}

export function serializeProperty(value: PropertyValue): Uint8Array | WasmResult {
  if (typeof value === "string") return Buffer.from(value, "utf8");
  if (value instanceof Uint8Array) return value;
  if (typeof value === "boolean") return Uint8Array.of(value ? 1 : 0);
  if (typeof value === "bigint") {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt.asUintN(64, value));
    return b;
  }
  if (typeof value === "number") {
    const b = Buffer.alloc(8);
    if (Number.isInteger(value)) b.writeBigInt64LE(BigInt(value));
    else b.writeDoubleLE(value);
    return b;
  }
  const pairs: HeaderPairs = [];
  if (Array.isArray(value)) {
    for (const item of value) {
      const s = serializeProperty(item);
      if (typeof s === "number") return WasmResult.SerializationFailure;
      pairs.push([Buffer.from(s).toString("latin1"), ""]);
    }
  } else {
    for (const [k, v] of Object.entries(value)) {
      const s = serializeProperty(v);
      if (typeof s === "number") return WasmResult.SerializationFailure;
      pairs.push([k, Buffer.from(s).toString("latin1")]);
    }
  }
  return encodePairs(pairs);
}
