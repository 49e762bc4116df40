/**
 * The local control plane: a directory of hfi-cli policy files served as GET /v1/policies, and
 * the plugin in the runner polling it, so editing a file changes the fault without a restart.
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { LocalControlPlane, routeControlPlane } from "../../host/runner/control-plane";
import { parsePolicyFile, readPolicyDir } from "../../host/runner/policy-files";
import { ROOT, request, runner, stat, tempDir, waitFor } from "./harness";

const POLL_MS = 300;

const abortPolicy = (name: string, p: string, status: number): string =>
  `metadata: { name: ${name} }\nspec:\n  rules:\n    - match: { path: { exact: ${p} } }\n      fault: { percentage: 100, abort: { httpStatus: ${status} } }\n`;

/** Both worker VMs answer `status` (round-robin: two requests in a row reach both). */
async function bothWorkersAnswer(port: number, p: string, status: number): Promise<boolean> {
  const a = await request(port, p);
  const b = await request(port, p);
  return a.status === status && b.status === status;
}

describe("policy files", () => {
  test("YAML with several documents, JSON with an array or {policies}, sorted by file name", () => {
    const tmp = tempDir();
    try {
      writeFileSync(path.join(tmp.dir, "b.yaml"), abortPolicy("b1", "/b1", 500) + "---\n" + abortPolicy("b2", "/b2", 500) + "---\n");
      writeFileSync(path.join(tmp.dir, "a.json"), JSON.stringify([{ metadata: { name: "a1" }, spec: { rules: [] } }]));
      writeFileSync(path.join(tmp.dir, "c.json"), JSON.stringify({ policies: [{ metadata: { name: "c1" }, spec: { rules: [] } }] }));
      writeFileSync(path.join(tmp.dir, "notes.txt"), "ignored");
      writeFileSync(path.join(tmp.dir, ".hidden.yaml"), "ignored: [");
      const set = readPolicyDir(tmp.dir);
      assert.deepEqual(set.policies.map((p) => (p.metadata as { name: string }).name), ["a1", "b1", "b2", "c1"]);
      assert.deepEqual(set.problems, []);
    } finally {
      tmp.cleanup();
    }
  });

  test("a file that does not parse, or holds something that is not a policy, is skipped with the reason", () => {
    assert.match((parsePolicyFile("metadata: [\n", "x.yaml") as { error: string }).error, /document 1 is not valid YAML/);
    assert.match((parsePolicyFile("{", "x.json") as { error: string }).error, /not valid JSON/);
    assert.match((parsePolicyFile("spec: {}\n", "x.yaml") as { error: string }).error, /needs metadata\.name/);
    assert.match((parsePolicyFile(abortPolicy("ok", "/x", 500) + "---\nmetadata: { name: n }\n", "x.yaml") as { error: string }).error, /document 2: policy "n" needs a spec/);
  });

  test("the example policies all load", () => {
    const set = readPolicyDir(path.join(ROOT, "examples", "policies"));
    assert.deepEqual(set.problems, []);
    assert.ok(set.policies.length >= 4);
  });
});

describe("control-plane routing", () => {
  test("the cluster comes from the configuration as the plugin derives it", () => {
    assert.equal(routeControlPlane('{"control_plane": {"cluster": "cp", "authority": "cp:1"}}').cluster, "cp");
    assert.equal(routeControlPlane('{"control_plane": {"address": "hfi.ns.svc:9000"}}').cluster, "outbound|9000||hfi.ns.svc");
    assert.equal(routeControlPlane('{"control_plane_address": "hfi-control-plane.boifi.svc.cluster.local:8080"}').cluster, "outbound|8080||hfi-control-plane.boifi.svc.cluster.local");
    assert.equal(routeControlPlane('"cp.example:7000"').cluster, "outbound|7000||cp.example");
    assert.equal(routeControlPlane("cp.example:7000").cluster, "outbound|7000||cp.example");
    assert.equal(routeControlPlane("").cluster, "outbound|8080||control-plane");
  });

  test("a configuration without a control plane gets the local one added", () => {
    const route = routeControlPlane('{"policies": [], "enabled": true}');
    assert.equal(route.added, true);
    assert.equal(route.cluster, "hfi-control-plane");
    assert.deepEqual(JSON.parse(route.configuration), {
      policies: [],
      enabled: true,
      control_plane: { cluster: "hfi-control-plane", authority: "hfi-control-plane:8080", poll_interval_ms: 2000, timeout_ms: 1000 },
    });
  });
});

