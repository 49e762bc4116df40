/**
 * What the plugin sends back and how it seeds itself, on the real module: only a valid
 * entity-tag from the control plane is echoed as If-None-Match; VMs started together draw
 * different sampling sequences (seeded from WASI random_get).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { TestClock, type ClusterReply, type ClusterRequest } from "../../host/index";
import { policy, startHfi } from "../helpers/hfi";

const CLUSTER = "outbound|8080||cp.local";

async function pollWithEtag(etag: string): Promise<{ sent: Array<string | undefined>; debug: string[] }> {
  const sent: Array<string | undefined> = [];
  const handler = (req: ClusterRequest): ClusterReply => {
    sent.push(req.headers.get("if-none-match") ?? undefined);
    return { status: 200, headers: [["content-type", "application/json"], ["etag", etag]], body: '{"policies": []}' };
  };
  const hfi = await startHfi(
    { log_level: "debug", control_plane: { cluster: CLUSTER, authority: "cp.local:8080", poll_interval_ms: 1000 } },
    { clusters: { [CLUSTER]: handler } },
  );
  hfi.clock.advance(4000);
  return { sent, debug: hfi.logs("debug").filter((l) => l.includes("ETag")) };
}

for (const etag of ['"v1"', 'W/"v1"', '"sha256-3f2a!#~"', '""']) {
  test(`a valid entity-tag (${etag}) is sent back as If-None-Match`, async () => {
    const { sent } = await pollWithEtag(etag);
    assert.ok(sent.length >= 3);
    assert.deepEqual(sent.slice(1), sent.slice(1).map(() => etag));
  });
}

const INVALID: Array<[string, string]> = [
  ["unquoted", "v1"],
  ["a NUL inside", '"v1\0x"'],
  ["CR LF inside", '"v1\r\nx-injected: 1"'],
  ["a space inside", '"v 1"'],
  ["a quote inside", '"v"1"'],
  ["only one quote", '"v1'],
  ["a weak prefix without quotes", "W/v1"],
  ["non-ASCII", '"vé"'],
  ["over 256 characters", `"${"a".repeat(300)}"`],
];

for (const [what, etag] of INVALID) {
  test(`an ETag with ${what} is never echoed; logged once at debug`, async () => {
    const { sent, debug } = await pollWithEtag(etag);
    assert.ok(sent.length >= 3);
    assert.deepEqual(sent, sent.map(() => undefined), "no If-None-Match");
    assert.equal(debug.length, 1, debug.join("\n"));
  });
}

test("four VMs started in the same millisecond draw different sampling sequences", async () => {
  const patterns: string[] = [];
  for (let vm = 0; vm < 4; vm++) {
    const hfi = await startHfi({ policies: [policy("half", {}, { percentage: 50, abort: { httpStatus: 503 } })] }, { clock: new TestClock() });
    let bits = "";
    for (let i = 0; i < 64; i++) {
      const s = hfi.request("GET", "/");
      bits += s.localReply ? "1" : "0";
      if (!s.localReply) s.reset();
    }
    patterns.push(bits);
  }
  assert.equal(new Set(patterns).size, 4, patterns.join("\n"));
});
