/**
 * Case 4: delay precision with the real clock, through `make run`'s local proxy (host/runner/).
 * 1,000 concurrent HTTP requests to a path a policy delays by 100 ms. Time held is measured
 * inside the runner, on the request's stream: from request headers handed to the plugin to the
 * same headers leaving it toward the upstream (performance.now()). Early = held < 100 ms.
 * The client runs in its own process. The client-side latency (minus the median undelayed latency of the same load) is reported too.
 */
import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startRunner } from "../../host/runner/runner";
import type { HttpStream, StreamOptions } from "../../host/index";
import { round } from "../lib/driver";
import type { LoadReply } from "../lib/load-client";
import { median, quantile } from "../lib/measure";

export const DELAY_MS = 100;

export interface Distribution {
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface DelayPrecisionResult {
  requests: number;
  method: string;
  /** Held time minus 100 ms, measured inside the runner (ms). */
  lateMs: Distribution;
  early: number;
  /** Per request: release time minus the due time of the tick that released it (ms): the
   * event loop's share (busy with the rest of the burst when the timer was due). */
  loopLateMs: Distribution;
  /** Per request: how far after the request's deadline the releasing tick was due (ms, 0 when
   * before): the plugin's share (whole-ms tick periods; a tick re-armed from a late tick). */
  pluginLateMs: Distribution;
  /** Client latency minus the median undelayed client latency (ms), for comparison. */
  clientLateMs: Distribution;
  undelayedClientMedianMs: number;
}

function distribution(values: number[]): Distribution {
  const r = (x: number): number => round(x, 3);
  return { min: r(Math.min(...values)), p50: r(quantile(values, 0.5)), p90: r(quantile(values, 0.9)), p99: r(quantile(values, 0.99)), max: r(Math.max(...values)) };
}

/** A client process that sends batches of concurrent requests. */
class LoadClient {
  private readonly child: ChildProcess = fork(path.join(__dirname, "..", "lib", "load-client.ts"), [], { execArgv: ["--import", "tsx"] });

  send(port: number, paths: string[]): Promise<LoadReply[]> {
    return new Promise((resolve, reject) => {
      this.child.once("message", (m) => resolve(m as LoadReply[]));
      this.child.once("error", reject);
      this.child.send({ port, paths });
    });
  }

