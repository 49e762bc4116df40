// Per-request sampling: does this request fall inside a fault's percentage?
// Envoy cannot load a module that uses Math.random (it imports env.seed), so each VM runs its
// own xorshift64* generator, seeded from WASI random_get (glue/clock.ts entropy64): VMs started
// in the same millisecond must not draw the same sequence.

const TWO_POW_MINUS_53: f64 = 1.0 / 9007199254740992.0;

export class Sampler {
  private state: u64;

  constructor(seed: u64) {
    this.state = mix64(seed) | 1;
  }

  /** Next 64 random bits (xorshift64*). */
  next(): u64 {
    let x = this.state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    this.state = x;
    return x * 0x2545F4914F6CDD1D;
  }

  /** True with probability percentage/100. */
  chance(percentage: f64): bool {
    if (percentage >= 100) return true;
    if (percentage <= 0) return false;
    return unitInterval(this.next()) * 100.0 < percentage;
  }
}

/**
 * Deterministic decision from a header value (e.g. x-request-id): the same value gives the
 * same answer in every service the request crosses, so one request is faulted end to end.
 */
export function chanceByKey(ptr: usize, length: i32, percentage: f64): bool {
  if (percentage >= 100) return true;
  if (percentage <= 0) return false;
  return unitInterval(mix64(fnv1a64(ptr, length))) * 100.0 < percentage;
}

/**
 * FNV-1a over the value's bytes, each taken as a 16-bit little-endian unit: the bytes decide,
 * as in every matcher, and an ASCII key hashes exactly as it did when the hash ran over the
 * decoded text, so services on either version fault the same requests.
 */
export function fnv1a64(ptr: usize, length: i32): u64 {
  let h: u64 = 0xcbf29ce484222325;
  for (let i = 0; i < length; i++) {
    h ^= <u64>load<u8>(ptr + <usize>i);
    h *= 0x100000001b3;
    h *= 0x100000001b3; // the high byte of the unit, always 0
  }
  return h;
}

/** splitmix64 finalizer: spreads every input bit over the output. */
export function mix64(z: u64): u64 {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

/** The top 53 bits as a double in [0, 1). */
@inline function unitInterval(x: u64): f64 {
  return <f64>(x >> 11) * TWO_POW_MINUS_53;
}
