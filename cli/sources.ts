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
import { isMap, isPair, isScalar, isSeq, LineCounter, type Document, type Node } from "yaml";
import { parsePluginSource, WASM_FILTER_TYPE } from "../host/runner/plugin-source";
import { readYamlDocument } from "./yaml-read";
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
  /** Where its metadata.name is, when it was found as the document was read (a run keeps this,
   * not the policy, to name duplicates). */
  nameAt?: Position;
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

/**
 * Expands directories (their *.yaml/*.yml/*.json files, sorted, not recursive). A symlink to a
 * file counts as that file: a mounted Kubernetes ConfigMap is `a.yaml -> ..data/a.yaml`,
 * `..data -> ..2024_01_01_00_00_00.123/`, and its hidden `..` entries are not read on their own,
 * so each key's file is read once, under its own name.
 */
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
      .filter((e) => !e.name.startsWith(".") && INPUT_FILE.test(e.name) && (e.isFile() || (e.isSymbolicLink() && isFileBehindLink(path.join(p, e.name)))))
      .map((e) => e.name)
      .sort();
    if (names.length === 0) throw new CliError(`${p}: no .yaml, .yml or .json files in this directory`);
    files.push(...names.map((n) => path.join(p, n)));
  }
  return files;
}

/** A symlink that leads (through any further links) to a regular file; a dangling one does not. */
function isFileBehindLink(link: string): boolean {
  try {
    return statSync(link).isFile();
  } catch {
    return false;
  }
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
 * Each chunk is a slice of the text (no copy); lines are split at "\n" only.
 */
function documentChunks(text: string): Array<{ text: string; firstLine: number }> {
  const chunks: Array<{ text: string; firstLine: number }> = [];
  let start = 0;
  let startLine = 1;
  let line = 1;
  for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", nl + 1)) {
    line++;
    const at = nl + 1;
    if (isMarkerLine(text, at)) {
      chunks.push({ text: text.slice(start, nl), firstLine: startLine });
      start = at;
      startLine = line;
    }
  }
  chunks.push({ text: text.slice(start), firstLine: startLine });
  return chunks;
}

/** `---` or `...` at `at`, followed by white space or the end of the line or text. */
function isMarkerLine(text: string, at: number): boolean {
  const c = text.charCodeAt(at);
  if (c !== 0x2d /* - */ && c !== 0x2e /* . */) return false;
  if (text.charCodeAt(at + 1) !== c || text.charCodeAt(at + 2) !== c) return false;
  return at + 3 >= text.length || /\s/.test(text[at + 3]);
}

/**
 * Anchors and aliases: a document whose aliases would copy anchors more than this many times
 * (the `yaml` package's maxAliasCount, counted as it counts) is not read. A "billion laughs" is
 * a few lines that expand exponentially; it is a problem of its own document only.
 */
const MAX_ALIAS_COUNT = 100;
/** Alias nodes a document may hold at all (resolving each one scans the document's anchors and
 * aliases: 10,000 of each took seconds). */
const MAX_ALIASES = 1000;

/** A document's nodes and the way from an offset in it to a position in the file. */
interface Nodes {
  doc: Document;
  pos: (offset: number) => Position;
}

/** Reads every document of one file's text into `out`. */
export function loadText(text: string, file: string, out: LoadedSources): void {
  for (const window of loadTextInWindows(text, file, Infinity)) {
    out.configurations.push(...window.configurations);
    out.problems.push(...window.problems);
  }
}

/**
 * Reads one file's documents a window at a time: each window holds the documents read since
 * the last one, given out once it has `windowPolicies` policies (and at the end). A caller that
 * is done with a window before asking for the next keeps only one window's values in memory,
 * whatever the file's size.
 */
export function* loadTextInWindows(text: string, file: string, windowPolicies: number): Generator<LoadedSources> {
  const windows = new Windows(file, windowPolicies);
  for (const chunk of documentChunks(text)) {
    const { read, nodes } = readChunk(chunk, file);
    const full = windows.place(read, nodes, chunk);
    if (full) yield full;
  }
  const last = windows.rest();
  if (last) yield last;
}

/**
 * The same, with the YAML read by parse workers (`pool`) while this thread judges: the `yaml`
 * package reads about 5 MiB a second, so a large input is read on every core. Documents keep
 * their order; at most a few groups are read ahead, so memory stays a window's worth.
 */
