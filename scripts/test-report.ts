/**
 * `make test`: runs every suite (each a make target), even when one fails, and prints one line
 * per suite with its counts, the failures again at the end with file:line, and a last line
 * `N passed, M failed` over all suites (alone on its line: CI reads it). The full output of
 * each suite (TAP for the node:test suites) goes to build/test-logs/<suite>.log.
 *
 *   node --import tsx scripts/test-report.ts SUITE...      (the Makefile passes $(TEST_SUITES))
 *   VERBOSE=1 also streams each suite's output to the console.
 *
 * Exit status 1 if any suite failed (a failing test, or a suite that exited non-zero).
 */
import { spawn } from "node:child_process";
import { createWriteStream, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";

export interface Failure {
  /** file:line when known, else the file or the suite. */
  where: string;
  name: string;
  message: string;
}

export interface SuiteResult {
  suite: string;
  passed: number;
  failed: number;
  skipped: number;
  failures: Failure[];
  exitCode: number;
  seconds: number;
  log: string;
  /** How the counts were read (tap, as-pect, tsc, exit status). */
  format: string;
}

const ROOT = path.resolve(__dirname, "..");
const LOG_DIR = path.join(ROOT, "build", "test-logs");
const ANSI = /\x1b\[[0-9;]*m/g;

/** Counts and failures from a suite's output; `exitCode` covers suites that print nothing usable. */
export function readResults(suite: string, output: string, exitCode: number): Omit<SuiteResult, "seconds" | "log"> {
  const text = output.replace(ANSI, "");
  const base = { suite, exitCode };
  let r: Omit<SuiteResult, "seconds" | "log" | "suite" | "exitCode">;
  if (/^# (pass|fail) \d+$/m.test(text)) r = fromTap(text);
  else if (/\[Tests\]: \d+ \/ \d+/.test(text)) r = fromAsPect(text);
  else if (/error TS\d+:/.test(text) || /^typecheck: 0 errors$/m.test(text)) r = fromTsc(text);
  else r = { passed: exitCode === 0 ? 1 : 0, failed: 0, skipped: 0, failures: [], format: "exit status" };
  if (exitCode !== 0 && r.failed === 0) {
    // The suite failed without a failing test it reported (a crash, a build error).
    const last = text.trim().split("\n").filter((l) => l.trim() !== "").slice(-1)[0] ?? "";
    r.failed = 1;
    r.failures.push({ where: suite, name: `${suite} exited with status ${exitCode}`, message: last.trim() });
  }
  return { ...base, ...r };
}

function fromTap(text: string): Omit<SuiteResult, "seconds" | "log" | "suite" | "exitCode"> {
  const count = (key: string) => [...text.matchAll(new RegExp(`^# ${key} (\\d+)$`, "gm"))].reduce((a, m) => a + Number(m[1]), 0);
  const failures: Failure[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)not ok \d+ - (.*)$/.exec(lines[i]);
    if (!m) continue;
    // The YAML block under the test point: indented "---" ... "...".
    const indent = m[1];
    const block: string[] = [];
    if (lines[i + 1]?.trim() === "---") {
      for (let j = i + 2; j < lines.length && lines[j].trim() !== "..." ; j++) block.push(lines[j].slice(indent.length + 2));
    }
    const yaml = block.join("\n");
    const failureType = /^failureType: '([^']*)'/m.exec(yaml)?.[1];
    if (failureType === "subtestsFailed") continue; // its failing subtests are listed themselves
    const name = m[2].replace(/\\#/g, "#");
    failures.push({ where: tapWhere(yaml), name, message: tapError(yaml) });
  }
  return { passed: count("pass"), failed: count("fail") + count("cancelled"), skipped: count("skipped") + count("todo"), failures, format: "tap" };
}

/** file:line from the stack's first frame in the project's own files (under tsx, `location` has the wrong line). */
function tapWhere(yaml: string): string {
  const stack = yaml.split(/^stack: /m)[1] ?? "";
  for (const f of stack.matchAll(/((?:\/|file:\/\/)[^\s():]+\.(?:ts|js|mjs|cjs)):(\d+):\d+/g)) {
    const file = f[1].replace(/^file:\/\//, "");
    if (file.includes("node_modules") || !file.startsWith(ROOT + path.sep)) continue;
    return `${path.relative(ROOT, file)}:${f[2]}`;
  }
  const loc = /^location: '([^']+?):\d+:\d+'/m.exec(yaml);
  return loc ? path.relative(ROOT, loc[1]) : "?";
}

function tapError(yaml: string): string {
  const m = /^error: (?:\|-?\n((?: {2}.*\n?)+)|'((?:[^']|'')*)'|(.*))$/m.exec(yaml);
  if (!m) return "";
  const text = m[1] !== undefined ? m[1].split("\n").map((l) => l.trim()).find((l) => l !== "") ?? "" : (m[2] ?? m[3] ?? "").replace(/''/g, "'");
  return text.trim();
}

