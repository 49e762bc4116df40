// `make push` must not lie: it fails when the push fails, says in one line what to do, and
// prints `pin it: IMG@sha256:...` only for the digest this push produced. Checked with buildah
// against a real registry on loopback (and a loopback port where nothing listens), and the
// docker branch against stand-ins that print what `docker push` prints.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { addStub, pathWithout, recipeErrors, runMake, type MakeResult } from "./lib/make";
import { PLUGIN_WASM, ROOT } from "./lib/project";
import { freeLoopbackPort, pullManifest, startRegistry, type Registry } from "./lib/registry";
import { hasTool, needTools } from "./lib/tools";

const TOOLS = ["buildah", "docker-registry"];
const LOCAL_TAG = "localhost/hfi-push:test";
const REPO = "hfi/hfi-fault-injection";
const PIN = /^pin it: /m;
const SHA256 = /sha256:[0-9a-f]{64}/g;

function run(cmd: string, args: string[], timeoutMs: number): void {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: timeoutMs, cwd: ROOT });
  if (r.error) throw new Error(`${cmd} ${args.join(" ")}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}:\n${r.stderr}${r.stdout}`);
}

function output(r: MakeResult): string {
  return `${r.stdout}${r.stderr}`;
}

/** The one line the recipe adds on failure (make's own "*** Error" line aside). */
function failureLine(r: MakeResult): string {
  const ours = recipeErrors(r.stderr).filter((l) => l.startsWith("make push:"));
  assert.equal(ours.length, 1, `expected one "make push:" line, got:\n${r.stderr}`);
  return ours[0];
}

