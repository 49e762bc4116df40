/**
 * Live policies from the HFI control plane (GET /v1/policies), on the real module under the
 * test clock: polling, every kind of control-plane fault, backoff, ETag, expiry across polls.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { SharedState, type ClusterReply, type ClusterRequest } from "../../host/index";
import { policy, respond, startHfi, type Hfi } from "../helpers/hfi";

const CLUSTER = "outbound|8080||hfi-control-plane.boifi.svc.cluster.local";
const AUTHORITY = "hfi-control-plane.boifi.svc.cluster.local:8080";
const INTERVAL = 5000;
const TIMEOUT = 1000;

/** An in-test control plane whose answer the test changes at will. */
class ControlPlane {
  requests: Array<{ at: number; path: string; authority: string; ifNoneMatch?: string }> = [];
  answer: (req: ClusterRequest) => ClusterReply = () => this.policies([]);
  constructor(private now: () => number) {}
  handler = (req: ClusterRequest): ClusterReply => {
    this.requests.push({ at: this.now(), path: req.headers.get(":path") ?? "", authority: req.headers.get(":authority") ?? "", ifNoneMatch: req.headers.get("if-none-match") ?? undefined });
    return this.answer(req);
  };
  policies(list: object[], headers: [string, string][] = []): ClusterReply {
    return { status: 200, headers: [["content-type", "application/json"], ...headers], body: JSON.stringify({ policies: list }) };
  }
  serve(list: object[]): void {
    this.answer = () => this.policies(list);
  }
}

const abortAll = (name: string, status = 503, extra: object = {}) => policy(name, {}, { percentage: 100, abort: { httpStatus: status }, ...extra });

async function withControlPlane(config: object = {}): Promise<{ hfi: Hfi; cp: ControlPlane }> {
  let clockNow = () => 0;
  const cp = new ControlPlane(() => clockNow());
  const hfi = await startHfi(
    { control_plane: { cluster: CLUSTER, authority: AUTHORITY, poll_interval_ms: INTERVAL, timeout_ms: TIMEOUT }, ...config },
    { clusters: { [CLUSTER]: cp.handler } },
  );
  const start = hfi.clock.now();
  clockNow = () => hfi.clock.now() - start;
  return { hfi, cp };
}

const status = (hfi: Hfi, path = "/") => {
  const s = hfi.request("GET", path);
  if (s.localReply) return s.localReply.status;
  respond(s);
  return s.reply.status;
};

test("the first poll comes within min(interval, 5 s), jittered, and asks GET /v1/policies with the authority", async () => {
  const { hfi, cp } = await withControlPlane();
  hfi.clock.advance(INTERVAL);
  assert.equal(cp.requests.length, 1);
  assert.ok(cp.requests[0].at <= INTERVAL);
  assert.equal(cp.requests[0].path, "/v1/policies");
  assert.equal(cp.requests[0].authority, AUTHORITY);
});

test("a policy added, changed and deleted on the control plane takes effect within one poll interval plus the timeout", async () => {
  const { hfi, cp } = await withControlPlane();
  hfi.clock.advance(INTERVAL); // first poll done: nothing served yet
  assert.equal(status(hfi), 200);
  cp.serve([abortAll("chaos", 503)]);
  hfi.clock.advance(INTERVAL + TIMEOUT);
  assert.equal(status(hfi), 503, "added");
  cp.serve([abortAll("chaos", 502)]);
  hfi.clock.advance(INTERVAL + TIMEOUT);
  assert.equal(status(hfi), 502, "changed");
  cp.serve([]);
  hfi.clock.advance(INTERVAL + TIMEOUT);
  assert.equal(status(hfi), 200, "deleted");
  assert.equal(hfi.metric("hfi_faults_policy_updates_total"), 4, "the first (empty) set, then added, changed, deleted");
  assert.ok(hfi.logs("info").some((l) => l.startsWith("hfi: applied 1 policies from the control plane")));
});

