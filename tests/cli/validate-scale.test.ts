/**
 * `hfi validate` in work and memory linear in its input, with every problem still at its own
 * line and column: a mebibyte of small policy documents in one file or in thousands of files
 * (each judged with a fresh plugin VM, this took 30-40 s and grew faster than the input), and a
 * document with one very long string (a 50 MiB one took 2.2 GB). The work is counted (plugin
 * VMs configured, bytes given to them), not timed: make bench times these inputs (cli-scale).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import { FIXTURES, ROOT } from "./helpers";
import { smallPolicies, smallPolicy } from "../helpers/policy-documents";
import { formatText, validatePaths, type ValidationReport } from "../../cli/validate";

const tmp = mkdtempSync(path.join(os.tmpdir(), "hfi-scale-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

const MIB = 1024 * 1024;
/**
 * What judging may cost: policies go to the plugin a thousand to a VM (cli/validate.ts), so a
 * run configures about one VM per thousand policies (plus the settings and each policy the
 * plugin names, judged alone) and hands them each policy's bytes a few times at most. The
 * quadratic code this guards against configured a VM per policy.
 */
function assertLinearCost(report: ValidationReport, policies: number, inputBytes: number): void {
  const { vms, bytes } = report.cost;
  assert.ok(vms <= Math.ceil(policies / 1000) + 2 * report.problems.length + 10, `${vms} plugin VMs for ${policies} policies`);
  assert.ok(bytes <= 4 * inputBytes, `${bytes} bytes configured for ${inputBytes} bytes of input`);
}



