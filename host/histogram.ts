/**
 * Histogram statistics the way Envoy computes them: samples go into log-linear bins with two
 * significant digits (libcircllhist), and quantiles, bucket counts and the sum are
 * approximations computed from those bins (hist_approx_quantile, hist_approx_count_below,
 * hist_approx_sum).
 */

/** Envoy's default supported quantiles (P0 ... P100) and their /stats labels. */
export const SUPPORTED_QUANTILES = [0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 1];
export const QUANTILE_LABELS = ["P0", "P25", "P50", "P75", "P90", "P95", "P99", "P99.5", "P99.9", "P100"];

/** Envoy's default histogram buckets (used by /stats/prometheus). */
export const DEFAULT_BUCKETS = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
];

interface Bin {
  /** Two significant digits, 10..99 (0 for the zero bin). */
  val: number;
  exp: number;
  count: number;
}

function binKey(val: number, exp: number): number {
  return exp * 1000 + val;
}

function binLeft(b: Bin): number {
  if (b.val === 0) return 0;
  return (b.val / 10) * 10 ** b.exp;
}

function binWidth(b: Bin): number {
  if (b.val === 0) return 0;
  return 10 ** b.exp / 10;
}

/** A set of binned samples. */
export class BinnedSamples {
  private readonly bins = new Map<number, Bin>();
  count = 0;

  record(value: number): void {
    let val = 0;
    let exp = 0;
    if (value > 0) {
      const digits = Math.floor(value).toString();
      exp = digits.length - 1;
      val = digits.length === 1 ? Number(digits) * 10 : Number(digits.slice(0, 2));
    }
    const key = binKey(val, exp);
    const bin = this.bins.get(key);
    if (bin) bin.count++;
    else this.bins.set(key, { val, exp, count: 1 });
    this.count++;
  }

  merge(other: BinnedSamples): void {
    for (const [key, b] of other.bins) {
      const mine = this.bins.get(key);
      if (mine) mine.count += b.count;
      else this.bins.set(key, { ...b });
    }
    this.count += other.count;
  }

  private sorted(): Bin[] {
    return [...this.bins.values()].sort((a, b) => binLeft(a) - binLeft(b));
  }

  /** hist_approx_quantile: NaN for every quantile when there are no samples. */
  quantiles(qs: readonly number[] = SUPPORTED_QUANTILES): number[] {
    const bins = this.sorted();
    if (bins.length === 0 || this.count === 0) return qs.map(() => NaN);
    const total = this.count;
    const out: number[] = [];
    let i = 0;
    let left = binLeft(bins[0]);
    let width = binWidth(bins[0]);
    let lower = 0;
    let upper = bins[0].count;
    for (const q of qs) {
      const target = total * q;
      while (i < bins.length - 1 && upper < target) {
        i++;
        left = binLeft(bins[i]);
        width = binWidth(bins[i]);
        lower = upper;
        upper = lower + bins[i].count;
      }
      if (lower === target) out.push(left);
      else if (upper === target) out.push(left + width);
      else if (width === 0) out.push(left);
      else out.push(left + ((target - lower) / (upper - lower)) * width);
    }
    return out;
  }

  /** hist_approx_count_below: samples in bins whose upper edge is <= threshold. */
  countBelow(threshold: number): number {
    let n = 0;
    for (const b of this.sorted()) {
      if (binLeft(b) + binWidth(b) <= threshold) n += b.count;
      else break;
    }
    return n;
  }

  /** hist_approx_sum: bin midpoints times counts. */
  sum(): number {
    let s = 0;
    for (const b of this.bins.values()) s += (binLeft(b) + binWidth(b) / 2) * b.count;
    return s;
  }
}

/** printf("%.*g") as fmt/libc prints it (Envoy formats Prometheus bucket bounds and sums so). */
export function formatG(x: number, precision: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return "0";
  const [mantissa, expText] = x.toExponential(precision - 1).split("e");
  const exp = Number(expText);
  if (exp < -4 || exp >= precision) {
    const m = stripZeros(mantissa);
    const sign = exp < 0 ? "-" : "+";
    const e = Math.abs(exp).toString().padStart(2, "0");
    return `${m}e${sign}${e}`;
  }
  const digits = mantissa.replace("-", "").replace(".", "");
  const negative = x < 0 ? "-" : "";
  let text: string;
  if (exp >= 0) {
    const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
    const frac = digits.slice(exp + 1);
    text = frac.length ? `${intPart}.${frac}` : intPart;
  } else {
    text = `0.${"0".repeat(-exp - 1)}${digits}`;
  }
  return negative + stripZeros(text);
}

function stripZeros(s: string): string {
  if (!s.includes(".")) return s;
  return s.replace(/0+$/, "").replace(/\.$/, "");
}

/** fmt's "{}" for a double: shortest round-trip text, "nan" for NaN. */
export function formatShortest(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  return String(x);
}
