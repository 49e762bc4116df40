/**
 * Delay distributions on the real module: 100,000 matched requests per form go
 * through the host with a TestClock; the TestClock fires the plugin's tick exactly when due, so
 * the hold each request got (the delay histogram's raw samples, StatsStore keepRawSamples) is
 * exactly the delay the plugin drew for it, in whole ms. A draw of 0 ms is no hold (no sample, not
 * counted in hfi_faults_delays_total): the requests missing from the histogram are those.
 *
 * Quantile check: samples are whole ms, S = round(X), so P(S <= k) = F(k + 0.5) with F the
 * distribution's CDF (truncated or clamped at max_delay_ms as the policy says). At the integer k
 * nearest each quantile q in QS, the share of samples <= k must be within TOLERANCE of
 * F(k + 0.5). Tolerance: +-0.0075 in probability. The plugin seeds its generator from the
 * host's CSPRNG (random_get), so runs differ; with 100,000 draws the binomial standard deviation
 * is at most 0.0016, so 0.0075 is 4.7 standard deviations: with the 36 checks below a correct
 * plugin fails a run with probability below 1e-4. (The pure module's unit test, with a fixed
 * seed, uses 0.005.) A wrong sigma, mean, a missing truncation or a wrong interpolation moves
 * some quantile by far more (e.g. lognormal sigma off by 10% moves F at p90 by ~0.02).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { StatsStore } from "../../host/index";
import { policy, startHfi } from "../helpers/hfi";

const N = 100_000;
const BATCH = 25_000;
const QS = [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99];
const TOLERANCE = 0.0075;

/** Drives N requests through a rule with `delay` and returns the hold of each (ms). */
async function draws(delay: object, settings: object = {}): Promise<number[]> {
  const stats = new StatsStore({ keepRawSamples: true });
  const hfi = await startHfi({ max_active_faults: BATCH, ...settings, policies: [policy("shaped", {}, { percentage: 100, delay })] },
    { stats, logLevel: "warn" });
  for (let done = 0; done < N; done += BATCH) {
    const streams = Array.from({ length: BATCH }, () => hfi.request("GET", "/"));
    hfi.clock.advance(100_000);
    for (const s of streams) {
      assert.ok(s.upstream.headers, "every request reaches the upstream after its delay");
      s.reset();
    }
  }
  const raw = stats.histogram("wasmcustom.hfi_faults_delay_duration_milliseconds").raw!;
  assert.equal(hfi.metric("hfi_faults_delays_total"), raw.length, "one histogram sample per delayed request");
  // A draw that rounds to 0 ms holds nothing: the request goes on at once, uncounted.
  return [...raw, ...new Array<number>(N - raw.length).fill(0)];
}

/** Checks the samples' quantiles against the CDF `F` (of the unrounded delay). */
function checkQuantiles(samples: number[], F: (x: number) => number, what: string): void {
  const sorted = Float64Array.from(samples).sort();
  const atMost = (k: number): number => {
    let lo = 0, hi = sorted.length; // first index with value > k
    while (lo < hi) { const mid = (lo + hi) >> 1; if (sorted[mid] <= k) lo = mid + 1; else hi = mid; }
    return lo / sorted.length;
  };
  for (const q of QS) {
    let k = 0;
    while (F(k + 0.5) < q) k++;
    const expected = F(k + 0.5);
    const got = atMost(k);
    assert.ok(Math.abs(got - expected) <= TOLERANCE, `${what}: P(delay <= ${k} ms) is ${got.toFixed(4)}, the distribution says ${expected.toFixed(4)} (q ${q})`);
  }
}

