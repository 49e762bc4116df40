/**
 * Memory bounded by what a valid configuration needs, on the real module: Wasm memory never
 * shrinks, so whatever one configuration makes a VM grow to, it keeps. After any input of at
 * most 4 MiB (accepted or refused) a VM stays at most 64 MiB, replacing a large configuration
 * reuses memory instead of growing, and header slots go away with their configuration.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ClusterReply } from "../../host/index";
import { policy, respond, startHfi, startHfiUnchecked, type Hfi } from "../helpers/hfi";

const MiB = 1 << 20;
const LIMIT = 64 * MiB;
const ok = { percentage: 100, abort: { httpStatus: 503 } };

const memory = (hfi: Hfi): number => hfi.vm.module.memory.buffer.byteLength;

/** A configuration of just under 4 MiB whose one string field fills it. */
function filled(make: (s: string) => object): object {
  const overhead = JSON.stringify(make("aa")).length - 2;
  return make("a".repeat(4 * MiB - 64 - overhead));
}

const manyPolicies = (n: number) => Array.from({ length: n }, (_, i) => policy(`policy-${i}`, { path: { prefix: `/p${i}` } }, ok));

/** Policies whose header conditions use `perPolicy` names no other policy uses. */
const headerPolicies = (n: number, perPolicy: number, tag: string) => Array.from({ length: n }, (_, p) => ({
  metadata: { name: `${tag}${p}` },
  spec: { rules: [{ match: { headers: Array.from({ length: perPolicy }, (_, i) => ({ name: `${tag}${p}-${i}`, present: true })) }, fault: ok }] },
}));

/** `count` regex conditions, 32 to a rule. */
const regexPolicies = (count: number, pattern: string) => Array.from({ length: Math.ceil(count / 32) }, (_, p) => ({
  metadata: { name: `r${p}` },
  spec: { rules: [{ match: { headers: Array.from({ length: Math.min(32, count - p * 32) }, (_, i) => ({ name: `x-${i}`, regex: pattern })) }, fault: ok }] },
}));

const LARGE: Array<[string, () => object]> = [
  ["a 4 MiB regex literal", () => filled((s) => ({ policies: [policy("r", { headers: [{ name: "x", regex: s }] }, ok)] }))],
  ["a 4 MiB metric_prefix", () => filled((s) => ({ metric_prefix: s }))],
  ["a 4 MiB policy name", () => filled((s) => ({ policies: [policy(s, {}, ok)] }))],
  ["20,000 policies", () => ({ policies: manyPolicies(20000) })],
  ["100,000 header names", () => ({ policies: headerPolicies(4000, 25, "h") })],
  ["20,000 regex conditions", () => ({ policies: regexPolicies(20000, "^test-[0-9]+$") })],
  ["320 regexes of 1,000 instructions", () => ({ policies: regexPolicies(320, "(a|b|c|d)".repeat(100)) })],
  ["regexes of 8 KiB that fail at their last byte", () => ({ policies: Array.from({ length: 500 }, (_, p) => policy(`r${p}`, { headers: [{ name: "x", regex: "a".repeat(8150) + ")" }] }, ok)) })],
  ["4 MiB of small numbers", () => filled((s) => ({ policies: JSON.parse(`[${"1,".repeat((s.length >> 1) - 1)}1]`) }))],
];

for (const [what, make] of LARGE) {
  test(`after ${what} the VM is at most 64 MiB`, async () => {
    const config = make();
    assert.ok(JSON.stringify(config).length <= 4 * MiB, "an input of at most 4 MiB");
    const hfi = await startHfiUnchecked(config, { logLevel: "error" });
    assert.ok(memory(hfi) <= LIMIT, `${(memory(hfi) / MiB).toFixed(1)} MiB`);
  });
}

test("the largest accepted configurations leave the VM at most 64 MiB", async () => {
  const full = Array.from({ length: 3500 }, (_, i) => ({
    metadata: { name: `policy-${i}`.padEnd(200, "x") },
    spec: {
      selector: { service: "frontend", namespace: "demo" },
      rules: [{
        match: { method: { exact: "GET" }, path: { prefix: `/p${i}` }, headers: [{ name: `x-h${i % 4000}`, exact: "v".repeat(170) }] },
        fault: { percentage: 50, delay: { fixed_delay_ms: 10 }, abort: { httpStatus: 503, body: "b".repeat(170) } },
      }],
    },
  }));
  for (const policies of [full, manyPolicies(5000), headerPolicies(128, 32, "h")]) {
    const hfi = await startHfi({ policies });
    assert.ok(memory(hfi) <= LIMIT, `${(memory(hfi) / MiB).toFixed(1)} MiB`);
  }
});

test("a 4 MiB control-plane body leaves the VM at most 64 MiB, and the last good set in force", async () => {
  const CLUSTER = "outbound|8080||cp.test.svc.cluster.local";
  let n = 28000;
  let body = JSON.stringify({ policies: manyPolicies(n) });
  while (body.length > 4 * MiB) body = JSON.stringify({ policies: manyPolicies((n -= 200)) });
  let reply: ClusterReply = { status: 200, body: JSON.stringify({ policies: [policy("live", {}, ok)] }) };
  const hfi = await startHfi({ control_plane: { cluster: CLUSTER, authority: "cp:8080", poll_interval_ms: 1000, timeout_ms: 500 } },
    { logLevel: "error", clusters: { [CLUSTER]: () => reply } });
  hfi.clock.advance(1000);
  reply = { status: 200, body };
  hfi.clock.advance(3000);
  assert.ok(memory(hfi) <= LIMIT, `${(memory(hfi) / MiB).toFixed(1)} MiB`);
  const s = hfi.request("GET", "/");
  assert.equal(s.localReply?.status, 503, "the last good set still applies");
});

test("replacing a large configuration reuses memory: large -> small -> large does not grow", async () => {
  const large = { policies: headerPolicies(2000, 2, "l") };
  const small = { policies: [policy("small", { path: { exact: "/x" } }, ok)] };
  const hfi = await startHfi(large, { logLevel: "error" });
  hfi.plugin.reconfigure(small);
  hfi.plugin.reconfigure(large);
  const settled = memory(hfi);
  for (let i = 0; i < 6; i++) {
    assert.equal(hfi.plugin.reconfigure(small).ok, true);
    assert.equal(hfi.plugin.reconfigure(large).ok, true);
    assert.equal(memory(hfi), settled, `round ${i}`);
  }
});

test("header slots go away with their configuration: 60 changes of 1,000 new names do not grow the VM", async () => {
  const hfi = await startHfi({ policies: headerPolicies(40, 25, "c0-") }, { logLevel: "error" });
  const send = () => respond(hfi.request("GET", "/", [["x-final", "no"]]));
  let settled = 0;
  for (let c = 1; c <= 60; c++) {
    assert.equal(hfi.plugin.reconfigure({ policies: headerPolicies(40, 25, `c${c}-`) }).ok, true);
    for (let i = 0; i < 10; i++) send();
    if (c === 10) settled = memory(hfi);
  }
  assert.equal(memory(hfi), settled, "no slot outlives its configuration");
  // And the slots of the configuration in force are its own: its header rule still decides.
  hfi.plugin.reconfigure({ policies: [policy("final", { headers: [{ name: "x-final", exact: "yes" }] }, ok)] });
  const hit = hfi.request("GET", "/", [["x-final", "yes"]]);
  assert.equal(hit.localReply?.status, 503);
  respond(hfi.request("GET", "/", [["x-final", "no"]]));
});
