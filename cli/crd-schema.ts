/**
 * Checks Kubernetes objects against the CRDs' own schemas, as the API server does on
 * `kubectl apply` with strict field validation: the `openAPIV3Schema` of the CRD (types, enums,
 * patterns, required fields), fields the schema does not define (unless it preserves unknown
 * fields there), and the CEL rules of `x-kubernetes-validations`.
 *
 * The CRDs are vendored in k8s/schemas/, each with its origin and version in
 * k8s/schemas/ORIGIN.md: Istio's TrafficExtension, WasmPlugin and EnvoyFilter, Envoy Gateway's
 * EnvoyExtensionPolicy, Gateway API's Gateway.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import { Environment } from "@marcbachmann/cel-js";
import { parseAllDocuments } from "yaml";
import { REPO_ROOT } from "./engine";

export const SCHEMA_DIR = path.join(REPO_ROOT, "k8s", "schemas");

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

type Schema = { [key: string]: unknown };

interface Known {
  kind: string;
  schema: Schema;
  /** Compiled when first asked for: the CRDs are large (Envoy Gateway's EnvoyProxy is 1.4 MB). */
  compiled?: ValidateFunction;
}

/** One CRD document of k8s/schemas: its group and kind found in its text, its versions' schemas
 * read when that group and kind is first asked for (reading all of them takes half a second,
 * most of it Envoy Gateway's EnvoyProxy, which a WasmPlugin never needs). */
interface CrdText {
  group: string;
  kind: string;
  text: string;
  versions?: Map<string, Known>;
}

let texts: CrdText[] | undefined;
let ajv: Ajv | undefined;

function crdTexts(): CrdText[] {
  if (texts) return texts;
  texts = [];
  for (const file of readdirSync(SCHEMA_DIR).filter((f) => f.endsWith(".yaml")).sort()) {
    for (const text of readFileSync(path.join(SCHEMA_DIR, file), "utf8").split(/^---[ \t]*$/m)) {
      // spec.group and spec.names.kind, at their indents in a CRD as Kubernetes writes it.
      const group = /^ {2}group: (\S+)$/m.exec(text)?.[1];
      const kind = /^ {4}kind: (\S+)$/m.exec(text)?.[1];
      if (group !== undefined && kind !== undefined && /^kind: CustomResourceDefinition$/m.test(text)) texts.push({ group, kind, text });
    }
  }
  return texts;
}

/** The versions of one CRD document, read from its YAML; the group and kind must be the ones
 * its text was filed under. */
function versionsOf(crd: CrdText): Map<string, Known> {
  if (crd.versions) return crd.versions;
  const doc = parseAllDocuments(crd.text)[0].toJSON() as Schema;
  const spec = doc.spec as { group: string; names: { kind: string }; versions: Array<{ name: string; schema?: { openAPIV3Schema?: Schema } }> };
  if (spec.group !== crd.group || spec.names.kind !== crd.kind) {
    throw new Error(`k8s/schemas: a CRD filed as ${crd.group} ${crd.kind} is ${spec.group} ${spec.names.kind}`);
  }
  const versions = new Map<string, Known>();
  for (const v of spec.versions) {
    const schema = v.schema?.openAPIV3Schema;
    if (schema) versions.set(v.name, { kind: crd.kind, schema });
  }
  return (crd.versions = versions);
}

/** The schema of group/version/kind, or undefined when k8s/schemas has none. */
function schemaOf(group: string, version: string, kind: string): Known | undefined {
  for (const crd of crdTexts()) {
    if (crd.group === group && crd.kind === kind) return versionsOf(crd).get(version);
  }
  return undefined;
}

function validatorOf(crd: Known): ValidateFunction {
  ajv ??= new Ajv({ allErrors: true, strict: false, validateFormats: false });
  return (crd.compiled ??= ajv.compile(closed(crd.schema)));
}

