// Delay distributions: how long a delayed request is held.
//
// How the act layer uses it:
//   parse time  `fixedDelay(ms, maxDelayMs)`, `uniformDelay(min, max, maxDelayMs)`,
//               `normalDelay(mean, stddev, maxDelayMs)`, `lognormalDelay(median, p99, maxDelayMs)`,
//               `percentilesDelay(ps, ms, maxDelayMs)` each return a `DelayResult`: either
//               `.delay` (a `DelayDistribution`, immutable, stored on the rule's Fault) or
//               `.error` ("fault.delay.uniform.max_ms: 50 is below min_ms 100"); the policy
//               parser prefixes the policy and rule, as it does for every other field.
//   request     `rule.fault.delay.sampleMs(unitFromBits(sampler.next()))` returns the delay in
//               whole milliseconds, already within [0, max_delay_ms]. One uniform draw per
//               request, no allocation, no host call: every form is an inverse CDF.
//
// Inputs are the JSON numbers as f64 so the checks can name fractions, negatives and NaN.
// `maxDelayMs <= 0` means "no cap" (the parser passes the rule's max_delay_ms, or 0).
//
// Forms and what the cap does:
//   fixed       the value, clamped to the cap.
//   uniform     continuous uniform on [min_ms, max_ms], clamped to the cap.
//   normal      truncated to [0, cap] (a proper truncation: the draw comes from the normal
//               conditioned on that interval, so there is no pile-up at 0 or at the cap).
//   lognormal   mu = ln(median_ms), sigma = ln(p99_ms / median_ms) / z(0.99) with
//               z(0.99) = 2.3263478740408408, so p99 = median * exp(z(0.99) * sigma);
//               clamped to the cap (p99_ms == median_ms degenerates to a fixed delay).
//   percentiles piecewise-linear inverse CDF through the points; p in [0, 100], strictly
//               increasing, ms non-decreasing, the last p must be 100. When the first point
//               is not at p = 0, the point (0, 0 ms) is implied: the curve starts at no delay.
//               Write `{p: 0, ms: 80}` to give the fastest delay yourself. Clamped to the cap.
import { formatNumber } from "../format/number";

export const enum DelayKind {
  Fixed = 0,
  Uniform = 1,
  Normal = 2,
  LogNormal = 3,
  Percentiles = 4,
}

/** z such that Phi(z) = 0.99. */
export const Z99: f64 = 2.3263478740408408;

const TWO_POW_MINUS_53: f64 = 1.0 / 9007199254740992.0;
const NO_CAP: f64 = 9007199254740992.0;
// f64[] (not StaticArray<f64>): one array type fewer in the module (docs/size.md).
const NO_POINTS: f64[] = [];

/** The top 53 bits of a 64-bit random value as a double in [0, 1). */
export function unitFromBits(x: u64): f64 {
  return <f64>(x >> 11) * TWO_POW_MINUS_53;
}

export class DelayDistribution {
  constructor(
    public kind: DelayKind,
    /** fixed: ms; uniform: min; normal: mean; lognormal: mu; percentiles: unused. */
    public a: f64,
    /** uniform: max; normal: stddev; lognormal: sigma. */
    public b: f64,
    /** The cap in ms (NO_CAP when none). */
    public capMs: f64,
    /** percentiles: the points, p in [0, 1] and ms, the implied (0, 0) included. */
    public ps: f64[] = NO_POINTS,
    public ms: f64[] = NO_POINTS,
    /** normal: Phi at 0 and at the cap, so a draw maps into the truncated interval. */
    public cdfLow: f64 = 0,
    public cdfHigh: f64 = 1,
  ) {}

  /** The delay for a uniform draw `u` in [0, 1), in ms (not rounded), within [0, cap]. */
  sample(u: f64): f64 {
    if (!(u >= 0)) u = 0; // NaN or negative: a broken source still gives a valid delay
    if (u >= 1) u = 0.9999999999999999;
    let x: f64 = 0;
    switch (this.kind) {
      case DelayKind.Fixed: x = this.a; break;
      case DelayKind.Uniform: x = this.a + u * (this.b - this.a); break;
      case DelayKind.Normal: {
        if (this.b == 0) { x = this.a; break; }
        const p = this.cdfLow + u * (this.cdfHigh - this.cdfLow);
        x = this.a + this.b * inverseNormalCdf(p);
        break;
      }
      case DelayKind.LogNormal: x = Math.exp(this.a + this.b * inverseNormalCdf(u)); break;
      default: x = this.percentile(u); break;
    }
    if (!(x >= 0)) x = 0;
    if (x > this.capMs) x = this.capMs;
    return x;
  }

