/**
 * Faults exactly where a policy says, on the real .wasm, with the node id and the per-request
 * attributes each kind of proxy reports (host/targets.ts): the four questions a chaos engineer
 * asks are each one policy, and each leaves every other request alone; a policy without
 * `direction` never faults a sidecar's outbound calls; and with direction and destination in
 * play alongside dry run, the guard, the cap, budgets and every fault kind, every fault is
 * counted once, the same way everywhere.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { StatsStore, targets, type HttpStream, type Traffic } from "../../host/index";
import { respond, startHfi, startHfiWorkers, type Hfi } from "../helpers/hfi";
import { assertOneAccount } from "../helpers/account";
import { effectivePolicies } from "../../host/runner/effective-policies";
import { directionOf } from "../../cli/scope";

const { proxyNode, sidecarInbound, sidecarOutbound, waypointTo, gatewayTo, envoyTo, noRoute } = targets;
const rule = (prefix: string, fault: object, extra: object = {}) => ({ match: { path: { prefix }, ...extra }, fault });
const policy = (name: string, spec: object) => ({ metadata: { name }, spec });
const abort = (percentage: number) => ({ percentage, abort: { httpStatus: 503 } });

const reviews = { name: "reviews", namespace: "bookinfo", port: 9080 };
const ratings = { name: "ratings", namespace: "bookinfo", port: 9080 };
const details = { name: "details", namespace: "bookinfo", port: 9080 };

/** Sends `n` requests with `traffic`; how many the plugin aborted. */
function aborted(hfi: Hfi, n: number, pathAndQuery: string, traffic: Traffic, headers: Array<[string, string]> = []): number {
  let count = 0;
  for (let i = 0; i < n; i++) {
    const s = hfi.request("GET", pathAndQuery, headers, undefined, { traffic });
    if (s.localReply) count++;
    else respond(s);
  }
  return count;
}

/** Binomial(n, p) lands within 5 standard deviations of n·p (a false failure once in ~3.5 million runs). */
function aboutPercent(count: number, n: number, percent: number, what: string): void {
  const p = percent / 100;
  const sd = Math.sqrt(n * p * (1 - p));
  assert.ok(Math.abs(count - n * p) <= 5 * sd, `${what}: ${count} of ${n}, expected about ${n * p}`);
}

const N = 2000;

test('"fail 20 % of frontend\'s calls to reviews": one policy on frontend\'s sidecar; its other calls and the requests it receives are untouched', async () => {
  const config = { policies: [policy("frontend-to-reviews", { selector: { service: "frontend" }, destination: { service: "reviews" }, rules: [rule("/", abort(20))] })] };
  const frontend = await startHfi(config, { node: proxyNode("sidecar", { name: "frontend", namespace: "bookinfo" }), propertyMode: "xds" });
  aboutPercent(aborted(frontend, N, "/reviews/1", sidecarOutbound(reviews)), N, 20, "frontend -> reviews");
  aboutPercent(aborted(frontend, N, "/reviews/1", sidecarOutbound({ ...reviews, subset: "v2" })), N, 20, "frontend -> reviews v2");
  assert.equal(aborted(frontend, N, "/reviews/1", sidecarOutbound(ratings)), 0, "frontend -> ratings");
  assert.equal(aborted(frontend, N, "/reviews/1", sidecarInbound(9080)), 0, "requests frontend receives");
  assert.equal(aborted(frontend, 50, "/reviews/1", noRoute("sidecar")), 0, "no route, no cluster");
  // The same policy on reviews' own sidecar: its selector does not take it.
  const reviewsProxy = await startHfi(config, { node: proxyNode("sidecar", { name: "reviews", namespace: "bookinfo" }), propertyMode: "xds" });
  assert.equal(aborted(reviewsProxy, N, "/reviews/1", sidecarInbound(9080)), 0, "reviews' inbound");
  assert.equal(aborted(reviewsProxy, N, "/ratings/1", sidecarOutbound(ratings)), 0, "reviews -> ratings");
});

