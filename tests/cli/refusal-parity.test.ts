/**
 * The plugin and `hfi validate` refuse the same inputs with the same words: one corpus of bad
 * policies and settings, judged by the real module as a proxy loads it and by hfi validate as a
 * user runs it. For each input both refuse, and every message the plugin logs is one hfi prints.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startHfiUnchecked } from "../helpers/hfi";
import { hfi } from "./helpers";

const abort = { percentage: 100, abort: { httpStatus: 503 } };
const rule = (fault: object = abort, match: object = {}) => ({ match, fault });
const named = (spec: object) => ({ metadata: { name: "p" }, spec });

/** Bad policies: each must refuse its policy (and only that). */
const POLICIES: Array<[string, object]> = [
  ["misspelt selector", named({ selectr: { service: "payments" }, rules: [rule()] })],
  ["misspelt selector field", named({ selector: { servce: "payments" }, rules: [rule()] })],
  ["misspelt match condition", named({ rules: [rule(abort, { pth: { prefix: "/x" } })] })],
  ["misspelt header condition", named({ rules: [rule(abort, { headers: [{ name: "x", exactt: "1" }] })] })],
  ["grpcStatus 0", named({ rules: [rule({ percentage: 100, abort: { grpcStatus: 0 } })] })],
  ["percentage over 100", named({ rules: [rule({ percentage: 150, abort: { httpStatus: 503 } })] })],
  ["httpStatus out of range", named({ rules: [rule({ percentage: 100, abort: { httpStatus: 99 } })] })],
  ["unknown delay form", named({ rules: [rule({ percentage: 100, delay: { gamma: {} } })] })],
  ["misspelt fault field", named({ rules: [rule({ percentage: 100, abort: { httpStatus: 503 }, start_delay: 5 })] })],
  ["misspelt guard field", named({ guard: { max_error_rate: 0.5, min_requests: 5, windw_seconds: 30, cooldown_seconds: 60 }, rules: [rule()] })],
  ["unknown response field", named({ rules: [rule({ percentage: 100, response: { status: 503 } })] })],
  ["unknown exclude field", named({ exclude: [{ host: "x" }], rules: [rule()] })],
  ["bad mode", named({ mode: "dry-run", rules: [rule()] })],
  ["unsupported regex", named({ rules: [rule(abort, { path: { regex: "(a)\\1" } })] })],
  ["a good rule beside a bad one", named({ rules: [rule(), rule({ percentage: 100, abort: { httpStatus: 700 } })] })],
  ["a name with CR and LF", { metadata: { name: "p\r\nx-injected: 1" }, spec: { rules: [rule()] } }],
  ["the reserved name _other", { metadata: { name: "_other" }, spec: { rules: [rule()] } }],
];

/** Bad settings: each must refuse the configuration. */
const SETTINGS: Array<[string, object]> = [
  ["misspelt kill switch", { enabeld: false }],
  ["cap over 100 %", { max_fault_percentage: 150 }],
  ["negative max_delay_ms", { max_delay_ms: -1 }],
  ["mode typo", { mode: "off" }],
  ["wrong type", { max_active_faults: "10" }],
  ["misspelt control-plane field", { control_plane: { address: "cp:8080", lease_second: 5 } }],
];

const tmp = mkdtempSync(path.join(os.tmpdir(), "hfi-parity-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** What the plugin says about a configuration: its problems (`<field>: <message>`) and whether it refused it. */
async function pluginVerdict(configuration: object): Promise<{ accepted: boolean; problems: string[]; policies: number }> {
  const h = await startHfiUnchecked(configuration, { logLevel: "warn" });
  const lines = h.workerLogs("warn").concat(h.canary.logs("warn")).map((l) => l.replace(/^hfi: /, ""));
  const problems = new Set<string>();
  for (const l of lines) {
    const refused = /^configuration refused: (.*)$/.exec(l);
    if (refused) for (const part of refused[1].split(/; (?=configuration: )/)) problems.add(part.replace(/^configuration: /, ""));
    const m = /^(?:policy "[^"]*"(?: rule \d+)?|policies\[\d+\]): (.*) \(in plugin configuration; dropped\)$/.exec(l);
    if (m) problems.add(m[1]);
  }
  return { accepted: h.plugin.ok, problems: [...problems], policies: h.metric("hfi_faults_config_problems") };
}

async function validateVerdict(name: string, configuration: object): Promise<{ code: number; problems: string[] }> {
  const file = path.join(tmp, `${name.replace(/\W+/g, "-")}.json`);
  writeFileSync(file, JSON.stringify(configuration, null, 2));
  const run = await hfi("validate", "--format", "json", file);
  const report = JSON.parse(run.stdout) as { problems: Array<{ severity: string; field: string; message: string; pluginMessage?: string }> };
  const errors = report.problems.filter((p) => p.severity === "error");
  // hfi names fields from the document's root (policies[0].spec.rules[0].x); the plugin from the policy or rule.
  const relative = (field: string) => field.replace(/^policies\[\d+\]\.spec\.rules\[\d+\]\./, "").replace(/^policies\[\d+\]\./, "");
  return { code: run.code, problems: errors.map((p) => `${relative(p.field)}: ${p.pluginMessage ?? p.message}`) };
}

for (const [what, policy] of POLICIES) {
  test(`a bad policy, refused alike by the plugin and hfi validate: ${what}`, async () => {
    const configuration = { policies: [policy] };
    const plugin = await pluginVerdict(configuration);
    assert.equal(plugin.accepted, true, "a bad policy does not refuse the configuration");
    assert.equal(plugin.policies, 1, "the policy is refused");
    assert.ok(plugin.problems.length > 0, "the plugin names the problem");
    const cli = await validateVerdict(what, configuration);
    assert.equal(cli.code, 1);
    for (const p of plugin.problems) assert.ok(cli.problems.includes(p), `hfi validate does not say what the plugin says:\n  ${p}\nhfi:\n  ${cli.problems.join("\n  ")}`);
  });
}

for (const [what, settings] of SETTINGS) {
  test(`a bad setting, refused alike by the plugin and hfi validate: ${what}`, async () => {
    const configuration = { ...settings, policies: [] };
    const plugin = await pluginVerdict(configuration);
    assert.equal(plugin.accepted, false, "the configuration is refused");
    const cli = await validateVerdict(what, configuration);
    assert.equal(cli.code, 1);
    assert.deepEqual(cli.problems.sort(), plugin.problems.sort());
  });
}

/** Lists each of whose policies is fine alone, refused whole for their size. */
const many = (policies: number, rulesEach: number) => Array.from({ length: policies }, (_, i) => ({
  metadata: { name: `p${i}` },
  spec: { rules: Array.from({ length: rulesEach }, (_, r) => rule(abort, { path: { prefix: `/p${i}/r${r}` } })) },
}));
const LISTS: Array<[string, object[]]> = [
  ["more policies than the limit", many(5001, 1)],
  ["more rules in all than the limit", many(101, 100)],
];

for (const [what, policies] of LISTS) {
  test(`a list over a count limit, refused alike by the plugin and hfi validate: ${what}`, async () => {
    const configuration = { policies };
    const plugin = await pluginVerdict(configuration);
    assert.equal(plugin.accepted, false, "the configuration is refused");
    assert.equal(plugin.problems.length, 1);
    const cli = await validateVerdict(what, configuration);
    assert.equal(cli.code, 1, "hfi validate must not pass a list the plugin refuses");
    assert.deepEqual(cli.problems, plugin.problems);
  });
}
