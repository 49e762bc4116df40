/**
 * What the module may spend, in work units: function entries and loop iterations counted in
 * build/plugin.counted.wasm (host/work.ts). The same on every run and under any load, so tests
 * bound cost by it; `make bench` times the same cases and prints the nanoseconds a unit took
 * (about 1.5 to 6 ns on the 2-core machines it ran on), so a budget reads as time.
 */

/** One request's callbacks, headers to log: about 1 ms. */
export const REQUEST_WORK = 1_000_000;

/** Configuring one VM (start, parse, build the index, define the metrics): about 1 s. */
export const CONFIGURE_WORK = 300_000_000;

/** One tick: releasing what is due, the rails, and publishing a changed set (the largest part):
 * about 50 ms, once per change, on the worker's thread. */
export const TICK_WORK = 20_000_000;
