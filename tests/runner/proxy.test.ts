/**
 * The runner's proxy as a client sees it: requests reach the upstream the way Envoy forwards
 * them, bodies arrive whole, connections are kept alive, an unreachable upstream is Envoy's 503,
 * and a client that leaves while its request is held resets the stream in the plugin.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import http from "node:http";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import { CONNECT_FAILURE_BODY } from "../../host/runner/proxy";
import { closedPort, countingUpstream, request, runner, sleep, stat, waitFor, type TestRunner } from "./harness";

describe("proxy to the embedded echo upstream", () => {
  let r: TestRunner;
  before(async () => {
    r = await runner();
  });
  after(async () => {
    await r.close();
  });

  test("the echo upstream answers /status/<code> with that status (to watch the guard trip)", async () => {
    const failing = await request(r.proxyPort, "/status/503/anything");
    assert.equal(failing.status, 503);
    assert.equal(JSON.parse(failing.body).path, "/status/503/anything");
    assert.equal((await request(r.proxyPort, "/status/5031")).status, 200, "only a three-digit code");
  });

  test("a GET comes back from the echo upstream with the path and headers Envoy would forward", async () => {
    // Raw bytes: Node's client would refuse some of these headers on a GET.
    const raw = await rawRequest(
      r.proxyPort,
      "GET /anything?x=1 HTTP/1.1\r\n" +
        `Host: 127.0.0.1:${r.proxyPort}\r\n` +
        "X-Custom: kept\r\n" +
        "Connection: close, x-hop\r\n" +
        "X-Hop: listed in Connection, so hop-by-hop\r\n" +
        "Keep-Alive: timeout=5\r\n" +
        "Proxy-Connection: keep-alive\r\n" +
        "TE: trailers\r\n" +
        "Trailer: x-checksum\r\n" +
        "\r\n",
    );
    assert.match(raw.head, /^HTTP\/1\.1 200 /);
    assert.match(raw.head, /\r\nserver: envoy\r\n/i);
    const echo = JSON.parse(raw.body);
    assert.equal(echo.method, "GET");
    assert.equal(echo.path, "/anything?x=1");
    assert.equal(echo.headers["x-custom"], "kept");
    assert.equal(echo.headers.host, `127.0.0.1:${r.proxyPort}`);
    assert.equal(echo.headers["x-forwarded-proto"], "http");
    assert.match(echo.headers["x-request-id"], /^[0-9a-f-]{36}$/);
    for (const hop of ["x-hop", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"]) {
      assert.equal(echo.headers[hop], undefined, `${hop} must not reach the upstream`);
    }
    // The proxy's own connection to the upstream may say keep-alive; the client's value is gone.
    assert.ok(!String(echo.headers.connection ?? "").includes("close"));
  });

  test("an x-request-id from the client is kept", async () => {
    const echo = JSON.parse((await request(r.proxyPort, "/id", { headers: { "x-request-id": "abc-123" } })).body);
    assert.equal(echo.headers["x-request-id"], "abc-123");
  });

  test("a 1 MiB POST body, streamed in chunks, reaches the upstream whole", async () => {
    const body = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31 + 7) & 0xff;
    const sha = createHash("sha256").update(body).digest("hex");
    const echo = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port: r.proxyPort, path: "/upload", method: "POST", agent: false }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => resolve(JSON.parse(text)));
      });
      req.on("error", reject);
      let offset = 0;
      const next = (): void => {
        if (offset >= body.length) return void req.end();
        req.write(body.subarray(offset, offset + 64 * 1024));
        offset += 64 * 1024;
        setTimeout(next, 2); // really streamed: chunks arrive over time (chunked encoding)
      };
      next();
    });
    assert.equal(echo.method, "POST");
    assert.equal(echo.body_length, body.length);
    assert.equal(echo.body_sha256, sha);

    const withLength = JSON.parse((await request(r.proxyPort, "/upload", { method: "PUT", body })).body);
    assert.equal(withLength.body_length, body.length);
    assert.equal(withLength.body_sha256, sha);
    assert.equal(withLength.headers["content-length"], String(body.length));
  });

  test("keep-alive: a second request reuses the client's connection", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await request(r.proxyPort, "/one", { agent });
      const second = await request(r.proxyPort, "/two", { agent });
      assert.equal(first.status, 200);
      assert.equal(second.status, 200);
      assert.equal(second.reusedSocket, true);
      // A local reply keeps the connection too.
      const third = await request(r.proxyPort, "/checkout", { agent });
      const fourth = await request(r.proxyPort, "/three", { agent });
      assert.equal(third.status, 503);
      assert.equal(fourth.reusedSocket, true);
    } finally {
      agent.destroy();
    }
  });

  test("HEAD gets headers only", async () => {
    const reply = await request(r.proxyPort, "/head", { method: "HEAD" });
    assert.equal(reply.status, 200);
    assert.equal(reply.body, "");
  });
});

describe("upstream failures and client resets", () => {
  test("an unreachable UPSTREAM gives Envoy's 503", async () => {
    const r = await runner({ upstream: `http://127.0.0.1:${await closedPort()}` });
    try {
      const reply = await request(r.proxyPort, "/anything");
      assert.equal(reply.status, 503);
      assert.equal(reply.body, CONNECT_FAILURE_BODY);
      assert.equal(reply.headers["content-type"], "text/plain");
      // Faults still apply in front of a dead upstream.
      assert.equal((await request(r.proxyPort, "/checkout")).status, 503);
      assert.equal((await request(r.proxyPort, "/checkout")).headers["x-fault-injected"], "abort");
    } finally {
      await r.close();
    }
  });

  test("a client that disconnects while its request is held: gauge back to 0, nothing reaches the upstream", async () => {
    const upstream = await countingUpstream();
    const r = await runner({ upstream: `http://127.0.0.1:${upstream.port}` });
    try {
      // Two held requests, one per worker VM, so the shared gauge counts across workers.
      const clients = [0, 1].map(() => {
        const req = http.request({ host: "127.0.0.1", port: r.proxyPort, path: "/catalog", agent: false });
        req.on("error", () => {});
        req.end();
        return req;
      });
      await waitFor(async () => (await stat(r.adminPort, "wasmcustom.hfi_faults_active")) === 2, 1000, "both requests held");
      for (const c of clients) c.destroy();
      await waitFor(async () => (await stat(r.adminPort, "wasmcustom.hfi_faults_active")) === 0, 1000, "active gauge back to 0");
      assert.equal(r.workers.activeStreams.length, 0, "the streams ended in the host");
      await sleep(1800); // past the 1500 ms delay: a stream that were resumed would show now
      assert.equal(upstream.count(), 0, "nothing reached the upstream");
      assert.equal(await stat(r.adminPort, "wasmcustom.hfi_faults_active"), 0);
      // The proxy still serves.
      assert.equal((await request(r.proxyPort, "/after")).body, "upstream");
    } finally {
      await r.close();
      await upstream.close();
    }
  });
});

/** Sends raw request bytes on a new connection and reads the response until the server closes. */
function rawRequest(port: number, text: string): Promise<{ head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(text));
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", reject);
    socket.on("end", () => {
      const all = Buffer.concat(chunks).toString("utf8");
      const split = all.indexOf("\r\n\r\n");
      resolve({ head: all.slice(0, split), body: all.slice(split + 4) });
    });
    socket.setTimeout(5000, () => socket.destroy(new Error("no complete answer within 5 s")));
  });
}
