/**
 * Policy files as users write them for `hfi-cli policy apply`: YAML or JSON, one or more
 * documents per file (`---` separated), each a Policy `{metadata: {name}, spec: {...}}`.
 * A document may also be a list of policies or `{"policies": [...]}`. A file loads whole or not
 * at all: one that fails to parse is reported and skipped, and the other files still count.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import { isObject } from "./plugin-source";

export type Policy = Record<string, unknown>;

export interface PolicyFileProblem {
  file: string;
  error: string;
}

export interface PolicySet {
  /** Policies sorted by file name, then document order. */
  policies: Policy[];
  /** Files that loaded, in order, with how many policies each gave. */
  files: Array<{ file: string; policies: number }>;
  /** Files skipped, with why. */
  problems: PolicyFileProblem[];
}

const POLICY_FILE = /\.(ya?ml|json)$/i;

/** Reads every policy file of a directory (not recursive; hidden files ignored). */
export function readPolicyDir(dir: string): PolicySet {
  const set: PolicySet = { policies: [], files: [], problems: [] };
  let names: string[];
  try {
    names = readdirSync(dir, { withFileTypes: true })
      // A symlink to a file counts (a Kubernetes ConfigMap mount: a.yaml -> ..data/a.yaml); the
      // hidden ..data and timestamped folders themselves do not.
      .filter((e) => !e.name.startsWith(".") && POLICY_FILE.test(e.name) && (e.isFile() || (e.isSymbolicLink() && isFileBehind(path.join(dir, e.name)))))
      .map((e) => e.name)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  } catch (e) {
    set.problems.push({ file: dir, error: `cannot read the directory: ${(e as Error).message}` });
    return set;
  }
  for (const name of names) {
    let text: string;
    try {
      text = readFileSync(path.join(dir, name), "utf8");
    } catch (e) {
      // Removed between readdir and read (an editor saving): it is simply not there.
      if ((e as NodeJS.ErrnoException).code === "ENOENT") continue;
      set.problems.push({ file: name, error: (e as Error).message });
      continue;
    }
    const parsed = parsePolicyFile(text, name);
    if ("error" in parsed) {
      set.problems.push({ file: name, error: parsed.error });
      continue;
    }
    set.policies.push(...parsed.policies);
    set.files.push({ file: name, policies: parsed.policies.length });
  }
  return set;
}

/** Parses one file's text; `name` decides JSON or YAML and names the file in errors. */
export function parsePolicyFile(text: string, name: string): { policies: Policy[] } | { error: string } {
  const documents: unknown[] = [];
  if (/\.json$/i.test(name)) {
    try {
      documents.push(JSON.parse(text));
    } catch (e) {
      return { error: `not valid JSON: ${(e as Error).message}` };
    }
  } else {
    for (const [i, doc] of parseAllDocuments(text).entries()) {
      if (doc.errors.length > 0) return { error: `document ${i + 1} is not valid YAML: ${doc.errors[0].message}` };
      documents.push(doc.toJS());
    }
  }
  const policies: Policy[] = [];
  for (const [i, doc] of documents.entries()) {
    const where = documents.length > 1 ? `document ${i + 1}` : "the document";
    if (doc === null || doc === undefined) continue; // an empty document (a trailing ---)
    const items = Array.isArray(doc) ? doc : isObject(doc) && Array.isArray(doc.policies) ? doc.policies : [doc];
    for (const [j, item] of items.entries()) {
      const problem = policyShapeProblem(item);
      if (problem) return { error: `${where}${items.length > 1 ? `, policy ${j + 1}` : ""}: ${problem}` };
      policies.push(item as Policy);
    }
  }
  return { policies };
}

/** The minimal shape the control plane promises; the plugin validates the rest itself. */
function policyShapeProblem(item: unknown): string | undefined {
  if (!isObject(item)) return "a policy must be an object with metadata and spec";
  const meta = item.metadata;
  if (!isObject(meta) || typeof meta.name !== "string" || meta.name === "") return "a policy needs metadata.name";
  if (!isObject(item.spec)) return `policy "${meta.name}" needs a spec`;
  return undefined;
}

/** Does `p` lead to a file (following links)? A dangling link does not. */
function isFileBehind(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