describe("the plugin polling the local control plane in the runner", () => {
  test("policies apply within one poll interval; editing and removing a file changes and removes the fault", async () => {
    const tmp = tempDir();
    const config = path.join(tmp.dir, "plugin.json");
    const policies = path.join(tmp.dir, "policies");
    mkdirSync(policies);
    writeFileSync(config, JSON.stringify({ control_plane: { cluster: "local-cp", authority: "cp:8080", poll_interval_ms: POLL_MS, timeout_ms: 500 } }));
    writeFileSync(path.join(policies, "teapot.yaml"), abortPolicy("teapot", "/teapot", 418));
    const r = await runner({ configPath: config, policyDir: policies });
    try {
      // The first poll is jittered within the interval.
      await waitFor(() => bothWorkersAnswer(r.proxyPort, "/teapot", 418), 2 * POLL_MS + 500, "the policy applies on both workers");

      writeFileSync(path.join(policies, "teapot.yaml"), abortPolicy("teapot", "/teapot", 451));
      const changed = await waitFor(() => bothWorkersAnswer(r.proxyPort, "/teapot", 451), 3000, "the edited policy applies");
      assert.ok(changed < POLL_MS + 500 + 300, `edit applied after ${changed} ms`);

      rmSync(path.join(policies, "teapot.yaml"));
      const removed = await waitFor(() => bothWorkersAnswer(r.proxyPort, "/teapot", 200), 3000, "the removed policy stops injecting");
      assert.ok(removed < POLL_MS + 500 + 300, `removal applied after ${removed} ms`);
    } finally {
      await r.close();
      tmp.cleanup();
    }
  });

  test("examples/policies/guarded-window.yaml: upstream 503s on /status/503 trip its guard, as docs/safety.md shows", async () => {
    const tmp = tempDir();
    const config = path.join(tmp.dir, "plugin.json");
    const policies = path.join(tmp.dir, "policies");
    mkdirSync(policies);
    writeFileSync(config, JSON.stringify({ control_plane: { cluster: "local-cp", authority: "cp:8080", poll_interval_ms: POLL_MS, timeout_ms: 500 } }));
    copyFileSync(path.join(ROOT, "examples", "policies", "guarded-window.yaml"), path.join(policies, "guarded-window.yaml"));
    const r = await runner({ configPath: config, policyDir: policies });
    const delayed = async () => (await request(r.proxyPort, "/status/200")).headers["x-fault-injected"] === "delay";
    try {
      await waitFor(async () => (await delayed()) && (await delayed()), 2 * POLL_MS + 1500, "the guarded delay applies on both workers");
      for (let i = 0; i < 5; i++) assert.equal((await request(r.proxyPort, "/status/503")).status, 503);
      await waitFor(async () => (await stat(r.adminPort, "wasmcustom.hfi_faults_guard_trips_total")) === 1, 3000, "the guard trips once");
      await waitFor(async () => !(await delayed()) && !(await delayed()), 3000, "halted on both workers");
      // The admin's effective set says so too.
      const view = JSON.parse((await request(r.adminPort, "/policies")).body) as { workers: { policies: { name: string; state: string }[] }[] };
      for (const w of view.workers) assert.equal(w.policies.find((p) => p.name === "status-guarded")?.state, "halted");
    } finally {
      await r.close();
      tmp.cleanup();
    }
  });

  test("a broken YAML file is skipped and reported; the rest is served", async () => {
    const tmp = tempDir();
    const config = path.join(tmp.dir, "plugin.json");
    const policies = path.join(tmp.dir, "policies");
    mkdirSync(policies);
    writeFileSync(config, JSON.stringify({ control_plane: { cluster: "local-cp", authority: "cp:8080", poll_interval_ms: POLL_MS, timeout_ms: 500 } }));
    writeFileSync(path.join(policies, "a-good.yaml"), abortPolicy("good", "/good", 503));
    writeFileSync(path.join(policies, "b-broken.yaml"), "metadata: { name: broken\nspec: [\n");
    const r = await runner({ configPath: config, policyDir: policies });
    try {
      await waitFor(() => bothWorkersAnswer(r.proxyPort, "/good", 503), 3000, "the good file's policy applies");
      assert.ok(r.lines.some((l) => /control plane: skipping b-broken\.yaml: document 1 is not valid YAML/.test(l)), r.lines.join("\n"));
      assert.equal(r.lines.filter((l) => /skipping b-broken\.yaml/.test(l)).length, 1, "reported once, not on every poll");
      const served = JSON.parse((await request(r.controlPlanePort!, "/v1/policies")).body);
      assert.deepEqual(served.policies.map((p: { metadata: { name: string } }) => p.metadata.name), ["good"]);
    } finally {
      await r.close();
      tmp.cleanup();
    }
  });

  test("without a control plane in the configuration, the runner adds one and says so", async () => {
    const tmp = tempDir();
    const config = path.join(tmp.dir, "plugin.json");
    writeFileSync(config, JSON.stringify({ policies: [] }));
    writeFileSync(path.join(tmp.dir, "p.yaml"), abortPolicy("added", "/added", 502));
    const r = await runner({ configPath: config, policyDir: tmp.dir });
    try {
      assert.ok(r.lines.some((l) => /the configuration names none, so the runner adds "control_plane"/.test(l)));
      assert.equal(JSON.parse(r.configuration).control_plane.cluster, "hfi-control-plane");
      await waitFor(() => bothWorkersAnswer(r.proxyPort, "/added", 502), 2 * 2000 + 1000, "the policy applies");
    } finally {
      await r.close();
      tmp.cleanup();
    }
  });
});

