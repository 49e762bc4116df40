/**
 * Issue-13 faults through `make run`'s proxy over real HTTP/1.1 sockets: a reset closes the
 * client's connection without a response, a response fault rewrites the echo server's answer,
 * abort headers reach the client.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { request, runner, stat, tempDir, type TestRunner } from "./harness";

const CONFIG = {
  policies: [
    { metadata: { name: "drop" }, spec: { rules: [{ match: { path: { prefix: "/drop" } }, fault: { percentage: 100, delay: { fixed_delay_ms: 50 }, reset: true } }] } },
    { metadata: { name: "rewrite" }, spec: { exclude: [{ path: { exact: "/rewrite/healthz" } }], rules: [{ match: { path: { prefix: "/rewrite" } }, fault: { percentage: 100, response: { httpStatus: 503, body: "overwritten", headers: { add: [{ name: "x-chaos", value: "1" }] } } } }] } },
    { metadata: { name: "json" }, spec: { rules: [{ match: { path: { prefix: "/json" } }, fault: { percentage: 100, abort: { httpStatus: 429, body: "{}", headers: [{ name: "content-type", value: "application/json" }] } } }] } },
  ],
};

describe("issue-13 faults through the runner", () => {
  let r: TestRunner;
  const tmp = tempDir();
  before(async () => {
    const file = path.join(tmp.dir, "plugin.json");
    writeFileSync(file, JSON.stringify(CONFIG));
    r = await runner({ configPath: file, workers: 1 });
  });
  after(async () => {
    await r.close();
    tmp.cleanup();
  });

  test("a reset fault closes the HTTP/1.1 connection with no response", async () => {
    await assert.rejects(request(r.proxyPort, "/drop/x"), (e: NodeJS.ErrnoException) => e.code === "ECONNRESET" || /socket hang up/.test(e.message));
    assert.equal(await stat(r.adminPort, "wasmcustom.hfi_faults_resets_total"), 1);
  });

  test("a response fault rewrites the upstream's answer: status, body (framed by the transport), header", async () => {
    const reply = await request(r.proxyPort, "/rewrite/items");
    assert.equal(reply.status, 503);
    assert.equal(reply.body, "overwritten");
    assert.equal(reply.headers["content-length"], undefined, "no length the body might not match");
    assert.equal(reply.headers["transfer-encoding"], "chunked");
    assert.equal(reply.headers["x-chaos"], "1");
    assert.equal(reply.headers["x-fault-injected"], "response");
    const excluded = await request(r.proxyPort, "/rewrite/healthz");
    assert.equal(excluded.status, 200, "excluded by spec.exclude");
  });

  test("abort headers reach the client; content-type replaces text/plain", async () => {
    const reply = await request(r.proxyPort, "/json");
    assert.equal(reply.status, 429);
    assert.equal(reply.headers["content-type"], "application/json");
    assert.equal(reply.body, "{}");
  });
});
