// `spec.direction` and `spec.destination`: where within a proxy a policy applies (model/scope.ts).
// A value the plugin cannot read exactly refuses the policy: a misspelled direction or a
// destination that silently meant "anywhere" would widen the experiment.
import { JsonValue } from "../json/index";
import { Destination, Direction } from "../model/scope";
import { didYouMean } from "../suggest/index";
import { asciiLower } from "../util/ascii";
import { anyOf, Diagnostics, show, unknownField } from "./diagnostics";
import { DESTINATION_FIELDS, DIRECTIONS } from "./fields";
import { MAX_CLUSTER_NAME_BYTES, MAX_DESTINATION_NAME_BYTES, reportTooLong } from "./limits";

/** `spec.direction`; Direction.Unset when absent, -1 after an error. */
export function parseDirection(v: JsonValue | null, where: string, diag: Diagnostics): i32 {
  if (v === null) return Direction.Unset;
  if (v.isString()) {
    const s = v.str;
    if (s == "inbound") return Direction.Inbound;
    if (s == "outbound") return Direction.Outbound;
    if (s == "any") return Direction.Any;
  }
  diag.error(where, "spec.direction", "must be inbound, outbound or any, got " + show(v) +
    (v.isString() ? didYouMean(asciiLower(v.str), DIRECTIONS) : ""));
  return -1;
}

/** `spec.destination`; null when absent. `ok` is false after an error. */
export class DestinationResult {
  constructor(
    public destination: Destination | null,
    public ok: bool,
  ) {}
}

const FAILED = new DestinationResult(null, false);
const ABSENT = new DestinationResult(null, true);

export function parseDestination(v: JsonValue | null, where: string, diag: Diagnostics): DestinationResult {
  if (v === null) return ABSENT;
  if (!v.isObject() || v.keys.length == 0) {
    diag.error(where, "spec.destination", "must be an object with at least one of " + DESTINATION_FIELDS.join(", ") + ", got " + show(v));
    return FAILED;
  }
  let service = "";
  let namespace = "";
  let port = 0;
  let subset = "";
  let cluster = "";
  let istioFields = 0;
  for (let k = 0; k < v.keys.length; k++) {
    const key = unchecked(v.keys[k]);
    const value = unchecked(v.values[k]);
    const field = "spec.destination." + key;
    if (!DESTINATION_FIELDS.includes(key)) {
      unknownField(diag, where, field, key, DESTINATION_FIELDS, anyOf(DESTINATION_FIELDS));
      return FAILED;
    }
    if (key == "port") {
      const p = parsePort(value, where, field, diag);
      if (p < 0) return FAILED;
      port = p;
      istioFields++;
      continue;
    }
    if (!value.isString() || value.str.length == 0) {
      diag.error(where, field, "must be a non-empty string (\"*\" for any), got " + show(value));
      return FAILED;
    }
    if (reportTooLong(diag, where, field, value, key == "cluster" ? MAX_CLUSTER_NAME_BYTES : MAX_DESTINATION_NAME_BYTES)) return FAILED;
    const text = value.str;
    if (key == "cluster") {
      if (text == "*") {
        diag.error(where, field, "names one Envoy cluster exactly; \"*\" is not a cluster (omit the field for any)");
        return FAILED;
      }
      cluster = text;
      continue;
    }
    istioFields++;
    const bad = badCharacter(text, key == "service");
    if (bad.length > 0) {
      diag.error(where, field, "must be " + (key == "service" ? "a service name or host name" : "a Kubernetes name") +
        " (\"*\" for any); " + bad + ", got " + show(value));
      return FAILED;
    }
    const any = text == "*";
    if (key == "service") service = any ? "" : asciiLower(text);
    else if (key == "namespace") namespace = any ? "" : asciiLower(text);
    else subset = any ? "" : text;
  }
  if (cluster.length > 0 && istioFields > 0) {
    diag.error(where, "spec.destination.cluster", "names a plain Envoy cluster exactly and cannot be combined with service, namespace, port or subset (those read Istio's cluster names)");
    return FAILED;
  }
  return new DestinationResult(new Destination(service, namespace, port, subset, cluster), true);
}

/** A port 1..65535 or "*" (0: any); -1 after an error. */
function parsePort(v: JsonValue, where: string, field: string, diag: Diagnostics): i32 {
  if (v.isString() && v.str == "*") return 0;
  if (v.isNumber() && v.isInteger && v.num >= 1 && v.num <= 65535) return <i32>v.num;
  diag.error(where, field, "must be a port number from 1 to 65535 (or \"*\" for any), got " + show(v));
  return -1;
}

/** Why `text` cannot appear in an Istio cluster name's field ("" when it can). */
function badCharacter(text: string, isHost: bool): string {
  if (text == "*") return "";
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c == 0x7f || c == 0x7c /* | */ || (!isHost && c == 0x2e /* . */) || c == 0x2f /* / */) {
      return "it contains " + (c == 0x20 ? "a space" : c < 0x20 || c == 0x7f ? "a control character" : "'" + String.fromCharCode(c) + "'");
    }
  }
  return "";
}
