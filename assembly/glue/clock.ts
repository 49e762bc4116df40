// The plugin's clocks and its entropy. Holds, ticks, polls, backoff and policy expiry measure
// time on the monotonic clock (WASI clock_time_get, clock id 1: proxy-wasm-cpp-host answers it
// with the host's monotonic time), so a wall-clock step (NTP, a VM migration) neither stretches
// a held request nor stops polling. The wall clock (proxy_get_current_time_nanoseconds) is for
// moments a person reads, never for measuring a wait.
import * as abi from "@solo-io/proxy-runtime/assembly/imports";

// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "clock_time_get")
declare function wasi_clock_time_get(id: u32, precision: u64, out: usize): u32;

// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "random_get")
declare function wasi_random_get(buf: usize, len: usize): u32;

const CLOCK_MONOTONIC: u32 = 1;
const out = memory.data(8);

/** Wall-clock time (ns since the epoch); it can step back or jump forward. */
export function wallNanos(): i64 {
  store<u64>(out, 0);
  abi.proxy_get_current_time_nanoseconds(out);
  return load<i64>(out);
}

/** The last monotonic reading handed out, and whether the host's monotonic clock failed. */
let lastNs: i64 = 0;
let fallback = false;
/** In fallback: added to the wall clock so time continues from the last monotonic reading. */
let fallbackOffsetNs: i64 = 0;

/**
 * Monotonic time in ns (an arbitrary origin; only differences mean anything). Should the host
 * refuse the monotonic clock, the wall clock takes over from where monotonic time stood, made
 * non-decreasing: a step back then pauses time instead of rewinding it. Never traps.
 */
export function monotonicNanos(): i64 {
  if (!fallback) {
    store<u64>(out, 0);
    if (wasi_clock_time_get(CLOCK_MONOTONIC, 1, out) == 0) {
      const ns = load<i64>(out);
      if (ns >= lastNs) {
        lastNs = ns;
        return ns;
      }
    }
    fallback = true;
    fallbackOffsetNs = lastNs - wallNanos();
  }
  const ns = wallNanos() + fallbackOffsetNs;
  if (ns > lastNs) lastNs = ns;
  return lastNs;
}

/** 64 bits from the host's CSPRNG (WASI random_get); the clocks mixed with `salt` if it fails. */
export function entropy64(salt: u64): u64 {
  store<u64>(out, 0);
  if (wasi_random_get(out, 8) == 0) return load<u64>(out) ^ salt;
  return <u64>wallNanos() ^ (<u64>monotonicNanos() << 17) ^ salt;
}