test('"fail 20 % of the requests reviews receives": a policy without direction on reviews\' sidecar; the calls reviews makes are untouched', async () => {
  const config = { policies: [policy("reviews-receives", { selector: { service: "reviews" }, rules: [rule("/", abort(20))] })] };
  const hfi = await startHfi(config, { node: proxyNode("sidecar", { name: "reviews", namespace: "bookinfo" }), propertyMode: "xds" });
  aboutPercent(aborted(hfi, N, "/reviews/1", sidecarInbound(9080)), N, 20, "reviews receives");
  assert.equal(aborted(hfi, N, "/ratings/1", sidecarOutbound(ratings)), 0, "reviews -> ratings");
  assert.equal(aborted(hfi, N, "/reviews/1", sidecarOutbound(reviews)), 0, "reviews -> reviews (outbound)");
});

test('"fail 20 % of requests to reviews through its waypoint": one policy on the waypoint; other services behind it are untouched', async () => {
  const config = { policies: [policy("reviews-via-waypoint", { destination: { service: "reviews", namespace: "bookinfo" }, rules: [rule("/", abort(20))] })] };
  const hfi = await startHfi(config, { node: proxyNode("waypoint", { name: "waypoint", namespace: "bookinfo" }), propertyMode: "xds" });
  aboutPercent(aborted(hfi, N, "/reviews/1", waypointTo(reviews)), N, 20, "waypoint -> reviews");
  aboutPercent(aborted(hfi, N, "/reviews/1", waypointTo({ ...reviews, subset: "v1" })), N, 20, "waypoint -> reviews v1");
  assert.equal(aborted(hfi, N, "/reviews/1", waypointTo(ratings)), 0, "waypoint -> ratings");
  assert.equal(aborted(hfi, N, "/reviews/1", waypointTo({ ...reviews, namespace: "staging" })), 0, "reviews in another namespace");
  assert.equal(aborted(hfi, 50, "/reviews/1", noRoute("waypoint")), 0, "no route");
});

test('"5 % of requests for shop.example.com/api at the ingress gateway": one policy; other hosts and paths are untouched', async () => {
  const config = {
    policies: [policy("shop-api", { rules: [rule("/api", abort(5), { headers: [{ name: ":authority", exact: "shop.example.com" }] })] })],
  };
  const hfi = await startHfi(config, { node: proxyNode("gateway", { name: "istio-ingressgateway", namespace: "istio-system" }), propertyMode: "xds" });
  const shop = gatewayTo({ name: "shop", namespace: "shop", port: 8080 });
  aboutPercent(aborted(hfi, 4 * N, "/api/cart", shop, [[":authority", "shop.example.com"]]), 4 * N, 5, "shop.example.com/api");
  assert.equal(aborted(hfi, N, "/api/cart", shop, [[":authority", "admin.example.com"]]), 0, "another host");
  assert.equal(aborted(hfi, N, "/static/app.js", shop, [[":authority", "shop.example.com"]]), 0, "another path");
});

test("a policy without direction never faults a sidecar's outbound calls, whatever its rules match", async () => {
  const config = {
    policies: [
      policy("everything", { rules: [rule("/", abort(100))] }),
      policy("headers", { rules: [rule("/", abort(100), { headers: [{ name: "x-user", present: true }] })] }),
    ],
  };
  const hfi = await startHfi(config, { node: proxyNode("sidecar", { name: "frontend", namespace: "bookinfo" }), propertyMode: "xds" });
  for (const to of [reviews, ratings, details, { ...reviews, subset: "v3" }]) {
    assert.equal(aborted(hfi, 20, "/anything", sidecarOutbound(to)), 0, `frontend -> ${to.name}`);
    assert.equal(aborted(hfi, 20, "/anything", sidecarOutbound(to), [["x-user", "a"]]), 0, `frontend -> ${to.name} with x-user`);
  }
  assert.equal(aborted(hfi, 20, "/anything", noRoute("sidecar")), 20, "inbound without a route: the workload receives it");
  assert.equal(aborted(hfi, 20, "/anything", sidecarInbound(8080)), 20, "the requests frontend receives");
  assert.equal(hfi.metric("hfi_faults_policy_matched_total.hfi_policy.everything"), 40, "outbound calls are not even matched");
});

