/**
 * `make run TARGET=...`: the runner plays a sidecar (inbound or outbound), a waypoint or a
 * gateway, giving the plugin that proxy's node id and per-request attributes, with the
 * destination named by the request's Host.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import { request, runner } from "./harness";

const tmp = mkdtempSync(path.join(os.tmpdir(), "hfi-targets-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

const config = path.join(tmp, "plugin.json");
writeFileSync(config, JSON.stringify({
  policies: [
    { metadata: { name: "to-reviews" }, spec: { destination: { service: "reviews" }, rules: [{ match: { path: { prefix: "/" } }, fault: { percentage: 100, abort: { httpStatus: 502 } } }] } },
    { metadata: { name: "receives" }, spec: { rules: [{ match: { path: { prefix: "/in" } }, fault: { percentage: 100, abort: { httpStatus: 503 } } }] } },
  ],
}));

describe("make run TARGET", () => {
  for (const [target, cases] of [
    ["sidecar", [["reviews:9080", "/x", 200], ["anything", "/in", 503]]],
    ["sidecar-outbound", [["reviews:9080", "/x", 502], ["reviews.bookinfo:9080", "/in", 502], ["ratings:9080", "/x", 200], ["ratings:9080", "/in", 200]]],
    ["waypoint", [["reviews:9080", "/x", 502], ["ratings:9080", "/in", 503]]],
    ["gateway", [["reviews:9080", "/x", 502], ["ratings:9080", "/in", 503]]],
  ] as const) {
    test(`TARGET=${target}: faults exactly where the policies say, and the banner says what is played`, async () => {
      const r = await runner({ configPath: config, target });
      try {
        assert.ok(r.banner().includes(`(TARGET=${target})`), r.banner());
        for (const [host, p, status] of cases) {
          const reply = await request(r.proxyPort, p, { headers: { host } });
          assert.equal(reply.status, status, `${target}: Host ${host} ${p}`);
        }
      } finally {
        await r.close();
      }
    });
  }
});
