import { Sampler, chanceByKey, fnv1a64 } from "../../assembly/faults/sampling";

function share(sampler: Sampler, percentage: f64, n: i32): f64 {
  let hits = 0;
  for (let i = 0; i < n; i++) if (sampler.chance(percentage)) hits++;
  return <f64>hits / <f64>n * 100.0;
}

describe("Sampler", () => {
  it("faults 10 % of 100,000 requests within ±0.5 %", () => {
    const observed = share(new Sampler(12345), 10, 100000);
    expect(observed).toBeGreaterThan(9.5);
    expect(observed).toBeLessThan(10.5);
  });

  it("honours fractions: 0.1 % is about one request in a thousand", () => {
    const observed = share(new Sampler(777), 0.1, 1000000);
    expect(observed).toBeGreaterThan(0.08);
    expect(observed).toBeLessThan(0.12);
  });

  it("never faults at 0 % and always at 100 %", () => {
    const s = new Sampler(1);
    expect(share(s, 0, 10000)).toBe(0.0);
    expect(share(s, 100, 10000)).toBe(100.0);
  });

  it("gives different sequences for different seeds", () => {
    const a = new Sampler(1);
    const b = new Sampler(2);
    expect(a.next()).not.toBe(b.next());
  });
});

describe("sampling by header hash", () => {
  it("decides the same for the same key, in every service", () => {
    for (let i = 0; i < 200; i++) {
      const key = "req-" + i.toString();
      expect(chanceByKey(key, 30)).toBe(chanceByKey(key, 30));
    }
  });

  it("faults about the configured share of distinct request ids", () => {
    let hits = 0;
    const n = 100000;
    for (let i = 0; i < n; i++) {
      if (chanceByKey("3f2b9c1e-" + i.toString() + "-4a7d", 10)) hits++;
    }
    const observed = <f64>hits / <f64>n * 100.0;
    expect(observed).toBeGreaterThan(9.5);
    expect(observed).toBeLessThan(10.5);
  });

  it("is nested: a request faulted at 10 % is also faulted at 50 %", () => {
    for (let i = 0; i < 2000; i++) {
      const key = "id-" + i.toString();
      if (chanceByKey(key, 10)) expect(chanceByKey(key, 50)).toBe(true);
    }
  });

  it("hashes every character", () => {
    expect(fnv1a64("abc")).not.toBe(fnv1a64("abd"));
    expect(fnv1a64("")).not.toBe(fnv1a64("\u0000"));
  });
});
