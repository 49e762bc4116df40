/**
 * Runs `hfi` for the CLI tests: in this process through main() (fast; what the command prints
 * and returns), or as a real process through the package.json bin (exit status, stderr).
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { main } from "../../cli/main";

export const ROOT = path.resolve(__dirname, "..", "..");
export const FIXTURES = path.join(__dirname, "fixtures");
export const ENVOY_FIXTURE = path.join(ROOT, "tests", "fixtures", "envoy.yaml");
export const BIN = path.join(ROOT, "cli", "hfi.cjs");

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** hfi in this process; a CLI error is returned as stderr and exit status, as the bin does. */
export async function hfi(...argv: string[]): Promise<Run> {
  const lines: string[] = [];
  const notes: string[] = [];
  try {
    const code = await main(argv, (s) => lines.push(s), (s) => notes.push(s));
    return { code, stdout: lines.join("\n"), stderr: notes.join("\n") };
  } catch (e) {
    return { code: (e as { exitCode?: number }).exitCode ?? 1, stdout: lines.join("\n"), stderr: [...notes, (e as Error).message].join("\n") };
  }
}

/** hfi as a process (node cli/hfi.cjs ...) from `cwd` (default the repository). */
export function hfiProcess(argv: string[], cwd = ROOT): Run {
  const r = spawnSync(process.execPath, [BIN, ...argv], { cwd, encoding: "utf8", timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function rel(file: string): string {
  return path.relative(ROOT, file);
}
