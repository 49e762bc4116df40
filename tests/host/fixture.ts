/**
 * Fixture modules for the host conformance tests: AssemblyScript sources in tests/fixtures/
 * compiled into build/fixtures/ (by `make host-fixtures`, or here on first use when missing or
 * stale), and the plugin build output.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, statSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");

/** Path of a compiled AssemblyScript fixture, compiling it if needed. */
export function fixturePath(name: string): string {
  const source = path.join(ROOT, "tests", "fixtures", `${name}.ts`);
  const out = path.join(ROOT, "build", "fixtures", `${name}.wasm`);
  if (!existsSync(out) || statSync(out).mtimeMs < statSync(source).mtimeMs) {
    mkdirSync(path.dirname(out), { recursive: true });
    const tmp = `${out}.${process.pid}.tmp`;
    execFileSync(
      path.join(ROOT, "node_modules", ".bin", "asc"),
      [source, "--runtime", "stub", "--use", "abort=fixture_abort", "-O1", "-o", tmp],
      { cwd: ROOT, stdio: "pipe" },
    );
    renameSync(tmp, out);
  }
  return out;
}

/** build/plugin.wasm (run `make build` first). */
export const PLUGIN_PATH = path.join(ROOT, "build", "plugin.wasm");
