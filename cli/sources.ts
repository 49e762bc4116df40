/**
 * Input files as `hfi` reads them: every YAML/JSON document of every file (directories give
 * their *.yaml, *.yml and *.json files), each turned into a plugin configuration with a way back
 * from a field path to the line and column where the user wrote it. One bad document is a
 * problem of its own; the other documents still load.
 *
 * The forms, as the runner and the proxy take them (host/runner/plugin-source.ts reads the
 * bootstrap and WasmPlugin forms; hfi uses it for those):
 *   a policy, a list of policies, or {"policies": [...]} without settings   (hfi-cli's form)
 *   a plugin configuration {"policies": [...], "max_delay_ms": ..., ...}
 *   an Istio WasmPlugin (spec.pluginConfig)
 *   an Envoy bootstrap such as envoy/envoy.yaml (the Wasm filter's configuration StringValue)
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";
import { parsePluginSource, WASM_FILTER_TYPE } from "../host/runner/plugin-source";
import type { NodeInfo } from "../host/index";
import { CliError } from "./errors";

export type PathSegment = string | number;

export interface Position {
  file: string;
  line: number;
  column: number;
}

/** Where a field path (relative to some root) was written. */
export type Locate = (fieldPath: PathSegment[]) => Position;

export interface PolicyInput {
  /** The policy as JSON data. */
  value: unknown;
  /** Positions of its fields (paths relative to the policy). */
  locate: Locate;
  /** Its path in the document ([] for a policy document, ["policies", 2] in a configuration). */
  prefix: PathSegment[];
}

export type SourceKind = "policies" | "plugin-configuration" | "wasm-plugin" | "envoy-bootstrap";

/** One document that is (or holds) a plugin configuration. */
export interface ConfigurationInput {
  file: string;
  /** 1-based document number within the file. */
  document: number;
  kind: SourceKind;
  /** Where the document (or the embedded configuration) begins. */
  at: Position;
  /**
   * The configuration's settings (everything but `policies`) when it is a JSON object; for bare
   * policy documents an empty object. Undefined when the configuration is not an object (an
   * address string, text that is not JSON): `raw` is then judged as a whole.
   */
  settings?: Record<string, unknown>;
  /** The `policies` value when it is present but not a list (the plugin reports it). */
  policiesValue?: unknown;
  policies: PolicyInput[];
  /** The configuration text exactly as the proxy would hand it to the plugin. */
  raw: string;
  /** Positions of settings fields (paths relative to the configuration). */
  locate: Locate;
  rootId: string;
  node?: NodeInfo;
}

/** A document hfi could not read, with where and why. */
export interface SourceProblem {
  at: Position;
  /** Default error. */
  severity?: "error" | "warning";
  field: string;
  message: string;
}

export interface LoadedSources {
  configurations: ConfigurationInput[];
  problems: SourceProblem[];
  /** Files read, in order. */
  files: string[];
}

const INPUT_FILE = /\.(ya?ml|json)$/i;
const DEFAULT_ROOT_ID = "hfi-fault-injection";

/** Expands directories (their *.yaml/*.yml/*.json files, sorted, not recursive). */
export function expandPaths(paths: string[]): string[] {
  const files: string[] = [];
  for (const p of paths) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      throw new CliError(`${p}: no such file or directory`);
    }
    if (!isDir) {
      files.push(p);
      continue;
    }
    const names = readdirSync(p, { withFileTypes: true })
      .filter((e) => e.isFile() && !e.name.startsWith(".") && INPUT_FILE.test(e.name))
      .map((e) => e.name)
      .sort();
    if (names.length === 0) throw new CliError(`${p}: no .yaml, .yml or .json files in this directory`);
    files.push(...names.map((n) => path.join(p, n)));
  }
  return files;
}

export function loadSources(paths: string[]): LoadedSources {
  const out: LoadedSources = { configurations: [], problems: [], files: [] };
  for (const file of expandPaths(paths)) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      throw new CliError(`${file}: ${(e as Error).message}`);
    }
    out.files.push(file);
    loadText(text, file, out);
  }
  return out;
}

/**
 * Splits a file into its documents at `---` / `...` lines (a document marker always starts a
 * line), so a document with a syntax error (an unclosed `{`) cannot swallow the ones after it.
 */
function documentChunks(text: string): Array<{ text: string; firstLine: number }> {
  const lines = text.split("\n");
  const chunks: Array<{ text: string; firstLine: number }> = [];
  let start = 0;
  for (let i = 1; i <= lines.length; i++) {
    if (i === lines.length || /^(---|\.\.\.)(\s|$)/.test(lines[i])) {
      chunks.push({ text: lines.slice(start, i).join("\n"), firstLine: start + 1 });
      start = i;
    }
  }
  return chunks;
}