// Every control-plane fault: the last good set stays in force and the failure is counted.
const FAULTS: Array<[string, (req: ClusterRequest) => ClusterReply, string]> = [
  ["HTTP 503", () => ({ status: 503, body: "unavailable" }), "control plane answered HTTP 503"],
  ["HTTP 404", () => ({ status: 404, body: "no such path" }), "control plane answered HTTP 404"],
  ["a timeout", () => ({ status: 200, body: "{}", delayMs: TIMEOUT * 3 }), "control plane answered HTTP 504"],
  ["no healthy upstream", () => ({ unreachable: true }), "control plane answered HTTP 503"],
  ["a connection reset", () => ({ reset: true }), "the connection to the control plane was reset"],
  ["a body that is not JSON", () => ({ status: 200, body: "<html>oops</html>" }), "body is not valid JSON: "],
  ["JSON of the wrong shape", () => ({ status: 200, body: '{"items": []}' }), 'body must be {"policies": [...]}'],
  ["a body over 4 MiB", () => ({ status: 200, body: `{"policies": [], "pad": "${"x".repeat(4 * 1024 * 1024)}"}` }), "is over the 4194304-byte limit"],
];

for (const [what, fault, logged] of FAULTS) {
  test(`control-plane fault: ${what} keeps the last good set injecting and counts the failure`, async () => {
    const { hfi, cp } = await withControlPlane();
    cp.serve([abortAll("chaos", 503)]);
    hfi.clock.advance(INTERVAL);
    assert.equal(status(hfi), 503);
    cp.answer = fault;
    hfi.clock.advance(INTERVAL + TIMEOUT * 4);
    assert.ok(hfi.metric("hfi_faults_policy_fetch_failures_total") >= 1);
    assert.equal(status(hfi), 503, "still injecting with the last good set");
    const warnings = hfi.logs("warn").filter((l) => l.includes("policy fetch from"));
    assert.equal(warnings.length, 1, `logged once per change of state, not per poll:\n${warnings.join("\n")}`);
    assert.ok(warnings[0].includes(logged), warnings[0]);
    assert.ok(warnings[0].includes("keeping the last good set (1 live policies)"), warnings[0]);
    // Recovery: back to the normal interval, and said once.
    cp.serve([abortAll("chaos", 502)]);
    hfi.clock.advance(70_000);
    assert.equal(status(hfi), 502);
    assert.equal(hfi.logs("info").filter((l) => l.includes("control plane answers again")).length, 1);
  });
}

test("an unknown cluster (Envoy refuses the call) is counted, logged once and retried with backoff", async () => {
  const hfi = await startHfi({ control_plane: { cluster: "outbound|8080||nowhere.svc", authority: "nowhere:8080", poll_interval_ms: INTERVAL } });
  hfi.clock.advance(60_000);
  const failures = hfi.metric("hfi_faults_policy_fetch_failures_total");
  assert.ok(failures >= 4 && failures <= 8, `backoff keeps retries rare: ${failures} in 60 s`);
  const warnings = hfi.logs("warn").filter((l) => l.includes("policy fetch"));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /Envoy refused the call \(unknown cluster 'outbound\|8080\|\|nowhere\.svc'\?\)/);
  assert.equal(status(hfi), 200, "traffic is never disturbed");
});

test("a partly invalid set applies its valid policies, reports the others, and counts a failure", async () => {
  const { hfi, cp } = await withControlPlane();
  cp.serve([abortAll("good", 503), policy("bad", {}, { percentage: 300, abort: { httpStatus: 503 } })]);
  hfi.clock.advance(INTERVAL);
  assert.equal(status(hfi), 503);
  assert.ok(hfi.logs("warn").includes('hfi: policy "bad" rule 0: fault.percentage: must be a number from 0 to 100, got 300 (in control plane policies; dropped)'));
  assert.equal(hfi.metric("hfi_faults_policy_fetch_failures_total"), 1);
  assert.equal(hfi.metric("hfi_faults_config_errors_total"), 1);
  // The same body again is not re-parsed: no new errors, no new update.
  hfi.clock.advance(INTERVAL * 3);
  assert.equal(hfi.metric("hfi_faults_config_errors_total"), 1);
  assert.equal(hfi.metric("hfi_faults_policy_updates_total"), 1);
});

