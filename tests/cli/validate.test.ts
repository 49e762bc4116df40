/**
 * `hfi validate` on the real build/plugin.wasm: every problem at once, at the line and column
 * where the field is written, with Istio hints; exit 1 on errors; JSON output.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import { spawnSync } from "node:child_process";
import { BIN, ENVOY_FIXTURE, FIXTURES, hfi, hfiProcess, rel, ROOT } from "./helpers";

/** "line:column" of the first occurrence of `needle` in `text`, 1-based, as hfi prints positions. */
function positionOf(text: string, needle: string): string {
  const lines = text.split("\n");
  const i = lines.findIndex((l) => l.includes(needle));
  return `${i + 1}:${lines[i].indexOf(needle) + 1}`;
}

const tmp = mkdtempSync(path.join(os.tmpdir(), "hfi-cli-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe("hfi validate", () => {
  test("the shipped example policies, the WasmPlugin and the test copy of envoy.yaml are clean (exit 0)", async () => {
    // The README invites edits to examples/policies (change a status, delete a file): no counts here.
    const r = await hfi("validate", "examples/policies", "k8s/base/wasmplugin.yaml", rel(ENVOY_FIXTURE));
    assert.match(r.stdout, /^\d+ files: ok$/);
    assert.equal(r.code, 0);
  });

  test("policies without direction get one note for the run, on stderr, saying what they apply to on a sidecar", async () => {
    const file = path.join(tmp, "directions.yaml");
    const rules = "rules: [{match: {path: {prefix: /}}, fault: {percentage: 1, abort: {httpStatus: 503}}}]";
    writeFileSync(file, [
      "policies:",
      `- {metadata: {name: old-a}, spec: {${rules}}}`,
      `- {metadata: {name: old-b}, spec: {${rules}}}`,
      `- {metadata: {name: to-reviews}, spec: {destination: {service: reviews}, ${rules}}}`,
      `- {metadata: {name: said}, spec: {direction: any, ${rules}}}`,
      "---",
      `{metadata: {name: old-c}, spec: {${rules}}}`,
      "",
    ].join("\n"));
    const r = await hfi("validate", file);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "1 file: ok", "notes are not problems");
    const notes = r.stderr.split("\n");
    assert.equal(notes.length, 2, r.stderr);
    assert.match(notes[0], /:2:29: note: spec\.direction: not set in 3 policies "old-a", "old-b", "old-c": on a sidecar they apply only to the requests the workload receives \(inbound\), not to the calls it makes; on gateways, waypoints and plain Envoy to every request/);
    assert.match(notes[1], /not set in policy "to-reviews": on a sidecar it applies only to the calls the workload makes \(outbound\)/);
    assert.ok(!r.stderr.includes('"said"'));
    const json = JSON.parse((await hfi("validate", "--format", "json", file)).stdout);
    assert.deepEqual([json.ok, json.problems.length, json.notes.length, json.notes[0].severity], [true, 0, 2, "note"]);
  });

  test("a file with three errors reports all three, with lines, columns and field paths", async () => {
    const file = rel(path.join(FIXTURES, "three-errors.yaml"));
    const r = await hfi("validate", file);
    assert.equal(r.code, 1);
    assert.deepEqual(r.stdout.split("\n"), [
      `${file}:7:9: spec.rules[0].fault.percentage: must be a number from 0 to 100, got 150 (policy "checkout-broken")`,
      `${file}:8:18: spec.rules[0].fault.abort.httpStatus: must be an HTTP status from 200 to 599, got 700 (policy "checkout-broken")`,
      `${file}:20:41: spec.rules[0].fault.delay.fixed_delay_ms: must be a whole number of milliseconds >= 0, got -5 (policy "catalog-broken")`,
      "1 file: 3 errors, 0 warnings",
    ]);
  });

  test("--format json gives the same problems as data", async () => {
    const r = await hfi("validate", "--format", "json", path.join(FIXTURES, "three-errors.yaml"));
    assert.equal(r.code, 1);
    const report = JSON.parse(r.stdout);
    assert.equal(report.ok, false);
    assert.equal(report.errors, 3);
    assert.deepEqual(
      report.problems.map((p: { line: number; column: number; field: string; severity: string; policy: string }) => [p.line, p.column, p.field, p.severity, p.policy]),
      [
        [7, 9, "spec.rules[0].fault.percentage", "error", "checkout-broken"],
        [8, 18, "spec.rules[0].fault.abort.httpStatus", "error", "checkout-broken"],
        [20, 41, "spec.rules[0].fault.delay.fixed_delay_ms", "error", "catalog-broken"],
      ],
    );
    const clean = JSON.parse((await hfi("validate", "--format", "json", "examples/policies")).stdout);
    assert.deepEqual({ ok: clean.ok, errors: clean.errors, problems: clean.problems }, { ok: true, errors: 0, problems: [] });
  });

  test("Istio VirtualService habits get hints in place of unknown-field errors", async () => {
    const r = await hfi("validate", path.join(FIXTURES, "istio-habits.yaml"));
    assert.equal(r.code, 1);
    const lines = r.stdout.split("\n").map((l) => l.replace(/^.*istio-habits\.yaml:/, ""));
    assert.deepEqual(lines.slice(0, -1), [
      `6:9: spec.rules[0].match.uri: Istio VirtualService's uri is HFI's path: path: {prefix: "/api"} (policy "vs-habits")`,
      `8:9: spec.rules[0].fault.percentage: Istio VirtualService's percentage: {value: 20}; HFI takes a plain number: percentage: 20 (policy "vs-habits")`,
      `9:18: spec.rules[0].fault.delay.fixedDelay: Istio VirtualService's fixedDelay; HFI writes the delay in milliseconds: fixed_delay_ms: 1500 (policy "vs-habits")`,
      `11:9: spec.rules[1].match.headers: Istio VirtualService's headers is a map; HFI takes a list: headers: [{name: x-user, exact: "tester"}] (policy "vs-habits")`,
      `13:35: spec.rules[1].fault.abort.percentage: in a VirtualService the percentage sits inside abort; HFI has one fault.percentage for the rule: percentage: 5 (policy "vs-habits")`,
    ]);
    // The plugin's own words stay in the JSON output.
    const json = JSON.parse((await hfi("validate", "--format", "json", path.join(FIXTURES, "istio-habits.yaml"))).stdout);
    assert.equal(json.problems[2].pluginMessage, "unknown field (expected one of fixed_delay_ms, uniform, normal, lognormal or percentiles)");
  });

  test("near misses of field names and a fault beside match: one hint each, no follow-on errors", async () => {
    const r = await hfi("validate", path.join(FIXTURES, "near-misses.yaml"));
    assert.equal(r.code, 1);
    assert.deepEqual(r.stdout.split("\n").map((l) => l.replace(/^.*near-misses\.yaml:/, "")), [
      `7:9: spec.rules[0].fault.percent: Istio's old percent field; HFI writes percentage: 10 (policy "near-misses")`,
      `8:18: spec.rules[0].fault.abort.http_status: the field is httpStatus (camelCase, as in a VirtualService) (policy "near-misses")`,
      `12:18: spec.rules[1].fault.delay.fixed_delay: the field is fixed_delay_ms, a whole number of milliseconds: fixed_delay_ms: 200 (policy "near-misses")`,
      `14:7: spec.rules[2].abort: abort belongs inside the rule's fault (as in a VirtualService's http[].fault): fault: {percentage: <0-100>, abort: {...}} (policy "near-misses")`,
      "1 file: 4 errors, 0 warnings",
    ]);
  });

  test("a document that is not valid YAML does not hide the documents around it", async () => {
    const r = await hfi("validate", path.join(FIXTURES, "bad-yaml-middle.yaml"));
    assert.equal(r.code, 1);
    const lines = r.stdout.split("\n").map((l) => l.replace(/^.*bad-yaml-middle\.yaml:/, ""));
    assert.match(lines[0], /^5:16: spec\.rules\[0\]\.fault\.percentage: must be a number from 0 to 100, got 101/);
    assert.match(lines[1], /^8:1: \(document\): not valid YAML: /);
    assert.match(lines[2], /^13:40: spec\.rules\[0\]\.match\.bogus: unknown field \(expected method, path or headers\)/);
    assert.equal(lines[3], "1 file: 3 errors, 0 warnings");
  });

  test("an Envoy bootstrap: positions inside the embedded JSON are the file's lines and columns", async () => {
    const text = readFileSync(ENVOY_FIXTURE, "utf8").replace('"percentage": 20', '"percentage": 120').replace('"max_delay_ms": 30000', '"max_delay_ms": -1');
    const file = path.join(tmp, "envoy.yaml");
    writeFileSync(file, text);
    const lines = text.split("\n");
    const line120 = lines.findIndex((l) => l.includes('"percentage": 120')) + 1;
    const col120 = lines[line120 - 1].indexOf('"percentage"') + 1;
    const lineMax = lines.findIndex((l) => l.includes('"max_delay_ms": -1')) + 1;
    const colMax = lines[lineMax - 1].indexOf('"max_delay_ms"') + 1;
    const r = await hfi("validate", file);
    assert.equal(r.code, 1);
    assert.deepEqual(r.stdout.split("\n"), [
      `${file}:${line120}:${col120}: policies[2].spec.rules[0].fault.percentage: must be a number from 0 to 100, got 120 (policy "flaky-api")`,
      `${file}:${lineMax}:${colMax}: max_delay_ms: must be a whole number of ms from 0 to 86400000, got -1`,
      "1 file: 2 errors, 0 warnings",
    ]);
  });

  test("a WasmPlugin's pluginConfig: settings and policies at their YAML positions; an unknown spec field is an error", async () => {
    const file = path.join(tmp, "wasmplugin.yaml");
    // The shipped base WasmPlugin (no policies) with the demo overlay's policies put in place.
    const demo = readFileSync(path.join(ROOT, "k8s", "demo", "policies.yaml"), "utf8").split("\n");
    const withPolicies = readFileSync(path.join(ROOT, "k8s", "base", "wasmplugin.yaml"), "utf8")
      .replace("    policies: []", demo.slice(demo.findIndex((l) => l.trim() === "policies:")).join("\n").trimEnd());
    // An unknown field in a policy's spec refuses the policy, as in the plugin: ignoring a
    // misspelt selector would widen the experiment to every workload.
    const withUnknown = withPolicies.replace("        spec:\n", "        spec:\n          colour: blue\n");
    const text = withUnknown.replace("httpStatus: 503", "httpStatus: 99");
    writeFileSync(file, text);
    const at = (needle: string) => positionOf(text, needle);
    const r = await hfi("validate", file);
    assert.equal(r.code, 1);
    assert.deepEqual(r.stdout.split("\n"), [
      `${file}:${at("colour")}: policies[0].spec.colour: unknown field (expected selector, direction, destination, rules, mode, exclude, guard or schedule) (policy "checkout-fails")`,
      `${file}:${at("httpStatus: 99")}: policies[0].spec.rules[0].fault.abort.httpStatus: must be an HTTP status from 200 to 599, got 99 (policy "checkout-fails")`,
      "1 file: 2 errors, 0 warnings",
    ]);
    writeFileSync(file, withPolicies);
    assert.equal((await hfi("validate", file)).code, 0);
  });

  test("an unknown setting (a misspelled kill switch) refuses the configuration, with a suggestion", async () => {
    const file = path.join(tmp, "enabeld.yaml");
    const text = readFileSync(path.join(ROOT, "k8s", "base", "wasmplugin.yaml"), "utf8").replace("    enabled: true", "    enabeld: false");
    writeFileSync(file, text);
    const lines = text.split("\n");
    const i = lines.findIndex((l) => l.includes("enabeld:"));
    const r = await hfi("validate", file);
    assert.equal(r.code, 1);
    assert.deepEqual(r.stdout.split("\n"), [
      `${file}:${i + 1}:${lines[i].indexOf("enabeld") + 1}: enabeld: unknown setting (did you mean "enabled"?)`,
      "1 file: 1 error, 0 warnings",
    ]);
  });

  test("two policies of one name across documents and files are an error, as the plugin drops the later one", async () => {
    const dir = path.join(tmp, "dups");
    mkdirSync(dir, { recursive: true });
    const doc = (status: number) => `metadata: { name: checkout }\nspec: { rules: [ { match: {}, fault: { percentage: 5, abort: { httpStatus: ${status} } } } ] }\n`;
    writeFileSync(path.join(dir, "a.yaml"), doc(503) + "---\n" + doc(500));
    writeFileSync(path.join(dir, "b.yaml"), doc(502));
    const r = await hfi("validate", dir);
    assert.equal(r.code, 1);
    const a = path.join(dir, "a.yaml");
    const first = `${a}:1:13`;
    assert.deepEqual(r.stdout.split("\n"), [
      `${a}:4:13: metadata.name: has the name of the policy at ${first}; applied together, the later one is dropped (policy "checkout")`,
      `${path.join(dir, "b.yaml")}:1:13: metadata.name: has the name of the policy at ${first}; applied together, the later one is dropped (policy "checkout")`,
      "2 files: 2 errors, 0 warnings",
    ]);
  });

  test("a path that holds nothing hfi checks is an error, not ok", async () => {
    const dir = path.join(tmp, "nothing");
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "values.yaml"), "replicas: 3\n");
    const r = await hfi("validate", dir);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /nothing\S*:1:1: \(path\): nothing to check: no policy/);
  });

  test("every settings problem and every policy problem of a configuration in one run, each at its own line", async () => {
    const file = path.join(tmp, "many.json");
    const text = JSON.stringify({
      enabeld: false,
      max_fault_percentage: 150,
      max_labelled_policis: 10,
      policies: [{ metadata: { name: "p" }, spec: { selectr: { service: "payments" }, rules: [{ match: {}, fault: { percentage: 100, abort: { grpcStatus: 0 } } }] } }],
    }, null, 2);
    writeFileSync(file, text);
    const at = (needle: string) => positionOf(text, needle);
    const r = await hfi("validate", file);
    assert.equal(r.code, 1);
    assert.deepEqual(r.stdout.split("\n"), [
      `${file}:${at('"enabeld"')}: enabeld: unknown setting (did you mean "enabled"?)`,
      `${file}:${at('"max_fault_percentage"')}: max_fault_percentage: must be a number from 0 to 100, got 150`,
      `${file}:${at('"max_labelled_policis"')}: max_labelled_policis: unknown setting (did you mean "max_labelled_policies"?)`,
      `${file}:${at('"selectr"')}: policies[0].spec.selectr: unknown field (did you mean "selector"?) (expected selector, direction, destination, rules, mode, exclude, guard or schedule) (policy "p")`,
      `${file}:${at('"grpcStatus"')}: policies[0].spec.rules[0].fault.abort.grpcStatus: must be a gRPC error status from 1 to 16 (0 is OK, not a fault), got 0 (policy "p")`,
      "1 file: 5 errors, 0 warnings",
    ]);
  });

  test("a log_level above warn does not hide the plugin's verdict; an invalid one is reported", async () => {
    const file = path.join(tmp, "quiet.json");
    writeFileSync(file, JSON.stringify({ log_level: "error", policies: [{ metadata: { name: "p" }, spec: { rules: [{ match: {}, fault: { percentage: 101, abort: { httpStatus: 503 } } }] } }] }));
    const r = await hfi("validate", file);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /: policies\[0\]\.spec\.rules\[0\]\.fault\.percentage: must be a number from 0 to 100, got 101 \(policy "p"\)$/m);
    writeFileSync(file, JSON.stringify({ log_level: "loud", policies: [] }));
    const bad = await hfi("validate", file);
    assert.match(bad.stdout, /quiet\.json:1:2: log_level: must be one of trace, debug, info, warn, error, critical; got "loud"$/m);
  });

  test("a VirtualService, a list item that is not a policy, and objects that are not HFI's", async () => {
    const file = path.join(tmp, "mixed.yaml");
    writeFileSync(file, [
      "apiVersion: networking.istio.io/v1beta1",
      "kind: VirtualService",
      "metadata: { name: reviews }",
      "spec: { hosts: [reviews] }",
      "---",
      "- metadata: { name: ok }",
      "  spec: { rules: [ { match: {}, fault: { percentage: 5, abort: { httpStatus: 503 } } } ] }",
      "- just a string",
      "---",
      "apiVersion: networking.istio.io/v1alpha3",
      "kind: EnvoyFilter",
      "metadata: { name: other }",
      "---",
      "images: [ { path: spec/url, kind: WasmPlugin } ]",
    ].join("\n"));
    const r = await hfi("validate", file);
    assert.equal(r.code, 1);
    assert.deepEqual(r.stdout.split("\n").map((l) => l.replace(`${file}:`, "")), [
      "1:1: kind: this is an Istio VirtualService; HFI takes policies ({metadata: {name}, spec: {rules: [{match, fault}]}}) — see docs/cli.md for how VirtualService fault fields translate",
      '8:3: (policy): must be an object, got "just a string"',
      "14:1: warning: (document): skipped: not a policy, a list of policies, a plugin configuration, a WasmPlugin or an Envoy bootstrap with the Wasm filter",
      "1 file: 2 errors, 1 warning",
    ]);
  });

  test("policies that are not a list: one error at the field; a configuration refused as a whole: one error at it", async () => {
    const file = path.join(tmp, "not-a-list.json");
    writeFileSync(file, '{"policies": "not a list"}');
    const r = await hfi("validate", file);
    assert.equal(r.code, 1);
    assert.equal(r.stdout.split("\n")[0], `${file}:1:2: policies: must be an array of policies, got "not a list"`);

    const bootstrap = path.join(tmp, "refused.yaml");
    const text = readFileSync(ENVOY_FIXTURE, "utf8").replace(/value: \|[\s\S]*?(\n\s+- name: envoy\.filters\.http\.router)/, "value: |\n                            {not json$1");
    writeFileSync(bootstrap, text);
    const line = text.split("\n").findIndex((l) => l.includes("value: |")) + 1;
    const refused = await hfi("validate", bootstrap);
    assert.equal(refused.code, 1);
    assert.match(refused.stdout.split("\n")[0], new RegExp(`^${bootstrap.replace(/[.]/g, "\\.")}:${line}:\\d+: \\(configuration\\): refused: plugin configuration is not valid JSON`));
  });

  test("as a process: exit 1 on errors, 0 when clean, and CLI errors are one line on stderr", () => {
    const bad = hfiProcess(["validate", path.join(FIXTURES, "three-errors.yaml")]);
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /3 errors/);
    const good = hfiProcess(["validate", "policies"], path.join(ROOT, "examples"));
    assert.equal(good.code, 0, good.stderr);
    const missing = hfiProcess(["validate", "no/such/file.yaml"]);
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr, "no/such/file.yaml: no such file or directory\n");
    const flag = hfiProcess(["validate", "--colour", "x"]);
    assert.equal(flag.code, 2);
    assert.equal(flag.stderr, "hfi validate: unknown option --colour (see hfi validate --help)\n");
  });

  test("help for hfi and each command; a missing plugin build or an unknown command is one line", async () => {
    const top = await hfi("--help");
    assert.equal(top.code, 0);
    assert.match(top.stdout, /^Usage:\n {2}hfi validate PATH\.\.\./m);
    for (const command of ["validate", "simulate", "render", "status"]) {
      const help = await hfi(command, "--help");
      assert.equal(help.code, 0);
      assert.match(help.stdout, new RegExp(`^Usage: hfi ${command} `));
    }
    const unknown = await hfi("frob");
    assert.deepEqual([unknown.code, unknown.stderr], [2, 'hfi: unknown command "frob" (commands: validate, simulate, render, status; see hfi --help)']);
    const r = spawnSync(process.execPath, [BIN, "validate", "examples/policies"], { cwd: ROOT, encoding: "utf8", env: { ...process.env, HFI_WASM: "/nonexistent/plugin.wasm" } });
    assert.equal(r.status, 2);
    assert.equal(r.stderr, "/nonexistent/plugin.wasm not found: build the plugin with `make build`\n");
  });
});
