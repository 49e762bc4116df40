/**
 * `hfi status` against the local runner (the real plugin behind a real admin server), against
 * Prometheus text with the per-policy series, and against a server that answers with neither.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { closedPort, request, runner, type TestRunner } from "../runner/harness";
import { status } from "../../cli/status";
import { BIN, hfi, ROOT, type Run } from "./helpers";

describe("hfi status against the runner", () => {
  let r: TestRunner;
  before(async () => {
    r = await runner({ workers: 1 });
  });
  after(async () => {
    await r.close();
  });

  test("the totals that exist today, after one abort", async () => {
    assert.equal((await request(r.proxyPort, "/checkout")).status, 503);
    const out = await hfi("status", "--admin", `http://127.0.0.1:${r.adminPort}`);
    assert.equal(out.code, 0, out.stderr);
    const lines = out.stdout.split("\n");
    assert.equal(lines[0], `hfi status from http://127.0.0.1:${r.adminPort}/stats/prometheus`);
    assert.match(out.stdout, /^totals: aborts 1, delays 0, resets 0, response faults 0, active 0, overflow 0, budget skipped 0, guard trips 0, config errors 0, fetch failures 0, policy updates 0$/m);
    // The state column is the plugin's own (its hfi_faults_policy_state gauge).
    assert.match(out.stdout, /^checkout-fails\s+active\s+-\s+1\s+1 \(abort 1\)\s+0\s+injecting$/m);
  });

  test("--watch refreshes (--count bounds it)", async () => {
    const out = await hfi("status", "--admin", `127.0.0.1:${r.adminPort}`, "--watch", "--interval", "1", "--count", "2");
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout.match(/^totals: /gm)?.length, 2);
  });

  test("an admin address nothing answers on is a one-line error", async () => {
    const port = await closedPort();
    const out = await hfi("status", "--admin", `http://127.0.0.1:${port}`);
    assert.equal(out.code, 1);
    assert.equal(out.stderr, `hfi status: cannot read http://127.0.0.1:${port}/stats/prometheus: ECONNREFUSED`);
  });
});

describe("hfi status with per-policy series", () => {
  // What /stats/prometheus shows with the shipped tag configuration.
  let text = [
    "# TYPE hfi_faults_aborts_total counter",
    "hfi_faults_aborts_total{} 7",
    "# TYPE hfi_faults_delays_total counter",
    "hfi_faults_delays_total{} 3",
    "# TYPE hfi_faults_active gauge",
    "hfi_faults_active{} 1",
    "# TYPE hfi_faults_overflow_total counter",
    "hfi_faults_overflow_total{} 2",
    "# TYPE hfi_faults_policy_matched_total counter",
    'hfi_faults_policy_matched_total{hfi_policy="checkout-fails"} 7',
    'hfi_faults_policy_matched_total{hfi_policy="slow \\"catalog\\""} 10',
    'hfi_faults_policy_matched_total{hfi_policy="quiet"} 4',
    "# TYPE hfi_faults_policy_injected_total counter",
    'hfi_faults_policy_injected_total{hfi_policy="checkout-fails",hfi_fault="abort"} 7',
    'hfi_faults_policy_injected_total{hfi_policy="slow \\"catalog\\"",hfi_fault="delay"} 3',
    "# TYPE hfi_faults_policy_overflow_total counter",
    'hfi_faults_policy_overflow_total{hfi_policy="slow \\"catalog\\""} 2',
    "# TYPE hfi_faults_policy_state gauge",
    'hfi_faults_policy_state{hfi_policy="checkout-fails"} 0',
    'hfi_faults_policy_state{hfi_policy="slow \\"catalog\\""} 2',
    'hfi_faults_policy_state{hfi_policy="quiet"} 3',
    "# TYPE hfi_faults_policy_state_until_seconds gauge",
    'hfi_faults_policy_state_until_seconds{hfi_policy="checkout-fails"} 0',
    `hfi_faults_policy_state_until_seconds{hfi_policy="slow \\"catalog\\""} ${Math.round(Date.now() / 1000) + 90}`,
    'hfi_faults_policy_state_until_seconds{hfi_policy="quiet"} 0',
    "",
  ].join("\n");
  let server: http.Server;
  let port = 0;
  before(async () => {
    server = http.createServer((_req, res) => res.end(text));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test("one row per policy: the plugin's state and time left, matched, injected by kind, overflow, activity", async () => {
    const out = await hfi("status", "--prometheus", `http://127.0.0.1:${port}/metrics`);
    assert.equal(out.code, 0, out.stderr);
    const lines = out.stdout.split("\n");
    assert.deepEqual(lines.map((l) => l.replace(/1 min 2\d s|1 min 30 s/, "1 min 30 s")), [
      `hfi status from http://127.0.0.1:${port}/metrics`,
      "POLICY          STATE            TIME LEFT   MATCHED  INJECTED     OVERFLOW  ACTIVITY",
      "checkout-fails  active           -           7        7 (abort 7)  0         injecting",
      "quiet           not yet started  -           4        0            0         matching, sampled out",
      'slow "catalog"  halted           1 min 30 s  10       3 (delay 3)  2         overflowing',
      "totals: aborts 7, delays 3, resets -, response faults -, active 1, overflow 2, budget skipped -, guard trips -, config errors -, fetch failures -, policy updates -",
    ]);
  });

  test("with --watch the state describes the last interval", async () => {
    const lines: string[] = [];
    // Between the two reads, only checkout-fails injects again.
    const injectAgain = () =>
      (text = text.replace('hfi_faults_policy_injected_total{hfi_policy="checkout-fails",hfi_fault="abort"} 7', 'hfi_faults_policy_injected_total{hfi_policy="checkout-fails",hfi_fault="abort"} 9'));
    const run = status({
      prometheus: `http://127.0.0.1:${port}/metrics`, watch: true, intervalMs: 200, count: 2,
      out: (s) => {
        lines.push(s);
        if (lines.length === 1) injectAgain();
      },
    });
    await run;
    const second = lines[1].split("\n");
    assert.match(second.find((l) => l.startsWith("checkout-fails")) ?? "", /\s9 \(abort 9\)\s+0\s+injecting$/);
    assert.match(second.find((l) => l.startsWith("quiet")) ?? "", /\sidle$/);
    assert.match(second.find((l) => l.startsWith("slow")) ?? "", /\sidle$/);
  });
});

/** hfi as a process without blocking this one (the test's own server must keep answering). */
function hfiAsync(argv: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...argv], { cwd: ROOT });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d));
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