test("backoff after failures follows the documented schedule, then returns to the interval", async () => {
  const { hfi, cp } = await withControlPlane();
  cp.answer = () => ({ status: 503 });
  hfi.clock.advance(200_000);
  const gaps = cp.requests.slice(1).map((r, i) => r.at - cp.requests[i].at);
  // After n failures the wait is uniform in [b/2, b], b = min(60 s, 1 s × 2^(n-1)).
  const expected = [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000];
  for (let i = 0; i < expected.length; i++) {
    assert.ok(gaps[i] >= expected[i] / 2 && gaps[i] <= expected[i] + 1, `gap ${i + 1} was ${gaps[i]} ms, expected within [${expected[i] / 2}, ${expected[i]}]`);
  }
  cp.serve([]);
  const before = cp.requests.length;
  hfi.clock.advance(60_000 + INTERVAL * 4);
  const after = cp.requests.slice(before);
  const steady = after.slice(1).map((r, i) => r.at - after[i].at);
  assert.ok(steady.length >= 3);
  for (const g of steady) assert.equal(g, INTERVAL, "normal interval after a success");
});

test("ETag: the next poll sends If-None-Match and a 304 keeps the set without re-parsing", async () => {
  const { hfi, cp } = await withControlPlane();
  const body = JSON.stringify({ policies: [abortAll("chaos")] });
  cp.answer = (req) => req.headers.get("if-none-match") === '"v1"' ? { status: 304 } : { status: 200, headers: [["etag", '"v1"']], body };
  hfi.clock.advance(INTERVAL * 4);
  assert.ok(cp.requests.length >= 4);
  assert.ok(cp.requests[0].ifNoneMatch === undefined);
  assert.ok(cp.requests.slice(1).every((r) => r.ifNoneMatch === '"v1"'));
  assert.equal(hfi.metric("hfi_faults_policy_updates_total"), 1);
  assert.equal(status(hfi), 503);
});

test("expiry survives polls: duration_seconds counts from the first time the policy was seen", async () => {
  const { hfi, cp } = await withControlPlane();
  cp.serve([abortAll("one-minute", 503, { duration_seconds: 60 })]);
  hfi.clock.advance(INTERVAL);
  const firstSeen = cp.requests[0].at;
  assert.equal(status(hfi), 503);
  hfi.clock.advance(60_000 - (INTERVAL - firstSeen) - 1);
  assert.equal(status(hfi), 503, "just before 60 s, after a dozen polls returning the same policy");
  hfi.clock.advance(2);
  assert.equal(status(hfi), 200, "expired");
  hfi.clock.advance(INTERVAL * 3);
  assert.equal(status(hfi), 200, "later polls do not restart the clock");
  cp.serve([abortAll("one-minute", 502, { duration_seconds: 60 })]);
  hfi.clock.advance(INTERVAL + TIMEOUT);
  assert.equal(status(hfi), 502, "a changed policy starts a new clock");
});

test("static and live policies combine: a live policy replaces a static one of the same name", async () => {
  const { hfi, cp } = await withControlPlane({
    policies: [policy("static-only", { path: { prefix: "/s" } }, { percentage: 100, abort: { httpStatus: 501 } }), policy("shared", { path: { prefix: "/x" } }, { percentage: 100, abort: { httpStatus: 500 } })],
  });
  assert.equal(status(hfi, "/x"), 500);
  cp.serve([policy("shared", { path: { prefix: "/x" } }, { percentage: 100, abort: { httpStatus: 502 } })]);
  hfi.clock.advance(INTERVAL);
  assert.equal(status(hfi, "/x"), 502);
  assert.equal(status(hfi, "/s"), 501);
});

test("a configuration change keeps the live policies in force at once", async () => {
  const { hfi, cp } = await withControlPlane();
  cp.serve([abortAll("chaos")]);
  hfi.clock.advance(INTERVAL);
  assert.equal(status(hfi), 503);
  cp.answer = () => ({ status: 503 });
  assert.ok(hfi.plugin.reconfigure({ log_level: "debug", control_plane: { cluster: CLUSTER, authority: AUTHORITY, poll_interval_ms: INTERVAL, timeout_ms: TIMEOUT } }).ok);
  assert.equal(status(hfi), 503, "the new root context starts from the last good live set");
});

test("after a configuration change the new root context keeps polling, and a stop from the control plane arrives", async () => {
  // Retiring the old root context runs inside the new one's configuration callback, where a tick
  // period set is the new root's: the old root must not set it there.
  const { hfi, cp } = await withControlPlane();
  cp.serve([abortAll("chaos")]);
  hfi.clock.advance(INTERVAL);
  assert.equal(status(hfi), 503);
  const polls = cp.requests.length;
  assert.ok(hfi.plugin.reconfigure({ log_level: "debug", control_plane: { cluster: CLUSTER, authority: AUTHORITY, poll_interval_ms: INTERVAL, timeout_ms: TIMEOUT } }).ok);
  cp.serve([]);
  hfi.clock.advance(2 * INTERVAL);
  assert.ok(cp.requests.length >= polls + 1, `polled ${cp.requests.length - polls} times after the change`);
  assert.equal(status(hfi), 200, "the experiment stopped");
});

