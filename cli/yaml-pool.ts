/**
 * Parse workers for large inputs: the `yaml` package reads about 5 MiB a second on one core, so
 * hfi validate reads a large file's documents on the other cores while the main thread judges
 * them (cli/sources.ts loadTextInWindowsParallel). Workers are started only for inputs large
 * enough to pay for their start (about 0.2 s each).
 */
import os from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import type { ChunkReader, ReadChunk } from "./sources";

/** Inputs at least this large are read by workers. */
export const PARALLEL_BYTES = 4 * 1024 * 1024;
/** A worker's young generation: small, so its garbage is collected before it adds up. */
const YOUNG_MB = 8;

export class YamlPool implements ChunkReader {
  private readonly workers: Worker[] = [];
  private readonly waiting = new Map<number, { resolve: (r: ReadChunk[]) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private turn = 0;

  constructor(readonly size = Math.max(1, Math.min(4, os.availableParallelism()))) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(path.join(__dirname, "yaml-worker.cjs"), { resourceLimits: { maxYoungGenerationSizeMb: YOUNG_MB } });
      w.on("message", (m: { id: number; reads: ReadChunk[] }) => {
        const p = this.waiting.get(m.id);
        this.waiting.delete(m.id);
        p?.resolve(m.reads);
      });
      w.on("error", (e) => {
        for (const p of this.waiting.values()) p.reject(e);
        this.waiting.clear();
      });
      this.workers.push(w);
    }
  }

  read(chunks: Array<{ text: string; firstLine: number }>, file: string): Promise<ReadChunk[]> {
    const id = this.nextId++;
    const worker = this.workers[this.turn++ % this.workers.length];
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, file, chunks });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