export async function* loadTextInWindowsParallel(text: string, file: string, windowPolicies: number, pool: ChunkReader): AsyncGenerator<LoadedSources> {
  const windows = new Windows(file, windowPolicies);
  const chunks = documentChunks(text);
  const groups: Array<Array<{ text: string; firstLine: number }>> = [];
  for (let i = 0; i < chunks.length; i += GROUP_DOCUMENTS) groups.push(chunks.slice(i, i + GROUP_DOCUMENTS));
  const ahead: Array<Promise<ReadChunk[]>> = [];
  let next = 0;
  const fill = () => {
    while (next < groups.length && ahead.length < pool.size * 2) ahead.push(pool.read(groups[next++], file));
  };
  fill();
  for (let g = 0; g < groups.length; g++) {
    const reads = await ahead.shift()!;
    fill();
    const group = groups[g];
    for (let i = 0; i < group.length; i++) {
      const full = windows.place(reads[i], undefined, group[i]);
      if (full) yield full;
    }
  }
  const last = windows.rest();
  if (last) yield last;
}

/** Documents handed to a parse worker at once. */
const GROUP_DOCUMENTS = 500;

/** Reads documents elsewhere (cli/yaml-pool.ts). */
export interface ChunkReader {
  readonly size: number;
  read(chunks: Array<{ text: string; firstLine: number }>, file: string): Promise<ReadChunk[]>;
}

/** Documents placed into windows in order, numbered as the file counts them. */
class Windows {
  private out: LoadedSources = { configurations: [], problems: [], files: [] };
  private policies = 0;
  private number = 0;

  constructor(private readonly file: string, private readonly windowPolicies: number) {}

  /** Places one read document; the window when it is full. */
  place(read: ReadChunk, nodes: Nodes | undefined, chunk: { text: string; firstLine: number }): LoadedSources | undefined {
    if (!read.counted) return undefined;
    const out = this.out;
    const before = out.configurations.length;
    placeChunk(read, nodes, chunk, this.file, ++this.number, out);
    for (let i = before; i < out.configurations.length; i++) this.policies += out.configurations[i].policies.length;
    if (this.policies < this.windowPolicies) return undefined;
    this.out = { configurations: [], problems: [], files: [] };
    this.policies = 0;
    return out;
  }

  rest(): LoadedSources | undefined {
    const out = this.out;
    return out.configurations.length > 0 || out.problems.length > 0 ? out : undefined;
  }
}

/** One document as read, as plain data (it crosses from a parse worker). */
export interface ReadChunk {
  /** False for a chunk of only comments or a marker: not a document. */
  counted: boolean;
  problem?: SourceProblem;
  value?: unknown;
  docAt?: Position;
  /** Where each policy's metadata.name is, by the policy's path in the document (nameKey). */
  names?: Record<string, Position>;
}

/** The key of a path in ReadChunk.names. */
function nameKey(p: PathSegment[]): string {
  return p.join("\u0000");
}

/** Reads one document; its nodes too, for a caller in this thread (they serve positions). */
export function readChunk(chunk: { text: string; firstLine: number }, file: string): { read: ReadChunk; nodes?: Nodes } {
  const lineCounter = new LineCounter();
  const { doc, aliases } = readYamlDocument(chunk.text, lineCounter);
  if (doc.contents === null && doc.errors.length === 0) return { read: { counted: false } }; // only comments or a marker
  const pos = positions(file, chunk.firstLine, lineCounter);
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    return { read: { counted: true, problem: { at: pos(e.pos[0]), field: "(document)", message: `not valid ${/\.json$/i.test(file) ? "JSON" : "YAML"}: ${firstLine(e.message)}` } } };
  }
  const docAt = doc.contents ? pos(doc.contents.range[0]) : { file, line: 1, column: 1 };
  if (aliases > MAX_ALIASES) {
    return { read: { counted: true, problem: { at: docAt, field: "(document)", message: `not read: ${aliases} aliases, over the limit of ${MAX_ALIASES} a document` } } };
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
  } catch (e) {
    // An alias bomb (the package refuses to expand it): this document's problem, not the run's.
    const message = firstLine((e as Error).message);
    const why = /alias count/i.test(message) ? ` (its aliases would copy anchors more than ${MAX_ALIAS_COUNT} times)` : "";
    return { read: { counted: true, problem: { at: docAt, field: "(document)", message: `not read: ${message}${why}` } } };
  }
  if (value === null || value === undefined) return { read: { counted: true } }; // an empty document (a trailing ---)
  if (aliases > 0 && isCyclic(value)) {
    return { read: { counted: true, problem: { at: docAt, field: "(document)", message: "not read: an alias inside its own anchor makes the document contain itself" } } };
  }
  const nodes: Nodes = { doc, pos };
  return { read: { counted: true, value, docAt, names: namePositions(value, nodes) }, nodes };
}