  /** The delay for a uniform draw, rounded to whole milliseconds. */
  sampleMs(u: f64): i64 {
    return <i64>Math.floor(this.sample(u) + 0.5);
  }

  private percentile(u: f64): f64 {
    const ps = this.ps;
    const ms = this.ms;
    const n = ps.length;
    for (let i = 1; i < n; i++) {
      const hi = unchecked(ps[i]);
      if (u < hi || i == n - 1) {
        const lo = unchecked(ps[i - 1]);
        const m0 = unchecked(ms[i - 1]);
        const m1 = unchecked(ms[i]);
        return hi > lo ? m0 + (m1 - m0) * (u - lo) / (hi - lo) : m1;
      }
    }
    return n > 0 ? unchecked(ms[n - 1]) : 0;
  }
}

/** A parsed delay, or the reason it was refused. Exactly one of the two is set. */
export class DelayResult {
  constructor(public delay: DelayDistribution | null, public error: string) {}
  get ok(): bool { return this.delay !== null; }
}

function fail(message: string): DelayResult {
  return new DelayResult(null, message);
}

function cap(maxDelayMs: i64): f64 {
  return maxDelayMs > 0 ? <f64>maxDelayMs : NO_CAP;
}

/** "" when `v` is a finite number >= 0, else the message for `field`. */
function checkNonNegative(field: string, v: f64): string {
  if (!isFinite(v)) return field + ": " + formatNumber(v) + " is not a finite number";
  if (v < 0) return field + ": " + formatNumber(v) + " is negative";
  return "";
}

export function fixedDelay(ms: f64, maxDelayMs: i64): DelayResult {
  const e = checkNonNegative("fault.delay.fixed_delay_ms", ms);
  if (e.length > 0) return fail(e);
  return new DelayResult(new DelayDistribution(DelayKind.Fixed, ms, 0, cap(maxDelayMs)), "");
}

export function uniformDelay(minMs: f64, maxMs: f64, maxDelayMs: i64): DelayResult {
  let e = checkNonNegative("fault.delay.uniform.min_ms", minMs);
  if (e.length == 0) e = checkNonNegative("fault.delay.uniform.max_ms", maxMs);
  if (e.length > 0) return fail(e);
  if (maxMs < minMs) {
    return fail("fault.delay.uniform.max_ms: " + formatNumber(maxMs) + " is below min_ms " + formatNumber(minMs));
  }
  return new DelayResult(new DelayDistribution(DelayKind.Uniform, minMs, maxMs, cap(maxDelayMs)), "");
}

export function normalDelay(meanMs: f64, stddevMs: f64, maxDelayMs: i64): DelayResult {
  let e = checkNonNegative("fault.delay.normal.mean_ms", meanMs);
  if (e.length == 0) e = checkNonNegative("fault.delay.normal.stddev_ms", stddevMs);
  if (e.length > 0) return fail(e);
  const c = cap(maxDelayMs);
  const d = new DelayDistribution(DelayKind.Normal, meanMs, stddevMs, c);
  if (stddevMs > 0) {
    d.cdfLow = normalCdf((0 - meanMs) / stddevMs);
    d.cdfHigh = c == NO_CAP ? 1.0 : normalCdf((c - meanMs) / stddevMs);
    if (!(d.cdfHigh > d.cdfLow)) {
      return fail("fault.delay.normal: mean_ms " + formatNumber(meanMs) + " with stddev_ms " + formatNumber(stddevMs) +
        " puts no probability inside [0, max_delay_ms " + formatNumber(c) + "]");
    }
  }
  return new DelayResult(d, "");
}

export function lognormalDelay(medianMs: f64, p99Ms: f64, maxDelayMs: i64): DelayResult {
  let e = checkNonNegative("fault.delay.lognormal.median_ms", medianMs);
  if (e.length == 0) e = checkNonNegative("fault.delay.lognormal.p99_ms", p99Ms);
  if (e.length > 0) return fail(e);
  if (medianMs == 0) return fail("fault.delay.lognormal.median_ms: 0 must be above 0");
  if (p99Ms < medianMs) {
    return fail("fault.delay.lognormal.p99_ms: " + formatNumber(p99Ms) + " is below median_ms " + formatNumber(medianMs));
  }
  const mu = Math.log(medianMs);
  const sigma = Math.log(p99Ms / medianMs) / Z99;
  return new DelayResult(new DelayDistribution(DelayKind.LogNormal, mu, sigma, cap(maxDelayMs)), "");
}

