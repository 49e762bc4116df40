// Runs a target of the project's Makefile the way a user would, with a controlled environment:
// variables on the command line, the caller's make state (MAKEFLAGS, MAKELEVEL) dropped, and
// optionally a PATH where some tools are missing or replaced by small stand-ins.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "./project";

export interface MakeResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runMake(target: string, vars: Record<string, string>, opts: { path?: string; timeoutMs?: number } = {}): MakeResult {
  const env = { ...process.env };
  for (const k of ["MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"]) delete env[k];
  if (opts.path !== undefined) env.PATH = opts.path;
  const args = ["--no-print-directory", target, ...Object.entries(vars).map(([k, v]) => `${k}=${v}`)];
  const make = spawnSync("make", args, { cwd: ROOT, env, encoding: "utf8", timeout: opts.timeoutMs ?? 120_000 });
  if (make.error) throw make.error;
  return { status: make.status, stdout: make.stdout, stderr: make.stderr };
}

/** What the recipe itself said on stderr: make's own "make: *** [...] Error N" line left out. */
export function recipeErrors(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l.trim() !== "" && !/^make(\[\d+\])?: \*\*\*/.test(l));
}

/**
 * A PATH of one directory holding a link to every executable on the current PATH except
 * `without`: "this machine, minus docker". Stand-ins are added with `addStub`.
 */
export function pathWithout(dir: string, without: string[]): string {
  fs.mkdirSync(dir, { recursive: true });
  for (const entry of (process.env.PATH ?? "").split(path.delimiter)) {
    let names: string[];
    try {
      names = fs.readdirSync(entry);
    } catch {
      continue;
    }
    for (const name of names) {
      const link = path.join(dir, name);
      if (without.includes(name) || fs.existsSync(link)) continue;
      try {
        fs.accessSync(path.join(entry, name), fs.constants.X_OK);
        fs.symlinkSync(path.join(entry, name), link);
      } catch {
        // not executable, or a dangling link: not a tool
      }
    }
  }
  return dir;
}

/** A shell-script stand-in for a tool, in a PATH directory made by pathWithout. */
export function addStub(dir: string, name: string, script: string): void {
  const file = path.join(dir, name);
  fs.rmSync(file, { force: true });
  fs.writeFileSync(file, `#!/bin/bash\n${script}\n`, { mode: 0o755 });
}
