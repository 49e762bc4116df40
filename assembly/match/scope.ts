// Is a request within a policy's direction and destination? Pure functions over the policy
// model and the request's attributes; the two attributes come from Envoy (the listener's
// traffic direction, the upstream cluster the route chose), read only when a rule that
// otherwise matched asks for them.
import { Rule } from "../model/policy";
import { Destination, Direction, ProxyKind } from "../model/scope";
import { bytesEqual, ByteBuffer } from "../util/bytes";
import { RequestAttributes } from "./request";

const BAR: u8 = 0x7c; // '|'
const DOT: u8 = 0x2e;
const SLASH: u8 = 0x2f;
const OUTBOUND = String.UTF8.encode("outbound");
const INBOUND = String.UTF8.encode("inbound");
const INBOUND_VIP = String.UTF8.encode("inbound-vip");
const SVC = String.UTF8.encode("svc");

/**
 * The direction a rule is held to in a proxy of `kind`. A policy that says nothing keeps to
 * what its author can only have meant: on a sidecar, the requests the workload receives, or,
 * with a destination, the calls it makes; on a gateway, a waypoint or plain Envoy every
 * listener carries the traffic the proxy exists for, so the direction is not asked.
 */
export function effectiveDirection(rule: Rule, kind: ProxyKind): Direction {
  const said = rule.direction;
  if (said != Direction.Unset) return said;
  if (kind == ProxyKind.Sidecar) return rule.destination !== null ? Direction.Outbound : Direction.Inbound;
  return Direction.Any;
}

/** Does the request come through a listener of `direction` and go to `destination`? */
export function inScope(direction: Direction, destination: Destination | null, request: RequestAttributes): bool {
  if (direction != Direction.Any && request.listenerDirection() != <i64>direction) return false;
  return destination === null || destinationMatches(destination, request.clusterBytes());
}

/**
 * Does the upstream cluster `cluster` (length -1: none, as before a route is found) satisfy
 * `d`? Istio's cluster names say where a request goes: a sidecar's or gateway's
 * `outbound|<port>|<subset>|<FQDN>`, a waypoint's `inbound-vip|<port>|<protocol>[/<subset>]|<FQDN>`,
 * a sidecar's own `inbound|<port>||`. Any other name only matches `cluster`. A condition the
 * name cannot answer does not hold: a destination never widens to traffic it cannot see.
 */
export function destinationMatches(d: Destination, cluster: ByteBuffer): bool {
  const n = cluster.length;
  if (n < 0) return false;
  const ptr = cluster.ptr;
  if (d.cluster.length > 0) return bytesEqual(ptr, n, d.clusterBytes);
  const bar1 = find(ptr, 0, n, BAR);
  const bar2 = find(ptr, bar1 + 1, n, BAR);
  const bar3 = find(ptr, bar2 + 1, n, BAR);
  if (bar3 >= n || find(ptr, bar3 + 1, n, BAR) < n) return false;
  let subsetStart = bar2 + 1;
  const subsetEnd = bar3;
  if (bytesEqual(ptr, bar1, INBOUND_VIP)) {
    // `<protocol>` or `<protocol>/<subset>`
    const slash = find(ptr, subsetStart, subsetEnd, SLASH);
    subsetStart = slash < subsetEnd ? slash + 1 : subsetEnd;
  } else if (!bytesEqual(ptr, bar1, OUTBOUND) && !bytesEqual(ptr, bar1, INBOUND)) {
    return false;
  }
  if (d.port != 0 && parsePort(ptr, bar1 + 1, bar2) != d.port) return false;
  if (d.subset.length > 0 && !bytesEqual(ptr + <usize>subsetStart, subsetEnd - subsetStart, d.subsetBytes)) return false;
  const fqdn = ptr + <usize>(bar3 + 1);
  const fqdnLength = n - bar3 - 1;
  if (d.service.length > 0) {
    if (d.serviceIsHost) {
      if (!bytesEqual(fqdn, fqdnLength, d.serviceBytes)) return false;
    } else if (!isServiceName(fqdn, fqdnLength) || !bytesEqual(fqdn, find(fqdn, 0, fqdnLength, DOT), d.serviceBytes)) {
      return false;
    }
  }
  if (d.namespace.length > 0) {
    if (!isServiceName(fqdn, fqdnLength)) return false;
    const dot1 = find(fqdn, 0, fqdnLength, DOT);
    const dot2 = find(fqdn, dot1 + 1, fqdnLength, DOT);
    if (!bytesEqual(fqdn + <usize>(dot1 + 1), dot2 - dot1 - 1, d.namespaceBytes)) return false;
  }
  return true;
}

/** Is `fqdn` a Kubernetes service's name, `<service>.<namespace>.svc[.<domain>]`? Only then do
 * its first two labels name a service and a namespace. */
function isServiceName(fqdn: usize, n: i32): bool {
  const dot1 = find(fqdn, 0, n, DOT);
  const dot2 = find(fqdn, dot1 + 1, n, DOT);
  if (dot1 == 0 || dot2 >= n || dot2 == dot1 + 1) return false;
  const dot3 = find(fqdn, dot2 + 1, n, DOT);
  return bytesEqual(fqdn + <usize>(dot2 + 1), dot3 - dot2 - 1, SVC);
}

/** The first `byte` in [from, to) at `ptr`; `to` when there is none. */
function find(ptr: usize, from: i32, to: i32, byte: u8): i32 {
  for (let i = from; i < to; i++) if (load<u8>(ptr + <usize>i) == byte) return i;
  return to;
}

/** The decimal port in [from, to); -1 when it is not one. */
function parsePort(ptr: usize, from: i32, to: i32): i32 {
  if (to <= from || to - from > 5) return -1;
  let port = 0;
  for (let i = from; i < to; i++) {
    const c = <i32>load<u8>(ptr + <usize>i) - 0x30;
    if (c < 0 || c > 9) return -1;
    port = port * 10 + c;
  }
  return port;
}
