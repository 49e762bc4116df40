/**
 * docs/metrics.md's tables are what the plugin defines (scripts/metrics-doc.ts makes them from
 * assembly/metrics.ts and assembly/observe/policy-state.ts): this fails when the page drifts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { definedMetrics, MEANINGS, PAGE, render } from "../../scripts/metrics-doc";

test("docs/metrics.md's generated tables match the plugin's definitions (make docs rewrites them)", () => {
  const page = readFileSync(PAGE, "utf8");
  assert.equal(page, render(page), "docs/metrics.md is out of date: run `make docs`");
});

test("every metric the plugin defines has a meaning, and every meaning a metric", () => {
  const d = definedMetrics();
  const names = [...d.totals, ...d.perPolicy].map((m) => m.name);
  assert.deepEqual(names.filter((n) => MEANINGS[n] === undefined), []);
  assert.deepEqual(Object.keys(MEANINGS).filter((n) => !names.includes(n)), []);
  assert.equal(new Set(names).size, names.length, "no name twice");
});
