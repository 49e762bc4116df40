/**
 * Istio VirtualService habits, recognised where the plugin reports the field, and said in the
 * user's terms instead of a generic "unknown field". The plugin's own message stays available
 * (validate --format json keeps it as pluginMessage).
 */
import { isObject, type PathSegment } from "./sources";

const VS_ONLY_MATCH_FIELDS = ["queryParams", "sourceLabels", "sourceNamespace", "ignoreUriCase", "scheme", "authority", "port", "gateways", "withoutHeaders", "name", "statPrefix"];
const GRPC_CODES = ["OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"];

/** Milliseconds of a protobuf-style duration ("1.5s", "500ms", "2m"); undefined if not one. */
export function durationMs(text: unknown): number | undefined {
  if (typeof text !== "string") return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(text);
  if (!m) return undefined;
  const scale = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as "ms" | "s" | "m" | "h"];
  return Math.round(Number(m[1]) * scale);
}

function get(value: unknown, p: PathSegment[]): unknown {
  let v = value;
  for (const s of p) {
    if (Array.isArray(v) && typeof s === "number") v = v[s];
    else if (isObject(v) && typeof s === "string") v = v[s];
    else return undefined;
  }
  return v;
}

/**
 * A hint for the problem at `fieldPath` (relative to the policy `policy`), or undefined.
 * `fieldPath` ends with the field the plugin named.
 */
export function istioHint(policy: unknown, fieldPath: PathSegment[]): string | undefined {
  const key = fieldPath[fieldPath.length - 1];
  const parentKey = fieldPath[fieldPath.length - 2];
  const value = get(policy, fieldPath);
  const yamlValue = JSON.stringify(value);

  if (key === "fixedDelay") {
    const ms = durationMs(value);
    return `Istio VirtualService's fixedDelay; HFI writes the delay in milliseconds: fixed_delay_ms: ${ms ?? "<ms>"}`;
  }
  if (key === "exponentialDelay") return "Istio's exponentialDelay has no HFI equivalent; use fixed_delay_ms";
  if ((key === "percentage" || key === "percent") && (parentKey === "abort" || parentKey === "delay")) {
    const n = isObject(value) ? value.value : value;
    return `in a VirtualService the percentage sits inside ${parentKey}; HFI has one fault.percentage for the rule: percentage: ${typeof n === "number" ? n : "<0-100>"}`;
  }
  if (key === "percentage" && isObject(value) && "value" in value) {
    return `Istio VirtualService's percentage: {value: ${JSON.stringify(value.value)}}; HFI takes a plain number: percentage: ${JSON.stringify(value.value)}`;
  }
  if (key === "http2Error") return "Istio's abort.http2Error has no HFI equivalent; use httpStatus (or grpcStatus)";
  if (key === "grpcStatus" && typeof value === "string") {
    const code = GRPC_CODES.indexOf(value.toUpperCase());
    return `Istio writes gRPC codes by name; HFI takes the number: grpcStatus: ${code >= 0 ? code : "<0-16>"}`;
  }
  if (parentKey === "match" && key === "uri") {
    const kind = isObject(value) ? Object.keys(value)[0] : undefined;
    const v = isObject(value) && kind ? JSON.stringify(value[kind]) : '"/..."';
    return `Istio VirtualService's uri is HFI's path: path: {${kind ?? "prefix"}: ${v}}`;
  }
  if (parentKey === "match" && typeof key === "string" && VS_ONLY_MATCH_FIELDS.includes(key)) {
    return `Istio VirtualService's match.${key} has no HFI equivalent; HFI matches method, path and headers`;
  }
  if (key === "headers" && parentKey === "match" && isObject(value)) {
    const [name, cond] = Object.entries(value)[0] ?? ["x-header", { exact: "value" }];
    const c = isObject(cond) ? Object.entries(cond)[0] : undefined;
    return `Istio VirtualService's headers is a map; HFI takes a list: headers: [{name: ${name}${c ? `, ${c[0]}: ${JSON.stringify(c[1])}` : ""}}]`;
  }
  if ((key === "method" || key === "path") && parentKey === "match" && typeof value === "string") {
    return `a condition is an object: ${key}: {${key === "method" ? "exact" : "prefix"}: ${yamlValue}}`;
  }
  if (key === "match" && Array.isArray(value)) {
    return "Istio VirtualService's match is a list of alternatives; an HFI rule has one match object (write one rule per alternative)";
  }
  if (typeof parentKey === "number" && typeof key === "string" && ["route", "timeout", "retries", "mirror", "redirect", "rewrite"].includes(key)) {
    return `${key} belongs to an Istio VirtualService http route; an HFI rule has only match and fault`;
  }
  if (typeof parentKey === "number" && (key === "abort" || key === "delay")) {
    return `${key} belongs inside the rule's fault (as in a VirtualService's http[].fault): fault: {percentage: <0-100>, ${key}: {...}}`;
  }
  if (parentKey === "abort" && typeof key === "string" && key !== "httpStatus" && /^http_?status$/i.test(key)) {
    return "the field is httpStatus (camelCase, as in a VirtualService)";
  }
  if (parentKey === "delay" && typeof key === "string" && key !== "fixed_delay_ms" && /^fixed_?delay(_?ms)?$/i.test(key)) {
    return `the field is fixed_delay_ms, a whole number of milliseconds: fixed_delay_ms: ${durationMs(value) ?? (typeof value === "number" ? value : "<ms>")}`;
  }
  if (parentKey === "fault" && key === "percent") {
    return `Istio's old percent field; HFI writes percentage: ${typeof value === "number" ? value : "<0-100>"}`;
  }
  if (key === "http" && parentKey === "spec") return "Istio VirtualService's spec.http[]; HFI's rules are spec.rules[] with match and fault";
  return undefined;
}
