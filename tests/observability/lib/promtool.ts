// promtool (Debian package `prometheus`, installed by .ci/install-system-deps): missing on a
// developer machine the checks are skipped with the reason; under CI they must run.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { TestContext } from "node:test";
import { needTools } from "../../deploy/lib/tools";

export const ROOT = path.resolve(__dirname, "..", "..", "..");

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function needPromtool(t: TestContext): boolean {
  return needTools(t, "promtool");
}

export function promtool(args: string[], input?: string, cwd = ROOT): Run {
  const r = spawnSync("promtool", args, { cwd, input, encoding: "utf8", timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs `fn` with a fresh temporary directory, removed afterwards. */
export function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(path.join(os.tmpdir(), "hfi-observability-"));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes files into `dir` (name → text) and returns their paths. */
export function writeFiles(dir: string, files: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, text] of Object.entries(files)) {
    out[name] = path.join(dir, name);
    writeFileSync(out[name], text);
  }
  return out;
}
