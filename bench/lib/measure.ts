/**
 * Timing helpers: every figure is a median over repeated rounds after a warm-up, and every
 * comparison is a ratio of figures measured in the same rounds (interleaved), so a machine that
 * slows down for a while slows down both sides of a ratio.
 */
import os from "node:os";

export function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** The q-quantile (0..1) by nearest rank. */
export function quantile(values: number[], q: number): number {
  const v = [...values].sort((a, b) => a - b);
  return v[Math.min(v.length - 1, Math.max(0, Math.ceil(q * v.length) - 1))];
}

export function nowNs(): bigint {
  return process.hrtime.bigint();
}

/** Milliseconds spent in fn. */
export function timeMs(fn: () => void): number {
  const t0 = nowNs();
  fn();
  return Number(nowNs() - t0) / 1e6;
}

/** Nanoseconds per call of `op` over n calls. */
export function nsPerOp(op: (i: number) => void, n: number): number {
  const t0 = nowNs();
  for (let i = 0; i < n; i++) op(i);
  return Number(nowNs() - t0) / n;
}

export interface Machine {
  node: string;
  v8: string;
  cpu: string;
  cores: number;
  platform: string;
  memoryGiB: number;
}

export function machine(): Machine {
  const cpus = os.cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
  };
}