test("explicit directions, and the default on gateways, waypoints and plain Envoy", async () => {
  const config = {
    policies: [
      policy("in", { direction: "inbound", rules: [rule("/in", abort(100))] }),
      policy("out", { direction: "outbound", rules: [rule("/out", abort(100))] }),
      policy("both", { direction: "any", rules: [rule("/both", abort(100))] }),
      policy("plain", { rules: [rule("/plain", abort(100))] }),
      policy("cluster", { destination: { cluster: "backend" }, rules: [rule("/cluster", abort(100))] }),
    ],
  };
  const sidecar = await startHfi(config, { node: proxyNode("sidecar", { name: "frontend", namespace: "bookinfo" }), propertyMode: "xds" });
  const out = sidecarOutbound(reviews);
  const inn = sidecarInbound(9080);
  assert.deepEqual(
    ["/in", "/out", "/both", "/plain"].map((p) => [aborted(sidecar, 5, p, inn), aborted(sidecar, 5, p, out)]),
    [[5, 0], [0, 5], [5, 5], [5, 0]],
  );
  const envoy = await startHfi(config);
  assert.deepEqual(["/in", "/out", "/both", "/plain"].map((p) => aborted(envoy, 5, p, envoyTo("backend"))), [0, 0, 5, 5],
    "plain Envoy: listeners without a direction satisfy neither inbound nor outbound");
  assert.equal(aborted(envoy, 5, "/cluster", envoyTo("backend")), 5);
  assert.equal(aborted(envoy, 5, "/cluster", envoyTo("backend-2")), 0);
  assert.equal(aborted(envoy, 5, "/cluster", noRoute("envoy")), 0);
  for (const kind of ["gateway", "waypoint"] as const) {
    const hfi = await startHfi(config, { node: proxyNode(kind, { name: kind, namespace: "istio-system" }), propertyMode: "xds" });
    const traffic = kind === "gateway" ? gatewayTo(reviews) : waypointTo(reviews);
    assert.equal(aborted(hfi, 5, "/plain", traffic), 5, `${kind}: a policy without direction applies`);
  }
});

test("the no-match path still costs one host call with direction and destination policies in force", async () => {
  const config = {
    policies: [
      policy("to-reviews", { destination: { service: "reviews" }, rules: [rule("/api", abort(100))] }),
      policy("in", { direction: "inbound", rules: [rule("/in", abort(100))] }),
    ],
  };
  const hfi = await startHfi(config, { node: proxyNode("sidecar", { name: "frontend", namespace: "bookinfo" }), propertyMode: "xds" });
  hfi.clock.advance(1); // the first tick publishes the effective set (docs/observability.md)
  hfi.vm.resetHostCallCounts();
  for (let i = 0; i < 20; i++) hfi.request("GET", `/other/${i}`, [], undefined, { traffic: i % 2 ? sidecarOutbound(reviews) : sidecarInbound(9080) });
  assert.deepEqual(hfi.vm.hostCallCounts(), { proxy_get_header_map_value: 20 });
  // A request whose path matched reads the properties it needs, once each.
  hfi.vm.resetHostCallCounts();
  const s = hfi.request("GET", "/api/x", [], undefined, { traffic: sidecarOutbound(ratings) });
  assert.equal(s.localReply, undefined);
  assert.deepEqual(hfi.vm.hostCallCounts(), { proxy_get_header_map_value: 1, proxy_get_property: 2 }, "listener direction and cluster");
});

