/**
 * Which proxy `make run` plays (TARGET): plain Envoy as the configuration describes it (the
 * default), a sidecar receiving requests, a sidecar whose workload makes calls, an ambient
 * waypoint or an ingress gateway. The
 * runner gives the plugin that proxy's node id and, per request, the listener direction and
 * upstream cluster that proxy would report (targets.ts), the destination read from the request's
 * Host: `curl -H 'Host: reviews.bookinfo:9080' ...` is a request to reviews.
 */
import { targets, type NodeInfo, type Traffic } from "../index";

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

/** The node the played proxy reports: the configuration's metadata, the target's node id
 * (plain Envoy keeps the configuration's own id). */
export function nodeFor(target: RunTarget, node: NodeInfo | undefined): NodeInfo {
  return target === "envoy" && node?.id !== undefined ? node : targets.asKind(node, KIND[target]);
}

/** Per request: what the played proxy reports, the destination named by the request's Host. */
export function trafficFor(target: RunTarget, node: NodeInfo): (host: string | undefined) => Traffic {
  const namespace = String((node.metadata as Record<string, unknown> | undefined)?.NAMESPACE || "default");
  return (host) => {
    const to = host === undefined ? undefined : targets.parseService(host, namespace);
    switch (target) {
      case "sidecar": return targets.trafficOf("sidecar", "inbound", undefined, WORKLOAD_PORT);
      case "sidecar-outbound": return targets.trafficOf("sidecar", "outbound", to);
      case "waypoint": return targets.trafficOf("waypoint", "inbound", to);
      case "gateway": return targets.trafficOf("gateway", "outbound", to);
      case "envoy": return targets.envoyTo("upstream");
    }
  };
}
