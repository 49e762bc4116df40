// The plugin configuration as a whole: settings plus static policies. Parsed once per
// on_configure; a document that is not a configuration at all is refused as a whole, while
// problems inside it are reported and only the broken parts dropped.
import { JsonValue, parseJson } from "../json/index";
import { asciiLower } from "../util/ascii";
import { HeaderSlots } from "../match/request";
import { Policy } from "../model/policy";
import { Diagnostics, show } from "./diagnostics";
import { ParseLimits } from "./limits";
import { parsePolicies } from "./policies";
import { MAX_CONFIGURATION_BYTES, MAX_CONTROL_PLANE_FIELD_BYTES, MAX_HEADER_NAME_BYTES, MAX_METRIC_PREFIX_BYTES, reportTooLong, tooLong } from "./limits";
import { parseMatchList } from "./faults";
import { didYouMean } from "../suggest/index";
import { readSafetySettings } from "./safety-settings";
import {
  ControlPlaneSettings, controlPlaneFromAddress, DEFAULT_POLICIES_PATH, isHostName, LEGACY_DEFAULT_ADDRESS,
  logLevelFromName, parsePort, readObserveSetting, Settings,
} from "./settings";

export class Configuration {
  settings: Settings = new Settings();
  policies: Policy[] = [];
  /** Header slots of `policies` (their own: they go away with them). */
  slots: HeaderSlots = new HeaderSlots();
  diagnostics: Diagnostics = new Diagnostics();
}

export class ConfigurationResult {
  constructor(
    public configuration: Configuration | null,
    /** Why the whole configuration was refused; "" when it was accepted. */
    public error: string,
  ) {}
}

const WHERE = "configuration";

/** Longest text that may be a bare "host:port"; longer configurations are parsed as JSON. */
const MAX_ADDRESS_LENGTH = 300;

/** Parses a configuration of `size` bytes; over the size limit, `bytes` may be only its start. */
export function parseConfiguration(bytes: ArrayBuffer, size: u32 = bytes.byteLength): ConfigurationResult {
  if (size > <u32>MAX_CONFIGURATION_BYTES) {
    return new ConfigurationResult(null, "plugin configuration " + tooLong(size, MAX_CONFIGURATION_BYTES));
  }
  // Only a short configuration can be an address: decode that much, not a whole policy set.
  const text = bytes.byteLength <= MAX_ADDRESS_LENGTH ? String.UTF8.decode(bytes).trim() : firstCharacter(bytes);
  const config = new Configuration();
  if (text.length == 0) {
    // The earlier plugin polled its default control plane when given no configuration.
    config.settings.controlPlane = controlPlaneFromAddress(LEGACY_DEFAULT_ADDRESS);
    return new ConfigurationResult(config, "");
  }
  // A bare "host:port" was the earlier plugin's way to name its control plane.
  if (looksLikeAddress(text)) {
    const cp = controlPlaneFromAddress(text);
    if (cp !== null) {
      config.settings.controlPlane = cp;
      return new ConfigurationResult(config, "");
    }
  }
  const parsed = parseJson(bytes);
  const root = parsed.value;
  if (root === null) {
    const first = text.charCodeAt(0);
    if (first == 123 /* { */ || first == 91 /* [ */ || first == 34 /* " */) {
      return new ConfigurationResult(null, "plugin configuration is not valid JSON: " + parsed.error);
    }
    return new ConfigurationResult(null, "plugin configuration is neither a JSON object nor a host:port address: " + preview(bytes));
  }
  if (root.isString()) {
    const cp = looksLikeAddress(root.str) ? controlPlaneFromAddress(root.str) : null;
    if (cp === null) {
      return new ConfigurationResult(null, "plugin configuration string is not a host:port address: " + show(root));
    }
    config.settings.controlPlane = cp;
    return new ConfigurationResult(config, "");
  }
  if (!root.isObject()) {
    return new ConfigurationResult(null, "plugin configuration must be a JSON object, got " + show(root));
  }
  // Strict, as Envoy refuses unknown proto fields: a misspelled kill switch must never be ignored.
  // Any problem in the settings refuses the configuration: no default stands in for what was
  // asked. Every problem is named, each as `configuration: <setting>: <problem>`.
  readSettings(root, config, config.slots);
  const settingErrors = config.diagnostics.errors;
  if (settingErrors.length > 0) return new ConfigurationResult(null, settingErrors.join("; "));
  const policies = root.get("policies");
  if (policies !== null) {
    const limits = new ParseLimits();
    limits.maxDelayMs = config.settings.maxDelayMs;
    config.policies = parsePolicies(policies, config.slots, limits, config.diagnostics);
    if (config.diagnostics.refused.length > 0) {
      return new ConfigurationResult(null, config.diagnostics.refused);
    }
  }
  return new ConfigurationResult(config, "");
}

