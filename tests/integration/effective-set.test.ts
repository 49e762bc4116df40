/**
 * On the real .wasm: the effective policy set (one info line per change, expiry,
 * duplicate names), its JSON in shared data for the runner's /policies, the rate-limited
 * decision trace at debug, and what the no-match path still costs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { policy, respond, startHfi, startHfiWorkers } from "../helpers/hfi";
import type { SharedState } from "../../host/index";
import { effectivePolicies } from "../../host/runner/effective-policies";

const ABORT = { percentage: 100, abort: { httpStatus: 503 } };
const set = (...names: string[]) => ({ policies: names.map((n) => policy(n, { path: { prefix: `/${n}` } }, ABORT)) });

function published(shared: SharedState): Array<Record<string, unknown> & { policies: unknown[][] }> {
  const count = shared.getData("", "hfi.effective.vms");
  if (typeof count === "number") return [];
  const n = Number(Buffer.from(count.value).readBigInt64LE());
  const out = [];
  for (let i = 0; i < n; i++) {
    // `hfi.effective.<slot>` holds how many pieces the JSON is in; the pieces follow.
    const head = shared.getData("", `hfi.effective.${i}`);
    if (typeof head === "number") continue;
    const pieces = Number(Buffer.from(head.value).readBigInt64LE());
    const parts = Array.from({ length: pieces }, (_, k) => shared.getData("", `hfi.effective.${i}.${k}`)).map((p) => (typeof p === "number" ? Buffer.alloc(0) : Buffer.from(p.value)));
    out.push(JSON.parse(Buffer.concat(parts).toString()));
  }
  return out;
}

test("one info line per change of the effective set, for the whole proxy (canary and workers)", async () => {
  const hfi = await startHfiWorkers(set("a", "b"), { workers: 3, logLevel: "info" });
  const changes = () => hfi.logs("info").filter((l) => l.includes("policies changed"));
  assert.deepEqual(changes(), ["hfi: policies changed (configuration): added a, b; 2 now"]);
  const next = set("a", "c");
  (next.policies[0] as { spec: { rules: Array<{ fault: object }> } }).spec.rules[0].fault = { percentage: 50, abort: { httpStatus: 500 } };
  assert.ok(hfi.reconfigure(next).ok);
  assert.equal(changes().length, 2, changes().join("\n"));
  assert.equal(changes()[1], "hfi: policies changed (configuration): added c; changed a; removed b; 2 now");
  assert.ok(hfi.reconfigure({ ...next, max_active_faults: 5 }).ok);
  assert.equal(changes().length, 2, "settings alone do not change the set");
});

test("duplicate policy names: an error naming both; the first one stays", async () => {
  const hfi = await startHfi({ policies: [policy("dup", { path: { prefix: "/one" } }, ABORT), policy("x", {}, { percentage: 0, abort: { httpStatus: 500 } }), policy("dup", { path: { prefix: "/two" } }, ABORT)] });
  assert.ok(hfi.logs("warn").some((l) => l.includes('policy "dup": metadata.name: policies[2] has the name of policies[0]')), hfi.logs("warn").join("\n"));
  assert.equal(hfi.request("GET", "/one").localReply?.status, 503);
  assert.ok(hfi.request("GET", "/two").upstream.headers, "the later duplicate is dropped");
  assert.equal(hfi.metric("hfi_faults_config_errors_total"), 1);
});

test("a rule's expiry is logged once, on the tick, when duration_seconds runs out", async () => {
  const hfi = await startHfiWorkers({ policies: [policy("brief", {}, { percentage: 100, abort: { httpStatus: 503 }, duration_seconds: 2 })] }, { workers: 2, logLevel: "info" });
  assert.equal(hfi.request(0, "GET", "/").localReply?.status, 503);
  hfi.clock.advance(1999);
  assert.equal(hfi.logs("info").filter((l) => l.includes("expired")).length, 0);
  hfi.clock.advance(1);
  assert.deepEqual(hfi.logs("info").filter((l) => l.includes("expired")), ['hfi: policy "brief" rule 0 expired (duration_seconds 2)']);
  assert.ok(hfi.request(1, "GET", "/").upstream.headers);
  const states = published(hfi.shared).map((e) => e.policies[0][7]);
  assert.ok(states.length >= 1 && states.every((end) => typeof end === "number" && end > 0), "published with the end time");
});

test("the effective set is published per worker in shared data; the canary never publishes", async () => {
  const hfi = await startHfiWorkers({
    policies: [
      policy("here", { path: { prefix: "/h" } }, ABORT, { service: "checkout" }),
      policy("elsewhere", {}, ABORT, { service: "payments" }),
      { metadata: { name: "look" }, spec: { mode: "dry_run", rules: [{ match: {}, fault: { percentage: 25, delay: { fixed_delay_ms: 5 } } }] } },
    ],
  }, { workers: 2, node: { metadata: { WORKLOAD_NAME: "checkout", NAMESPACE: "shop" } } });
  assert.deepEqual(published(hfi.shared), [], "nothing before a worker's first tick (the canary configured too)");
  // Publishing writes the whole set: never in a request's callback, always on the tick that a
  // new set arms at once.
  for (const w of [0, 1]) hfi.workers[w].vm.resetHostCallCounts();
  respond(hfi.request(0, "GET", "/h"));
  respond(hfi.request(1, "GET", "/x"));
  for (const w of [0, 1]) assert.equal(hfi.workers[w].vm.hostCallCounts().proxy_set_shared_data ?? 0, 0, `worker ${w} published nothing in a request`);
  assert.deepEqual(published(hfi.shared), []);
  hfi.clock.advance(1);
  const entries = published(hfi.shared);
  assert.equal(entries.length, 2, "one slot per worker, none for the canary");
  const e = entries[0];
  assert.equal(e.workload, "checkout");
  assert.equal(e.namespace, "shop");
  assert.equal(e.dry_run, false);
  assert.deepEqual(e.policies.map((p) => [p[0], p[2], p[3], p[5], p[6], p[7], p[8], p[9]]), [
    ["here", 0, "checkout", 1, 0, -1, 1, 100],
    ["elsewhere", 0, "payments", 0, 0, -1, 1, 100],
    ["look", 0, "", 1, 1, -1, 1, 25],
  ]);
});

test("at debug, a per-request trace of the decision, at most 20 lines a second per VM", async () => {
  const hfi = await startHfi({ log_level: "debug", policies: [policy("p", { path: { prefix: "/p" } }, ABORT)] });
  const trace = () => hfi.workerLogs("debug").filter((l) => l.includes("hfi: request "));
  hfi.request("GET", "/p");
  assert.match(trace()[0], /^hfi: request \d+ GET \/p: policy p rule 0 matched; injecting$/);
  for (let i = 0; i < 49; i++) respond(hfi.request("GET", "/other"));
  assert.equal(trace().length, 20);
  assert.match(trace()[1], /: no rule matched$/);
  hfi.clock.advance(1000);
  respond(hfi.request("GET", "/other"));
  assert.equal(trace().length, 21);
  assert.match(trace()[20], /no rule matched \(30 lines suppressed before\)$/);
});

test("with debug off, a request no rule matches costs 1 host call; a matched one adds only the counter", async () => {
  const hfi = await startHfi({ log_level: "info", policies: [
    policy("p", { path: { prefix: "/p" } }, ABORT),
    policy("keyed", { path: { prefix: "/k" } }, { percentage: 0.0001, sampling: { header: "x-k" }, abort: { httpStatus: 503 } }),
  ] });
  hfi.clock.advance(1); // the first tick publishes the effective set
  hfi.vm.resetHostCallCounts();
  for (let i = 0; i < 10; i++) respond(hfi.request("GET", "/other"));
  let calls = hfi.vm.hostCallCounts();
  assert.deepEqual(calls, { proxy_get_header_map_value: 10 }, JSON.stringify(calls));
  assert.equal(hfi.vm.mallocCalls, 10, "one buffer per request: the :path value");
  hfi.vm.resetHostCallCounts();
  for (let i = 0; i < 10; i++) respond(hfi.request("GET", "/k", [["x-k", "u1"]]));
  calls = hfi.vm.hostCallCounts();
  assert.deepEqual(calls, { proxy_get_header_map_value: 20, proxy_increment_metric: 10 }, JSON.stringify(calls));
});

test("live policies: published with source control plane and the ETag; a live policy replaces a static one of the same name", async () => {
  const CLUSTER = "outbound|8080||hfi-control-plane.boifi.svc.cluster.local";
  const hfi = await startHfi(
    { control_plane: { cluster: CLUSTER, poll_interval_ms: 1000 }, policies: [policy("shared", { path: { prefix: "/s" } }, ABORT), policy("static-only", { path: { prefix: "/o" } }, ABORT)] },
    {
      logLevel: "info",
      clusters: {
        [CLUSTER]: () => ({ status: 200, headers: [["content-type", "application/json"], ["etag", '"v7"']], body: JSON.stringify({ policies: [policy("shared", { path: { prefix: "/s" } }, { percentage: 100, abort: { httpStatus: 500 } })] }) }),
      },
    },
  );
  respond(hfi.request("GET", "/warm"));
  hfi.clock.advance(5000); // the first poll
  assert.equal(hfi.request("GET", "/s").localReply?.status, 500, "the control plane's version is in force");
  assert.ok(hfi.workerLogs("info").includes("hfi: policies changed (control plane): added shared; 1 now"), hfi.workerLogs("info").join("\n"));
  const [entry] = published(hfi.vm.shared);
  assert.equal(entry.etag, '"v7"');
  assert.deepEqual(entry.policies.map((p) => [p[0], p[2]]), [["static-only", 0], ["shared", 1]]);
});

test("with a control plane, the canary (which never gets the live set) does not log live policies as removed", async () => {
  const CLUSTER = "outbound|8080||hfi-control-plane.boifi.svc.cluster.local";
  const config = { control_plane: { cluster: CLUSTER, poll_interval_ms: 1000 }, policies: [policy("static", { path: { prefix: "/s" } }, ABORT)] };
  const hfi = await startHfiWorkers(config, {
    workers: 2,
    logLevel: "info",
    clusters: { [CLUSTER]: () => ({ status: 200, headers: [["content-type", "application/json"]], body: JSON.stringify({ policies: [policy("live", { path: { prefix: "/l" } }, ABORT)] }) }) },
  });
  const changes = () => hfi.logs("info").filter((l) => l.includes("policies changed"));
  assert.deepEqual(changes(), ["hfi: policies changed (configuration): added static; 1 now"]);
  hfi.clock.advance(5000); // every worker ticks and polls
  assert.deepEqual(changes(), [
    "hfi: policies changed (configuration): added static; 1 now",
    "hfi: policies changed (control plane): added live; 1 now",
  ]);
  assert.ok(hfi.reconfigure({ ...config, max_active_faults: 7 }).ok);
  assert.equal(changes().length, 2, changes().join("\n"));
});

test("a scheduled policy is published with its window, so /policies says not yet started, active or window closed", async () => {
  const windowed = (name: string, from: string, to: string) => ({
    metadata: { name }, spec: { schedule: { not_before: from, not_after: to }, rules: [{ match: { path: { prefix: `/${name}` } }, fault: ABORT }] },
  });
  const hfi = await startHfiWorkers({ policies: [windowed("later", "2099-01-01T00:00:00Z", "2099-01-01T01:00:00Z"), windowed("now", "2000-01-01T00:00:00Z", "2099-01-01T00:00:00Z"), windowed("past", "2000-01-01T00:00:00Z", "2001-01-01T00:00:00Z")] }, { workers: 1 });
  hfi.clock.advance(1);
  const [worker] = published(hfi.shared);
  const byName = new Map(worker.policies.map((row) => [row[0] as string, row]));
  // The window, then the plugin's state and when that state ends (-1: nothing ends it).
  assert.deepEqual(byName.get("later")!.slice(10, 14), [Date.UTC(2099, 0, 1), Date.UTC(2099, 0, 1, 1), "not yet started", Date.UTC(2099, 0, 1)]);
  assert.deepEqual(byName.get("past")!.slice(10), [Date.UTC(2000, 0, 1), Date.UTC(2001, 0, 1), "window closed", -1, "any", ""]);
  const view = effectivePolicies(hfi.workers[0].vm, hfi.stats, hfi.clock.now());
  const states = new Map(view.workers[0].policies.map((p) => [p.name, p.state]));
  assert.equal(states.get("later"), "not yet started");
  assert.equal(states.get("now"), "active");
  assert.equal(states.get("past"), "window closed");
});

test("a request that spends a policy's budget sets its state gauge and leaves publishing to the tick it arms", async () => {
  const hfi = await startHfi({ policies: [policy("once", { path: { prefix: "/o" } }, { percentage: 100, max_injections: 1, abort: { httpStatus: 503 } })] });
  hfi.clock.advance(1);
  const state = () => effectivePolicies(hfi.vm, hfi.stats, hfi.clock.now()).workers[0].policies.find((p) => p.name === "once")!.state;
  assert.equal(state(), "active");
  assert.equal(hfi.request("GET", "/o").localReply?.status, 503);
  const s = hfi.request("GET", "/o");
  assert.equal(s.localReply, undefined, "the budget is spent");
  respond(s);
  assert.equal(hfi.metric("hfi_faults_policy_state.hfi_policy.once"), 5, "the state gauge (budget exhausted) moved at once");
  assert.equal(state(), "active", "the set is not published in a request");
  assert.equal(hfi.plugin.root.tickPeriodMs, 1, "a tick is armed to publish it");
  hfi.clock.advance(1);
  assert.equal(state(), "budget exhausted");
});

test("the request that finds a budget spent works out that one policy's state, whatever the number of policies", async () => {
  const policies = Array.from({ length: 2000 }, (_, i) => policy(`b${i}`, { path: { exact: `/b${i}` } }, { percentage: 100, max_injections: 1, abort: { httpStatus: 503 } }));
  const hfi = await startHfi({ max_labelled_policies: 2000, policies }, { logLevel: "warn", countWork: true });
  hfi.clock.advance(1);
  const work = (path: string) => {
    const before = hfi.work();
    const s = hfi.request("GET", path);
    if (!s.localReply) respond(s);
    return hfi.work() - before;
  };
  const injecting = work("/b1500");
  const spending = work("/b1500");
  assert.equal(hfi.metric("hfi_faults_policy_state.hfi_policy.b1500"), 5, "budget exhausted");
  assert.ok(spending <= 2 * injecting, `finding the budget spent took ${spending} units, injecting ${injecting}`);
});
