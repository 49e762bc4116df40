// `make help` lists every user-facing target with one line, generated from the `## ` comment on
// the target's own line (Makefile and mk/*.mk), and the npm scripts name targets it lists.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";
import { ROOT } from "./lib/project";

// Phony targets that are steps of others, not commands for users: no `## ` line, not listed.
const INTERNAL = ["all", "deps", "host-fixtures"];

/** make with these arguments from the repository, the caller's make state dropped. */
function make(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env };
  for (const k of ["MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"]) delete env[k];
  const r = spawnSync("make", ["--no-print-directory", ...args], { cwd: ROOT, env, encoding: "utf8", timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The `name  description` lines of `make help`, in order. */
function listed(stdout: string): Array<[string, string]> {
  return stdout
    .split("\n")
    .filter((l) => l.startsWith("  "))
    .map((l) => {
      const m = /^ {2}(\S+) +(\S.*)$/.exec(l);
      assert.ok(m, `not a "  target  description" line: ${JSON.stringify(l)}`);
      return [m[1], m[2]];
    });
}

/** Every target named in a .PHONY line of the Makefile or mk/*.mk. */
function phonyTargets(): string[] {
  const files = ["Makefile", ...fs.readdirSync(path.join(ROOT, "mk")).filter((f) => f.endsWith(".mk")).map((f) => path.join("mk", f))];
  return files.flatMap((f) =>
    fs
      .readFileSync(path.join(ROOT, f), "utf8")
      .split("\n")
      .filter((l) => l.startsWith(".PHONY:"))
      .flatMap((l) => l.slice(".PHONY:".length).trim().split(/\s+/)),
  );
}

describe("make help", () => {
  test("one line per user-facing target: every phony target but the internal steps", () => {
    const r = make("help");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.match(r.stdout.split("\n")[0], /^Usage: make /);
    const names = listed(r.stdout).map(([name]) => name);
    assert.equal(new Set(names).size, names.length, `a target listed twice: ${names.join(", ")}`);
    const expected = phonyTargets().filter((t) => !INTERNAL.includes(t));
    assert.deepEqual([...names].sort(), [...new Set(expected)].sort(), "a user-facing target without a `## description` on its line, or an internal one with one");
    for (const must of ["build", "run", "test", "compose-config", "help"]) assert.ok(names.includes(must), must);
  });

  test("the list is generated: a target in another makefile with a `## ` comment appears", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hfi-make-help-"));
    try {
      const extra = path.join(dir, "extra.mk");
      fs.writeFileSync(extra, ".PHONY: frobnicate\nfrobnicate: build/plugin.wasm ## a target added elsewhere: listed too\n\t@true\nhidden:\n\t@true\n");
      const r = make("-f", "Makefile", "-f", extra, "help");
      assert.equal(r.status, 0, r.stderr);
      const lines = listed(r.stdout);
      assert.deepEqual(lines.find(([name]) => name === "frobnicate"), ["frobnicate", "a target added elsewhere: listed too"]);
      assert.equal(lines.find(([name]) => name === "hidden"), undefined);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("npm scripts", () => {
  const scripts: Record<string, string> = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts ?? {};

  test("npm test is make test, npm start is make run", () => {
    assert.equal(scripts.test, "make test");
    assert.equal(scripts.start, "make run");
  });

  test("every `make TARGET` script names a target make help lists", () => {
    const names = listed(make("help").stdout).map(([name]) => name);
    for (const [script, command] of Object.entries(scripts)) {
      const target = /^make (\S+)$/.exec(command)?.[1];
      if (target !== undefined) assert.ok(names.includes(target), `npm run ${script}: make ${target} is not in make help`);
    }
  });
});
