// Deployment checks that need system tools (docker-compose, buildah, docker-registry): CI
// installs them (.ci/install-system-deps) and must run the checks; a developer machine without
// them reports the test as skipped, with the reason, and never as passed.
import * as fs from "node:fs";
import * as path from "node:path";
import type { TestContext } from "node:test";

/** Whether an executable of that name is on PATH. */
export function hasTool(name: string): boolean {
  return (process.env.PATH ?? "").split(path.delimiter).some((dir) => {
    try {
      fs.accessSync(path.join(dir, name), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** True when every tool is present. Otherwise skips `t` (returns false) or, under CI, throws. */
export function needTools(t: TestContext, ...names: string[]): boolean {
  const missing = names.filter((n) => !hasTool(n));
  if (missing.length === 0) return true;
  const reason = `${missing.join(", ")} not installed (run .ci/install-system-deps)`;
  if (process.env.CI === "true") throw new Error(`CI=true but ${reason}`);
  t.skip(reason);
  return false;
}
