/**
 * Envoy's stats as the module sees them: a StatsStore that several VMs (Envoy worker threads)
 * share, so the same metric name defined in two VMs is one stat and counters add up. Counters
 * and gauges are uint64 (a gauge taken below zero wraps around, as in Envoy's release builds);
 * histograms are latched at flush time, like Envoy's stats flush (5 s by default): call
 * `flush()` in tests; the real-clock mode flushes on a timer.
 *
 * Renderers reproduce the admin endpoints: `/stats` (`renderText`, full names) and
 * `/stats/prometheus` (`renderPrometheus`): tag-extracted names with the tags as labels (Envoy's
 * tag extraction, `./tag-extraction`, configured like `stats_config.stats_tags`), the
 * custom-namespace rules for `wasmcustom.` stats, and Envoy's grouping and label escaping
 * (source/server/admin/prometheus_stats*.cc).
 */
import { BinnedSamples, DEFAULT_BUCKETS, QUANTILE_LABELS, formatG, formatShortest } from "./histogram";
import { TagProducer, type StatsTagConfig, type Tag, type TagExtraction } from "./tag-extraction";

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

export interface StatsStoreOptions {
  /** Envoy's `stats_config` tag settings (`stats_tags`, `use_all_default_tags`). Default: none
   * configured, so only Envoy's built-in extractors run. */
  tags?: StatsTagConfig;
  /** Histograms also keep every sample as recorded (Histogram.raw). */
  keepRawSamples?: boolean;
}

export class StatsStore {
  readonly counters = new Map<string, Counter>();
  readonly gauges = new Map<string, Gauge>();
  readonly histograms = new Map<string, Histogram>();
  /** Namespaces stripped by the Prometheus renderer (Envoy registers "wasmcustom"). */
  readonly customNamespaces = new Set<string>(["wasmcustom"]);
  /** Turns full stat names into tag-extracted names and tags, as Envoy does when a stat is made. */
  readonly tagProducer: TagProducer;
  private readonly extracted = new Map<string, TagExtraction>();

  constructor(private readonly options: StatsStoreOptions = {}) {
    this.tagProducer = new TagProducer(options.tags);
  }

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

  /** The tag-extracted name and tags of a stat (computed once per name, as Envoy does). */
  tagsOf(statName: string): TagExtraction {
    let e = this.extracted.get(statName);
    if (!e) this.extracted.set(statName, (e = this.tagProducer.produceTags(statName)));
    return e;
  }

  /**
   * `GET /stats/prometheus`: counters, gauges, then histograms. Within each type, one group per
   * tag-extracted name (one `# TYPE` line), groups and the series inside them in Envoy's order
   * (names compared dot token by token); the tags become labels.
   */
  renderPrometheus(): string {
    let out = "";
    const numeric = (stats: Iterable<Counter | Gauge>, type: string): void => {
      for (const [name, series] of this.promGroups(stats)) {
        out += `# TYPE ${name} ${type}\n`;
        for (const s of series) out += `${name}{${formatLabels(this.tagsOf(s.name).tags)}} ${s.value}\n`;
        out += "\n";
      }
    };
    numeric(this.counters.values(), "counter");
    numeric(this.gauges.values(), "gauge");
    for (const [name, series] of this.promGroups(this.histograms.values())) {
      out += `# TYPE ${name} histogram\n`;
      for (const h of series) {
        const labels = formatLabels(this.tagsOf(h.name).tags);
        const bucketLabels = labels === "" ? "" : labels + ",";
        for (const b of DEFAULT_BUCKETS) {
          out += `${name}_bucket{${bucketLabels}le="${formatG(b, 32)}"} ${h.cumulative.countBelow(b)}\n`;
        }
        out += `${name}_bucket{${bucketLabels}le="+Inf"} ${h.cumulative.count}\n`;
        out += `${name}_sum{${labels}} ${formatG(h.cumulative.sum(), 32)}\n`;
        out += `${name}_count{${labels}} ${h.cumulative.count}\n`;
      }
      out += "\n";
    }
    return out;
  }

  /** Prometheus metric name for a (tag-extracted) stat name, or undefined when Envoy drops it. */
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

  /** Stats grouped by tag-extracted name, groups and members in Envoy's order; dropped names left out. */
  private promGroups<T extends { name: string }>(stats: Iterable<T>): Array<[string, T[]]> {
    const groups = new Map<string, T[]>();
    for (const s of stats) {
      const key = this.tagsOf(s.name).tagExtractedName;
      const list = groups.get(key);
      if (list) list.push(s);
      else groups.set(key, [s]);
    }
    const out: Array<[string, T[]]> = [];
    for (const key of [...groups.keys()].sort(compareStatNames)) {
      const name = this.prometheusName(key);
      if (name === undefined) continue;
      out.push([name, groups.get(key)!.sort((a, b) => compareStatNames(a.name, b.name))]);
    }
    return out;
  }
}

/**
 * Envoy's order of stat names (SymbolTable::lessThan): dot token by token, a name that is a
 * prefix of the other first. Differs from plain string order where a token ends early
 * ("a.b" before "a-c.b").
 */
export function compareStatNames(a: string, b: string): number {
  const at = a.split(".");
  const bt = b.split(".");
  for (let i = 0; i < Math.min(at.length, bt.length); i++) {
    if (at[i] !== bt[i]) return at[i] < bt[i] ? -1 : 1;
  }
  return at.length - bt.length;
}

/** Envoy's Prometheus labels: `name="value"` joined by ",", tag names sanitised, values escaped. */
export function formatLabels(tags: readonly Tag[]): string {
  return tags.map((t) => `${sanitizePrometheus(t.name)}="${escapeLabelValue(t.value)}"`).join(",");
}

/** Label value escaping of the text format: backslash, newline and double quote. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\\n"]/g, (c) => (c === "\\" ? "\\\\" : c === "\n" ? "\\n" : '\\"'));
}

/** Envoy's Prometheus sanitizer: every character outside [a-zA-Z0-9_] becomes "_". */
export function sanitizePrometheus(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, "_");
}
