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

/** The key's UTF-8 bytes, as the header value arrives from Envoy. */
function keyChance(key: string, percentage: f64): bool {
  const bytes = String.UTF8.encode(key);
  return chanceByKey(changetype<usize>(bytes), bytes.byteLength, percentage);
}

function hashOf(key: string): u64 {
  const bytes = String.UTF8.encode(key);
  return fnv1a64(changetype<usize>(bytes), bytes.byteLength);
}

/** The hash as it was computed over decoded text (UTF-16 units), before it ran on bytes. */
function textHash(s: string): u64 {
  let h: u64 = 0xcbf29ce484222325;
  for (let i = 0; i < s.length; i++) {
    const c = <u64>s.charCodeAt(i);
    h ^= c & 0xff;
    h *= 0x100000001b3;
    h ^= c >> 8;
    h *= 0x100000001b3;
  }
  return h;
}

describe("sampling by header hash", () => {
  it("decides the same for the same key, in every service", () => {
    for (let i = 0; i < 200; i++) {
      const key = "req-" + i.toString();
      expect(keyChance(key, 30)).toBe(keyChance(key, 30));
    }
  });

  it("faults about the configured share of distinct request ids", () => {
    let hits = 0;
    const n = 100000;
    for (let i = 0; i < n; i++) {
      if (keyChance("3f2b9c1e-" + i.toString() + "-4a7d", 10)) hits++;
    }
    const observed = <f64>hits / <f64>n * 100.0;
    expect(observed).toBeGreaterThan(9.5);
    expect(observed).toBeLessThan(10.5);
  });

  it("is nested: a request faulted at 10 % is also faulted at 50 %", () => {
    for (let i = 0; i < 2000; i++) {
      const key = "id-" + i.toString();
      if (keyChance(key, 10)) expect(keyChance(key, 50)).toBe(true);
    }
  });

  it("hashes every byte", () => {
    expect(hashOf("abc")).not.toBe(hashOf("abd"));
    expect(hashOf("")).not.toBe(hashOf("\u0000"));
  });

  it("an ASCII key hashes as it did over decoded text: both versions fault the same requests", () => {
    const keys: string[] = ["", "a", "x-request-id", "3f1c9a52-6f0e-4d7e-9a51-0c2f4b7d8e19"];
    for (let i = 0; i < keys.length; i++) expect(hashOf(keys[i])).toBe(textHash(keys[i]));
  });

  it("hashes the bytes, not a decoding of them: an invalid byte is not U+FFFD", () => {
    const raw = new ArrayBuffer(2);
    store<u8>(changetype<usize>(raw), 0x61);
    store<u8>(changetype<usize>(raw) + 1, 0xff);
    expect(fnv1a64(changetype<usize>(raw), 2)).not.toBe(hashOf("a\uFFFD"));
  });
});
