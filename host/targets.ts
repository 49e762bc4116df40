/**
 * What each kind of proxy tells a plugin about itself and about a request: Istio's node id, and
 * the per-request `xds` attributes (listener direction, upstream cluster and its metadata).
 *
 * From Istio's and Envoy's source (docs/deploying.md lists the files): a sidecar's inbound
 * listener is INBOUND and routes to `inbound|<port>||`; its outbound listeners are OUTBOUND and
 * route to `outbound|<port>|<subset>|<FQDN>`; a gateway's (`router`) listeners are OUTBOUND with
 * the same outbound clusters; a waypoint's main listener is INBOUND and routes to
 * `inbound-vip|<port>|http[/<subset>]|<FQDN>`, whose metadata lists the services
 * (`filter_metadata.istio.services`); plain Envoy says what its configuration says (often
 * UNSPECIFIED, 0) and names clusters freely.
 */
import type { NodeInfo, PropertyValue } from "./properties";
import type { Traffic } from "./options";

export type ProxyKind = "sidecar" | "gateway" | "waypoint" | "envoy";
export const PROXY_KINDS: readonly ProxyKind[] = ["sidecar", "gateway", "waypoint", "envoy"];

/** Istio's node id type for each kind (pilot/pkg/model/context.go, NodeType). */
const NODE_TYPE: Record<ProxyKind, string | undefined> = { sidecar: "sidecar", gateway: "router", waypoint: "waypoint", envoy: undefined };

export const INBOUND = 1;
export const OUTBOUND = 2;

export interface Workload {
  name: string;
  namespace: string;
  /** Pod labels (`app` is what policies' selectors compare with). */
  labels?: Record<string, string>;
}

/** The kind of proxy an Istio node id names (its first field); "envoy" for any other id. */
export function kindOfNodeId(id: string | undefined): ProxyKind {
  const type = (id ?? "").split("~")[0];
  return PROXY_KINDS.find((k) => NODE_TYPE[k] === type && (id ?? "").includes("~")) ?? "envoy";
}

/** `node` as a proxy of `kind` reports itself: its own metadata, that kind's node id. */
export function asKind(node: NodeInfo | undefined, kind: ProxyKind): NodeInfo {
  const meta = (node?.metadata ?? {}) as Record<string, PropertyValue>;
  const made = proxyNode(kind, { name: String(meta.WORKLOAD_NAME || "workload"), namespace: String(meta.NAMESPACE || "default") });
  return { ...(node ?? {}), id: made.id };
}

/** The node a proxy of `kind` running as `workload` reports (metadata as Istio's agent writes it). */
export function proxyNode(kind: ProxyKind, workload: Workload): NodeInfo {
  const type = NODE_TYPE[kind];
  const pod = `${workload.name}-7d9f8-x2x4z`;
  const metadata: { [key: string]: PropertyValue } = {
    WORKLOAD_NAME: workload.name,
    NAMESPACE: workload.namespace,
    NAME: pod,
    LABELS: { app: workload.name, ...(workload.labels ?? {}) },
  };
  return {
    id: type === undefined ? `${workload.name}-envoy` : `${type}~10.0.0.1~${pod}.${workload.namespace}~${workload.namespace}.svc.cluster.local`,
    cluster: `${workload.name}.${workload.namespace}`,
    metadata,
  };
}

/** A Kubernetes service a request goes to. */
export interface Service {
  name: string;
  namespace: string;
  port: number;
  subset?: string;
}

/** SERVICE[.NAMESPACE[.svc[.cluster.local]]][:PORT][/SUBSET] (a Host header is one without a
 * subset); undefined when `text` is not one. The namespace defaults to `namespace`, the port to 80. */
export function parseService(text: string, namespace: string): Service | undefined {
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)(?:\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)(?:\.svc(?:\.cluster\.local)?)?)?(?::(\d{1,5}))?(?:\/([A-Za-z0-9][-A-Za-z0-9_.]*))?$/.exec(text);
  if (!m) return undefined;
  const port = m[5] === undefined ? 80 : Number(m[5]);
  if (port < 1 || port > 65535) return undefined;
  return { name: m[1], namespace: m[3] ?? namespace, port, ...(m[6] !== undefined ? { subset: m[6] } : {}) };
}

export function serviceFqdn(s: Service): string {
  return `${s.name}.${s.namespace}.svc.cluster.local`;
}

/** A request a sidecar receives for its own workload, on `port`. */
export function sidecarInbound(port: number): Traffic {
  return { listenerDirection: INBOUND, clusterName: `inbound|${port}||`, routeName: "default" };
}

/** A call a sidecar's workload makes to `to`. */
export function sidecarOutbound(to: Service): Traffic {
  return { listenerDirection: OUTBOUND, clusterName: `outbound|${to.port}|${to.subset ?? ""}|${serviceFqdn(to)}`, routeName: String(to.port) };
}

/** A request a gateway routes to `to`. */
export function gatewayTo(to: Service, routeName = "http.8080"): Traffic {
  return { listenerDirection: OUTBOUND, clusterName: `outbound|${to.port}|${to.subset ?? ""}|${serviceFqdn(to)}`, routeName };
}

/** A request a waypoint carries to `to`. */
export function waypointTo(to: Service): Traffic {
  const host = serviceFqdn(to);
  return {
    listenerDirection: INBOUND,
    clusterName: `inbound-vip|${to.port}|http${to.subset ? `/${to.subset}` : ""}|${host}`,
    clusterMetadata: { filter_metadata: { istio: { services: [{ host, name: to.name, namespace: to.namespace }] } } },
    routeName: `${host}:${to.port}`,
  };
}

/** A request plain Envoy routes to the cluster `name` (listener direction unspecified). */
export function envoyTo(name: string): Traffic {
  return { listenerDirection: 0, clusterName: name };
}

/**
 * What a proxy of `kind` reports for a request that comes through its `side` listener and goes
 * to `to` (none: no route matched). A sidecar's inbound request is for its own workload's port.
 */
export function trafficOf(kind: ProxyKind, side: "inbound" | "outbound", to: Service | undefined, inboundPort = 8080): Traffic {
  switch (kind) {
    case "sidecar":
      if (side === "inbound") return sidecarInbound(to?.port ?? inboundPort);
      return to ? sidecarOutbound(to) : { listenerDirection: OUTBOUND };
    case "gateway":
      return to ? gatewayTo(to) : noRoute("gateway");
    case "waypoint":
      return to ? waypointTo(to) : noRoute("waypoint");
    case "envoy":
      return noRoute("envoy");
  }
}

/** A request no route matched: Envoy has no cluster to name. */
export function noRoute(kind: ProxyKind): Traffic {
  return { listenerDirection: kind === "envoy" ? 0 : kind === "gateway" ? OUTBOUND : INBOUND };
}
