/**
 * Helpers for the runner tests: a runner on free loopback ports that keeps its console lines,
 * a small HTTP client that reports status, headers, body and time taken, and polling waits.
 */
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { startRunner, type Runner, type RunnerOptions } from "../../host/runner/runner";

export const ROOT = path.resolve(__dirname, "..", "..");
export const PLUGIN = path.join(ROOT, "build", "plugin.wasm");
/** A fixed copy of envoy/envoy.yaml: users edit that one for the hot-reload demo. */
export const ENVOY_YAML = path.join(ROOT, "tests", "fixtures", "envoy.yaml");

export interface TestRunner extends Runner {
  lines: string[];
}

/** A runner on free ports, bound to loopback, its console captured in `lines`. */
export async function runner(options: RunnerOptions = {}): Promise<TestRunner> {
  const lines: string[] = [];
  const r = await startRunner({
    wasmPath: PLUGIN,
    configPath: ENVOY_YAML,
    host: "127.0.0.1",
    port: 0,
    adminPort: 0,
    watchPollMs: 100,
    say: (l) => lines.push(l),
    ...options,
  });
  return Object.assign(r, { lines });
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  ms: number;
  reusedSocket: boolean;
}

export interface RequestOptions {
  method?: string;
  headers?: http.OutgoingHttpHeaders;
  body?: Buffer | string;
  agent?: http.Agent | false;
}

/** One request to 127.0.0.1:port; resolves when the whole response has arrived. */
export function request(port: number, path: string, options: RequestOptions = {}): Promise<Reply> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, path, method: options.method ?? "GET", headers: options.headers, agent: options.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
            ms: performance.now() - started,
            reusedSocket: req.reusedSocket,
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer to ${path} within 10 s`)));
    req.end(options.body);
  });
}

/** Polls `check` until it returns true; resolves with the time it took, rejects at the deadline. */
export async function waitFor(check: () => boolean | Promise<boolean>, deadlineMs: number, what: string): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await check()) return performance.now() - started;
    if (performance.now() - started > deadlineMs) throw new Error(`not within ${deadlineMs} ms: ${what}`);
    await sleep(25);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "hfi-runner-"));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** An upstream that counts the requests it receives and answers 200 "upstream". */
export async function countingUpstream(): Promise<{ port: number; count: () => number; close: () => Promise<void> }> {
  let n = 0;
  const server = http.createServer((req, res) => {
    n++;
    req.resume();
    req.on("end", () => res.end("upstream"));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    count: () => n,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A stat's value from the admin `/stats` text (undefined when absent). */
export async function stat(adminPort: number, name: string): Promise<number | undefined> {
  const text = (await request(adminPort, "/stats")).body;
  const line = text.split("\n").find((l) => l.startsWith(name + ": "));
  return line === undefined ? undefined : Number(line.slice(name.length + 2));
}
