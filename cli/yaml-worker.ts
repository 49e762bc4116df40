/**
 * A parse worker: reads groups of YAML documents (cli/sources.ts readChunk) and sends back
 * what was read as plain data, in order. Values, problems and positions are the same as a read
 * in the main thread gives; the nodes stay here.
 */
import { parentPort } from "node:worker_threads";
import { readChunk, type ReadChunk } from "./sources";

parentPort?.on("message", (m: { id: number; file: string; chunks: Array<{ text: string; firstLine: number }> }) => {
  const reads: ReadChunk[] = m.chunks.map((c) => readChunk(c, m.file).read);
  parentPort!.postMessage({ id: m.id, reads });
});
