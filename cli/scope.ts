/**
 * The direction a policy keeps to, for the tools: its `spec.direction`, or what the plugin makes
 * of its absence on a proxy of that kind (assembly/match/scope.ts, effectiveDirection; a test
 * compares the two through what the plugin publishes).
 */
import type { targets } from "../host/index";

export function directionOf(spec: Record<string, unknown>, kind: targets.ProxyKind): string {
  if (typeof spec.direction === "string") return spec.direction;
  if (kind === "sidecar") return spec.destination !== undefined ? "outbound" : "inbound";
  return "any";
}