describe("hfi validate on large inputs", () => {
  test("a mebibyte of small policy documents in one file: each problem at its line and column, for linear work", async () => {
    const file = path.join(tmp, "many.yaml");
    const docs = smallPolicies(MIB, (i) => (i === 3000 ? smallPolicy("p3000", 150) : i === 5000 ? smallPolicy("p10") : undefined));
    writeFileSync(file, docs.join("---\n"));
    assert.ok(statSync(file).size >= MIB && docs.length > 5000);
    // Document i starts on line 6i+1 (5 lines and a ---).
    const report = await validatePaths([file]);
    assert.deepEqual(formatText(report).split("\n"), [
      `${file}:${6 * 3000 + 5}:16: spec.rules[0].fault.percentage: must be a number from 0 to 100, got 150 (policy "p3000")`,
      `${file}:${6 * 5000 + 1}:13: metadata.name: has the name of the policy at ${file}:${6 * 10 + 1}:13; applied together, the later one is dropped (policy "p10")`,
      "1 file: 2 errors, 0 warnings",
    ]);
    assertLinearCost(report, docs.length, statSync(file).size);
  });

  test("a mebibyte of policies in thousands of files given one by one, for linear work", async () => {
    const dir = path.join(tmp, "files");
    mkdirSync(dir);
    const docs = smallPolicies(MIB, (i) => (i === 4321 ? smallPolicy("p4321", 101) : undefined));
    const files = docs.map((doc, i) => {
      const file = path.join(dir, `p${String(i).padStart(5, "0")}.yaml`);
      writeFileSync(file, doc);
      return file;
    });
    const report = await validatePaths(files);
    assert.deepEqual(formatText(report).split("\n"), [
      `${files[4321]}:5:16: spec.rules[0].fault.percentage: must be a number from 0 to 100, got 101 (policy "p4321")`,
      `${files.length} files: 1 error, 0 warnings`,
    ]);
    assertLinearCost(report, docs.length, docs.reduce((n, d) => n + d.length, 0));
  });

  test("read by parse workers or in one thread, a large file gets the same report: every problem, position, duplicate and note", async () => {
    const file = path.join(tmp, "mixed.yaml");
    const wasmPlugin = readFileSync(path.join(ROOT, "k8s", "base", "wasmplugin.yaml"), "utf8").replace("max_delay_ms: 30000", "max_delay_ms: -1");
    const docs = smallPolicies(5 * MIB, (i) => {
      if (i % 9973 === 17) return smallPolicy(`p${i}`, 150);
      if (i % 7919 === 5) return smallPolicy(`p${i - 1}`);
      if (i === 1234) return "metadata: { name: broken\nspec: [\n";
      if (i === 2345) return "# only a comment\n";
      if (i === 3456) return wasmPlugin;
      if (i === 4567) return "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n";
      if (i === 5678) return `- ${smallPolicy(`list${i}`).replace(/\n(?=.)/g, "\n  ")}- ${smallPolicy(`list${i}b`, 101).replace(/\n(?=.)/g, "\n  ")}`;
      if (i === 6789) return `policies:\n  - ${smallPolicy(`cfg${i}`).replace(/\n(?=.)/g, "\n    ")}`;
      if (i === 7890) return `metadata: { name: d${i} }\nspec: { direction: outbound, destination: { service: reviews }, rules: [ { match: {}, fault: { percentage: 5, abort: { httpStatus: 503 } } } ] }\n`;
      return undefined;
    });
    writeFileSync(file, docs.join("---\n"));
    const parallel = await validatePaths([file]);
    const serial = await validatePaths([file], { parallelBytes: Infinity });
    assert.ok(parallel.problems.length >= 8, JSON.stringify(parallel.problems.slice(0, 3)));
    assert.deepEqual(parallel, serial);
    const kinds = parallel.problems.map((p) => p.message.split(":")[0].slice(0, 30));
    for (const want of ["must be a number from 0 to 100, got 150", "has the name of the policy at", "not valid YAML", "must be a whole number of ms", "not read"]) {
      assert.ok(parallel.problems.some((p) => p.message.includes(want)), `${want} in ${JSON.stringify(kinds)}`);
    }
    assert.equal(parallel.notes.length, 1, "one note for the policies without direction");
  });

  test("small documents read by parse workers: each further mebibyte costs at most 10 MiB of peak memory", () => {
    // The parse workers cost a fixed amount to start (their own heaps); what must stay within
    // 10 times is what more input costs: 4 MiB against 12 MiB of the same documents.
    const run = (mib: number) => {
      const file = path.join(tmp, `docs-${mib}.yaml`);
      const odd = Math.floor((mib * MIB) / 200);
      writeFileSync(file, smallPolicies(mib * MIB, (i) => (i === odd ? smallPolicy(`p${odd}`, 150) : undefined)).join("---\n"));
      const r = peakRun(file);
      assert.deepEqual(r.lines, [
        `${file}:${6 * odd + 5}:16: spec.rules[0].fault.percentage: must be a number from 0 to 100, got 150 (policy "p${odd}")`,
        "1 file: 1 error, 0 warnings",
      ]);
      return { size: statSync(file).size, rss: r.maxRss };
    };
    const small = run(4);
    const large = run(12);
    const growth = large.rss - small.rss;
    assert.ok(growth <= 10 * (large.size - small.size), `8 MiB more input took ${(growth / MIB).toFixed(0)} MiB more memory`);
  });

  test("a 20 MiB string value: peak memory grows by at most 10 times the input, and the next document is still checked", () => {
    // As JSON writes every string: double-quoted (the YAML library builds such a value one
    // character at a time, some 30 bytes each, unless it is read in pieces).
    const file = path.join(tmp, "long-string.yaml");
    writeFileSync(file, [
      "metadata: { name: long }",
      "spec:",
      "  rules:",
      "    - match: {}",
      `      fault: { percentage: 5, abort: { httpStatus: 503, body: "${"x".repeat(20 * MIB)}" } }`,
      "---",
      "metadata: { name: after }",
      "spec: { rules: [ { match: {}, fault: { percentage: 5, abort: { httpStatus: 700 } } } ] }",
      "",
    ].join("\n"));
    const size = statSync(file).size;
    // What the plugin is given for the first document alone: {"policies": [that policy]}.
    const configurationBytes = JSON.stringify({ policies: [{ metadata: { name: "long" }, spec: { rules: [{ match: {}, fault: { percentage: 5, abort: { httpStatus: 503, body: "" } } }] } }] }).length + 20 * MIB;
    // Each run in a process of its own: its peak resident memory, against a run on a small file.
    const baseline = peakRun(path.join(FIXTURES, "three-errors.yaml"));
    const big = peakRun(file);
    assert.deepEqual(big.lines, [
      `${file}:1:1: (policy): refused: plugin configuration is ${configurationBytes} bytes long, over the 4194304-byte limit`,
      `${file}:8:64: spec.rules[0].fault.abort.httpStatus: must be an HTTP status from 200 to 599, got 700 (policy "after")`,
      "1 file: 2 errors, 0 warnings",
    ]);
    const growth = big.maxRss - baseline.maxRss;
    assert.ok(growth <= 10 * size, `peak memory grew by ${(growth / MIB).toFixed(0)} MiB for a ${(size / MIB).toFixed(0)} MiB input`);
  });
});

/** `hfi validate FILE` in a process of its own: what it prints and its peak resident memory. */
function peakRun(file: string): { lines: string[]; maxRss: number } {
  const probe = `
    const lines = [];
    require(${JSON.stringify(path.join(ROOT, "cli", "main.ts"))})
      .main(["validate", process.argv[1]], (s) => lines.push(...s.split("\\n")))
      .then(() => console.log(JSON.stringify({ lines, maxRss: process.resourceUsage().maxRSS * 1024 })));`;
  const r = spawnSync(process.execPath, ["--import", "tsx", "-e", probe, file], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { lines: string[]; maxRss: number };
}
