// Delay distributions: 100,000 draws per form from the plugin's own generator, checked against
// the analytic quantiles.
//
// Tolerance: for each analytic quantile x_p we count the share of draws <= x_p and require it to
// be within 0.005 of p. With n = 100,000 independent draws that share has standard deviation
// sqrt(p(1-p)/n): 0.00158 at p = 0.5 (the worst case), 0.00095 at p = 0.1 and 0.9, 0.00031 at
// p = 0.99, so 0.005 is at least 3.1 standard deviations (5.3 at p10/p90, 16 at p99) while a
// wrong parameter (a sigma 5 % off, a swapped min/max, a mean 1 % of a stddev off...) moves the
// share by far more. The generator is seeded, so the run is deterministic anyway; the margin
// says the test does not depend on a lucky seed.
import {
  DelayDistribution, DelayResult, Z99, fixedDelay, inverseNormalCdf, lognormalDelay, normalCdf,
  normalDelay, percentilesDelay, uniformDelay, unitFromBits,
} from "../../assembly/distributions/delay";
import { Sampler } from "../../assembly/faults/sampling";
import { AllocProbe } from "./alloc-probe";

const N = 100000;
const Z10: f64 = -1.2815515655446004;
const Z90: f64 = 1.2815515655446004;
const TOLERANCE: f64 = 0.005;

let draws = new StaticArray<f64>(N);

function drawAll(d: DelayDistribution, seed: u64): void {
  const s = new Sampler(seed);
  for (let i = 0; i < N; i++) draws[i] = d.sample(unitFromBits(s.next()));
}

function shareAtMost(x: f64): f64 {
  let k = 0;
  for (let i = 0; i < N; i++) if (draws[i] <= x) k++;
  return <f64>k / <f64>N;
}

/** How many draws fall outside [lo, hi] (one expect instead of 100,000). */
function countOutside(lo: f64, hi: f64): i32 {
  let k = 0;
  for (let i = 0; i < N; i++) if (!(draws[i] >= lo && draws[i] <= hi)) k++;
  return k;
}

function expectQuantile(p: f64, x: f64): void {
  const share = shareAtMost(x);
  expect(Math.abs(share - p)).toBeLessThan(TOLERANCE, "share of draws <= " + x.toString() + " should be " + p.toString() + ", was " + share.toString());
}

function dist(r: DelayResult): DelayDistribution {
  expect(r.error).toBe("");
  return changetype<DelayDistribution>(r.delay);
}

describe("the normal quantile helpers", () => {
  it("agree with the published z values", () => {
    expect(inverseNormalCdf(0.99)).toBeCloseTo(Z99, 7);
    expect(inverseNormalCdf(0.9)).toBeCloseTo(Z90, 7);
    expect(inverseNormalCdf(0.1)).toBeCloseTo(Z10, 7);
    expect(inverseNormalCdf(0.5)).toBeCloseTo(0.0, 9);
    expect(inverseNormalCdf(0.001)).toBeCloseTo(-3.090232306167813, 7);
    expect(normalCdf(Z90)).toBeCloseTo(0.9, 6);
    expect(normalCdf(0)).toBeCloseTo(0.5, 6);
  });

  it("stay finite at the ends of the unit interval", () => {
    expect(isFinite(inverseNormalCdf(0))).toBe(true);
    expect(isFinite(inverseNormalCdf(1))).toBe(true);
  });
});

describe("fixed delay", () => {
  it("is the value, clamped to max_delay_ms", () => {
    expect(dist(fixedDelay(500, 0)).sampleMs(0.3)).toBe(500);
    expect(dist(fixedDelay(500, 200)).sampleMs(0.3)).toBe(200);
  });
  it("refuses a negative value", () => {
    expect(fixedDelay(-1, 0).error).toBe("fault.delay.fixed_delay_ms: -1 is negative");
  });
});

describe("uniform delay", () => {
  it("matches the uniform quantiles over 100,000 draws", () => {
    drawAll(dist(uniformDelay(100, 900, 0)), 11);
    expectQuantile(0.1, 180);
    expectQuantile(0.5, 500);
    expectQuantile(0.9, 820);
    expectQuantile(0.99, 892);
    expect(countOutside(100, 900)).toBe(0);
  });
  it("is clamped to max_delay_ms", () => {
    drawAll(dist(uniformDelay(100, 900, 500)), 12);
    expectQuantile(0.5, 499.999);
    expect(countOutside(0, 500)).toBe(0);
    let atCap = 0;
    for (let i = 0; i < N; i++) if (draws[i] == 500.0) atCap++;
    // (900 - 500) / 800 of the draws land on the cap
    expect(Math.abs(<f64>atCap / <f64>N - 0.5)).toBeLessThan(TOLERANCE);
  });
  it("names the field and the values when max_ms is below min_ms", () => {
    expect(uniformDelay(100, 50, 0).error).toBe("fault.delay.uniform.max_ms: 50 is below min_ms 100");
    expect(uniformDelay(NaN, 50, 0).error).toBe("fault.delay.uniform.min_ms: NaN is not a finite number");
    expect(uniformDelay(100, 50, 0).ok).toBe(false);
  });
});

