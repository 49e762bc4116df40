// Who this proxy is, from Istio's node metadata. Envoy 1.33 and later answer it only as
// `xds.node.metadata.*` (envoyproxy/envoy#36619 removed the Wasm-only `node` attribute);
// before 1.30 `xds.node` did not answer during configuration (envoyproxy/envoy#32077). So
// `xds.node` is asked first and `node` only when it gives nothing.
import { getStringProperty } from "../glue/host";
import { ProxyKind } from "../model/scope";
import { Identity } from "./store";

export class IdentityLookup {
  constructor(
    public identity: Identity,
    /** Which property answered: "xds.node", "node", or "none" (not in Istio). */
    public source: string,
  ) {}
}

export function readIdentity(): IdentityLookup {
  const xds = fromNode(["xds", "node"]);
  if (xds !== null) return new IdentityLookup(xds, "xds.node");
  const node = fromNode(["node"]);
  if (node !== null) return new IdentityLookup(node, "node");
  return new IdentityLookup(new Identity("", "", "", ""), "none");
}

/** What kind of proxy an Istio node id names: its first field, `<type>~<ip>~<pod>~<domain>`
 * (istio/istio pilot/pkg/model/context.go, NodeType). */
export function proxyKindOf(nodeId: string): ProxyKind {
  const tilde = nodeId.indexOf("~");
  if (tilde < 0) return ProxyKind.Other;
  const type = nodeId.substring(0, tilde);
  if (type == "sidecar") return ProxyKind.Sidecar;
  if (type == "router") return ProxyKind.Gateway;
  if (type == "waypoint") return ProxyKind.Waypoint;
  return ProxyKind.Other;
}

/** The identity of the node under `prefix`, or null when neither its id nor its metadata is there. */
function fromNode(prefix: string[]): Identity | null {
  const nodeId = getStringProperty(prefix.concat(["id"]));
  const meta = prefix.concat(["metadata"]);
  const id = new Identity(
    getStringProperty(meta.concat(["WORKLOAD_NAME"])),
    getStringProperty(meta.concat(["NAMESPACE"])),
    getStringProperty(meta.concat(["LABELS", "app"])),
    getStringProperty(meta.concat(["LABELS", "service.istio.io/canonical-name"])),
    proxyKindOf(nodeId),
  );
  const any = nodeId.length + id.workloadName.length + id.namespace.length + id.appLabel.length + id.canonicalName.length > 0;
  return any ? id : null;
}