/** `ps[i]` percent (0..100) of delays are at most `ms[i]`; see the header for the rules. */
export function percentilesDelay(ps: f64[], ms: f64[], maxDelayMs: i64): DelayResult {
  const n = ps.length;
  // Both unreachable from the policy parser (it refuses an empty list and pairs p with ms):
  // short messages, as every character costs two bytes of the module.
  if (n == 0 || ms.length != n) return fail("fault.delay.percentiles: needs {p, ms} points");
  let prevP: f64 = -1;
  let prevMs: f64 = 0;
  for (let i = 0; i < n; i++) {
    const p = unchecked(ps[i]);
    const m = unchecked(ms[i]);
    const at = "fault.delay.percentiles[" + i.toString() + "]";
    if (!isFinite(p) || p < 0 || p > 100) return fail(at + ".p: " + formatNumber(p) + " is not in [0, 100]");
    if (p <= prevP) return fail(at + ".p: " + formatNumber(p) + " is not above the previous p " + formatNumber(prevP));
    const e = checkNonNegative(at + ".ms", m);
    if (e.length > 0) return fail(e);
    if (i > 0 && m < prevMs) return fail(at + ".ms: " + formatNumber(m) + " is below the previous ms " + formatNumber(prevMs));
    prevP = p;
    prevMs = m;
  }
  if (prevP != 100) return fail("fault.delay.percentiles[" + (n - 1).toString() + "].p: " + formatNumber(prevP) + " must be 100 (the last point)");
  const implied = unchecked(ps[0]) > 0 ? 1 : 0;
  const P: f64[] = [];
  const M: f64[] = [];
  if (implied == 1) {
    P.push(0); // the implied point (0, 0 ms)
    M.push(0);
  }
  for (let i = 0; i < n; i++) {
    P.push(unchecked(ps[i]) / 100.0);
    M.push(unchecked(ms[i]));
  }
  return new DelayResult(new DelayDistribution(DelayKind.Percentiles, 0, 0, cap(maxDelayMs), P, M), "");
}

/**
 * Phi^-1(p), the standard normal quantile: P. J. Acklam's rational approximation (relative
 * error below 1.15e-9), with p clamped away from 0 and 1 so the result stays finite.
 */
export function inverseNormalCdf(p: f64): f64 {
  if (p <= 1e-300) return -37.5;
  if (p >= 1.0) return 8.3;
  const pLow: f64 = 0.02425;
  const lower = p < pLow;
  if (lower || p > 1.0 - pLow) {
    // One tail formula for both (they mirror): the polynomials appear once in the module.
    const q = Math.sqrt(-2.0 * Math.log(lower ? p : 1.0 - p));
    const x = tailNum(q) / tailDen(q);
    return lower ? x : -x;
  }
  const q = p - 0.5;
  const r = q * q;
  return (((((-3.969683028665376e+01 * r + 2.209460984245205e+02) * r - 2.759285104469687e+02) * r +
    1.383577518672690e+02) * r - 3.066479806614716e+01) * r + 2.506628277459239e+00) * q /
    (((((-5.447609879822406e+01 * r + 1.615858368580409e+02) * r - 1.556989798598866e+02) * r +
      6.680131188771972e+01) * r - 1.328068155288572e+01) * r + 1.0);
}

@inline function tailNum(q: f64): f64 {
  return ((((-7.784894002430293e-03 * q - 3.223964580411365e-01) * q - 2.400758277161838e+00) * q -
    2.549732539343734e+00) * q + 4.374664141464968e+00) * q + 2.938163982698783e+00;
}

@inline function tailDen(q: f64): f64 {
  return (((7.784695709041462e-03 * q + 3.224671290700398e-01) * q + 2.445134137142996e+00) * q +
    3.754408661907416e+00) * q + 1.0;
}

/** Phi(x), the standard normal CDF, through erfc (fractional error below 1.2e-7). */
export function normalCdf(x: f64): f64 {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/** Complementary error function, Chebyshev fit (Numerical Recipes' erfcc). */
function erfc(x: f64): f64 {
  const z = Math.abs(x);
  const t = 1.0 / (1.0 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
    t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2.0 - r;
}
