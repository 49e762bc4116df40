// Plugin settings: everything in the plugin configuration besides the policies.
import { JsonValue } from "../json/index";
import { parseMode } from "./mode";
import { Diagnostics, show } from "./diagnostics";
import { Match, NO_MATCHES } from "../model/policy";

import { LogLevel } from "../log";
export { LogLevel } from "../log";

export const DEFAULT_CONTROL_PLANE_PORT: i32 = 8080;
export const DEFAULT_POLICIES_PATH = "/v1/policies";
export const DEFAULT_POLL_INTERVAL_MS: i64 = 30000;
export const DEFAULT_FETCH_TIMEOUT_MS: i64 = 5000;
/** What an empty configuration meant to the earlier plugin. */
export const LEGACY_DEFAULT_ADDRESS = "control-plane:8080";

export class ControlPlaneSettings {
  /** Envoy cluster the plugin calls (Istio: outbound|<port>||<host>). */
  cluster: string = "";
  /** :authority of the request. */
  authority: string = "";
  path: string = DEFAULT_POLICIES_PATH;
  pollIntervalMs: i64 = DEFAULT_POLL_INTERVAL_MS;
  timeoutMs: i64 = DEFAULT_FETCH_TIMEOUT_MS;
  /** Live policies are dropped when no poll succeeded for this long; 0 keeps them forever. */
  leaseSeconds: i64 = 0;

  /** Same endpoint and timing: an unchanged control-plane block keeps the poller's state. */
  sameAs(other: ControlPlaneSettings | null): bool {
    if (other === null) return false;
    return this.cluster == other.cluster && this.authority == other.authority && this.path == other.path &&
      this.pollIntervalMs == other.pollIntervalMs && this.timeoutMs == other.timeoutMs && this.leaseSeconds == other.leaseSeconds;
  }
}

export class Settings {
  /** false turns all injection off at once. */
  enabled: bool = true;
  maxDelayMs: i64 = 30000;
  /** When this many requests are already held, a new fault is skipped and counted. */
  maxActiveFaults: i64 = 10000;
  /** Response header naming the policy behind an injected fault; "" turns it off. */
  policyHeader: string = "x-hfi-policy";
  /** Add `x-fault-injected: delay` to responses of delayed requests. */
  markDelayedResponses: bool = true;
  /** Prepended to metric names, for hosts that do not add Envoy's `wasmcustom.` namespace. */
  metricPrefix: string = "";
  logLevel: LogLevel = LogLevel.Info;
  /** `mode: dry_run`: every policy matches and samples but injects nothing. */
  dryRun: bool = false;
  /** Policies beyond this many count under `hfi_policy="_other"` (docs/metrics.md). */
  maxLabelledPolicies: i32 = 200;
  controlPlane: ControlPlaneSettings | null = null;
  /** Requests matching one of these are never faulted by any policy. */
  exclude: Match[] = NO_MATCHES;
  /** Blast-radius cap: at most this percentage of all requests faulted, per proxy; < 0 = none. */
  maxFaultPercentage: f64 = -1;
}

export function logLevelFromName(name: string): i32 {
  if (name == "trace") return LogLevel.Trace;
  if (name == "debug") return LogLevel.Debug;
  if (name == "info") return LogLevel.Info;
  if (name == "warn" || name == "warning") return LogLevel.Warn;
  if (name == "error") return LogLevel.Error;
  if (name == "critical") return LogLevel.Critical;
  return -1;
}

/**
 * Control-plane settings from a "host:port" address: Istio's outbound cluster for it and the
 * address as :authority. Returns null if the address is malformed.
 */
export function controlPlaneFromAddress(address: string): ControlPlaneSettings | null {
  if (address.length == 0) return null;
  let host = address;
  let port = DEFAULT_CONTROL_PLANE_PORT;
  const colon = address.lastIndexOf(":");
  if (colon >= 0) {
    host = address.substring(0, colon);
    const digits = address.substring(colon + 1);
    const parsed = parsePort(digits);
    if (parsed < 0) return null;
    port = parsed;
  }
  if (!isHostName(host)) return null;
  const cp = new ControlPlaneSettings();
  cp.cluster = "outbound|" + port.toString() + "||" + host;
  cp.authority = host + ":" + port.toString();
  return cp;
}

export function parsePort(digits: string): i32 {
  if (digits.length == 0 || digits.length > 5) return -1;
  let value = 0;
  for (let i = 0; i < digits.length; i++) {
    const c = digits.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    value = value * 10 + (c - 48);
  }
  return value >= 1 && value <= 65535 ? value : -1;
}

export function isHostName(host: string): bool {
  if (host.length == 0 || host.length > 253) return false;
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    const ok = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c == 45 || c == 46 || c == 95;
    if (!ok) return false;
  }
  return true;
}

/** `mode` and `max_labelled_policies`; false when `key` is neither. A bad mode is an error and
 * leaves dry_run on: a typo in a switch meant to stop injecting must not inject. */
export function readObserveSetting(key: string, value: JsonValue, s: Settings, diag: Diagnostics): bool {
  if (key == "mode") {
    s.dryRun = parseMode(value, "configuration", "mode", diag) != 0;
  } else if (key == "max_labelled_policies") {
    if (value.isNumber() && value.isInteger && value.num >= 0 && value.num <= 100000) s.maxLabelledPolicies = <i32>value.num;
    else diag.error("configuration", key, "must be a whole number 0..100000, got " + show(value));
  } else {
    return false;
  }
  return true;
}