/** Reads every document of one file's text into `out`. */
export function loadText(text: string, file: string, out: LoadedSources): void {
  let number = 0;
  for (const chunk of documentChunks(text)) {
    const lineCounter = new LineCounter();
    const doc = parseDocument(chunk.text, { lineCounter, prettyErrors: false });
    if (doc.contents === null && doc.errors.length === 0) continue; // only comments or a marker
    number++;
    const pos = (offset: number): Position => {
      const p = lineCounter.linePos(offset);
      return { file, line: chunk.firstLine + p.line - 1, column: p.col };
    };
    const docText = chunk.text;
    if (doc.errors.length > 0) {
      const e = doc.errors[0];
      out.problems.push({ at: pos(e.pos[0]), field: "(document)", message: `not valid ${/\.json$/i.test(file) ? "JSON" : "YAML"}: ${firstLine(e.message)}` });
      continue;
    }
    const value = doc.toJS({ maxAliasCount: 100 }) as unknown;
    if (value === null || value === undefined) continue; // an empty document (a trailing ---)
    const locate = locator(doc, pos, []);
    const docAt = doc.contents ? pos(doc.contents.range[0]) : { file, line: 1, column: 1 };
    const base = { file, document: number, at: docAt };
    const kind = isObject(value) ? value.kind : undefined;
    if (kind === "WasmPlugin") {
      out.configurations.push(fromWasmPlugin(doc, value as Record<string, unknown>, base, pos));
    } else if (typeof kind === "string" && kind !== "") {
      if (kind === "VirtualService") {
        out.problems.push({ at: docAt, field: "kind", message: "this is an Istio VirtualService; HFI takes policies ({metadata: {name}, spec: {rules: [{match, fault}]}}) — see docs/cli.md for how VirtualService fault fields translate" });
      }
      // Other Kubernetes objects (an EnvoyFilter next to the WasmPlugin, a kustomization) are
      // not HFI configuration: skipped.
    } else if (hasWasmFilter(value)) {
      const c = fromBootstrap(doc, docText, base, pos);
      if ("problem" in c) out.problems.push(c.problem);
      else out.configurations.push(c);
    } else if (Array.isArray(value)) {
      out.configurations.push(policyList(value, (i) => (p) => locate([i, ...p]), base, "policies"));
    } else if (isObject(value) && "policies" in value) {
      const { policies, ...settings } = value;
      const bare = Object.keys(settings).length === 0;
      const c = configuration(settings, policies, (p) => locate(p), base, bare ? "policies" : "plugin-configuration", JSON.stringify(value));
      out.configurations.push(c);
    } else if (looksLikePolicy(value)) {
      out.configurations.push(policyList([value], () => locate, base, "policies"));
    } else {
      out.problems.push({
        at: docAt,
        field: "(document)",
        severity: "warning",
        message: "skipped: not a policy, a list of policies, a plugin configuration, a WasmPlugin or an Envoy bootstrap with the Wasm filter",
      });
    }
  }
}

function policyList(list: unknown[], locateItem: (i: number) => Locate, base: Base, kind: SourceKind): ConfigurationInput {
  return {
    ...base,
    kind,
    settings: {},
    policies: list.map((value, i) => ({ value, locate: locateItem(i), prefix: [] })),
    raw: JSON.stringify({ policies: list }),
    locate: () => base.at,
    rootId: DEFAULT_ROOT_ID,
  };
}

type Base = { file: string; document: number; at: Position };

function configuration(settings: Record<string, unknown>, policies: unknown, locate: Locate, base: Base, kind: SourceKind, raw: string): ConfigurationInput {
  const c: ConfigurationInput = { ...base, kind, settings, policies: [], raw, locate, rootId: DEFAULT_ROOT_ID };
  if (Array.isArray(policies)) c.policies = policies.map((value, i) => ({ value, locate: (p) => locate(["policies", i, ...p]), prefix: ["policies", i] }));
  else if (policies !== undefined) c.policiesValue = policies;
  return c;
}

function fromWasmPlugin(doc: Document, value: Record<string, unknown>, base: Base, pos: (o: number) => Position): ConfigurationInput {
  const source = parsePluginSource(JSON.stringify(value), `${base.file}.yaml`);
  const spec = isObject(value.spec) ? value.spec : {};
  const cfg = spec.pluginConfig;
  const locate = locator(doc, pos, ["spec", "pluginConfig"]);
  const at = locate([]);
  let c: ConfigurationInput;
  if (isObject(cfg)) {
    const { policies, ...settings } = cfg;
    c = configuration(settings, policies, locate, { ...base, at }, "wasm-plugin", source.configuration);
  } else {
    c = { ...base, at, kind: "wasm-plugin", policies: [], raw: source.configuration, locate, rootId: DEFAULT_ROOT_ID };
  }
  c.rootId = source.rootId;
  return c;
}

