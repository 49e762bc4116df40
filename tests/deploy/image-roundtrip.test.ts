// The OCI image, for real: build it from the project's Dockerfile with buildah, push it to a
// real registry, pull it back over the registry API the way Istio's agent does, and check the
// module inside is build/plugin.wasm and still injects faults.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { gunzipSync } from "node:zlib";
import { expectAbortPerPolicy } from "./lib/host-check";
import { PLUGIN_WASM, ROOT } from "./lib/project";
import { pullBlob, pullManifest, sha256Hex, startRegistry, type PulledManifest, type Registry } from "./lib/registry";
import { readTar } from "./lib/tar";
import { hasTool, needTools } from "./lib/tools";

// Layer media types of the "compat" Wasm image variant that Istio's image fetcher accepts.
const COMPAT_LAYER_TYPES = [
  "application/vnd.oci.image.layer.v1.tar+gzip",
  "application/vnd.docker.image.rootfs.diff.tar.gzip",
];
const TOOLS = ["buildah", "docker-registry"];
const LOCAL_TAG = "localhost/hfi-roundtrip:test";
const REPO = "hfi/hfi-fault-injection";
const TAG = "roundtrip";

function run(cmd: string, args: string[], timeoutMs: number): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: timeoutMs, cwd: ROOT });
  if (r.error) throw new Error(`${cmd} ${args.join(" ")}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

describe("OCI image round trip (buildah -> docker-registry -> registry API)", { timeout: 300_000 }, () => {
  const available = TOOLS.every(hasTool);
  let work = "";
  let buildah: string[] = [];
  let registry: Registry | undefined;
  let pushedDigest = "";
  let pulled: PulledManifest;
  let layer: Buffer;
  let module: Buffer;

  before(async () => {
    if (!available) return;
    assert.ok(fs.existsSync(PLUGIN_WASM), "build/plugin.wasm is missing: run `make build` first");
    work = fs.mkdtempSync(path.join(os.tmpdir(), "hfi-image-"));
    // Private image storage: nothing of the developer's buildah state is touched, and cleanup
    // is removing one directory.
    buildah = ["--root", path.join(work, "root"), "--runroot", path.join(work, "runroot"), "--storage-driver", "vfs"];
    run("buildah", [...buildah, "bud", "--isolation", "chroot", "-f", "Dockerfile", "-t", LOCAL_TAG, "."], 180_000);
    registry = await startRegistry(path.join(work, "registry"));
    const digestFile = path.join(work, "digest");
    run("buildah", [...buildah, "push", "--tls-verify=false", "--digestfile", digestFile, LOCAL_TAG,
      `docker://${registry.address}/${REPO}:${TAG}`], 120_000);
    pushedDigest = fs.readFileSync(digestFile, "utf8").trim();
    pulled = await pullManifest(registry.address, REPO, TAG);
  });

  after(async () => {
    await registry?.stop();
    if (work) {
      spawnSync("buildah", [...buildah, "rmi", "--all", "--force"], { stdio: "ignore", timeout: 60_000 });
      fs.rmSync(work, { recursive: true, force: true });
    }
  });

  test("the manifest is an image manifest with exactly one gzip tar layer", (t) => {
    if (!needTools(t, ...TOOLS)) return;
    assert.ok(
      ["application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json"].includes(pulled.mediaType),
      `manifest media type ${pulled.mediaType}`,
    );
    assert.equal(pulled.manifest.layers.length, 1, JSON.stringify(pulled.manifest.layers));
    assert.ok(COMPAT_LAYER_TYPES.includes(pulled.manifest.layers[0].mediaType), pulled.manifest.layers[0].mediaType);
  });

  test("the manifest digest is the one `buildah push` reported (what to pin in the WasmPlugin)", (t) => {
    if (!needTools(t, ...TOOLS)) return;
    assert.equal(pulled.digest, `sha256:${sha256Hex(pulled.bytes)}`);
    assert.equal(pulled.digest, pushedDigest);
  });

  test("the layer blob matches its digest and size", async (t) => {
    if (!needTools(t, ...TOOLS)) return;
    const [desc] = pulled.manifest.layers;
    layer = await pullBlob(registry!.address, REPO, desc.digest);
    assert.equal(`sha256:${sha256Hex(layer)}`, desc.digest);
    assert.equal(layer.length, desc.size);
  });

  test("the layer holds plugin.wasm, byte for byte build/plugin.wasm", (t) => {
    if (!needTools(t, ...TOOLS)) return;
    assert.ok(layer, "layer was downloaded");
    const entries = readTar(gunzipSync(layer));
    const found = entries.find((e) => e.type === "0" && path.posix.basename(e.name) === "plugin.wasm");
    assert.ok(found, `no plugin.wasm in the layer: ${entries.map((e) => e.name).join(", ")}`);
    module = found.data;
    assert.equal(sha256Hex(module), sha256Hex(fs.readFileSync(PLUGIN_WASM)));
  });

  test("the extracted module, loaded in the host, aborts a request per policy", async (t) => {
    if (!needTools(t, ...TOOLS)) return;
    assert.ok(module, "plugin.wasm was extracted");
    await expectAbortPerPolicy(module);
  });
});
