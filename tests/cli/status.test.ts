/**
 * `hfi status` against the local runner (the real plugin behind a real admin server) and
 * against Prometheus text with the per-policy series issue 11 specifies.
 */
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { closedPort, request, runner, type TestRunner } from "../runner/harness";
import { status } from "../../cli/status";
import { hfi } from "./helpers";

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
    assert.match(out.stdout, /^totals: aborts 1, delays 0, active 0, overflow 0, config errors 0, fetch failures 0, policy updates 0$/m);
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
  // What /stats/prometheus shows with the shipped tag configuration (issue 11, item 1).
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

  test("one row per policy: matched, injected by kind, overflow, state", async () => {
    const out = await hfi("status", "--prometheus", `http://127.0.0.1:${port}/metrics`);
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(out.stdout.split("\n"), [
      `hfi status from http://127.0.0.1:${port}/metrics`,
      "POLICY          MATCHED  INJECTED     OVERFLOW  STATE",
      "checkout-fails  7        7 (abort 7)  0         injecting",
      "quiet           4        0            0         matching, sampled out",
      'slow "catalog"  10       3 (delay 3)  2         overflowing',
      "totals: aborts 7, delays 3, active 1, overflow 2, config errors -, fetch failures -, policy updates -",
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
