// docker-compose.yaml must start: checked by Debian's docker-compose (`config -q` parses and
// validates the file without a Docker engine), plus the pins a reproducible demo needs.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { stringify } from "yaml";
import { addStub, pathWithout, recipeErrors, runMake } from "./lib/make";
import { clone, COMPOSE_YAML, readYaml, ROOT } from "./lib/project";
import { needTools } from "./lib/tools";

function composeConfig(file: string): { status: number | null; stderr: string } {
  const run = spawnSync("docker-compose", ["--project-directory", ROOT, "-f", file, "config", "-q"], {
    encoding: "utf8",
    timeout: 60_000,
  });
  if (run.error) throw run.error;
  return { status: run.status, stderr: run.stderr };
}

function withTempCompose(content: string, fn: (file: string) => void): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hfi-compose-"));
  try {
    const file = path.join(dir, "docker-compose.yaml");
    fs.writeFileSync(file, content);
    fn(file);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("docker-compose.yaml", () => {
  const compose = readYaml(COMPOSE_YAML);

  test("pins its images to exact versions", () => {
    assert.match(compose.services.envoy.image, /^envoyproxy\/envoy:v\d+\.\d+\.\d+$/);
    for (const [name, service] of Object.entries<{ image: string }>(compose.services)) {
      assert.match(service.image, /:[^:]+$/, `${name} has a tag`);
      assert.doesNotMatch(service.image, /:latest$|-latest$|-dev$/, `${name} is pinned`);
    }
  });

  test("mounts the Envoy config and the built plugin, and publishes the listener and admin ports", () => {
    const volumes: string[] = compose.services.envoy.volumes;
    assert.ok(volumes.some((v) => v.startsWith("./envoy/envoy.yaml:")));
    assert.ok(volumes.some((v) => v.startsWith("./build/plugin.wasm:")));
    assert.deepEqual([...compose.services.envoy.ports].sort(), ["10000:10000", "9901:9901"]);
  });

  test("passes `docker-compose config -q`", (t) => {
    if (!needTools(t, "docker-compose")) return;
    const { status, stderr } = composeConfig(COMPOSE_YAML);
    assert.equal(status, 0, stderr);
  });

  test("a broken copy (misspelled service option) fails `docker-compose config -q`", (t) => {
    if (!needTools(t, "docker-compose")) return;
    const broken = clone(compose);
    broken.services.envoy.volums = broken.services.envoy.volumes;
    delete broken.services.envoy.volumes;
    withTempCompose(stringify(broken), (file) => {
      const { status, stderr } = composeConfig(file);
      assert.notEqual(status, 0, "docker-compose accepted a misspelled option");
      assert.match(stderr, /volums/);
    });
  });

  test("a broken copy (bad port mapping) fails `docker-compose config -q`", (t) => {
    if (!needTools(t, "docker-compose")) return;
    const broken = clone(compose);
    broken.services.envoy.ports = ["ten-thousand:10000"];
    withTempCompose(stringify(broken), (file) => {
      const { status, stderr } = composeConfig(file);
      assert.notEqual(status, 0, "docker-compose accepted a bad port");
      assert.match(stderr, /ports|ten-thousand/);
    });
  });
});

// Without a Docker engine compose can only fail; the targets must say so in one line of their
// own (Debian's docker-compose ends in a Python traceback) and exit non-zero, before building.
describe("make compose-up / compose-down without a Docker engine", () => {
  let work = "";
  let withoutDocker = "";
  let engineDown = "";

  before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "hfi-compose-engine-"));
    withoutDocker = pathWithout(path.join(work, "no-docker"), ["docker", "docker-compose"]);
    // A docker CLI whose engine is not there: every command fails as the real CLI does.
    engineDown = pathWithout(path.join(work, "engine-down"), ["docker"]);
    addStub(engineDown, "docker", 'echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2\nexit 1');
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  for (const target of ["compose-up", "compose-down"]) {
    test(`${target} with the docker CLI but no engine: one line, non-zero exit, nothing started`, () => {
      const r = runMake(target, {}, { path: engineDown });
      assert.notEqual(r.status, 0);
      assert.equal(r.stdout, "", "nothing ran (no build, no compose)");
      assert.deepEqual(recipeErrors(r.stderr), [
        `make ${target}: cannot reach a Docker engine (docker info failed): start Docker or check access to its socket, or try make run, which needs neither`,
      ]);
    });

    test(`${target} with no docker installed: one line, non-zero exit`, () => {
      const r = runMake(target, {}, { path: withoutDocker });
      assert.notEqual(r.status, 0);
      assert.equal(r.stdout, "");
      assert.deepEqual(recipeErrors(r.stderr), [
        `make ${target}: docker is not installed; compose needs Docker with a running engine (or try make run, which needs neither)`,
      ]);
    });
  }
});

// `make compose-config` needs no engine, only a compose: the docker CLI's plugin when
// `docker compose version` succeeds, else the standalone docker-compose, else one line saying
// neither is there. Checked with stand-ins that print how they were called.
describe("make compose-config picks docker compose, else docker-compose", () => {
  let work = "";
  const plugin = 'if [ "$1 $2" = "compose version" ]; then echo "Docker Compose version v2.29.7"; exit 0; fi\necho "stub: docker $*"';
  // The docker CLI without the compose plugin, as it answers `docker compose ...`.
  const noPlugin = 'if [ "$1" = compose ]; then echo "docker: unknown command: docker compose" >&2; exit 1; fi\necho "stub: docker $*"';
  const standalone = 'echo "stub: docker-compose $*"';

  /** "this machine, minus docker and docker-compose", plus the given stand-ins. */
  function machine(name: string, stubs: Record<string, string>): string {
    const dir = pathWithout(path.join(work, name), ["docker", "docker-compose"]);
    for (const [tool, script] of Object.entries(stubs)) addStub(dir, tool, script);
    return dir;
  }

  before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "hfi-compose-config-"));
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  test("docker compose when both are installed", () => {
    const r = runMake("compose-config", {}, { path: machine("both", { docker: plugin, "docker-compose": standalone }) });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "docker compose config -q\nstub: docker compose config -q\n");
  });

  test("docker-compose when the docker CLI has no compose plugin", () => {
    const r = runMake("compose-config", {}, { path: machine("no-plugin", { docker: noPlugin, "docker-compose": standalone }) });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "docker-compose config -q\nstub: docker-compose config -q\n");
  });

  test("docker-compose when docker is not installed at all", () => {
    const r = runMake("compose-config", {}, { path: machine("standalone-only", { "docker-compose": standalone }) });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "docker-compose config -q\nstub: docker-compose config -q\n");
  });

  for (const [name, stubs] of [
    ["docker without the plugin", { docker: noPlugin }],
    ["nothing", {}],
  ] as Array<[string, Record<string, string>]>) {
    test(`neither (${name}): one line, non-zero exit, nothing run`, () => {
      const r = runMake("compose-config", {}, { path: machine(`neither-${name.replace(/\W+/g, "-")}`, stubs) });
      assert.notEqual(r.status, 0);
      assert.equal(r.stdout, "");
      assert.deepEqual(recipeErrors(r.stderr), ["make compose-config: neither docker compose nor docker-compose is installed"]);
    });
  }

  test("a compose that rejects the file fails the target", () => {
    const rejects = 'if [ "$1 $2" = "compose version" ]; then exit 0; fi\necho "services.envoy Additional property volums is not allowed" >&2; exit 15';
    const r = runMake("compose-config", {}, { path: machine("rejects", { docker: rejects }) });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /volums/);
  });
});