/**
 * The schema with every object that lists its properties closed to others (the API server
 * rejects unknown fields under strict validation), except where the schema preserves unknown
 * fields or gives additionalProperties itself. `metadata` is left to the API server's own rules.
 */
function closed(schema: Schema, atRoot = true): Schema {
  const out: Schema = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === "description") continue;
    if (k === "properties" && v && typeof v === "object") {
      const props: Schema = {};
      for (const [name, sub] of Object.entries(v as Schema)) {
        props[name] = atRoot && name === "metadata" ? { type: "object" } : closed(sub as Schema, false);
      }
      out.properties = props;
    } else if ((k === "items" || k === "additionalProperties" || k === "not") && v && typeof v === "object") {
      out[k] = closed(v as Schema, false);
    } else if ((k === "allOf" || k === "anyOf" || k === "oneOf") && Array.isArray(v)) {
      out[k] = v.map((s) => closed(s as Schema, false));
    } else {
      out[k] = v;
    }
  }
  if (out.properties && out["x-kubernetes-preserve-unknown-fields"] !== true && out.additionalProperties === undefined) {
    out.additionalProperties = false;
  }
  if (atRoot && out.properties) {
    // apiVersion, kind and metadata are every object's.
    out.properties = { apiVersion: { type: "string" }, kind: { type: "string" }, metadata: { type: "object" }, ...(out.properties as Schema) };
  }
  return out;
}

/** "/spec/targetRefs/0/kind" -> "spec.targetRefs[0].kind" */
function dotted(pointer: string): string {
  const segments = pointer.split("/").slice(1).map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
  return segments.reduce((acc, s) => (/^\d+$/.test(s) ? `${acc}[${s}]` : acc ? `${acc}.${s}` : s), "") || "(root)";
}

function describe(e: ErrorObject, kind: string): string {
  if (e.keyword === "additionalProperties") {
    const field = (e.params as { additionalProperty: string }).additionalProperty;
    const at = dotted(e.instancePath);
    return `${at === "(root)" ? field : `${at}.${field}`}: unknown field (not in the ${kind} schema)`;
  }
  if (e.keyword === "enum") return `${dotted(e.instancePath)}: ${e.message}: ${(e.params as { allowedValues: unknown[] }).allowedValues.join(", ")}`;
  return `${dotted(e.instancePath)}: ${e.message}`;
}

/** The CEL rules along the object, evaluated where the value is present (as the API server does). */
function celProblems(schema: Schema, value: unknown, at: string, out: string[]): void {
  if (value === undefined || value === null) return;
  const rules = schema["x-kubernetes-validations"] as Array<{ rule: string; message?: string }> | undefined;
  for (const r of rules ?? []) {
    let ok: unknown;
    try {
      ok = cel().evaluate(r.rule, { self: toCel(value) });
    } catch (e) {
      out.push(`${at || "(root)"}: the CRD's rule ${JSON.stringify(r.rule)} could not be evaluated here: ${(e as Error).message}`);
      continue;
    }
    if (ok !== true) out.push(`${at || "(root)"}: ${r.message ?? `fails the rule ${r.rule}`}`);
  }
  const props = schema.properties as Schema | undefined;
  if (props && value && typeof value === "object" && !Array.isArray(value)) {
    for (const [k, sub] of Object.entries(props)) {
      celProblems(sub as Schema, (value as Schema)[k], at ? `${at}.${k}` : k, out);
    }
  }
  const items = schema.items as Schema | undefined;
  if (items && Array.isArray(value)) value.forEach((v, i) => celProblems(items, v, `${at}[${i}]`, out));
  const extra = schema.additionalProperties as Schema | undefined;
  if (extra && typeof extra === "object" && value && typeof value === "object" && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value as Schema)) celProblems(extra, v, `${at}.${k}`, out);
  }
}

/** A URL as Kubernetes' CEL URL library sees it (k8s.io/apiserver/pkg/cel/library/urls.go): what
 * Go's url.ParseRequestURI accepts, an absolute URI or an absolute path. */