test("/policies says which direction and destination each policy keeps to in this proxy", async () => {
  const config = {
    policies: [
      policy("to-reviews", { destination: { service: "reviews", port: 9080 }, rules: [rule("/r", abort(100))] }),
      policy("plain", { rules: [rule("/p", abort(100))] }),
      policy("both", { direction: "any", destination: { cluster: "c" }, rules: [rule("/b", abort(100))] }),
    ],
  };
  for (const [kind, plain, toReviews] of [["sidecar", "inbound", "outbound"], ["gateway", "any", "any"]] as const) {
    const hfi = await startHfi(config, { node: proxyNode(kind, { name: "frontend", namespace: "bookinfo" }), propertyMode: "xds" });
    hfi.clock.advance(1); // the first tick publishes the set
    const view = effectivePolicies(hfi.vm, hfi.stats, hfi.clock.now()).workers[0].policies;
    const by = new Map(view.map((p) => [p.name, p]));
    assert.deepEqual([by.get("to-reviews")!.direction, by.get("to-reviews")!.destination], [toReviews, "service reviews, port 9080"], kind);
    assert.deepEqual([by.get("plain")!.direction, by.get("plain")!.destination], [plain, ""], kind);
    assert.deepEqual([by.get("both")!.direction, by.get("both")!.destination], ["any", "cluster c"], kind);
    if (kind === "sidecar") assert.match(by.get("to-reviews")!.why, /; outbound only, to service reviews, port 9080$/);
    // The tools' twin of the rule (hfi render, simulate, validate) says what the plugin published.
    for (const p of config.policies as Array<{ metadata: { name: string }; spec: Record<string, unknown> }>) {
      assert.equal(directionOf(p.spec, kind), by.get(p.metadata.name)!.direction, `${kind} ${p.metadata.name}`);
    }
  }
});