describe("normal delay", () => {
  it("matches the normal quantiles over 100,000 draws", () => {
    drawAll(dist(normalDelay(500, 100, 0)), 21);
    expectQuantile(0.1, 500 + 100 * Z10);
    expectQuantile(0.5, 500);
    expectQuantile(0.9, 500 + 100 * Z90);
    expectQuantile(0.99, 500 + 100 * Z99);
  });
  it("is truncated to [0, max_delay_ms]: every draw inside, no pile-up at either end", () => {
    drawAll(dist(normalDelay(100, 100, 150)), 22);
    let atEnds = 0;
    expect(countOutside(0, 150)).toBe(0);
    for (let i = 0; i < N; i++) if (draws[i] == 0 || draws[i] == 150) atEnds++;
    // clamping would put Phi(-1) = 16 % at 0 and 1 - Phi(0.5) = 31 % at 150
    expect(atEnds).toBeLessThan(10);
    // truncated median: Phi^-1((Phi(-1) + Phi(0.5)) / 2) * 100 + 100
    const median = 100 + 100 * inverseNormalCdf((0.15865525393145707 + 0.6914624612740131) / 2);
    expectQuantile(0.5, median);
  });
  it("refuses negative values and a mean no draw can reach", () => {
    expect(normalDelay(500, -1, 0).error).toBe("fault.delay.normal.stddev_ms: -1 is negative");
    expect(normalDelay(1e9, 1, 100).ok).toBe(false);
  });
});

describe("lognormal delay", () => {
  it("matches the lognormal quantiles over 100,000 draws", () => {
    drawAll(dist(lognormalDelay(200, 2000, 0)), 31);
    const sigma = Math.log(10) / Z99;
    expectQuantile(0.1, 200 * Math.exp(Z10 * sigma));
    expectQuantile(0.5, 200);
    expectQuantile(0.9, 200 * Math.exp(Z90 * sigma));
    expectQuantile(0.99, 2000);
  });
  it("is clamped to max_delay_ms", () => {
    drawAll(dist(lognormalDelay(200, 2000, 1000)), 32);
    let max: f64 = 0;
    for (let i = 0; i < N; i++) if (draws[i] > max) max = draws[i];
    expect(max).toBe(1000.0);
    expectQuantile(0.5, 200);
  });
  it("names the field when p99_ms is below median_ms or median_ms is 0", () => {
    expect(lognormalDelay(200, 100, 0).error).toBe("fault.delay.lognormal.p99_ms: 100 is below median_ms 200");
    expect(lognormalDelay(0, 100, 0).error).toBe("fault.delay.lognormal.median_ms: 0 must be above 0");
  });
});

describe("percentiles delay", () => {
  it("matches the given points and interpolates between them", () => {
    const d = dist(percentilesDelay([50, 90, 99, 100], [100, 400, 1500, 3000], 0));
    drawAll(d, 41);
    expectQuantile(0.25, 50); // on the implied line from (0, 0) to (50, 100)
    expectQuantile(0.5, 100);
    expectQuantile(0.7, 250);
    expectQuantile(0.9, 400);
    expectQuantile(0.99, 1500);
    expect(d.sample(0.0)).toBe(0.0);
    expect(d.sample(0.995)).toBeCloseTo(2250.0, 6);
  });
  it("starts at the first point when it is at p 0", () => {
    const d = dist(percentilesDelay([0, 100], [80, 120], 0));
    expect(d.sample(0.0)).toBe(80.0);
    expect(d.sample(0.5)).toBeCloseTo(100.0, 9);
  });
  it("is clamped to max_delay_ms", () => {
    const d = dist(percentilesDelay([50, 100], [100, 3000], 1000));
    expect(d.sample(0.99)).toBe(1000.0);
    expect(d.sampleMs(0.25)).toBe(50);
  });
  it("validates the points and names the offending one", () => {
    expect(percentilesDelay([50, 50, 100], [1, 2, 3], 0).error).toBe("fault.delay.percentiles[1].p: 50 is not above the previous p 50");
    expect(percentilesDelay([50, 90], [1, 2], 0).error).toBe("fault.delay.percentiles[1].p: 90 must be 100 (the last point)");
    expect(percentilesDelay([50, 100], [200, 100], 0).error).toBe("fault.delay.percentiles[1].ms: 100 is below the previous ms 200");
    expect(percentilesDelay([150], [1], 0).error).toBe("fault.delay.percentiles[0].p: 150 is not in [0, 100]");
    expect(percentilesDelay([], [], 0).ok).toBe(false);
  });
});

describe("sampling edge cases", () => {
  it("rounds to whole milliseconds and survives a broken uniform source", () => {
    const d = dist(uniformDelay(0, 10, 0));
    expect(d.sampleMs(0.26)).toBe(3);
    expect(d.sampleMs(NaN)).toBe(0);
    expect(d.sampleMs(1.5)).toBe(10);
    expect(d.sampleMs(-1)).toBe(0);
  });
  it("draws without allocating", () => {
    const d = dist(lognormalDelay(200, 2000, 0));
    const probe = new AllocProbe();
    let sum: i64 = 0;
    for (let i = 0; i < 1000; i++) sum += d.sampleMs(<f64>i / 1000.0);
    expect(probe.nothingAllocated()).toBe(true);
    expect(sum).toBeGreaterThan(0);
    const msg = "x".repeat(40);
    expect(probe.nothingAllocated()).toBe(false, "the probe sees an allocation: " + msg);
  });
});