/** Standard normal CDF (Abramowitz & Stegun 7.1.26 for erf, error below 1.5e-7). */
function phi(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

const clampAt = (cap: number, F: (x: number) => number) => (x: number) => (x >= cap ? 1 : F(x));

test("fixed_delay_ms keeps its meaning: every request is held exactly that long", async () => {
  const hfi = await startHfi({ policies: [policy("fixed", {}, { percentage: 100, delay: { fixed_delay_ms: 250 } })] }, { stats: new StatsStore({ keepRawSamples: true }) });
  const s = hfi.request("GET", "/");
  hfi.clock.advance(249);
  assert.equal(s.upstream.headers, undefined);
  hfi.clock.advance(1);
  assert.ok(s.upstream.headers);
  assert.deepEqual(hfi.stats.histogram("wasmcustom.hfi_faults_delay_duration_milliseconds").raw, [250]);
});

test("uniform {min_ms 100, max_ms 900}: 100,000 draws follow the uniform distribution", async () => {
  const samples = await draws({ uniform: { min_ms: 100, max_ms: 900 } });
  assert.ok(samples.every((x) => x >= 100 && x <= 900), "every delay within [min_ms, max_ms]");
  checkQuantiles(samples, (x) => Math.min(1, Math.max(0, (x - 100) / 800)), "uniform");
});

test("normal {mean_ms 500, stddev_ms 300}: truncated to [0, max_delay_ms 1000], no pile-up at the ends", async () => {
  const samples = await draws({ normal: { mean_ms: 500, stddev_ms: 300 } }, { max_delay_ms: 1000 });
  assert.ok(samples.every((x) => x >= 0 && x <= 1000), "every delay within [0, max_delay_ms]");
  const lo = phi(-500 / 300), hi = phi(500 / 300);
  checkQuantiles(samples, (x) => Math.min(1, Math.max(0, (phi((x - 500) / 300) - lo) / (hi - lo))), "truncated normal");
  // A clamped (not truncated) normal would put phi(-5/3) ~ 4.8% of the draws at exactly 0 ms.
  assert.ok(samples.filter((x) => x === 0).length < N * 0.001, "no pile-up at 0 ms");
  assert.ok(samples.filter((x) => x === 1000).length < N * 0.001, "no pile-up at max_delay_ms");
});

test("lognormal {median_ms 200, p99_ms 2000}: median and tail as given, draws above max_delay_ms clamped to it", async () => {
  const sigma = Math.log(2000 / 200) / 2.3263478740408408;
  const F = (x: number) => (x <= 0 ? 0 : phi((Math.log(x) - Math.log(200)) / sigma));
  const samples = await draws({ lognormal: { median_ms: 200, p99_ms: 2000 } }, { max_delay_ms: 30000 });
  checkQuantiles(samples, F, "lognormal");
  // With max_delay_ms 1000 every draw above it becomes 1000: P(X > 1000) = 1 - F(1000) ~ 4.9%.
  const capped = await draws({ lognormal: { median_ms: 200, p99_ms: 2000 } }, { max_delay_ms: 1000 });
  assert.ok(capped.every((x) => x <= 1000), "max_delay_ms clamps every draw");
  const atCap = capped.filter((x) => x === 1000).length / N;
  assert.ok(Math.abs(atCap - (1 - F(999.5))) <= TOLERANCE, `share held exactly max_delay_ms: ${atCap}, expected ${1 - F(999.5)}`);
  checkQuantiles(capped, clampAt(1000, F), "lognormal clamped at 1000 ms");
});

test("percentiles: the piecewise-linear curve through the points (an implied (0, 0 ms) first)", async () => {
  const points = [{ p: 50, ms: 100 }, { p: 90, ms: 400 }, { p: 99, ms: 1500 }, { p: 100, ms: 3000 }];
  const xs = [0, ...points.map((q) => q.ms)];
  const ps = [0, ...points.map((q) => q.p / 100)];
  const F = (x: number): number => {
    if (x >= xs[xs.length - 1]) return 1;
    for (let i = 1; i < xs.length; i++) if (x < xs[i]) return ps[i - 1] + (ps[i] - ps[i - 1]) * (x - xs[i - 1]) / (xs[i] - xs[i - 1]);
    return 1;
  };
  const samples = await draws({ percentiles: points });
  assert.ok(samples.every((x) => x >= 0 && x <= 3000));
  checkQuantiles(samples, F, "percentiles");
});