class KubeUrl {
  constructor(readonly scheme: string, readonly host: string, readonly hostname: string, readonly port: string, readonly path: string, readonly query: string) {}

  static parse(s: string): KubeUrl | undefined {
    if (s.startsWith("/")) return new KubeUrl("", "", "", "", s.split("?")[0], "");
    if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(s) || /\s/.test(s)) return undefined;
    try {
      const u = new URL(s);
      return new KubeUrl(u.protocol.slice(0, -1).toLowerCase(), u.host, u.hostname, u.port, u.pathname, u.search.replace(/^\?/, ""));
    } catch {
      return undefined;
    }
  }
}

let environment: Environment | undefined;

/** CEL with the Kubernetes library functions the vendored CRDs' rules use. */
function cel(): Environment {
  if (environment) return environment;
  const env = new Environment({ unlistedVariablesAreDyn: true, homogeneousAggregateLiterals: false });
  env.registerType("URL", KubeUrl);
  env.registerFunction("isURL(string): bool", (s: string) => KubeUrl.parse(s) !== undefined);
  env.registerFunction("url(string): URL", (s: string) => {
    const u = KubeUrl.parse(s);
    if (!u) throw new Error(`URL parse error during conversion from string: ${s}`);
    return u;
  });
  for (const [name, get] of [
    ["getScheme", (u: KubeUrl) => u.scheme], ["getHost", (u: KubeUrl) => u.host], ["getHostname", (u: KubeUrl) => u.hostname],
    ["getPort", (u: KubeUrl) => u.port], ["getEscapedPath", (u: KubeUrl) => u.path], ["getQuery", (u: KubeUrl) => u.query],
  ] as const) {
    env.registerFunction({ name, receiverType: "URL", returnType: "string", handler: get, params: [] });
  }
  return (environment = env);
}

/** JSON as CEL sees it: whole numbers are integers (CEL's int), as the API server decodes them. */
function toCel(v: unknown): unknown {
  if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
  if (Array.isArray(v)) return v.map(toCel);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toCel(x)]));
  return v;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Problems with one object, each naming the path of the field; empty when the API server would accept it. */
export function validateKubeObject(obj: KubeObject): string[] {
  const [group, version] = String(obj.apiVersion ?? "").includes("/") ? String(obj.apiVersion).split("/") : ["", String(obj.apiVersion ?? "")];
  const crd = schemaOf(group, version, String(obj.kind));
  if (!crd) return [`(root): no schema in k8s/schemas for ${obj.apiVersion} ${obj.kind}`];
  const problems: string[] = [];
  const name = obj.metadata?.name;
  if (typeof name !== "string" || name.length === 0 || name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    problems.push(`metadata.name: must be a DNS subdomain (lower case, at most 253 characters), got ${JSON.stringify(name)}`);
  }
  const namespace = obj.metadata?.namespace;
  if (namespace !== undefined && (typeof namespace !== "string" || namespace.length > 63 || !DNS_LABEL.test(namespace))) {
    problems.push(`metadata.namespace: must be a DNS label, got ${JSON.stringify(namespace)}`);
  }
  const validate = validatorOf(crd);
  if (!validate(obj)) {
    for (const e of validate.errors ?? []) {
      // oneOf/anyOf branches each fail their own way: report the summary line only.
      if (e.schemaPath.includes("/oneOf/") || e.schemaPath.includes("/anyOf/")) continue;
      problems.push(describe(e, crd.kind));
    }
  }
  if (problems.length === 0) celProblems(crd.schema, obj, "", problems);
  return [...new Set(problems)];
}

/** The kinds k8s/schemas can check, as "group/version/Kind". */
export function knownKinds(): string[] {
  return crdTexts().flatMap((crd) => [...versionsOf(crd).keys()].map((v) => `${crd.group}/${v}/${crd.kind}`));
}