function fromAsPect(text: string): Omit<SuiteResult, "seconds" | "log" | "suite" | "exitCode"> {
  const m = /\[Tests\]: (\d+) \/ (\d+)/.exec(text)!;
  const passed = Number(m[1]);
  const total = Number(m[2]);
  const todo = [...text.matchAll(/Todo: (\d+)/g)].reduce((a, x) => a + Number(x[1]), 0);
  const failures: Failure[] = [];
  let file = "";
  let group = "";
  for (const line of text.split("\n")) {
    const f = /^\S+ (tests\/\S+\.spec\.ts) Pass:/.exec(line);
    if (f) file = f[1];
    const g = /^\s+Failed: (.*)$/.exec(line);
    if (g) group = g[1].trim();
    const t = /^\s+❌ (.*?) - ?(.*)$/.exec(line);
    if (t && file) failures.push({ where: lineOf(file, t[1]), name: `${group} > ${t[1]}`, message: t[2].trim() });
  }
  return { passed, failed: total - passed, skipped: todo, failures, format: "as-pect" };
}

function fromTsc(text: string): Omit<SuiteResult, "seconds" | "log" | "suite" | "exitCode"> {
  const failures: Failure[] = [];
  for (const m of text.matchAll(/^(\S+)\((\d+),\d+\): error (TS\d+): (.*)$/gm)) {
    failures.push({ where: `${m[1]}:${m[2]}`, name: m[3], message: m[4] });
  }
  return { passed: failures.length === 0 ? 1 : 0, failed: failures.length, skipped: 0, failures, format: "tsc" };
}

/** file:line of a test's name in its spec file (as-pect reports no line). */
function lineOf(file: string, testName: string): string {
  try {
    const lines = readFileSync(path.join(ROOT, file), "utf8").split("\n");
    const i = lines.findIndex((l) => l.includes(JSON.stringify(testName)) || l.includes(`'${testName}'`));
    return i >= 0 ? `${file}:${i + 1}` : file;
  } catch {
    return file;
  }
}

function runSuite(suite: string, verbose: boolean): Promise<SuiteResult> {
  const log = path.join(LOG_DIR, `${suite}.log`);
  const started = performance.now();
  return new Promise((resolve) => {
    const out = createWriteStream(log);
    const chunks: Buffer[] = [];
    const child = spawn("make", ["--no-print-directory", suite], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    const take = (c: Buffer) => {
      chunks.push(c);
      out.write(c);
      if (verbose) process.stdout.write(c);
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    child.on("close", (code, signal) => {
      out.end();
      const exitCode = code ?? (signal ? 128 : 1);
      const result = readResults(suite, Buffer.concat(chunks).toString("utf8"), exitCode);
      resolve({ ...result, seconds: (performance.now() - started) / 1000, log: path.relative(ROOT, log) });
    });
  });
}

export function suiteLine(r: SuiteResult, width: number): string {
  const status = r.failed > 0 ? "FAIL" : "ok  ";
  const skipped = r.skipped > 0 ? `, ${r.skipped} skipped` : "";
  return `${r.suite.padEnd(width)}  ${status}  ${r.passed} passed, ${r.failed} failed${skipped}  (${r.seconds.toFixed(1)} s, ${r.log})`;
}

async function main(): Promise<void> {
  const suites = process.argv.slice(2);
  if (suites.length === 0) {
    console.error("usage: test-report.ts SUITE...");
    process.exit(2);
  }
  mkdirSync(LOG_DIR, { recursive: true });
  const verbose = Boolean(process.env.VERBOSE) && process.env.VERBOSE !== "0";
  const width = Math.max(...suites.map((s) => s.length));
  const results: SuiteResult[] = [];
  for (const suite of suites) {
    if (process.stdout.isTTY && !verbose) process.stdout.write(`${suite.padEnd(width)}  ...\r`);
    const r = await runSuite(suite, verbose);
    results.push(r);
    console.log(suiteLine(r, width));
  }
  const failures = results.flatMap((r) => r.failures.map((f) => ({ ...f, suite: r.suite })));
  if (failures.length > 0) {
    console.log("\nfailures:");
    for (const f of failures) console.log(`  ${f.suite}: ${f.where}: ${f.name}${f.message ? `\n      ${f.message}` : ""}`);
    console.log(`(full output: ${path.relative(ROOT, LOG_DIR)}/<suite>.log)`);
  }
  const passed = results.reduce((a, r) => a + r.passed, 0);
  const failed = results.reduce((a, r) => a + r.failed, 0);
  console.log(`\n${passed} passed, ${failed} failed`);
  process.exitCode = failed > 0 || results.some((r) => r.exitCode !== 0) ? 1 : 0;
}

if (require.main === module) void main();
