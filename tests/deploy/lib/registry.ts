// A throwaway Distribution registry (Debian's docker-registry) on a free loopback port, with its
// config and storage in a temporary directory, and the few registry API v2 calls a puller makes.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";

export const MANIFEST_MEDIA_TYPES = [
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
];

export interface Registry {
  /** host:port, e.g. 127.0.0.1:41234 */
  address: string;
  stop(): Promise<void>;
}

export function sha256Hex(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
  });
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const killed = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited(child);
  clearTimeout(killed);
}

export async function startRegistry(dir: string, readyTimeoutMs = 20_000): Promise<Registry> {
  const port = await freeLoopbackPort();
  const address = `127.0.0.1:${port}`;
  const storage = path.join(dir, "storage");
  fs.mkdirSync(storage, { recursive: true });
  const config = path.join(dir, "config.yml");
  fs.writeFileSync(
    config,
    [
      "version: 0.1",
      "log:",
      "  level: warn",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${storage}`,
      "http:",
      `  addr: ${address}`,
      "",
    ].join("\n"),
  );
  const child = spawn("docker-registry", ["serve", config], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (d) => (output += d));
  child.stderr?.on("data", (d) => (output += d));
  let spawnError: Error | undefined;
  child.once("error", (e) => (spawnError = e));

  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (spawnError) throw new Error(`docker-registry did not start: ${spawnError.message}`);
    if (child.exitCode !== null) throw new Error(`docker-registry exited (${child.exitCode}): ${output}`);
    try {
      const res = await fetch(`http://${address}/v2/`, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stopProcess(child);
      throw new Error(`docker-registry not ready on ${address} after ${readyTimeoutMs} ms: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { address, stop: () => stopProcess(child) };
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export interface PulledManifest {
  mediaType: string;
  /** Docker-Content-Digest: the digest Istio checks a WasmPlugin's sha256 against for oci:// urls */
  digest: string;
  bytes: Buffer;
  manifest: { schemaVersion: number; mediaType?: string; config: Descriptor; layers: Descriptor[] };
}

export async function pullManifest(address: string, repo: string, tag: string): Promise<PulledManifest> {
  const res = await fetch(`http://${address}/v2/${repo}/manifests/${tag}`, {
    headers: { Accept: MANIFEST_MEDIA_TYPES.join(", ") },
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`GET manifest ${repo}:${tag}: HTTP ${res.status} ${await res.text()}`);
  const bytes = Buffer.from(await res.arrayBuffer());
  return {
    mediaType: (res.headers.get("content-type") ?? "").split(";")[0].trim(),
    digest: res.headers.get("docker-content-digest") ?? "",
    bytes,
    manifest: JSON.parse(bytes.toString("utf8")),
  };
}

export async function pullBlob(address: string, repo: string, digest: string): Promise<Buffer> {
  const res = await fetch(`http://${address}/v2/${repo}/blobs/${digest}`, { signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new Error(`GET blob ${digest}: HTTP ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}
