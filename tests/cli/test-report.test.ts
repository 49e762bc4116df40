/**
 * scripts/test-report.ts, what `make test` prints: counts per suite read from node:test TAP,
 * as-pect's summary, tsc's errors or the exit status, and each failure with file:line.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { resultsPath } from "../../bench/lib/report";
import { readResults, suiteLine } from "../../scripts/test-report";
import { FIXTURES, ROOT } from "./helpers";

const sample = (name: string) => readFileSync(path.join(FIXTURES, "test-output", name), "utf8").replaceAll("ROOT/", `${ROOT}/`);

test("node:test TAP: pass, fail and skip counts; a failure at the test's own file:line with the assertion", () => {
  const r = readResults("integration", sample("node-test.tap"), 1);
  assert.deepEqual([r.passed, r.failed, r.skipped, r.format], [1, 1, 1, "tap"]);
  // The suite "group" fails only because of its subtest: listed once, as the subtest.
  assert.deepEqual(r.failures, [{ where: "tests/example/x.test.ts:6", name: "bad one", message: "Expected values to be strictly equal:" }]);
});

test("as-pect: the summary's counts; a failure at the line of its it() in the spec file", () => {
  const r = readResults("unit", sample("as-pect.txt"), 0);
  assert.deepEqual([r.passed, r.failed, r.skipped, r.format], [20, 1, 1, "as-pect"]);
  assert.deepEqual(r.failures, [{ where: "tests/unit/sampling.spec.ts:22", name: "Sampler > never faults at 0 % and always at 100 %", message: "" }]);
});

test("tsc: each error is a failure at its file:line; a clean run is one pass", () => {
  const r = readResults("typecheck", sample("tsc.txt"), 2);
  assert.deepEqual([r.passed, r.failed], [0, 2]);
  assert.deepEqual(r.failures.map((f) => f.where), ["cli/simulate.ts:122", "host/vm.ts:7"]);
  const clean = readResults("typecheck", "node_modules/.bin/tsc -p tsconfig.json\ntypecheck: 0 errors\n", 0);
  assert.deepEqual([clean.passed, clean.failed, clean.failures], [1, 0, []]);
});

test("a suite that exits non-zero without a failing test counts as one failure, with its last line", () => {
  const r = readResults("test-deploy", "building...\nmake: *** [mk/deploy.mk:60: test-deploy] Error 1\n", 2);
  assert.deepEqual([r.passed, r.failed], [0, 1]);
  assert.deepEqual(r.failures, [{ where: "test-deploy", name: "test-deploy exited with status 2", message: "make: *** [mk/deploy.mk:60: test-deploy] Error 1" }]);
  const tapButCrashed = readResults("x", "# pass 3\n# fail 0\n", 1);
  assert.deepEqual([tapButCrashed.passed, tapButCrashed.failed], [3, 1]);
});

test("one line per suite with its counts and where the full output is", () => {
  const r = { ...readResults("integration", sample("node-test.tap"), 1), seconds: 12.34, log: "build/test-logs/integration.log" };
  assert.equal(suiteLine(r, 12), "integration   FAIL  1 passed, 1 failed, 1 skipped  (12.3 s, build/test-logs/integration.log)");
});

test("make bench writes to build/ (ignored) unless asked to record into the committed bench/results/", () => {
  assert.equal(resultsPath(false), path.join(ROOT, "build", "bench", "latest.json"));
  assert.equal(resultsPath(true), path.join(ROOT, "bench", "results", "latest.json"));
  assert.match(readFileSync(path.join(ROOT, ".gitignore"), "utf8"), /^build\/$/m);
});

test("docs/testing.md's sample of make test's output lists the suites make test runs, in order, and adds them up", () => {
  // TEST_SUITES as make builds it: the Makefile's list, then `TEST_SUITES += name` of each
  // mk/*.mk in the order make includes them (sorted, by $(wildcard)).
  const make = readFileSync(path.join(ROOT, "Makefile"), "utf8");
  const suites = make.match(/^TEST_SUITES := (.+)$/m)![1].trim().split(/\s+/);
  for (const f of readdirSync(path.join(ROOT, "mk")).filter((n) => n.endsWith(".mk")).sort()) {
    for (const m of readFileSync(path.join(ROOT, "mk", f), "utf8").matchAll(/^TEST_SUITES \+= (.+)$/gm)) suites.push(...m[1].trim().split(/\s+/));
  }
  const doc = readFileSync(path.join(ROOT, "docs", "testing.md"), "utf8");
  const block = doc.slice(doc.indexOf("```text\ntypecheck") + 8, doc.indexOf("```", doc.indexOf("```text\ntypecheck") + 8)).trim().split("\n");
  const rows = block.filter((l) => /^\S+\s+(ok|FAIL)\s/.test(l));
  assert.deepEqual(rows.map((l) => l.split(/\s+/)[0]), suites);
  const sum = rows.reduce((n, l) => n + Number(/(\d+) passed/.exec(l)![1]), 0);
  assert.equal(block[block.length - 1], `${sum} passed, 0 failed`);
});
