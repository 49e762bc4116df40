/**
 * Host options and the small builders that make them read well in tests.
 */
import type { Clock } from "./clock";
import type { Log, LogLevelName } from "./log";
import type { StatsStore } from "./metrics";
import type { SharedState } from "./shared-data";
import type { NodeInfo, PropertyMode, PropertyValue } from "./properties";
import type { ClusterHandler } from "./http-call";
import type { HostObserver } from "./observer";

export type FailStrategy = "open" | "closed";

/** Options for one VM (one Envoy worker thread running the module). */
export interface VmOptions {
  /** Time source for ticks, HTTP-call replies and timeouts. Default: a new TestClock. */
  clock?: Clock;
  /** Envoy's log level: module messages below it are dropped (still counted). Default "info". */
  logLevel?: LogLevelName;
  /** Lean mode for benchmarks: no log collection, no callback trace. */
  lean?: boolean;
  /** A log shared with other VMs (Envoy has one log for the worker VMs and the canary). Default:
   * a new one at `logLevel`. */
  log?: Log;
  /** This VM's name in a shared log and in observations ("canary", "worker0", ...). */
  label?: string;
  /** Hooks that see what the host does (observer.ts); for comparing hosts. */
  observer?: HostObserver;
  /** What streams do once the VM has failed: "open" passes traffic untouched, "closed"
   * (Istio's default FAIL_CLOSE) answers 503. Default "closed". */
  failStrategy?: FailStrategy;
  /** Stats shared by every VM that should add up (Envoy's stats store). Default: a new one. */
  stats?: StatsStore;
  /** Shared data and queues (shared by VMs with the same vmId). Default: a new one. */
  shared?: SharedState;
  /** Envoy vm_config.vm_id (Istio leaves it empty). */
  vmId?: string;
  /** vm_config.configuration, handed to proxy_on_vm_start. */
  vmConfiguration?: string | Uint8Array;
  /** vm_config.environment_variables, visible through WASI environ_get. */
  env?: Record<string, string>;
  /** Node identity and metadata. Absent outside Istio. Which paths answer it (`node.*`,
   * `xds.node.*` or both) is `propertyMode`'s choice. */
  node?: NodeInfo;
  /** Which generation of Envoy's property lookup to model for the node (see properties.ts):
   * "legacy" (default): `node.*` only, as cpphost-run's default;
   * "both": `node.*` and `xds.node.*` (Envoy 1.30 to 1.32);
   * "xds": `xds.node.*` only, no top-level `node` (Envoy 1.33+, Istio 1.25+; envoy#36619);
   * "pre-1.30": `node.*`; `xds.node.*` only from stream contexts, never from a root context
   * (configuration, ticks, call responses), as before envoy#32077. */
  propertyMode?: PropertyMode;
  /** Extra top-level properties (e.g. { xds: { cluster_name: "..." } }). */
  properties?: Record<string, PropertyValue>;
  /** Upstream clusters proxy_http_call may name, by cluster name. */
  clusters?: Record<string, ClusterHandler>;
  /** Envoy's `allow_on_headers_stop_iteration` knob (off by default): when off, StopIteration
   * from on_*_headers is turned into StopAllIterationAndWatermark, so no body callbacks arrive
   * until the stream is continued (proxy-wasm-cpp-host since 2020). */
  allowOnHeadersStopIteration?: boolean;
}

/** One plugin (Envoy "plugin config"): a root context inside a VM. */
export interface PluginOptions {
  /** Root id (Istio: WasmPlugin spec.pluginName; empty by default). */
  rootId?: string;
  /** Plugin name (property plugin_name). */
  name?: string;
  /** Plugin configuration handed to proxy_on_configure; objects are JSON-encoded. */
  configuration?: string | Uint8Array | object;
}

/** Per-stream connection facts (source/destination properties). */
export interface StreamOptions {
  protocol?: string;
  sourceAddress?: string;
  destinationAddress?: string;
  connectionId?: number;
  /** Where the request goes, as Envoy answers it under `xds.*` for this stream (targets.ts
   * builds them as each kind of proxy reports them). */
  traffic?: Traffic;
  /** Any other attributes of this stream, answered before the VM's (top-level name → value;
   * objects are merged into the VM's), as cpphost-run's per-request `properties`. */
  properties?: Record<string, PropertyValue>;
}

/** The per-request `xds` attributes Envoy answers from the listener and the route
 * (source/extensions/filters/common/expr/context.cc, XDSLookupValues). */
export interface Traffic {
  /** The listener's traffic_direction: 0 unspecified, 1 inbound, 2 outbound. */
  listenerDirection?: number;
  /** The upstream cluster the route chose; absent when no route matched (NotFound). */
  clusterName?: string;
  clusterMetadata?: PropertyValue;
  routeName?: string;
  virtualHostName?: string;
}

export function configurationBytes(c: PluginOptions["configuration"] | VmOptions["vmConfiguration"]): Uint8Array {
  if (c === undefined) return new Uint8Array(0);
  if (typeof c === "string") return Buffer.from(c, "utf8");
  if (c instanceof Uint8Array) return c;
  return Buffer.from(JSON.stringify(c), "utf8");
}