/** Every top-level key a configuration may have (for "did you mean"). */
const KNOWN_SETTINGS: string[] = [
  "policies", "enabled", "max_delay_ms", "max_active_faults", "policy_header", "mark_delayed_responses", "metric_prefix",
  "log_level", "control_plane", "control_plane_address", "poll_interval_ms", "max_fault_percentage",
  "mode", "max_labelled_policies", "exclude",
];
/** The JSON type each known setting must have, in KNOWN_SETTINGS order: b(oolean), n(umber),
 * s(tring), o(bject), a(rray), * (any: `policies` reports its own shape problems). One check
 * for all of them, before the setting is read. */
const SETTING_TYPES = "*bnnsbssosnnsna";

function hasType(v: JsonValue, type: i32): bool {
  if (type == 98 /* b */) return v.isBool();
  if (type == 110 /* n */) return v.isNumber();
  if (type == 115 /* s */) return v.isString();
  if (type == 111 /* o */) return v.isObject();
  if (type == 97 /* a */) return v.isArray();
  return true;
}

function typeName(type: i32): string {
  if (type == 98) return "true or false";
  if (type == 110) return "a number";
  if (type == 115) return "a string";
  if (type == 111) return "an object";
  return "an array of matches";
}
const KNOWN_CONTROL_PLANE: string[] = ["cluster", "authority", "address", "path", "poll_interval_ms", "timeout_ms", "lease_seconds"];

/** The problem of a key no configuration has. */
function unknownSetting(key: string, known: string[]): string {
  return "unknown setting" + didYouMean(key, known);
}

/** The problem of a known setting of the wrong JSON type. */
function wrongType(expected: string, v: JsonValue): string {
  return "must be " + expected + ", got " + show(v);
}

/** Reads the settings. Every problem goes to the diagnostics, each naming its setting: any
 * one refuses the configuration. */
