// Where a policy applies within a proxy: the direction of the listener a request came through
// (`spec.direction`) and where the request goes (`spec.destination`). Both are properties of
// the request that Envoy knows and a header does not say; what kind of proxy the plugin runs in
// decides what a policy without `direction` means (match/scope.ts).

/** The listener's traffic direction, as Envoy reports it in `xds.listener_direction`. */
export const enum Direction {
  /** Not said in the policy: resolved by proxy kind when the set is assembled. */
  Unset = 0,
  Inbound = 1,
  Outbound = 2,
  /** Every direction, including a listener that has none (plain Envoy). */
  Any = 3,
}

/** What kind of proxy runs the plugin: the first field of Istio's node id (`<type>~<ip>~...`). */
export const enum ProxyKind {
  /** Not Istio, or no node id: plain Envoy, Envoy Gateway. */
  Other = 0,
  Sidecar = 1,
  /** `router`: an ingress or egress gateway. */
  Gateway = 2,
  Waypoint = 3,
}

/** `spec.destination`: each field optional; "" (or, for the port, 0) means any. Names are kept
 * lower-cased (DNS names compare without case, and Istio writes cluster names lower-cased). */
export class Destination {
  readonly serviceBytes: ArrayBuffer;
  readonly namespaceBytes: ArrayBuffer;
  readonly subsetBytes: ArrayBuffer;
  readonly clusterBytes: ArrayBuffer;
  /** The service is a whole host name (it has a dot), not a short Kubernetes name. */
  readonly serviceIsHost: bool;

  constructor(
    /** A Kubernetes service's short name (`reviews`), or a host name with a dot, compared with
     * the whole FQDN (`reviews.bookinfo.svc.cluster.local`, `api.example.com`). */
    public readonly service: string,
    public readonly namespace: string,
    public readonly port: i32,
    public readonly subset: string,
    /** A plain Envoy cluster name, compared exactly (never combined with the fields above). */
    public readonly cluster: string,
  ) {
    this.serviceBytes = String.UTF8.encode(service);
    this.namespaceBytes = String.UTF8.encode(namespace);
    this.subsetBytes = String.UTF8.encode(subset);
    this.clusterBytes = String.UTF8.encode(cluster);
    this.serviceIsHost = service.includes(".");
  }
}
