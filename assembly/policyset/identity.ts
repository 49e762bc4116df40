// Who this proxy is, from Istio's node metadata. Envoy 1.33 and later answer it only as
// `xds.node.metadata.*` (envoyproxy/envoy#36619 removed the Wasm-only `node` attribute);
// before 1.30 `xds.node` did not answer during configuration (envoyproxy/envoy#32077). So
// `xds.node` is asked first and `node` only when it gives nothing.
import { getStringProperty } from "../glue/host";
import { Identity } from "./store";

export class IdentityLookup {
  constructor(
    public identity: Identity,
    /** Which property answered: "xds.node", "node", or "none" (not in Istio). */
    public source: string,
  ) {}
}

export function readIdentity(): IdentityLookup {
  const xds = fromMetadata(["xds", "node", "metadata"]);
  if (xds !== null) return new IdentityLookup(xds, "xds.node");
  const node = fromMetadata(["node", "metadata"]);
  if (node !== null) return new IdentityLookup(node, "node");
  return new IdentityLookup(new Identity("", "", "", ""), "none");
}

/** The identity under `prefix`, or null when none of its fields is there. */
function fromMetadata(prefix: string[]): Identity | null {
  const id = new Identity(
    getStringProperty(prefix.concat(["WORKLOAD_NAME"])),
    getStringProperty(prefix.concat(["NAMESPACE"])),
    getStringProperty(prefix.concat(["LABELS", "app"])),
    getStringProperty(prefix.concat(["LABELS", "service.istio.io/canonical-name"])),
  );
  const any = id.workloadName.length + id.namespace.length + id.appLabel.length + id.canonicalName.length > 0;
  return any ? id : null;
}
