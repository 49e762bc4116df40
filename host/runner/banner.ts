/**
 * What `make run` prints on start: where everything listens and, taken from the policies in
 * force, a curl line per rule that would trigger it, with the fault it should show.
 */
import type { NodeInfo } from "../index";
import { describeFault } from "../fault-words";
import { isObject } from "./plugin-source";

export interface TryLine {
  curl: string;
  note: string;
}

/**
 * The policies in force, as the plugin combines them: static ones (from the configuration)
 * unless the control plane serves one of the same name, then the control plane's.
 */
export function policiesInForce(staticPolicies: unknown[], live: unknown[]): Array<{ policy: unknown; origin: string }> {
  const liveNames = new Set(live.map(policyName));
  return [
    ...staticPolicies.filter((p) => !liveNames.has(policyName(p))).map((policy) => ({ policy, origin: "" })),
    ...live.map((policy) => ({ policy, origin: " (policy dir)" })),
  ];
}

function policyName(p: unknown): string {
  return isObject(p) && isObject(p.metadata) && typeof p.metadata.name === "string" ? p.metadata.name : "?";
}

/** One curl line per rule of the given policies (at most `limit`). */
export function tryLines(policies: Array<{ policy: unknown; origin: string }>, proxy: string, node: NodeInfo | undefined, limit = 10): TryLine[] {
  const lines: TryLine[] = [];
  for (const { policy, origin } of policies) {
    if (!isObject(policy) || !isObject(policy.spec) || !Array.isArray(policy.spec.rules)) continue;
    const name = policyName(policy);
    const elsewhere = selectorMismatch(policy.spec.selector, node);
    for (const rule of policy.spec.rules) {
      if (lines.length >= limit || !isObject(rule)) continue;
      const request = sampleRequest(isObject(rule.match) ? rule.match : {});
      const fault = isObject(rule.fault) ? faultNote(rule.fault) : "no fault";
      const note = `${name}${origin}: ${fault}${elsewhere ? ` (not here: ${elsewhere})` : ""}`;
      lines.push({ curl: `curl -i ${request.options}${proxy}${request.path}`.replace(/ {2,}/g, " "), note });
    }
  }
  return lines;
}

export function formatTryLines(lines: TryLine[]): string {
  const width = Math.min(60, Math.max(...lines.map((l) => l.curl.length)));
  return lines.map((l) => `  ${l.curl.padEnd(width)}  # ${l.note}`).join("\n");
}

/** The fault in words, with its percentage. */
function faultNote(f: Record<string, unknown>): string {
  const pct = typeof f.percentage === "number" ? f.percentage : 100;
  return `${describeFault(f)} (${pct}% of requests)`;
}

/** Why a selector does not match this node, or "" when it does. */
function selectorMismatch(selector: unknown, node: NodeInfo | undefined): string {
  if (!isObject(selector)) return "";
  const meta = node?.metadata ?? {};
  const want: Array<[string, unknown, unknown]> = [
    ["service", selector.service, meta.WORKLOAD_NAME],
    ["namespace", selector.namespace, meta.NAMESPACE],
  ];
  const off = want.filter(([, w, have]) => typeof w === "string" && w !== "" && w !== "*" && w !== have);
  return off.map(([k, w, have]) => `${k} ${String(w)}, this node has ${have === undefined ? "none" : String(have)}`).join("; ");
}

/** A request that satisfies a Match: curl options (with a trailing space) and the path. */
export function sampleRequest(match: Record<string, unknown>): { options: string; path: string } {
  let options = "";
  const method = sampleString(match.method);
  if (method !== undefined && method !== "GET") options += `-X ${method} `;
  if (Array.isArray(match.headers)) {
    for (const h of match.headers) {
      if (!isObject(h) || typeof h.name !== "string") continue;
      const value = sampleString(h) ?? "x";
      options += `-H '${h.name}: ${value}' `;
    }
  }
  let path = sampleString(match.path, "/") ?? "/";
  if (!path.startsWith("/")) path = "/" + path;
  return { options, path };
}

/** A value an exact / prefix / regex StringMatch accepts (undefined when there is no match). */
function sampleString(m: unknown, prefixTail = ""): string | undefined {
  if (!isObject(m)) return undefined;
  if (typeof m.exact === "string") return m.exact;
  if (typeof m.prefix === "string") return m.prefix.endsWith("/") ? m.prefix + "example" : m.prefix + prefixTail.slice(1);
  if (typeof m.regex === "string") return sampleRegex(m.regex) ?? m.regex;
  return undefined;
}

/** A string matching a simple regex (literals, escapes, classes, quantifiers), else undefined. */
export function sampleRegex(re: string): string | undefined {
  let out = "";
  let i = 0;
  if (re.startsWith("^")) i++;
  while (i < re.length) {
    const c = re[i];
    let piece: string;
    if (c === "$" && i === re.length - 1) break;
    if (c === "\\") {
      const e = re[i + 1];
      piece = e === "d" ? "1" : e === "w" ? "a" : e === "s" ? " " : e ?? "";
      i += 2;
    } else if (c === "[") {
      const end = re.indexOf("]", i + 1);
      if (end < 0 || re[i + 1] === "^") return undefined;
      piece = re[i + 1] === "\\" ? (re[i + 2] === "d" ? "1" : re[i + 2]) : re[i + 1];
      i = end + 1;
    } else if (c === ".") {
      piece = "a";
      i++;
    } else if ("()|".includes(c)) {
      return undefined;
    } else {
      piece = c;
      i++;
    }
    const q = re[i];
    if (q === "*" || q === "?") {
      piece = "";
      i++;
    } else if (q === "+") {
      i++;
    } else if (q === "{") {
      const m = /^\{(\d+)(,\d*)?\}/.exec(re.slice(i));
      if (!m) return undefined;
      piece = piece.repeat(Number(m[1]));
      i += m[0].length;
    }
    out += piece;
  }
  return out;
}