function readSettings(root: JsonValue, config: Configuration, slots: HeaderSlots): void {
  const s = config.settings;
  const diag = config.diagnostics;
  let legacyAddress: JsonValue | null = null;
  let legacyInterval: JsonValue | null = null;
  for (let k = 0; k < root.keys.length; k++) {
    const key = unchecked(root.keys[k]);
    const value = unchecked(root.values[k]);
    const known = KNOWN_SETTINGS.indexOf(key);
    if (known < 0) {
      diag.error(WHERE, key, unknownSetting(key, KNOWN_SETTINGS));
      continue;
    }
    const type = SETTING_TYPES.charCodeAt(known);
    if (!hasType(value, type)) {
      diag.error(WHERE, key, wrongType(typeName(type), value));
      continue;
    }
    if (key == "policies") continue;
    if (key == "enabled") {
      s.enabled = value.bool;
    } else if (key == "max_delay_ms") {
      if (isWhole(value, 0, 86400000)) s.maxDelayMs = <i64>value.num;
      else diag.error(WHERE, "max_delay_ms", "must be a whole number of ms from 0 to 86400000, got " + show(value));
    } else if (key == "max_active_faults") {
      if (isWhole(value, 0, 1000000000)) s.maxActiveFaults = <i64>value.num;
      else diag.error(WHERE, "max_active_faults", "must be a whole number >= 0, got " + show(value));
    } else if (key == "policy_header") {
      if (reportTooLong(diag, WHERE, "policy_header", value, MAX_HEADER_NAME_BYTES)) continue;
      if (value.isString() && isHeaderNameOrEmpty(value.str)) s.policyHeader = asciiLower(value.str);
      else diag.error(WHERE, "policy_header", 'must be a header name, or "" to turn it off; got ' + show(value));
    } else if (key == "mark_delayed_responses") {
      s.markDelayedResponses = value.bool;
    } else if (key == "metric_prefix") {
      if (!reportTooLong(diag, WHERE, "metric_prefix", value, MAX_METRIC_PREFIX_BYTES)) s.metricPrefix = value.str;
    } else if (key == "log_level") {
      const level = value.isString() ? logLevelFromName(value.str) : -1;
      if (level >= 0) s.logLevel = level;
      else diag.error(WHERE, "log_level", "must be one of trace, debug, info, warn, error, critical; got " + show(value));
    } else if (key == "mode" || key == "max_labelled_policies") {
      readObserveSetting(key, value, s, diag);
    } else if (key == "exclude") {
      // A broken exclusion refuses the configuration (below): faulting what was meant to be
      // excluded is worse than faulting nothing.
      const list = parseMatchList(value, WHERE, "exclude", slots, diag);
      if (list !== null) s.exclude = list;
    } else if (key == "control_plane") {
      if (checkControlPlaneKeys(value, diag)) s.controlPlane = readControlPlane(value, diag);
    } else if (key == "control_plane_address") {
      legacyAddress = value;
    } else if (key == "poll_interval_ms") {
      legacyInterval = value;
    } else if (key == "max_fault_percentage") {
      readSafetySettings(value.num, s, diag);
    }
  }
  if (legacyAddress !== null && s.controlPlane === null) {
    const cp = legacyAddress.isString() ? controlPlaneFromAddress(legacyAddress.str) : null;
    if (cp === null) diag.error(WHERE, "control_plane_address", "must be \"host:port\", got " + show(legacyAddress));
    s.controlPlane = cp;
  }
  if (legacyInterval !== null) {
    const cp = s.controlPlane;
    if (!isWhole(legacyInterval, 100, 86400000)) {
      diag.error(WHERE, "poll_interval_ms", "must be a whole number of ms from 100 to 86400000, got " + show(legacyInterval));
    } else if (cp !== null && legacyAddress !== null) {
      cp.pollIntervalMs = <i64>legacyInterval.num;
    }
  }
}

/** Unknown or wrongly typed keys of `control_plane` (their values are checked later); true
 * when there are none. */
function checkControlPlaneKeys(v: JsonValue, diag: Diagnostics): bool {
  const before = diag.errors.length;
  for (let k = 0; k < v.keys.length; k++) {
    const key = unchecked(v.keys[k]);
    const value = unchecked(v.values[k]);
    const field = "control_plane." + key;
    if (!KNOWN_CONTROL_PLANE.includes(key)) {
      diag.error(WHERE, field, unknownSetting(key, KNOWN_CONTROL_PLANE));
      continue;
    }
    const numeric = key == "poll_interval_ms" || key == "timeout_ms" || key == "lease_seconds";
    if (numeric ? !value.isNumber() : !value.isString()) diag.error(WHERE, field, wrongType(numeric ? "a number" : "a string", value));
  }
  return diag.errors.length == before;
}

