/**
 * The tools' copies of the plugin's words (host/plugin-vocabulary.ts) are the plugin's own:
 * read from the AssemblyScript definitions, in order.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { FAULT_KINDS, POLICY_STATES } from "../../host/plugin-vocabulary";

const ROOT = path.resolve(__dirname, "..", "..");

/** The string literals of `const NAME ... = [ ... ];` in an AssemblyScript file. */
function stringList(file: string, name: string): string[] {
  const text = readFileSync(path.join(ROOT, file), "utf8");
  const m = new RegExp(`const ${name}\\b[^=]*=\\s*\\[([^\\]]*)\\]`).exec(text);
  assert.ok(m, `${name} not found in ${file}`);
  return [...m[1].matchAll(/"([^"]*)"/g)].map((x) => x[1]);
}

test("hfi_fault kinds are the plugin's, in its order", () => {
  assert.deepEqual([...FAULT_KINDS], stringList("assembly/model/kinds.ts", "KIND_NAMES"));
});

test("policy states are the plugin's, numbered as its state gauge numbers them", () => {
  assert.deepEqual([...POLICY_STATES], stringList("assembly/observe/policy-state.ts", "STATE_NAMES"));
});