/** Where metadata.name is for the document as a policy, each item of a list, and each item of
 * its `policies`: the places a policy of a policy document can be. */
function namePositions(value: unknown, nodes: Nodes): Record<string, Position> {
  const names: Record<string, Position> = {};
  const locate = locator(() => nodes, []);
  const add = (p: PathSegment[], v: unknown) => {
    if (isObject(v) && isObject(v.metadata) && typeof v.metadata.name === "string") names[nameKey(p)] = locate([...p, "metadata", "name"]);
  };
  add([], value);
  if (Array.isArray(value)) value.forEach((v, i) => add([i], v));
  else if (isObject(value) && Array.isArray(value.policies)) value.policies.forEach((v, i) => add(["policies", i], v));
  return names;
}

/** Places one read document (number `number` of the file) into `out`. */
function placeChunk(read: ReadChunk, given: Nodes | undefined, chunk: { text: string; firstLine: number }, file: string, number: number, out: LoadedSources): void {
  if (read.problem) {
    out.problems.push(read.problem);
    return;
  }
  if (read.value === undefined) return;
  // The nodes serve positions. Most documents have no problem, and the nodes of thousands of
  // documents are most of the memory of a run: they are let go once the document is placed,
  // and read again from the document's text when a position in it is asked for.
  const { text: docText, firstLine: firstLineOfChunk } = chunk;
  let nodes: Nodes | undefined = given;
  const get = (): Nodes => {
    if (nodes === undefined) {
      const counter = new LineCounter();
      nodes = { doc: readYamlDocument(docText, counter).doc, pos: positions(file, firstLineOfChunk, counter) };
    }
    return nodes;
  };
  loadDocument(get, read.value, docText, { file, document: number, at: read.docAt! }, out, read.names);
  nodes = undefined;
}

/** Offsets in a document that starts at line `firstLine` of `file` to positions in the file. */
function positions(file: string, firstLine: number, lineCounter: LineCounter): (offset: number) => Position {
  return (offset) => {
    const p = lineCounter.linePos(offset);
    return { file, line: firstLine + p.line - 1, column: p.col };
  };
}

function loadDocument(nodes: () => Nodes, value: unknown, docText: string, base: Base, out: LoadedSources, names: Record<string, Position> | undefined): void {
  const docAt = base.at;
  const locate = locator(nodes, []);
  const kind = isObject(value) ? value.kind : undefined;
  if (kind === "WasmPlugin") {
    out.configurations.push(fromWasmPlugin(nodes, value as Record<string, unknown>, base));
  } else if (typeof kind === "string" && kind !== "") {
    if (kind === "VirtualService") {
      out.problems.push({ at: docAt, field: "kind", message: "this is an Istio VirtualService; HFI takes policies ({metadata: {name}, spec: {rules: [{match, fault}]}}) — see docs/cli.md for how VirtualService fault fields translate" });
    }
    // Other Kubernetes objects (an EnvoyFilter next to the WasmPlugin, a kustomization) are
    // not HFI configuration: skipped.
  } else if (hasWasmFilter(value)) {
    const { doc, pos } = nodes();
    const c = fromBootstrap(doc, docText, base, pos);
    if ("problem" in c) out.problems.push(c.problem);
    else out.configurations.push(c);
  } else if (Array.isArray(value)) {
    out.configurations.push(policyList(value, (i) => (p) => locate([i, ...p]), base, "policies", (i) => names?.[nameKey([i])]));
  } else if (isObject(value) && "policies" in value) {
    const { policies, ...settings } = value;
    const bare = Object.keys(settings).length === 0;
    const c = configuration(settings, policies, (p) => locate(p), base, bare ? "policies" : "plugin-configuration", () => JSON.stringify(value));
    for (const [i, policy] of c.policies.entries()) policy.nameAt = names?.[nameKey(["policies", i])];
    out.configurations.push(c);
  } else if (looksLikePolicy(value)) {
    out.configurations.push(policyList([value], () => locate, base, "policies", () => names?.[nameKey([])]));
  } else {
    out.problems.push({
      at: docAt,
      field: "(document)",
      severity: "warning",
      message: "skipped: not a policy, a list of policies, a plugin configuration, a WasmPlugin or an Envoy bootstrap with the Wasm filter",
    });
  }
}