describe("make push with buildah (real registry on loopback)", { timeout: 300_000 }, () => {
  const available = TOOLS.every(hasTool);
  let work = "";
  let buildah: string[] = [];
  let registry: Registry | undefined;
  let deadAddress = "";

  /** Tags the test image as `image` in the private storage, then runs `make push` for it. */
  function push(image: string, digestFile: string, pushFlags?: string): MakeResult {
    run("buildah", [...buildah, "tag", LOCAL_TAG, image], 30_000);
    const vars: Record<string, string> = {
      IMAGE_TOOL: "buildah",
      BUILDAH: ["buildah", ...buildah].join(" "),
      IMG: image,
      DIGEST_FILE: digestFile,
    };
    if (pushFlags !== undefined) vars.PUSH_FLAGS = pushFlags;
    return runMake("push", vars, { timeoutMs: 120_000 });
  }

  before(async () => {
    if (!available) return;
    assert.ok(fs.existsSync(PLUGIN_WASM), "build/plugin.wasm is missing: run `make build` first");
    work = fs.mkdtempSync(path.join(os.tmpdir(), "hfi-push-"));
    // Private image storage, as in image-roundtrip.test.ts: the developer's buildah state and
    // build/image.digest are never touched.
    buildah = ["--root", path.join(work, "root"), "--runroot", path.join(work, "runroot"), "--storage-driver", "vfs"];
    run("buildah", [...buildah, "bud", "--isolation", "chroot", "-f", "Dockerfile", "-t", LOCAL_TAG, "."], 180_000);
    registry = await startRegistry(path.join(work, "registry"));
    deadAddress = `127.0.0.1:${await freeLoopbackPort()}`;
  });

  after(async () => {
    await registry?.stop();
    if (work) {
      spawnSync("buildah", [...buildah, "rmi", "--all", "--force"], { stdio: "ignore", timeout: 60_000 });
      fs.rmSync(work, { recursive: true, force: true });
    }
  });

  test("a good push prints `pin it: IMG@<digest>` with the manifest digest the registry serves", async (t) => {
    if (!needTools(t, ...TOOLS)) return;
    const image = `${registry!.address}/${REPO}:good`;
    const digestFile = path.join(work, "good.digest");
    const r = push(image, digestFile, "--tls-verify=false");
    assert.equal(r.status, 0, output(r));
    const served = await pullManifest(registry!.address, REPO, "good");
    assert.match(served.digest, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(r.stdout.split("\n").filter((l) => PIN.test(l)), [`pin it: ${image}@${served.digest}`]);
    assert.equal(fs.readFileSync(digestFile, "utf8").trim(), served.digest);
  });

  test("a push to a dead registry after a good one exits non-zero and prints no digest, old or new", async (t) => {
    if (!needTools(t, ...TOOLS)) return;
    const digestFile = path.join(work, "reused.digest");
    const good = push(`${registry!.address}/${REPO}:before-dead`, digestFile, "--tls-verify=false");
    assert.equal(good.status, 0, output(good));
    const previous = fs.readFileSync(digestFile, "utf8").trim();

    const dead = push(`${deadAddress}/${REPO}:dead`, digestFile, "--tls-verify=false");
    assert.notEqual(dead.status, 0, output(dead));
    assert.doesNotMatch(output(dead), PIN);
    assert.ok(!output(dead).includes(previous), `the previous push's digest ${previous} was printed:\n${output(dead)}`);
    assert.equal(fs.existsSync(digestFile), false, "the previous push's digest file was left behind");
    assert.match(failureLine(dead), new RegExp(`^make push: pushing ${deadAddress}/${REPO}:dead failed .*: nothing answered at the registry address`));
  });

  test("a push to a plain-HTTP registry without PUSH_FLAGS fails and says to set PUSH_FLAGS=--tls-verify=false", (t) => {
    if (!needTools(t, ...TOOLS)) return;
    const digestFile = path.join(work, "plain-http.digest");
    const r = push(`${registry!.address}/${REPO}:plain-http`, digestFile);
    assert.notEqual(r.status, 0, output(r));
    assert.doesNotMatch(output(r), PIN);
    assert.match(failureLine(r), /plain HTTP: for a plain-HTTP registry set PUSH_FLAGS=--tls-verify=false/);
    assert.equal(fs.existsSync(digestFile), false);
  });

  test("a push of an image that was never built fails and says to run make image", (t) => {
    if (!needTools(t, ...TOOLS)) return;
    const r = runMake("push", {
      IMAGE_TOOL: "buildah",
      BUILDAH: ["buildah", ...buildah].join(" "),
      IMG: `${registry!.address}/${REPO}:never-built`,
      DIGEST_FILE: path.join(work, "never-built.digest"),
      PUSH_FLAGS: "--tls-verify=false",
    });
    assert.notEqual(r.status, 0, output(r));
    assert.doesNotMatch(output(r), PIN);
    assert.match(failureLine(r), /build it first with make image IMG=/);
  });
});

describe("make push with docker (stand-ins printing what `docker push` prints)", () => {
  const DIGEST = `sha256:${"4f".repeat(32)}`;
  const IMAGE = "registry.example.com/hfi/hfi-fault-injection:0.1.0";
  let work = "";
  let bin = "";

  before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "hfi-push-docker-"));
    bin = pathWithout(path.join(work, "bin"), ["docker"]);
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  function pushWith(dockerScript: string, digestFile: string): MakeResult {
    addStub(bin, "docker", dockerScript);
    return runMake("push", { IMAGE_TOOL: "docker", IMG: IMAGE, DIGEST_FILE: digestFile }, { path: bin });
  }

  test("a good push pins the digest from docker's `<tag>: digest: ... size:` line", () => {
    const digestFile = path.join(work, "good.digest");
    const r = pushWith(
      [
        'echo "The push refers to repository [registry.example.com/hfi/hfi-fault-injection]"',
        `echo "e73e19412b0e: Pushed"`,
        `echo "0.1.0: digest: ${DIGEST} size: 528"`,
      ].join("\n"),
      digestFile,
    );
    assert.equal(r.status, 0, output(r));
    assert.deepEqual(r.stdout.split("\n").filter((l) => PIN.test(l)), [`pin it: ${IMAGE}@${DIGEST}`]);
  });

  test("a failed push after a good one exits non-zero, prints no digest and names the plain-HTTP fix", () => {
    const digestFile = path.join(work, "reused.digest");
    const good = pushWith(`echo "0.1.0: digest: ${DIGEST} size: 528"`, digestFile);
    assert.equal(good.status, 0, output(good));
    const r = pushWith(
      [
        'echo "The push refers to repository [registry.example.com/hfi/hfi-fault-injection]"',
        'echo \'Get "https://registry.example.com/v2/": http: server gave HTTP response to HTTPS client\' >&2',
        "exit 1",
      ].join("\n"),
      digestFile,
    );
    assert.notEqual(r.status, 0, output(r));
    assert.doesNotMatch(output(r), PIN);
    assert.deepEqual(output(r).match(SHA256), null);
    assert.equal(fs.existsSync(digestFile), false);
    assert.match(failureLine(r), /plain HTTP: list it under insecure-registries/);
  });

  test("a push that reports success but no digest fails instead of printing an empty one", () => {
    const r = pushWith('echo "e73e19412b0e: Pushed"', path.join(work, "no-digest.digest"));
    assert.notEqual(r.status, 0, output(r));
    assert.doesNotMatch(output(r), PIN);
    assert.match(failureLine(r), /reported no manifest digest/);
  });
});
