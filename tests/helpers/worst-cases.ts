/**
 * The worst-case generator: configurations and traffic aimed at the documented limits
 * (docs/limits.md) rather than at typical sizes: the longest names, escaped; the most rules;
 * the longest literals; the most patterns on one header with the largest header a client may
 * send; the deepest nesting. Seeded, so a failure repeats. tests/integration/worst-case.test.ts
 * bounds what each costs the module (its work, its memory); make bench times them.
 */
export const NODE = { metadata: { WORKLOAD_NAME: "frontend", NAMESPACE: "shop" } };
const SELECTOR = { service: "frontend", namespace: "shop" };

/** xorshift32: the same cases every run. */
export function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 0x100000000;
  };
}

const abort = { percentage: 100, abort: { httpStatus: 503 } };
const policy = (name: string, rules: object[], extra: object = {}) => ({ metadata: { name }, spec: { selector: SELECTOR, rules, ...extra } });

export interface WorstCase {
  name: string;
  configuration: () => object;
  requests: (rand: () => number) => Array<{ path: string; headers: Array<[string, string]> }>;
}

export const WORST_CASES: WorstCase[] = [
  {
    name: "5,000 policies with 253-byte escaped names",
    configuration: () => ({ max_labelled_policies: 5000, policies: Array.from({ length: 5000 }, (_, i) => policy(`${'"\\\\'.repeat(82)}${String(i).padStart(7, "0")}`, [{ match: { path: { exact: `/n${i}` } }, fault: abort }])) }),
    requests: (r) => Array.from({ length: 20 }, () => ({ path: `/n${Math.floor(r() * 5000)}`, headers: [] })),
  },
  {
    name: "9,000 rules (as many as 100,000 JSON values hold), nested path prefixes that all match, none decides",
    configuration: () => ({ policies: Array.from({ length: 90 }, (_, p) => policy(`p${p}`, Array.from({ length: 100 }, (_, i) => ({
      match: i % 2 ? { path: { prefix: "/a".repeat(1 + ((p + i) % 40)) }, method: { exact: "PURGE" } } : { method: { exact: "PURGE" }, path: { exact: `/e${i}` } },
      fault: abort })))) }),
    requests: () => Array.from({ length: 20 }, () => ({ path: "/a".repeat(60), headers: [] })),
  },
  {
    name: "8 KiB literals on path and headers, 8 KiB request values",
    configuration: () => ({ policies: Array.from({ length: 240 }, (_, i) => policy(`l${i}`, [{ match: { path: { prefix: "/" + "p".repeat(8000) + i }, headers: [{ name: `x-l${i % 16}`, contains: "c".repeat(8000) + i }] }, fault: abort }])) }),
    requests: () => Array.from({ length: 20 }, () => ({ path: "/" + "p".repeat(8100), headers: Array.from({ length: 16 }, (_, h) => [`x-l${h}`, "c".repeat(8190)] as [string, string]) })),
  },
  {
    name: "32 ordinary patterns on one header, 60 KiB values",
    configuration: () => ({ policies: [policy("patterns", Array.from({ length: 32 }, (_, i) => ({ match: { headers: [{ name: "x-user", regex: [`^test-${i}-[0-9]+$`, `(foo|bar|baz)-${i}[a-z]{1,20}`, `.*canary-${i}.*`, `^[a-z0-9._%+-]+@h${i}\\.[a-z]{2,}$`][i % 4] }] }, fault: abort })))] }),
    requests: (r) => Array.from({ length: 20 }, () => ({ path: "/", headers: [["x-user", (r() < 0.5 ? "a" : "test-1-").repeat(60 * 1024 / 8).slice(0, 60 * 1024)]] })),
  },
  {
    name: "metadata nested to the parser's depth, 4,096 distinct header names",
    configuration: () => {
      let deep: object = {};
      for (let d = 0; d < 56; d++) deep = { d: deep };
      return { policies: Array.from({ length: 128 }, (_, p) => ({ metadata: { name: `h${p}`, labels: deep }, spec: { selector: SELECTOR,
        rules: [{ match: { headers: Array.from({ length: 32 }, (_, i) => ({ name: `x-${p}-${i}`, exact: "v" })) }, fault: abort }] } })) };
    },
    requests: () => Array.from({ length: 20 }, () => ({ path: "/", headers: Array.from({ length: 100 }, (_, i) => [`x-${i}-${i % 32}`, "v"] as [string, string]) })),
  },
];