/** Whether a value (from a document with aliases) contains itself. Linear: each object once. */
function isCyclic(root: unknown): boolean {
  const done = new Set<object>();
  const open = new Set<object>();
  // Depth-first without recursion: [object, its children, next child index].
  const stack: Array<{ node: object; children: unknown[]; next: number }> = [];
  const enter = (v: unknown): boolean => {
    if (typeof v !== "object" || v === null || done.has(v)) return false;
    if (open.has(v)) return true;
    open.add(v);
    stack.push({ node: v, children: Array.isArray(v) ? v : Object.values(v), next: 0 });
    return false;
  };
  if (enter(root)) return true;
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top.next < top.children.length) {
      if (enter(top.children[top.next++])) return true;
    } else {
      stack.pop();
      open.delete(top.node);
      done.add(top.node);
    }
  }
  return false;
}

function policyList(list: unknown[], locateItem: (i: number) => Locate, base: Base, kind: SourceKind, nameAt: (i: number) => Position | undefined): ConfigurationInput {
  return {
    ...base,
    kind,
    settings: {},
    policies: list.map((value, i) => ({ value, locate: locateItem(i), prefix: [], nameAt: nameAt(i) })),
    // Built when asked for (only a configuration that is not an object is judged as text).
    get raw() {
      return JSON.stringify({ policies: list });
    },
    locate: () => base.at,
    rootId: DEFAULT_ROOT_ID,
  };
}

type Base = { file: string; document: number; at: Position };

function configuration(settings: Record<string, unknown>, policies: unknown, locate: Locate, base: Base, kind: SourceKind, raw: () => string): ConfigurationInput {
  const c: ConfigurationInput = {
    ...base, kind, settings, policies: [], locate, rootId: DEFAULT_ROOT_ID,
    get raw() {
      return raw();
    },
  };
  if (Array.isArray(policies)) c.policies = policies.map((value, i) => ({ value, locate: (p) => locate(["policies", i, ...p]), prefix: ["policies", i] }));
  else if (policies !== undefined) c.policiesValue = policies;
  return c;
}

function fromWasmPlugin(nodes: () => Nodes, value: Record<string, unknown>, base: Base): ConfigurationInput {
  const spec = isObject(value.spec) ? value.spec : {};
  const cfg = spec.pluginConfig;
  // The runner reads the WasmPlugin (its root id); it is handed the object without the
  // pluginConfig, which can be large: the configuration it would make of it is JSON.stringify
  // of the pluginConfig (host/runner/plugin-source.ts), made here when needed.
  const source = parsePluginSource(JSON.stringify(isObject(value.spec) ? { ...value, spec: { ...spec, pluginConfig: undefined } } : value), `${base.file}.yaml`);
  const raw = () => (cfg === undefined ? "" : JSON.stringify(cfg));
  const locate = locator(nodes, ["spec", "pluginConfig"]);
  const at = locate([]);
  let c: ConfigurationInput;
  if (isObject(cfg)) {
    const { policies, ...settings } = cfg;
    c = configuration(settings, policies, locate, { ...base, at }, "wasm-plugin", raw);
  } else {
    c = { ...base, at, kind: "wasm-plugin", policies: [], raw: raw(), locate, rootId: DEFAULT_ROOT_ID };
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
  const inner = readYamlDocument(source.configuration, innerCounter).doc;
  const innerPos = (offset: number): Position => {
    if (!shift) return scalarAt;
    const p = innerCounter.linePos(offset);
    return { file: base.file, line: shift.firstLine + p.line - 1, column: shift.indent + p.col };
  };
  const locate: Locate = inner.errors.length === 0 ? locator(() => ({ doc: inner, pos: innerPos }), []) : () => scalarAt;
  const value = inner.errors.length === 0 ? (inner.toJS() as unknown) : undefined;
  let c: ConfigurationInput;
  if (isObject(value)) {
    const { policies, ...settings } = value;
    const configurationText = source.configuration;
    c = configuration(settings, policies, locate, { ...base, at: scalarAt }, "envoy-bootstrap", () => configurationText);
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
  // The first line with more than white space, read line by line (not the rest split at once).
  for (let start = nl + 1; start <= text.length; ) {
    const end = text.indexOf("\n", start);
    const line = text.slice(start, end < 0 ? text.length : end);
    if (line.trim() !== "") return { firstLine, indent: line.length - line.trimStart().length };
    if (end < 0) break;
    start = end + 1;
  }
  return undefined;
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
function locator(nodes: () => Nodes, prefix: PathSegment[]): Locate {
  return (fieldPath) => {
    const { doc, pos } = nodes();
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
  const nl = s.indexOf("\n");
  return nl < 0 ? s : s.slice(0, nl);
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
