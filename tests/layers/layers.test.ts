/**
 * assembly/ keeps its layers (.dependency-cruiser.cjs): a folder imports only the folders below
 * it, and there is no import circle. The same check is run on small trees with one upward
 * import and one circle, to show that it catches them.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");
const CONFIG = path.join(ROOT, ".dependency-cruiser.cjs");
const DEPCRUISE = path.join(ROOT, "node_modules", ".bin", "depcruise");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const LAYERS = (require(CONFIG) as { LAYERS: string[] }).LAYERS;

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

function cruise(cwd: string): Violation[] {
  const r = spawnSync(DEPCRUISE, ["assembly", "--config", CONFIG, "--output-type", "json"], { cwd, encoding: "utf8", timeout: 120_000 });
  assert.ok(r.stdout, `depcruise printed nothing: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

function tree(files: Record<string, string>): { dir: string; done: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "hfi-layers-"));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test("assembly/: no import runs upward, no import circle", () => {
  const violations = cruise(ROOT);
  assert.deepEqual(violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`), []);
});

test("every folder and top-level file of assembly/ has a place in the layer order", () => {
  const entries = readdirSync(path.join(ROOT, "assembly")).filter((e) => statSync(path.join(ROOT, "assembly", e)).isDirectory() || e.endsWith(".ts"));
  assert.deepEqual(entries.filter((e) => !LAYERS.includes(e)), []);
  assert.deepEqual(LAYERS.filter((l) => !entries.includes(l)), [], "no layer names a folder that is gone");
});

test("an upward import fails the check", () => {
  const t = tree({
    "assembly/model/policy.ts": 'import { act } from "../request/path";\nexport const x = act;\n',
    "assembly/request/path.ts": "export const act = 1;\n",
  });
  try {
    const v = cruise(t.dir);
    assert.deepEqual(v.map((x) => `${x.rule.name}: ${x.from} -> ${x.to}`), ["layers: model: assembly/model/policy.ts -> assembly/request/path.ts"]);
  } finally {
    t.done();
  }
});

test("an import circle fails the check, inside one folder too", () => {
  const t = tree({
    "assembly/config/a.ts": 'import { b } from "./b";\nexport const a = b;\n',
    "assembly/config/b.ts": 'import { a } from "./a";\nexport const b = a;\n',
  });
  try {
    const v = cruise(t.dir);
    assert.ok(v.some((x) => x.rule.name === "no-circular"), JSON.stringify(v));
  } finally {
    t.done();
  }
});