// A URL that answers, but is neither Envoy's admin nor a metrics endpoint: refused in one line
// naming the flag, the URL read and what was expected, never a table of dashes with exit 0.
describe("hfi status against a server that is not Envoy", () => {
  const bodies: Record<string, string> = {
    "/empty": "",
    "/page": "<!DOCTYPE html>\n<html><body>Welcome</body></html>\n",
    "/words": "hello world\n",
  };
  let server: http.Server;
  let base = "";
  before(async () => {
    // "hello" for every path but the few above.
    server = http.createServer((req, res) => res.end(bodies[req.url ?? ""] ?? "hello"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test("--admin: exit 1, one line naming the address, the URL read and what was expected", async () => {
    const out = await hfi("status", "--admin", base);
    assert.equal(out.code, 1);
    assert.equal(out.stdout, "");
    assert.equal(
      out.stderr,
      `hfi status: --admin ${base}: ${base}/stats/prometheus answered "hello", not Prometheus metrics; expected Envoy's admin address (e.g. localhost:9901), which serves them at /stats/prometheus`,
    );
  });

  test("--prometheus: the same, with what that flag expects", async () => {
    const out = await hfi("status", "--prometheus", `${base}/metrics`);
    assert.equal(out.code, 1);
    assert.equal(out.stdout, "");
    assert.equal(
      out.stderr,
      `hfi status: --prometheus ${base}/metrics: ${base}/metrics answered "hello", not Prometheus metrics; expected a URL serving Envoy's Prometheus text (e.g. a sidecar's :15090/stats/prometheus)`,
    );
  });

  test("an empty body, a web page and words without numbers are refused too; --watch stops at once", async () => {
    const got: Record<string, string> = { "/empty": "an empty body", "/page": '"<!DOCTYPE html>"', "/words": '"hello world"' };
    for (const [path, what] of Object.entries(got)) {
      const out = await hfi("status", "--prometheus", `${base}${path}`, "--watch", "--interval", "1", "--count", "2");
      assert.equal(out.code, 1, path);
      assert.equal(out.stdout, "", path);
      const start = `hfi status: --prometheus ${base}${path}: ${base}${path} answered ${what}, not Prometheus metrics; `;
      assert.ok(out.stderr.startsWith(start), `${path}: ${out.stderr}`);
    }
  });

  test("as a process: exit 1 and that one line on stderr, nothing on stdout", async () => {
    const host = base.replace("http://", "");
    const r = await hfiAsync(["status", "--admin", host]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.equal(
      r.stderr,
      `hfi status: --admin ${host}: ${base}/stats/prometheus answered "hello", not Prometheus metrics; expected Envoy's admin address (e.g. localhost:9901), which serves them at /stats/prometheus\n`,
    );
  });
});
