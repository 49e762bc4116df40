/**
 * make run's policy directory as Kubernetes mounts a ConfigMap: each file a symlink into
 * `..data`, itself a symlink to a timestamped folder. The files behind the links are read, each
 * once; the hidden folders are not read as files of their own.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { readPolicyDir } from "../../host/runner/policy-files";

test("a ConfigMap mount's symlinked files are read once each; a dangling link is skipped", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "hfi-mount-"));
  try {
    const stamp = path.join(dir, "..2026_12_07_12_00_00.000000001");
    mkdirSync(stamp);
    const doc = (name: string) => `metadata: { name: ${name} }\nspec: { rules: [ { match: {}, fault: { percentage: 5, abort: { httpStatus: 503 } } } ] }\n`;
    writeFileSync(path.join(stamp, "a.yaml"), doc("a"));
    writeFileSync(path.join(stamp, "b.yaml"), doc("b"));
    symlinkSync(path.basename(stamp), path.join(dir, "..data"));
    symlinkSync(path.join("..data", "a.yaml"), path.join(dir, "a.yaml"));
    symlinkSync(path.join("..data", "b.yaml"), path.join(dir, "b.yaml"));
    symlinkSync(path.join("..data", "gone.yaml"), path.join(dir, "gone.yaml"));
    const set = readPolicyDir(dir);
    assert.deepEqual(set.problems, []);
    assert.deepEqual(set.files.map((f) => f.file), ["a.yaml", "b.yaml"]);
    assert.deepEqual(set.policies.map((p) => (p.metadata as { name: string }).name), ["a", "b"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