for (const [form, config, cluster, authority] of [
  ["control_plane_address + poll_interval_ms", { control_plane_address: "hfi-control-plane.boifi.svc.cluster.local:8080", poll_interval_ms: 5000 }, CLUSTER, AUTHORITY],
  ["a bare address string", "hfi-control-plane.boifi.svc.cluster.local:8080", CLUSTER, AUTHORITY],
  ["an empty configuration", "", "outbound|8080||control-plane", "control-plane:8080"],
  ["control_plane.address", { control_plane: { address: "cp.tools:9000" } }, "outbound|9000||cp.tools", "cp.tools:9000"],
] as const) {
  test(`the earlier plugin's configuration forms keep working: ${form}`, async () => {
    const seen: ClusterRequest[] = [];
    const hfi = await startHfi(config, { clusters: { [cluster]: (req) => { seen.push(req); return { status: 200, body: JSON.stringify({ policies: [abortAll("p")] }) }; } } });
    hfi.clock.advance(5000);
    assert.equal(seen.length, 1);
    assert.equal(seen[0].headers.get(":authority"), authority);
    assert.equal(seen[0].headers.get(":path"), "/v1/policies");
    assert.equal(seen[0].headers.get(":method"), "GET");
    assert.equal(status(hfi), 503);
  });
}

test("a 304 is a good poll: no fetch failure, no backoff, and it renews the lease", async () => {
  const { hfi, cp } = await withControlPlane({ control_plane: { cluster: CLUSTER, authority: AUTHORITY, poll_interval_ms: INTERVAL, timeout_ms: TIMEOUT, lease_seconds: 12 } });
  const body = JSON.stringify({ policies: [abortAll("chaos")] });
  cp.answer = (req) => req.headers.get("if-none-match") === '"v1"' ? { status: 304 } : { status: 200, headers: [["etag", '"v1"']], body };
  hfi.clock.advance(INTERVAL * 8); // 40 s of 304s, over three times the lease
  assert.ok(cp.requests.length >= 8);
  const gaps = cp.requests.slice(1).map((r, i) => r.at - cp.requests[i].at);
  for (const g of gaps) assert.equal(g, INTERVAL, "the normal interval: a 304 is no reason to back off");
  assert.equal(hfi.metric("hfi_faults_policy_fetch_failures_total"), 0);
  assert.equal(hfi.metric("hfi_faults_policy_lease_expired_total"), 0, "each 304 renews the lease");
  assert.equal(status(hfi), 503, "the set is still in force");
});

test("shared data stays bounded: 200 changed answers with guards, budgets and problems reuse their keys", async () => {
  const shared = new SharedState();
  let n = 0;
  const answer = () => ({ status: 200, body: JSON.stringify({ policies: [
    { metadata: { name: "guarded" }, spec: { guard: { max_error_rate: 0.5 }, rules: [{ match: {}, fault: { percentage: n % 100, max_injections: 5, abort: { httpStatus: 503 } } }] } },
    { metadata: { name: `broken` }, spec: { rules: [{ match: { pth: { prefix: `/${n++}` } }, fault: { percentage: 1, abort: { httpStatus: 503 } } }] } },
  ] }) });
  const hfi = await startHfi({ control_plane: { cluster: CLUSTER, authority: AUTHORITY, poll_interval_ms: INTERVAL, timeout_ms: TIMEOUT } },
    { shared, clusters: { [CLUSTER]: answer } });
  const keys = () => shared.keyCount(hfi.vm.vmId);
  for (let i = 0; i < 20; i++) {
    hfi.clock.advance(INTERVAL);
    status(hfi);
  }
  const early = keys();
  for (let i = 0; i < 180; i++) {
    hfi.clock.advance(INTERVAL);
    status(hfi);
  }
  assert.ok(hfi.metric("hfi_faults_policy_updates_total") >= 190);
  assert.ok(keys() <= early + 64, `${early} keys after 20 answers, ${keys()} after 200`);
});
