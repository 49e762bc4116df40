/**
 * Which proxy `make run` plays (TARGET): plain Envoy as the configuration describes it (the
 * default), a sidecar receiving requests, a sidecar whose workload makes calls, an ambient
 * waypoint or an ingress gateway. The
 * runner gives the plugin that proxy's node id and, per request, the listener direction and
 * upstream cluster that proxy would report (targets.ts), the destination read from the request's
 * Host: `curl -H 'Host: reviews.bookinfo:9080' ...` is a request to reviews.
 */
import { targets, type NodeInfo, type PropertyValue, type Traffic } from "../index";

export const RUN_TARGETS = ["sidecar", "sidecar-outbound", "waypoint", "gateway", "envoy"] as const;
export type RunTarget = (typeof RUN_TARGETS)[number];

export function parseRunTarget(raw: string | undefined): RunTarget {
  if (raw === undefined || raw === "") return "envoy";
  if ((RUN_TARGETS as readonly string[]).includes(raw)) return raw as RunTarget;
  throw new Error(`TARGET must be ${RUN_TARGETS.join(", ")}, got "${raw}"`);
}

/** The port the played sidecar's workload listens on (its inbound cluster's). */
const WORKLOAD_PORT = 8080;

const KIND: Record<RunTarget, targets.ProxyKind> = {
  sidecar: "sidecar", "sidecar-outbound": "sidecar", waypoint: "waypoint", gateway: "gateway", envoy: "envoy",
};

/** The node the played proxy reports: the configuration's metadata, the target's node id. */
export function nodeFor(target: RunTarget, node: NodeInfo | undefined): NodeInfo {
  const meta = (node?.metadata ?? {}) as Record<string, PropertyValue>;
  const made = targets.proxyNode(KIND[target], { name: String(meta.WORKLOAD_NAME || "workload"), namespace: String(meta.NAMESPACE || "default") });
  return { ...(node ?? {}), id: target === "envoy" ? node?.id ?? made.id : made.id };
}

/** SERVICE[.NAMESPACE][:PORT] from a Host header; the namespace defaults to the workload's. */
function serviceOf(host: string | undefined, namespace: string): targets.Service | undefined {
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)(?:\.([a-z0-9]([-a-z0-9]*[a-z0-9])?))?(?:\.svc(?:\.cluster\.local)?)?(?::(\d{1,5}))?$/.exec(host ?? "");
  if (!m) return undefined;
  return { name: m[1], namespace: m[3] ?? namespace, port: m[5] === undefined ? 80 : Number(m[5]) };
}

/** Per request: what the played proxy reports, from the request's Host. */
export function trafficFor(target: RunTarget, node: NodeInfo): (host: string | undefined) => Traffic {
  const namespace = String((node.metadata as Record<string, unknown> | undefined)?.NAMESPACE || "default");
  return (host) => {
    const to = serviceOf(host, namespace);
    switch (target) {
      case "sidecar": return targets.sidecarInbound(WORKLOAD_PORT);
      case "sidecar-outbound": return to ? targets.sidecarOutbound(to) : targets.noRoute("sidecar");
      case "waypoint": return to ? targets.waypointTo(to) : targets.noRoute("waypoint");
      case "gateway": return to ? targets.gatewayTo(to) : targets.noRoute("gateway");
      case "envoy": return targets.envoyTo("upstream");
    }
  };
}
