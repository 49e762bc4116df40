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