function readControlPlane(v: JsonValue, diag: Diagnostics): ControlPlaneSettings | null {
  const field = "control_plane";
  if (!v.isObject()) {
    diag.error(WHERE, field, "must be an object, got " + show(v));
    return null;
  }
  let cp = new ControlPlaneSettings();
  const address = v.get("address");
  if (address !== null) {
    const derived = address.isString() ? controlPlaneFromAddress(address.str) : null;
    if (derived === null) {
      diag.error(WHERE, field + ".address", "must be \"host:port\", got " + show(address));
      return null;
    }
    cp = derived;
  }
  for (let k = 0; k < v.keys.length; k++) {
    const key = unchecked(v.keys[k]);
    const value = unchecked(v.values[k]);
    if (key == "address") continue;
    if (value.isString() && reportTooLong(diag, WHERE, field + "." + key, value, MAX_CONTROL_PLANE_FIELD_BYTES)) return null;
    if (key == "cluster") {
      if (!value.isString() || value.str.length == 0) {
        diag.error(WHERE, field + ".cluster", "must be a non-empty Envoy cluster name, got " + show(value));
        return null;
      }
      cp.cluster = value.str;
    } else if (key == "authority") {
      if (!value.isString() || value.str.length == 0) {
        diag.error(WHERE, field + ".authority", "must be a non-empty host[:port], got " + show(value));
        return null;
      }
      cp.authority = value.str;
    } else if (key == "path") {
      if (!value.isString() || !value.str.startsWith("/")) {
        diag.error(WHERE, field + ".path", "must start with /, got " + show(value));
        return null;
      }
      cp.path = value.str;
    } else if (key == "poll_interval_ms") {
      if (!isWhole(value, 100, 86400000)) {
        diag.error(WHERE, field + ".poll_interval_ms", "must be a whole number of ms from 100 to 86400000, got " + show(value));
        return null;
      }
      cp.pollIntervalMs = <i64>value.num;
    } else if (key == "timeout_ms") {
      if (!isWhole(value, 1, 600000)) {
        diag.error(WHERE, field + ".timeout_ms", "must be a whole number of ms from 1 to 600000, got " + show(value));
        return null;
      }
      cp.timeoutMs = <i64>value.num;
    } else if (key == "lease_seconds") {
      if (!isWhole(value, 0, 31536000)) {
        diag.error(WHERE, field + ".lease_seconds", "must be whole seconds >= 0, got " + show(value));
        return null;
      }
      cp.leaseSeconds = <i64>value.num;
    }
  }
  if (cp.authority.length == 0 && cp.cluster.length > 0) {
    // Istio's outbound|<port>||<host> names the service; use it as the authority too.
    cp.authority = authorityFromIstioCluster(cp.cluster);
  }
  if (cp.cluster.length == 0 && cp.authority.length > 0) {
    const derived = controlPlaneFromAddress(cp.authority);
    if (derived !== null) cp.cluster = derived.cluster;
  }
  if (cp.cluster.length == 0 || cp.authority.length == 0) {
    diag.error(WHERE, field, "needs a cluster and an authority (or an address \"host:port\"), got " + show(v));
    return null;
  }
  if (cp.path.length == 0) cp.path = DEFAULT_POLICIES_PATH;
  return cp;
}

/** "outbound|8080||svc.ns.svc.cluster.local" → "svc.ns.svc.cluster.local:8080"; else "". */
function authorityFromIstioCluster(cluster: string): string {
  if (!cluster.startsWith("outbound|")) return "";
  const rest = cluster.substring(9);
  const bar = rest.indexOf("||");
  if (bar <= 0) return "";
  const host = rest.substring(bar + 2);
  if (!isHostName(host)) return "";
  return host + ":" + rest.substring(0, bar);
}

function isWhole(v: JsonValue, min: f64, max: f64): bool {
  return v.isNumber() && v.isInteger && v.num >= min && v.num <= max;
}

function isHeaderNameOrEmpty(name: string): bool {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const ok = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c == 45 || c == 95;
    if (!ok) return false;
  }
  return true;
}

/** The first character that is not white space, as a string ("" when there is none). */
function firstCharacter(bytes: ArrayBuffer): string {
  const base = changetype<usize>(bytes);
  for (let i = 0; i < bytes.byteLength; i++) {
    const c = load<u8>(base + <usize>i);
    if (c != 32 && c != 9 && c != 10 && c != 13) return String.fromCharCode(c);
  }
  return "";
}

/** "name:1234" — a host name, a colon and a port, nothing else. */
function looksLikeAddress(text: string): bool {
  const colon = text.lastIndexOf(":");
  if (colon <= 0 || colon == text.length - 1) return false;
  return isHostName(text.substring(0, colon)) && parsePort(text.substring(colon + 1)) > 0;
}

/** The start of a configuration, for an error message. */
function preview(bytes: ArrayBuffer): string {
  const n = bytes.byteLength;
  const shown = String.UTF8.decodeUnsafe(changetype<usize>(bytes), <usize>min(n, 80)).trim();
  return n <= 80 ? shown : shown + "...";
}
