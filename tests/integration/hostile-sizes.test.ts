/**
 * Inputs shaped to cost the square of their size, on the real module: every string built from
 * input is built in one buffer, so work and memory stay linear. Each case failed before (a trap,
 * or hundreds of MiB). Cost is counted in work units (tests/helpers/work.ts), not timed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { responseHeaders } from "../../host/index";
import { startHfi, startHfiUnchecked, type Hfi } from "../helpers/hfi";
import { CONFIGURE_WORK, REQUEST_WORK } from "../helpers/work";

const MiB = 1024 * 1024;
const memory = (hfi: Hfi): number => hfi.vm.module.memory.buffer.byteLength;
const CLUSTER = "outbound|8080||cp.test.svc.cluster.local";

test("a control-plane answer with a 40 KB response body of '%' applies, encodes linearly and leaves the VM small", async () => {
  const body = "%".repeat(40_000);
  const policies = [{ metadata: { name: "pct" }, spec: { rules: [{ match: {}, fault: { percentage: 100, response: { httpStatus: 503, body } } }] } }];
  const hfi = await startHfi(
    { control_plane: { cluster: CLUSTER, authority: "cp:8080", poll_interval_ms: 1000, timeout_ms: 500 } },
    { clusters: { [CLUSTER]: () => ({ status: 200, body: JSON.stringify({ policies }) }) }, countWork: true },
  );
  const before = hfi.work();
  hfi.clock.advance(1000);
  const work = hfi.work() - before;
  assert.equal(hfi.vm.failed, false, "the VM survived the answer");
  assert.equal(hfi.metric("hfi_faults_policy_updates_total"), 1);
  assert.ok(memory(hfi) <= 16 * MiB, `VM at ${(memory(hfi) / MiB).toFixed(1)} MiB`);
  assert.ok(work <= CONFIGURE_WORK, `applying the answer took ${work.toLocaleString("en-US")} units`);
  // The fault works, and a gRPC client gets the body percent-encoded as grpc-message.
  const s = hfi.request("POST", "/svc.Api/Get", [["content-type", "application/grpc"]], Buffer.from([0, 0, 0, 0, 0]));
  s.sendResponseHeaders(responseHeaders(200, [["content-type", "application/grpc"]]), false);
  s.sendResponseBody(Buffer.from([0, 0, 0, 0, 0]), false);
  s.sendResponseTrailers([["grpc-status", "0"]]);
  const message = s.downstream.trailers?.get("grpc-message");
  assert.ok(message === "%25".repeat(40_000), `grpc-message: ${String(message).length} characters, starts ${String(message).slice(0, 40)}`);
});

test("5,000 policies named with 253 '\"' each: labels are escaped in linear time and memory", async () => {
  const policies = Array.from({ length: 5000 }, (_, i) => ({
    metadata: { name: `${'"'.repeat(248)}${String(i).padStart(5, "0")}` },
    spec: { rules: [{ match: { path: { exact: `/p${i}` } }, fault: { percentage: 100, abort: { httpStatus: 503 } } }] },
  }));
  const hfi = await startHfi({ max_labelled_policies: 100000, policies }, { logLevel: "warn", countWork: true });
  assert.ok(memory(hfi) <= 64 * MiB, `VM at ${(memory(hfi) / MiB).toFixed(1)} MiB`);
  assert.ok(hfi.work() <= CONFIGURE_WORK, `configuring took ${hfi.work().toLocaleString("en-US")} units`);
  assert.equal(hfi.request("GET", "/p4999").localReply?.status, 503);
  assert.equal(hfi.metric(`hfi_faults_policy_injected_total.hfi_policy.${"%22".repeat(248)}04999.hfi_fault.abort`), 1);
});

test("8,000 rules in the unluckiest order for the index: a request tries each rule once, with no per-request sort", async () => {
  // 4,000 rules with no path literal come first, 4,000 filed under the prefix "/" after them: the
  // index hands over the filed ones, then the others, all below them. None matches (a header
  // nobody sends), so every one is tried.
  const never = { name: "x-never", present: true };
  const rule = (i: number) => ({ match: i < 4000 ? { headers: [never] } : { path: { prefix: "/" }, headers: [never] }, fault: { percentage: 100, abort: { httpStatus: 503 } } });
  const policies = Array.from({ length: 80 }, (_, p) => ({ metadata: { name: `p${p}` }, spec: { rules: Array.from({ length: 100 }, (_, r) => rule(p * 100 + r)) } }));
  const hfi = await startHfi({ max_labelled_policies: 0, policies }, { logLevel: "warn", countWork: true });
  for (let i = 0; i < 3; i++) {
    const before = hfi.work();
    const s = hfi.request("GET", "/x");
    const work = hfi.work() - before;
    assert.ok(s.upstream.headers, "no rule matches");
    // Each rule is tried once, at under 20 units a try: sorting the merged candidates on every
    // request (8,000 x 13 comparisons) would cost several times that.
    assert.ok(work <= 8000 * 30, `a request took ${work.toLocaleString("en-US")} units, ${(work / 8000).toFixed(1)} a rule`);
  }
  assert.equal(hfi.request("GET", "/x", [["x-never", "1"]]).localReply?.status, 503, "the first rule decides when it matches");
});

test("clients that reset while held for an hour leave nothing behind: 200,000 of them do not grow the VM", async () => {
  const hfi = await startHfi({
    max_delay_ms: 86_400_000,
    policies: [{ metadata: { name: "hour" }, spec: { rules: [{ match: {}, fault: { percentage: 100, delay: { fixed_delay_ms: 3_600_000 } } }] } }],
  }, { logLevel: "warn" });
  const burst = (n: number) => {
    for (let i = 0; i < n; i++) hfi.request("GET", "/").reset();
  };
  burst(20_000);
  const before = memory(hfi);
  burst(180_000);
  const after = memory(hfi);
  assert.ok(after - before <= MiB, `grew ${((after - before) / MiB).toFixed(1)} MiB over 180,000 resets (from ${(before / MiB).toFixed(1)} MiB)`);
  assert.equal(hfi.metric("hfi_faults_active"), 0);
  assert.equal(hfi.metric("hfi_faults_delays_total"), 200_000);
  // A request held now is still released at its hour.
  const held = hfi.request("GET", "/");
  hfi.clock.advance(3_600_000);
  assert.ok(held.upstream.headers, "released at its deadline");
});

test("regex work per request is bounded at configuration: at most 32 patterns on one input, each request scanned by them within its budget", async () => {
  const rules = (n: number, header = "x-user") => Array.from({ length: n }, (_, i) => ({ match: { headers: [{ name: header, regex: `^u${i}-[0-9]+$` }] }, fault: { percentage: 100, abort: { httpStatus: 503 } } }));
  const refused = await startHfiUnchecked({ policies: [{ metadata: { name: "many" }, spec: { rules: rules(33) } }] }, { logLevel: "warn" });
  assert.equal(refused.plugin.ok, false);
  assert.ok(refused.logs("error").some((l) => l.includes('more than 32 regex conditions on header "x-user" (MAX_REGEXES_PER_INPUT')), refused.logs().join("\\n"));
  // Other inputs have budgets of their own.
  const spread = await startHfi({ policies: [{ metadata: { name: "a" }, spec: { rules: rules(32, "x-a") } }, { metadata: { name: "b" }, spec: { rules: rules(32, "x-b") } }] }, { logLevel: "warn", countWork: true });
  assert.equal(spread.request("GET", "/", [["x-b", "u31-7"]]).localReply?.status, 503);
  // 32 patterns over a 60 KiB value a client chose.
  const value = "u".repeat(60 * 1024);
  for (let i = 0; i < 3; i++) {
    const before = spread.work();
    spread.request("GET", "/", [["x-a", value]]);
    const work = spread.work() - before;
    assert.ok(work <= REQUEST_WORK, `a request took ${work.toLocaleString("en-US")} units`);
  }
});

test("reconfiguring while requests are held keeps no old configuration alive; the held requests still end on time", async () => {
  const config = (v: number) => ({ policies: Array.from({ length: 2000 }, (_, i) => ({ metadata: { name: `p${v}-${i}` },
    spec: { rules: [{ match: { path: { prefix: `/p${i}` }, ...(i < 30 ? { headers: [{ name: "x-a", regex: `^v${v}-[0-9]+$` }] } : {}) }, fault: { percentage: 100, delay: { fixed_delay_ms: 600_000 } } }] } })) });
  const hfi = await startHfi(config(0), { logLevel: "warn" });
  const held = [];
  let afterTen = 0;
  for (let v = 1; v <= 40; v++) {
    held.push(hfi.request("GET", `/p${v}`));
    assert.ok(hfi.plugin.reconfigure(config(v)).ok);
    if (v === 10) afterTen = memory(hfi);
  }
  assert.ok(memory(hfi) <= afterTen, `${(memory(hfi) / MiB).toFixed(0)} MiB after 40 changes, ${(afterTen / MiB).toFixed(0)} MiB after 10`);
  assert.ok(memory(hfi) <= 32 * MiB, `${(memory(hfi) / MiB).toFixed(0)} MiB`);
  hfi.clock.advance(600_000);
  assert.equal(held.filter((s) => s.upstream.headers).length, 40, "every held request released at its deadline");
  assert.equal(hfi.metric("hfi_faults_active"), 0);
});

test("a document with thousands of bad policies logs the first 100 problems and a count, and counts all of them", async () => {
  const policies = Array.from({ length: 3000 }, (_, i) => ({ metadata: { name: `bad${i}` }, spec: { rules: [{ match: {}, fault: { percentage: 150, abort: { httpStatus: 503 } } }] } }));
  const hfi = await startHfi({ policies }, { logLevel: "warn", canary: false });
  const lines = hfi.logs("warn");
  assert.equal(lines.filter((l) => l.includes("fault.percentage")).length, 100);
  assert.ok(lines.some((l) => l.includes("... and 2900 more problems in plugin configuration")), lines.slice(-2).join("\\n"));
  assert.equal(hfi.metric("hfi_faults_config_errors_total"), 3000);
  assert.equal(hfi.metric("hfi_faults_config_problems"), 3000);
});