  close(): void {
    this.child.send("exit");
  }
}

export async function runDelayPrecision(options: { requests: number; say: (s: string) => void }): Promise<DelayPrecisionResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "hfi-bench-"));
  const configPath = path.join(dir, "plugin.json");
  writeFileSync(configPath, JSON.stringify({
    max_active_faults: 100_000,
    policies: [{ metadata: { name: "slow-inventory" }, spec: { rules: [{ match: { path: { prefix: "/inventory" } }, fault: { percentage: 100, delay: { fixed_delay_ms: DELAY_MS } } }] } }],
  }));
  const runner = await startRunner({ port: 0, adminPort: 0, configPath, watch: false, logLevel: "warn", say: () => {} });
  const held: Array<{ in: number; out: number; tickDue: number }> = [];
  const pool = runner.workers;
  // When the timer (the plugin's root tick) now firing was due: splits lateness into the
  // plugin's share (tick armed after the request's deadline) and the event loop's (tick late).
  let tickDue = 0;
  const schedule = pool.clock.schedule.bind(pool.clock);
  pool.clock.schedule = (delayMs: number, fn: () => void) => {
    const due = performance.now() + delayMs;
    return schedule(delayMs, () => {
      tickDue = due;
      try {
        fn();
      } finally {
        tickDue = 0;
      }
    });
  };
  const newStream = pool.newStream.bind(pool);
  pool.newStream = (o?: StreamOptions): HttpStream => {
    const s = newStream(o);
    const rec = { in: 0, out: 0, tickDue: 0 };
    const send = s.sendRequestHeaders.bind(s);
    s.sendRequestHeaders = (h, end) => {
      rec.in = performance.now();
      return send(h, end);
    };
    s.on("upstreamHeaders", () => {
      rec.out = performance.now();
      rec.tickDue = tickDue;
    });
    held.push(rec);
    return s;
  };
  const client = new LoadClient();
  try {
    const n = options.requests;
    // Warm-up and the undelayed baseline: the same concurrent load on a path no policy matches.
    await client.send(runner.proxyPort, Array.from({ length: n }, () => "/warmup"));
    const baseline = await client.send(runner.proxyPort, Array.from({ length: n }, (_, i) => `/catalog/${i}`));
    const undelayed = median(baseline.map((r) => r.ms));
    held.length = 0;
    options.say(`  delay precision: ${n} concurrent requests delayed ${DELAY_MS} ms`);
    const results = await client.send(runner.proxyPort, Array.from({ length: n }, (_, i) => `/inventory/${i}`));
    const bad = results.filter((r) => r.status !== 200 || r.fault !== "delay").length;
    if (bad > 0) throw new Error(`delay precision: ${bad} responses were not delayed 200s`);
    if (held.length !== n || held.some((h) => h.out === 0 || h.tickDue === 0)) throw new Error("delay precision: not every request was seen leaving the plugin");
    const late = held.map((h) => h.out - h.in - DELAY_MS);
    return {
      requests: n,
      method: "inside the runner: stream request headers in -> upstream headers out (performance.now())",
      lateMs: distribution(late),
      early: late.filter((x) => x < 0).length,
      loopLateMs: distribution(held.map((h) => h.out - h.tickDue)),
      pluginLateMs: distribution(held.map((h) => Math.max(0, h.tickDue - h.in - DELAY_MS))),
      clientLateMs: distribution(results.map((r) => r.ms - undelayed - DELAY_MS)),
      undelayedClientMedianMs: round(undelayed, 3),
    };
  } finally {
    client.close();
    await runner.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface DistributionPrecisionResult {
  requests: number;
  delay: object;
  /** Per quantile: the held time measured inside the runner and the distribution's value (ms). */
  quantiles: Array<{ q: number; heldMs: number; expectedMs: number; diffMs: number }>;
  /** Largest gap between the measured CDF of held times and the distribution's CDF. */
  ksDistance: number;
}

/**
 * Case 4b: delay precision of a distribution. The same setup as case 4 with a
 * `uniform {min_ms 50, max_ms 250}` delay: each request draws its own delay, so precision is the
 * held times' distribution against the uniform one (quantiles, and the Kolmogorov-Smirnov
 * distance, which includes the real clock's lateness). `BENCH_ONLY=distribution` runs only this.
 */
export async function runDistributionPrecision(options: { requests: number; say: (s: string) => void }): Promise<DistributionPrecisionResult> {
  const MIN = 50, MAX = 250;
  const delay = { uniform: { min_ms: MIN, max_ms: MAX } };
  const dir = mkdtempSync(path.join(os.tmpdir(), "hfi-bench-"));
  const configPath = path.join(dir, "plugin.json");
  writeFileSync(configPath, JSON.stringify({
    max_active_faults: 100_000,
    policies: [{ metadata: { name: "shaped-inventory" }, spec: { rules: [{ match: { path: { prefix: "/inventory" } }, fault: { percentage: 100, delay } }] } }],
  }));
  const runner = await startRunner({ port: 0, adminPort: 0, configPath, watch: false, logLevel: "warn", say: () => {} });
  const held: Array<{ in: number; out: number }> = [];
  const pool = runner.workers;
  const newStream = pool.newStream.bind(pool);
  pool.newStream = (o?: StreamOptions): HttpStream => {
    const s = newStream(o);
    const rec = { in: 0, out: 0 };
    const send = s.sendRequestHeaders.bind(s);
    s.sendRequestHeaders = (h, end) => {
      rec.in = performance.now();
      return send(h, end);
    };
    s.on("upstreamHeaders", () => (rec.out = performance.now()));
    held.push(rec);
    return s;
  };
  const client = new LoadClient();
  try {
    const n = options.requests;
    await client.send(runner.proxyPort, Array.from({ length: n }, () => "/warmup"));
    held.length = 0;
    options.say(`  distribution precision: ${n} concurrent requests delayed uniform [${MIN}, ${MAX}] ms`);
    const results = await client.send(runner.proxyPort, Array.from({ length: n }, (_, i) => `/inventory/${i}`));
    if (results.some((r) => r.status !== 200 || r.fault !== "delay")) throw new Error("distribution precision: not every response was a delayed 200");
    const times = held.map((h) => h.out - h.in).sort((a, b) => a - b);
    const F = (x: number) => Math.min(1, Math.max(0, (x - MIN) / (MAX - MIN)));
    let ks = 0;
    times.forEach((x, i) => (ks = Math.max(ks, Math.abs((i + 1) / times.length - F(x)), Math.abs(i / times.length - F(x)))));
    return {
      requests: n,
      delay,
      quantiles: [0.1, 0.5, 0.9, 0.99].map((q) => {
        const heldMs = quantile(times, q);
        const expectedMs = MIN + q * (MAX - MIN);
        return { q, heldMs: round(heldMs, 3), expectedMs, diffMs: round(heldMs - expectedMs, 3) };
      }),
      ksDistance: round(ks, 4),
    };
  } finally {
    client.close();
    await runner.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