describe("GET /v1/policies over HTTP", () => {
  test("ETag, 304 on a matching If-None-Match, a new ETag after an edit", async () => {
    const tmp = tempDir();
    const cp = new LocalControlPlane(tmp.dir, () => {});
    try {
      writeFileSync(path.join(tmp.dir, "p.yaml"), abortPolicy("p", "/p", 500));
      const port = await cp.listen(0, "127.0.0.1");
      const first = await request(port, "/v1/policies");
      assert.equal(first.status, 200);
      assert.equal(first.headers["content-type"], "application/json");
      const etag = first.headers.etag!;
      assert.match(etag, /^"[0-9a-f]{32}"$/);
      assert.deepEqual(JSON.parse(first.body).policies[0].metadata, { name: "p" });

      const again = await request(port, "/v1/policies", { headers: { "if-none-match": etag } });
      assert.equal(again.status, 304);
      assert.equal(again.body, "");
      assert.equal(again.headers.etag, etag);

      writeFileSync(path.join(tmp.dir, "p.yaml"), abortPolicy("p", "/p", 501));
      const edited = await request(port, "/v1/policies", { headers: { "if-none-match": etag } });
      assert.equal(edited.status, 200);
      assert.notEqual(edited.headers.etag, etag);

      assert.equal((await request(port, "/other")).status, 404);
      assert.equal((await request(port, "/v1/policies", { method: "POST", body: "{}" })).status, 405);
    } finally {
      await cp.close();
      tmp.cleanup();
    }
  });
});