test("one account with direction and destination alongside dry run, the guard, the cap, a budget and every fault kind", async () => {
  const stats = new StatsStore({ tags: parse(readFileSync(path.resolve(__dirname, "..", "..", "envoy", "envoy.yaml"), "utf8")).stats_config });
  const hfi = await startHfiWorkers({
    max_active_faults: 2,
    max_fault_percentage: 60,
    policies: [
      policy("reviews-delay", { destination: { service: "reviews" }, guard: { max_error_rate: 0.5, min_requests: 4, window_seconds: 30, cooldown_seconds: 120 }, rules: [rule("/g", { percentage: 100, delay: { fixed_delay_ms: 10 } })] }),
      policy("ratings-budget", { destination: { service: "ratings", port: 9080 }, rules: [rule("/b", { percentage: 100, max_injections: 3, abort: { httpStatus: 500 } })] }),
      policy("inbound-reset", { rules: [rule("/d", { percentage: 100, reset: true })] }),
      policy("outbound-rewrite", { direction: "outbound", rules: [rule("/r", { percentage: 100, response: { httpStatus: 502, body: "x" } })] }),
      policy("slow-then-fail", { direction: "any", rules: [rule("/sf", { percentage: 100, delay: { fixed_delay_ms: 50 }, abort: { httpStatus: 504 } })] }),
      policy("preview", { mode: "dry_run", destination: { service: "details" }, rules: [rule("/preview", { percentage: 100, delay: { fixed_delay_ms: 5 }, abort: { httpStatus: 503 } })] }),
      policy("header-driven", { direction: "inbound", rules: [rule("/h", { percentage: 100, from_headers: true })] }),
    ],
  }, { workers: 2, stats, logLevel: "info", node: proxyNode("sidecar", { name: "frontend", namespace: "bookinfo" }), propertyMode: "xds" });
  const streams: HttpStream[] = [];
  let w = 0;
  const send = (p: string, traffic: Traffic, headers: Array<[string, string]> = []) => {
    const s = hfi.request(w++ % 2, "GET", p, headers, undefined, { traffic });
    streams.push(s);
    return s;
  };
  const settle = (s: HttpStream, status = 200) => {
    if (!s.finished && !s.localReply && s.state === "open" && s.upstream.headers) respond(s, status);
  };
  const inn = sidecarInbound(9080);
  for (let i = 0; i < 60; i++) settle(send(`/other/${i}`, i % 2 ? inn : sidecarOutbound(ratings)));
  // The wrong side of each policy first: nothing may happen.
  for (const [p, t] of [["/g", sidecarOutbound(ratings)], ["/g", inn], ["/b", sidecarOutbound({ ...ratings, port: 9091 })], ["/d", sidecarOutbound(reviews)],
    ["/r", inn], ["/preview", sidecarOutbound(reviews)], ["/h", sidecarOutbound(reviews)]] as Array<[string, Traffic]>) {
    const s = send(p, t, p === "/h" ? [["x-envoy-fault-abort-request", "429"]] : []);
    assert.equal(s.localReply, undefined, `${p} on the wrong side`);
    assert.equal(s.state, "open", `${p} on the wrong side is not held or reset`);
    settle(s);
    assert.equal(s.reply?.status, 200, `${p} on the wrong side`);
  }
  // The guard trips on reviews' failures.
  for (let i = 0; i < 4; i++) {
    const s = send("/g", sidecarOutbound(reviews));
    hfi.clock.advance(10);
    settle(s, 503);
  }
  hfi.clock.advance(2000);
  for (let i = 0; i < 2; i++) settle(send("/g", sidecarOutbound(reviews)));
  for (let i = 0; i < 5; i++) settle(send("/b", sidecarOutbound(ratings)));
  for (let i = 0; i < 2; i++) settle(send("/d", inn));
  for (let i = 0; i < 2; i++) settle(send("/r", sidecarOutbound(details)));
  const held = [send("/sf", inn), send("/sf", sidecarOutbound(reviews)), send("/sf", inn)];
  held[0].reset();
  hfi.clock.advance(50);
  for (const s of held) settle(s);
  for (let i = 0; i < 2; i++) settle(send("/preview", sidecarOutbound(details)));
  const hd = send("/h", inn, [["x-envoy-fault-delay-request", "20"]]);
  hfi.clock.advance(20);
  settle(hd);
  settle(send("/h", inn, [["x-envoy-fault-abort-request", "429"]]));
  hfi.clock.advance(1000);
  stats.flush();

  const names = ["reviews-delay", "ratings-budget", "inbound-reset", "outbound-rewrite", "slow-then-fail", "preview", "header-driven"];
  const { series } = assertOneAccount({
    workers: hfi.workers, stats, streams, names, metric: (n) => hfi.metric(n), now: hfi.clock.now(),
    states: {
      "reviews-delay": "halted", "ratings-budget": "budget exhausted", "inbound-reset": "active", "outbound-rewrite": "active",
      "slow-then-fail": "active", preview: "dry run", "header-driven": "active",
    },
  });
  assert.equal(series("injected_total", "reviews-delay", "delay"), 4);
  assert.equal(series("matched_total", "reviews-delay"), 6, "only the calls to reviews are matched");
  assert.equal(series("injected_total", "ratings-budget", "abort"), 3);
  assert.equal(series("matched_total", "ratings-budget"), 5);
  assert.equal(series("injected_total", "inbound-reset", "reset"), 2);
  assert.equal(series("injected_total", "outbound-rewrite", "response"), 2);
  assert.equal(series("injected_total", "slow-then-fail", "delay"), 2);
  assert.ok(series("overflow_total", "slow-then-fail") >= 1);
  assert.equal(series("dry_run_total", "preview", "delay"), 2);
  assert.equal(series("injected_total", "header-driven", "abort"), 1);
  assert.equal(series("injected_total", "header-driven", "delay"), 1);
  assert.equal(hfi.metric("hfi_faults_guard_trips_total"), 1);
});
