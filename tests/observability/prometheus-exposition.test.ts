// `promtool check metrics` on what the runner (`make run`, envoy/envoy.yaml) serves at
// /stats/prometheus after traffic: it must parse, and the only lint findings allowed are the two
// Envoy's own output also gets: no `# HELP` lines (Envoy prints none) and the base-unit hint on
// the contract's hfi_faults_delay_duration_milliseconds.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { request, runner, waitFor, type TestRunner } from "../runner/harness";
import { needPromtool, promtool } from "./lib/promtool";

/** promtool's findings, one per line; throws if the text did not parse. */
function lint(text: string): string[] {
  const r = promtool(["check", "metrics"], text);
  const out = (r.stdout + r.stderr).trim();
  assert.ok(r.status === 0 || r.status === 3, `promtool check metrics failed (exit ${r.status}): ${out}`);
  assert.doesNotMatch(out, /text format parsing error|error while linting/);
  return out === "" ? [] : out.split("\n");
}

/** Metric family names declared by `# TYPE` lines. */
const families = (text: string) => [...text.matchAll(/^# TYPE (\S+) \S+$/gm)].map((m) => m[1]);

/** Every finding is an expected one; each family has its "no help text". */
function assertOnlyExpectedFindings(text: string, findings: string[]): void {
  const allowed = new Set(families(text).map((f) => `${f} no help text`));
  allowed.add('hfi_faults_delay_duration_milliseconds use base unit "seconds" instead of "milliseconds"');
  for (const f of findings) assert.ok(allowed.has(f), `unexpected promtool finding: ${f}`);
  for (const f of families(text)) assert.ok(findings.includes(`${f} no help text`), `${f}: expected "no help text"`);
}

describe("promtool check metrics on the runner's /stats/prometheus", () => {
  let r: TestRunner;
  before(async () => {
    r = await runner({ workers: 2 });
  });
  after(async () => {
    await r?.close();
  });

  test("after aborts and a delay: parses, only the expected hints, no invented HELP", async (t) => {
    if (!needPromtool(t)) return;
    assert.equal((await request(r.proxyPort, "/checkout")).status, 503);
    for (let i = 0; i < 5; i++) await request(r.proxyPort, "/api/items");
    assert.equal((await request(r.proxyPort, "/catalog")).status, 200); // held 1.5 s by slow-catalog
    // Histograms appear once Envoy's (and the runner's) 5-second stats flush has latched them.
    await waitFor(async () => /^hfi_faults_delay_duration_milliseconds_count\{\} 1$/m.test((await request(r.adminPort, "/stats/prometheus")).body), 15_000, "the delay in the histogram");
    const text = (await request(r.adminPort, "/stats/prometheus")).body;
    assert.doesNotMatch(text, /^# HELP/m);
    assert.match(text, /^hfi_faults_aborts_total\{\} [1-9]\d*$/m);
    const findings = lint(text);
    assert.ok(findings.includes('hfi_faults_delay_duration_milliseconds use base unit "seconds" instead of "milliseconds"'), findings.join("\n"));
    assertOnlyExpectedFindings(text, findings);
    // Per-policy series, once the plugin defines them, arrive labelled, never as flat names.
    assert.doesNotMatch(text, /^hfi_faults_policy_\w+_hfi_policy_/m);
  });

  test("with per-policy series in the runner's stats store: labelled, still only the expected hints", async (t) => {
    if (!needPromtool(t)) return;
    // More per-policy names (some the plugin defines, some it would define), recorded straight into the store
    // the runner renders (with the stats_tags it read from envoy/envoy.yaml).
    const names = [
      "wasmcustom.hfi_faults_policy_matched_total.hfi_policy.checkout-fails",
      "wasmcustom.hfi_faults_policy_matched_total.hfi_policy.team.a.v1.2",
      "wasmcustom.hfi_faults_policy_matched_total.hfi_policy._other",
      "wasmcustom.hfi_faults_policy_injected_total.hfi_policy.checkout-fails.hfi_fault.abort",
      "wasmcustom.hfi_faults_policy_injected_total.hfi_policy.team.a.v1.2.hfi_fault.delay",
      "wasmcustom.hfi_faults_policy_dry_run_total.hfi_policy.slow-catalog.hfi_fault.delay",
      "wasmcustom.hfi_faults_policy_overflow_total.hfi_policy._other",
    ];
    for (const n of names) r.stats.counter(n).add(1n);
    r.stats.gauge("wasmcustom.hfi_faults_policy_halted.hfi_policy.checkout-fails").set(1n);
    const text = (await request(r.adminPort, "/stats/prometheus")).body;
    // The plugin itself counted the /checkout abort of the test above: 1 + 1.
    assert.match(text, /^hfi_faults_policy_injected_total\{hfi_policy="checkout-fails",hfi_fault="abort"\} 2$/m);
    assert.match(text, /^hfi_faults_policy_matched_total\{hfi_policy="team\.a\.v1\.2"\} 1$/m);
    assert.match(text, /^hfi_faults_policy_overflow_total\{hfi_policy="_other"\} 1$/m);
    assert.equal(families(text).filter((f) => f === "hfi_faults_policy_matched_total").length, 1);
    assertOnlyExpectedFindings(text, lint(text));
  });

  test("the check is real: a malformed exposition is refused", (t) => {
    if (!needPromtool(t)) return;
    const r2 = promtool(["check", "metrics"], '# TYPE x counter\nx{a="unterminated} 1\n');
    assert.equal(r2.status, 1, r2.stdout + r2.stderr);
  });
});
