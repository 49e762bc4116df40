/**
 * Names are safe everywhere, on the real module: distinct policies never share a Prometheus
 * series, with or without Envoy's stats_tags (without them Envoy turns `-` and `.` into `_`),
 * `_other` stays the cap's own label, and promtool accepts the exposition.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { StatsStore } from "../../host/index";
import { startHfi } from "../helpers/hfi";
import { needPromtool, promtool, ROOT } from "./lib/promtool";

const NAMES = ["a-b", "a_b", "a.b", "-other", "a%2Db"];
const policies = NAMES.map((name, i) => ({ metadata: { name }, spec: { rules: [{ match: { path: { exact: `/p${i}` } }, fault: { percentage: 100, abort: { httpStatus: 503 } } }] } }));

async function exposition(stats: StatsStore): Promise<string> {
  const hfi = await startHfi({ policies }, { stats, logLevel: "warn" });
  NAMES.forEach((_, i) => hfi.request("GET", `/p${i}`));
  return stats.renderPrometheus();
}

const injected = (text: string) => text.split("\n").filter((l) => l.startsWith("hfi_faults_policy_injected_total"));

test("without stats_tags: one series per policy, each counting its own fault; promtool accepts the exposition", async (t) => {
  const text = await exposition(new StatsStore());
  const lines = injected(text);
  const names = lines.map((l) => l.split(/[{ ]/)[0]);
  assert.equal(new Set(names).size, NAMES.length, `distinct series:\n${lines.join("\n")}`);
  for (const l of lines) assert.match(l, / 1$/, l);
  assert.ok(!names.includes("hfi_faults_policy_injected_total_hfi_policy__other_hfi_fault_abort"), "no policy falls into the cap's _other series");
  if (!needPromtool(t)) return;
  // Exit 3 is lint findings only (help texts); a duplicate series or family is a parse error.
  const r = promtool(["check", "metrics"], text);
  const out = r.stdout + r.stderr;
  assert.ok(r.status === 0 || r.status === 3, `promtool check metrics failed (exit ${r.status}): ${out}`);
  assert.doesNotMatch(out, /text format parsing error|error while linting|duplicate|second TYPE/i, out);
});

test("with the shipped stats_tags: each policy its own hfi_policy label value", async () => {
  const tags = parse(readFileSync(path.join(ROOT, "envoy", "envoy.yaml"), "utf8")).stats_config;
  const lines = injected(await exposition(new StatsStore({ tags })));
  const labels = lines.map((l) => /hfi_policy="([^"]*)"/.exec(l)?.[1]);
  assert.equal(new Set(labels).size, NAMES.length, lines.join("\n"));
  assert.ok(labels.includes("a-b"), "the first of colliding names keeps its label");
  assert.ok(labels.includes("a_b%7E2"), "a later one gets an escaped ~2 (its own series in every exposition)");
});