function fromBootstrap(doc: Document, text: string, base: Base, pos: (o: number) => Position): ConfigurationInput | { problem: SourceProblem } {
  let source;
  try {
    source = parsePluginSource(String(doc), `${base.file}.yaml`);
  } catch (e) {
    return { problem: { at: base.at, field: "(document)", message: (e as Error).message.replace(`${base.file}.yaml: `, "").replace(`${base.file}.yaml `, "") } };
  }
  // The configuration is a string (StringValue) inside the YAML: positions inside it are those
  // of the embedded JSON, shifted to where the string's lines sit in the file.
  const scalarPath = findWasmConfiguration(doc.toJS() as unknown);
  const scalar = scalarPath ? (doc.getIn(scalarPath, true) as Node | undefined) : undefined;
  const scalarAt = scalar?.range ? pos(scalar.range[0]) : base.at;
  const shift = scalar && isScalar(scalar) && scalar.type === "BLOCK_LITERAL" && scalar.range ? blockShift(text, scalar.range[0], pos) : undefined;
  const innerCounter = new LineCounter();
  const inner = parseDocument(source.configuration, { lineCounter: innerCounter });
  const innerPos = (offset: number): Position => {
    if (!shift) return scalarAt;
    const p = innerCounter.linePos(offset);
    return { file: base.file, line: shift.firstLine + p.line - 1, column: shift.indent + p.col };
  };
  const locate: Locate = inner.errors.length === 0 ? locator(inner, innerPos, []) : () => scalarAt;
  const value = inner.errors.length === 0 ? (inner.toJS() as unknown) : undefined;
  let c: ConfigurationInput;
  if (isObject(value)) {
    const { policies, ...settings } = value;
    c = configuration(settings, policies, locate, { ...base, at: scalarAt }, "envoy-bootstrap", source.configuration);
  } else {
    c = { ...base, at: scalarAt, kind: "envoy-bootstrap", policies: [], raw: source.configuration, locate, rootId: DEFAULT_ROOT_ID };
  }
  c.rootId = source.rootId;
  c.node = source.node;
  return c;
}

/** A literal block scalar (`value: |`): its first content line and its indentation. */
function blockShift(text: string, headerOffset: number, pos: (o: number) => Position): { firstLine: number; indent: number } | undefined {
  const nl = text.indexOf("\n", headerOffset);
  if (nl < 0) return undefined;
  const firstLine = pos(nl + 1).line;
  const rest = text.slice(nl + 1).split("\n");
  const first = rest.find((l) => l.trim() !== "");
  if (first === undefined) return undefined;
  return { firstLine, indent: first.length - first.trimStart().length };
}

function findWasmConfiguration(node: unknown, at: PathSegment[] = []): PathSegment[] | undefined {
  if (Array.isArray(node)) {
    for (const [i, item] of node.entries()) {
      const found = findWasmConfiguration(item, [...at, i]);
      if (found) return found;
    }
  } else if (isObject(node)) {
    if (node["@type"] === WASM_FILTER_TYPE) {
      const config = node.config;
      if (!isObject(config) || config.configuration === undefined) return undefined;
      const cfg = config.configuration;
      return isObject(cfg) && "value" in cfg ? [...at, "config", "configuration", "value"] : [...at, "config", "configuration"];
    }
    for (const [k, v] of Object.entries(node)) {
      const found = findWasmConfiguration(v, [...at, k]);
      if (found) return found;
    }
  }
  return undefined;
}

function hasWasmFilter(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(hasWasmFilter);
  if (isObject(node)) return node["@type"] === WASM_FILTER_TYPE || Object.values(node).some(hasWasmFilter);
  return false;
}

/**
 * Position of a field path below `prefix` in a YAML document: the key of the field when it
 * exists (where a reader looks for it), else the closest enclosing node that exists.
 */
function locator(doc: Document, pos: (offset: number) => Position, prefix: PathSegment[]): Locate {
  return (fieldPath) => {
    const full = [...prefix, ...fieldPath];
    let node: unknown = doc.contents;
    let best: number | undefined = doc.contents?.range?.[0];
    for (const seg of full) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && (isScalar(p.key) ? p.key.value : p.key) === seg);
        if (!pair) break;
        const key = pair.key as Node | undefined;
        if (key?.range) best = key.range[0];
        node = pair.value;
      } else if (isSeq(node) && typeof seg === "number") {
        const item = node.items[seg] as Node | undefined;
        if (!item) break;
        if (item.range) best = item.range[0];
        node = item;
      } else {
        break;
      }
    }
    return best === undefined ? { ...pos(0), line: 1, column: 1 } : pos(best);
  };
}

/** A policy (perhaps a broken one), not some other object with a spec (a Deployment fragment). */
function looksLikePolicy(v: unknown): boolean {
  if (!isObject(v)) return false;
  if (isObject(v.spec)) return "rules" in v.spec || "selector" in v.spec || isObject(v.metadata);
  return isObject(v.metadata) && "name" in v.metadata;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function firstLine(s: string): string {
  return s.split("\n")[0];
}

/** "spec.rules[0].match.headers[1].name" -> ["spec","rules",0,"match","headers",1,"name"]. */
export function splitFieldPath(field: string): PathSegment[] {
  const out: PathSegment[] = [];
  for (const part of field.split(".")) {
    const m = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) {
      out.push(part);
      continue;
    }
    if (m[1] !== "") out.push(m[1]);
    for (const idx of m[2].matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
  }
  return out;
}

export function joinFieldPath(p: PathSegment[]): string {
  return p.reduce<string>((acc, s) => (typeof s === "number" ? `${acc}[${s}]` : acc ? `${acc}.${s}` : s), "");
}
