/**
 * Envoy's stats as the module sees them: a StatsStore that several VMs (Envoy worker threads)
 * share, so the same metric name defined in two VMs is one stat and counters add up. Counters
 * and gauges are uint64 (a gauge taken below zero wraps around, as in Envoy's release builds);
 * histograms are latched at flush time, like Envoy's stats flush (5 s by default): call
 * `flush()` in tests; the real-clock mode flushes on a timer.
 *
 * Renderers reproduce the admin endpoints: `/stats` (`renderText`) and `/stats/prometheus`
 * (`renderPrometheus`), including the custom-namespace rules for `wasmcustom.` stats.
 */
import { BinnedSamples, DEFAULT_BUCKETS, QUANTILE_LABELS, formatG, formatShortest } from "./histogram";

const U64 = (1n << 64n) - 1n;

export class Counter {
  value = 0n;
  used = false;
  constructor(readonly name: string) {}
  add(delta: bigint): void {
    this.value = (this.value + delta) & U64;
    this.used = true;
  }
}

export class Gauge {
  value = 0n;
  used = false;
  constructor(readonly name: string) {}
  add(delta: bigint): void {
    this.value = (this.value + delta) & U64;
    this.used = true;
  }
  set(value: bigint): void {
    this.value = value & U64;
    this.used = true;
  }
}

export class Histogram {
  /** Samples recorded since the last flush (not yet visible). */
  private pending = new BinnedSamples();
  /** Samples of the last flush interval. */
  interval = new BinnedSamples();
  /** All samples up to the last flush. */
  readonly cumulative = new BinnedSamples();
  /** Whether any sample was latched by a flush (Envoy's ParentHistogram::used()). */
  used = false;
  /** Every sample as recorded, when the store keeps them (for comparing hosts). */
  readonly raw: number[] | undefined;
  constructor(
    readonly name: string,
    keepRaw = false,
  ) {
    this.raw = keepRaw ? [] : undefined;
  }
  record(value: number): void {
    this.pending.record(value);
    this.raw?.push(value);
  }
  flush(): void {
    this.interval = this.pending;
    this.pending = new BinnedSamples();
    this.cumulative.merge(this.interval);
    if (this.cumulative.count > 0) this.used = true;
  }
  /** /stats quantile summary: `P0(interval,cumulative) P25(...) ... P100(...)`. */
  quantileSummary(): string {
    if (!this.used) return "No recorded values";
    const iv = this.interval.quantiles();
    const cu = this.cumulative.quantiles();
    return QUANTILE_LABELS.map((l, i) => `${l}(${formatShortest(iv[i])},${formatShortest(cu[i])})`).join(" ");
  }
}

export class StatsStore {
  readonly counters = new Map<string, Counter>();
  readonly gauges = new Map<string, Gauge>();
  readonly histograms = new Map<string, Histogram>();
  /** Namespaces stripped by the Prometheus renderer (Envoy registers "wasmcustom"). */
  readonly customNamespaces = new Set<string>(["wasmcustom"]);

  /** `keepRawSamples`: histograms also keep every sample as recorded (Histogram.raw). */
  constructor(private readonly options: { keepRawSamples?: boolean } = {}) {}

  counter(name: string): Counter {
    let c = this.counters.get(name);
    if (!c) this.counters.set(name, (c = new Counter(name)));
    return c;
  }

  gauge(name: string): Gauge {
    let g = this.gauges.get(name);
    if (!g) this.gauges.set(name, (g = new Gauge(name)));
    return g;
  }

  histogram(name: string): Histogram {
    let h = this.histograms.get(name);
    if (!h) this.histograms.set(name, (h = new Histogram(name, this.options.keepRawSamples)));
    return h;
  }

  /** Latches histogram samples, as Envoy's periodic stats flush does. */
  flush(): void {
    for (const h of this.histograms.values()) h.flush();
  }

  /** Current value of a counter or gauge by full name (e.g. "wasmcustom.x"), as a number. */
  value(name: string): number | undefined {
    const s = this.counters.get(name) ?? this.gauges.get(name);
    return s ? Number(s.value) : undefined;
  }

  /** `GET /stats`: counters and gauges as `name: value` sorted by name, then histograms. */
  renderText(): string {
    const lines: Array<[string, string]> = [];
    for (const c of this.counters.values()) lines.push([c.name, `${c.name}: ${c.value}`]);
    for (const g of this.gauges.values()) lines.push([g.name, `${g.name}: ${g.value}`]);
    lines.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const hist = [...this.histograms.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
    return [...lines.map((l) => l[1]), ...hist.map((h) => `${h.name}: ${h.quantileSummary()}`)]
      .map((l) => l + "\n")
      .join("");
  }

  /** `GET /stats/prometheus`: counters, gauges, then histograms, each group sorted by name. */
  renderPrometheus(): string {
    let out = "";
    const numeric = (stats: Iterable<Counter | Gauge>, type: string): void => {
      for (const [name, s] of this.promGroups(stats)) {
        out += `# TYPE ${name} ${type}\n${name}{} ${s.value}\n\n`;
      }
    };
    numeric(this.counters.values(), "counter");
    numeric(this.gauges.values(), "gauge");
    for (const [name, h] of this.promGroups(this.histograms.values())) {
      out += `# TYPE ${name} histogram\n`;
      for (const b of DEFAULT_BUCKETS) {
        out += `${name}_bucket{le="${formatG(b, 32)}"} ${h.cumulative.countBelow(b)}\n`;
      }
      out += `${name}_bucket{le="+Inf"} ${h.cumulative.count}\n`;
      out += `${name}_sum{} ${formatG(h.cumulative.sum(), 32)}\n`;
      out += `${name}_count{} ${h.cumulative.count}\n\n`;
    }
    return out;
  }

  /** Prometheus metric name for a stat name, or undefined when Envoy drops it. */
  prometheusName(statName: string): string | undefined {
    for (const ns of this.customNamespaces) {
      if (statName.startsWith(ns + ".")) {
        const sanitized = sanitizePrometheus(statName.slice(ns.length + 1));
        if (sanitized === "" || /^[0-9]/.test(sanitized)) return undefined;
        return sanitized;
      }
    }
    return "envoy_" + sanitizePrometheus(statName);
  }

  private promGroups<T extends { name: string }>(stats: Iterable<T>): Array<[string, T]> {
    const groups: Array<[string, T, string]> = [];
    for (const s of stats) {
      const name = this.prometheusName(s.name);
      if (name !== undefined) groups.push([name, s, s.name]);
    }
    groups.sort((a, b) => (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0));
    return groups.map(([n, s]) => [n, s]);
  }
}

/** Envoy's Prometheus sanitizer: every character outside [a-zA-Z0-9_] becomes "_". */
export function sanitizePrometheus(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, "_");
}
