/**
 * `hfi simulate` (rule-by-rule explanation and the plugin's own sampling over n requests) and
 * `hfi render` (the workload named once, checked against Istio's CRD models), on the real
 * build/plugin.wasm.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import { parseAllDocuments } from "yaml";
import { validateKubeObject, type KubeObject } from "../../cli/crd-schema";
import { ENVOY_FIXTURE, FIXTURES, hfi, hfiProcess } from "./helpers";

const tmp = mkdtempSync(path.join(os.tmpdir(), "hfi-cli-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe("hfi simulate", () => {
  test("a 20 % abort: the matching rule, the reasons the others do not match, configured against observed", async () => {
    const r = await hfi("simulate", "-f", ENVOY_FIXTURE, "-n", "4000", "GET", "/api/x");
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split("\n");
    assert.deepEqual(lines.slice(0, 9), [
      "GET /api/x",
      'workload "frontend" namespace "demo" labels app=frontend',
      "plain Envoy: a listener without a direction, no route",
      "",
      'policy checkout-fails rule 0: no match: path prefix "/checkout", request path "/api/x"',
      'policy slow-catalog rule 0: no match: path prefix "/catalog", request path "/api/x"',
      "policy flaky-api rule 0: MATCH -> abort 500 at 20 %",
      'policy reviews-degraded rule 0: no match: path prefix "/reviews", request path "/api/x"',
      'policy drop-connections rule 0: no match: path prefix "/drop", request path "/api/x"',
    ]);
    assert.equal(lines[10], "decision: policy flaky-api rule 0: abort 500");
    const m = /^configured: 20 % {3}observed: ([\d.]+) % \((\d+) of 4000 requests\)$/.exec(lines[11]);
    assert.ok(m, lines[11]);
    // 4000 draws at 20 %: the standard deviation is 0.63 points; 16..24 is more than 6 of them.
    assert.ok(Number(m[1]) > 16 && Number(m[1]) < 24, lines[11]);
    assert.equal(lines[12], `  abort 500: ${m[2]}`);
  });

  test("resets and response faults are recognised, matched and counted like aborts and delays", async () => {
    const file = path.join(tmp, "reset-response.json");
    writeFileSync(file, JSON.stringify({ policies: [
      { metadata: { name: "drop" }, spec: { rules: [{ match: { path: { prefix: "/drop" } }, fault: { percentage: 100, reset: true } }] } },
      { metadata: { name: "late-drop" }, spec: { rules: [{ match: { path: { prefix: "/late" } }, fault: { percentage: 100, delay: { fixed_delay_ms: 200 }, reset: true } }] } },
      { metadata: { name: "rewrite" }, spec: { rules: [{ match: { path: { prefix: "/rewrite" } }, fault: { percentage: 100, response: { httpStatus: 503, body: "x" } } }] } },
    ] }));
    const drop = await hfi("simulate", "-f", file, "-n", "10", "GET", "/drop");
    assert.equal(drop.code, 0, drop.stderr);
    assert.match(drop.stdout, /^policy drop rule 0: MATCH -> reset the stream at 100 %$/m);
    assert.match(drop.stdout, /^configured: 100 % {3}observed: 100 % \(10 of 10 requests\)$/m);
    assert.match(drop.stdout, /^ {2}reset: 10$/m);
    const late = await hfi("simulate", "-f", file, "-n", "5", "GET", "/late");
    assert.match(late.stdout, /^ {2}held 200 ms, then reset: 5$/m);
    const rewrite = await hfi("simulate", "-f", file, "-n", "10", "GET", "/rewrite");
    assert.match(rewrite.stdout, /^policy rewrite rule 0: MATCH -> on the response: status 503, body replaced at 100 %$/m);
    assert.match(rewrite.stdout, /^ {2}response 503: 10$/m);
  });

  test("a delay is held on the plugin's timers; the observed hold is reported", async () => {
    const r = await hfi("simulate", "-f", ENVOY_FIXTURE, "-n", "20", "GET", "/catalog");
    assert.match(r.stdout, /^policy slow-catalog rule 0: MATCH -> delay 1500 ms at 100 %$/m);
    assert.match(r.stdout, /^configured: 100 % {3}observed: 100 % \(20 of 20 requests\)$/m);
    assert.match(r.stdout, /^ {2}held 1500 ms: 20$/m);
    const post = await hfi("simulate", "-f", ENVOY_FIXTURE, "-n", "20", "POST", "/catalog");
    assert.match(post.stdout, /^policy slow-catalog rule 0: no match: method exact "GET", request method "POST"$/m);
    assert.match(post.stdout, /^decision: no rule matches; the request goes to the upstream untouched$/m);
    assert.match(post.stdout, /^observed: 0 % \(0 of 20 requests\)$/m);
  });

  test("a selector that excludes the workload is named as the reason", async () => {
    const r = await hfi("simulate", "-f", ENVOY_FIXTURE, "--workload", "backend", "--label", "app=backend", "-n", "50", "GET", "/api/x");
    assert.match(r.stdout, /^policy flaky-api rule 0: not this workload: selector service "frontend", namespace "demo" does not select workload "backend" \(app "backend"\) in namespace "demo"$/m);
    assert.match(r.stdout, /^observed: 0 % \(0 of 50 requests\)$/m);
  });

  test("header conditions, a start delay then abort, and shadowed rules", async () => {
    const file = path.join(tmp, "policies.yaml");
    writeFileSync(file, [
      "metadata: { name: testers }",
      "spec:",
      "  rules:",
      "    - match: { path: { prefix: /profile }, headers: [ { name: x-user-id, regex: \"^test-[0-9]+$\" } ] }",
      "      fault: { percentage: 100, start_delay_ms: 200, abort: { httpStatus: 504 } }",
      "---",
      "metadata: { name: everything }",
      "spec:",
      "  rules:",
      "    - match: {}",
      "      fault: { percentage: 100, abort: { httpStatus: 503 } }",
    ].join("\n"));
    const miss = await hfi("simulate", "-f", file, "-H", "x-user-id: alice", "-n", "10", "GET", "/profile");
    assert.match(miss.stdout, /^policy testers rule 0: no match: header x-user-id regex "\^test-\[0-9\]\+\$", request has "alice"$/m);
    assert.match(miss.stdout, /^policy everything rule 0: MATCH -> abort 503 at 100 %$/m);
    const hit = await hfi("simulate", "-f", file, "-H", "x-user-id: test-7", "-n", "10", "GET", "/profile");
    assert.match(hit.stdout, /^policy testers rule 0: MATCH -> start delay 200 ms, then abort 504 at 100 %$/m);
    assert.match(hit.stdout, /^policy everything rule 0: matches, but an earlier rule decides$/m);
    assert.match(hit.stdout, /^ {2}held 200 ms, then abort 504: 10$/m);
  });

  test("an invalid rule shows the plugin's verdict on it as written; enabled: false injects nothing", async () => {
    const r = await hfi("simulate", "-f", path.join(FIXTURES, "three-errors.yaml"), "-n", "10", "GET", "/fine");
    assert.match(r.stdout, /^policy checkout-broken rule 0: invalid, dropped by the plugin: fault\.percentage: must be a number from 0 to 100, got 150$/m);
    assert.match(r.stdout, /^policy fine rule 0: MATCH -> abort 503 at 10 %$/m);
    const file = path.join(tmp, "disabled.json");
    writeFileSync(file, JSON.stringify({ enabled: false, policies: [{ metadata: { name: "a" }, spec: { rules: [{ match: {}, fault: { percentage: 100, abort: { httpStatus: 503 } } }] } }] }));
    const off = await hfi("simulate", "-f", file, "-n", "10", "GET", "/x");
    assert.match(off.stdout, /^configured: 0 % \(enabled: false; the rule says 100 %\) {3}observed: 0 % \(0 of 10 requests\)$/m);
  });

  test("direction and destination: the traffic each kind of proxy reports, explained, and the draws agree with the verdicts", async () => {
    const file = path.join(tmp, "scoped.yaml");
    writeFileSync(file, [
      "- metadata: {name: to-reviews}",
      "  spec: {selector: {service: frontend}, destination: {service: reviews}, rules: [{match: {path: {prefix: /}}, fault: {percentage: 100, abort: {httpStatus: 503}}}]}",
      "- metadata: {name: receives}",
      "  spec: {rules: [{match: {path: {prefix: /api}}, fault: {percentage: 100, abort: {httpStatus: 500}}}]}",
      "",
    ].join("\n"));
    const sidecar = ["--proxy", "sidecar", "--workload", "frontend", "--namespace", "bookinfo", "-n", "50"];
    const toReviews = await hfi("simulate", "-f", file, ...sidecar, "--to", "reviews:9080", "GET", "/api/x");
    assert.equal(toReviews.code, 0, toReviews.stderr);
    assert.deepEqual(toReviews.stdout.split("\n").slice(2, 6), [
      "sidecar: outbound listener, cluster outbound|9080||reviews.bookinfo.svc.cluster.local",
      "",
      "policy to-reviews rule 0: MATCH -> abort 503 at 100 %",
      "policy receives rule 0: not this traffic: no direction (on a sidecar: inbound), request comes through an outbound listener",
    ]);
    assert.match(toReviews.stdout, /observed: 100 % \(50 of 50 requests\)/);
    const toRatings = await hfi("simulate", "-f", file, ...sidecar, "--to", "ratings:9080", "GET", "/api/x");
    assert.ok(toRatings.stdout.includes('policy to-reviews rule 0: not this traffic: destination {"service":"reviews"}, request goes to cluster "outbound|9080||ratings.bookinfo.svc.cluster.local"'), toRatings.stdout);
    assert.match(toRatings.stdout, /observed: 0 % \(0 of 50 requests\)/, "what the plugin did agrees with the verdicts");
    const inbound = await hfi("simulate", "-f", file, ...sidecar, "GET", "/api/x");
    assert.ok(inbound.stdout.includes("sidecar: inbound listener, cluster inbound|8080||"), inbound.stdout);
    assert.ok(inbound.stdout.includes("policy receives rule 0: MATCH -> abort 500 at 100 %"), inbound.stdout);
    const bad = await hfi("simulate", "-f", file, "--proxy", "ship", "GET", "/");
    assert.deepEqual([bad.code, bad.stderr], [2, 'hfi: --proxy must be sidecar, gateway, waypoint, envoy, got "ship"']);
  });

  test("--format json carries the same verdicts", async () => {
    const r = JSON.parse((await hfi("simulate", "-f", ENVOY_FIXTURE, "--format", "json", "-n", "10", "GET", "/checkout")).stdout);
    assert.deepEqual(r.decision, { policy: "checkout-fails", rule: 0, fault: "abort 503", percentage: 100 });
    assert.deepEqual(r.rules.map((x: { verdict: string }) => x.verdict), ["decides", "no match", "no match", "no match", "no match"]);
    assert.deepEqual(r.observed.outcomes, { "abort 503": 10 });
  });

  test("a request without METHOD PATH is a one-line CLI error", () => {
    const r = hfiProcess(["simulate", "-f", ENVOY_FIXTURE, "/x"]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, "hfi simulate: give the request as METHOD PATH, e.g. GET /api/x (see hfi simulate --help)\n");
  });
});

describe("hfi render", () => {
  test("the WasmPlugin and the stats EnvoyFilter name the workload once, consistently, and pass Istio's schema", async () => {
    const r = await hfi("render", "-f", ENVOY_FIXTURE, "--selector", "app=frontend", "--namespace", "demo",
      "--image", "ghcr.io/you/hfi-fault-injection:0.1.0", "--control-plane", "http://hfi-control-plane.boifi.svc.cluster.local:8080");
    assert.equal(r.code, 0, r.stderr);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as KubeObject & { spec: any; metadata: any });
    assert.deepEqual(docs.map((d) => d.kind), ["WasmPlugin", "EnvoyFilter", "ConfigMap"]);
    const [wasm, filter] = docs;
    assert.deepEqual(wasm.spec.selector, { matchLabels: { app: "frontend" } });
    assert.deepEqual(filter.spec.workloadSelector, { labels: { app: "frontend" } });
    assert.equal(wasm.metadata.namespace, "demo");
    assert.equal(filter.metadata.namespace, "demo");
    assert.equal(wasm.metadata.name, "hfi-fault-injection-frontend", "names carry the workload");
    assert.equal(filter.metadata.name, "hfi-wasm-stats-frontend");
    assert.equal(wasm.spec.url, "oci://ghcr.io/you/hfi-fault-injection:0.1.0");
    assert.deepEqual(wasm.spec.pluginConfig.control_plane, {
      cluster: "outbound|8080||hfi-control-plane.boifi.svc.cluster.local",
      authority: "hfi-control-plane.boifi.svc.cluster.local:8080",
      path: "/v1/policies",
    }, "the poll interval and timeout keep the plugin's defaults");
    const policies = wasm.spec.pluginConfig.policies as Array<{ metadata: { name: string }; spec: { selector: object } }>;
    assert.deepEqual(policies.map((p) => p.metadata.name), ["checkout-fails", "slow-catalog", "flaky-api", "reviews-degraded", "drop-connections"]);
    // The settings come from the shipped WasmPlugin, the policies from the given files.
    assert.equal(wasm.spec.pluginConfig.policy_header, "x-hfi-policy");
    for (const p of policies) assert.deepEqual(p.spec.selector, { service: "frontend", namespace: "demo" });
    for (const d of docs.filter((x) => x.kind !== "ConfigMap")) assert.deepEqual(validateKubeObject(d), []);
    // The shipped stats patch comes along unchanged.
    assert.equal(filter.spec.configPatches[0].applyTo, "BOOTSTRAP");
    // And hfi validate accepts what render printed.
    const file = path.join(tmp, "rendered.yaml");
    writeFileSync(file, r.stdout);
    assert.equal((await hfi("validate", file)).code, 0);
  });

  test("a policy that selects another workload is refused, not silently rewritten", async () => {
    const r = await hfi("render", "-f", ENVOY_FIXTURE, "--selector", "app=backend", "--namespace", "demo");
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'hfi render: policy "flaky-api" selects service "frontend", but the workload is service "backend" (change the policy or the flags)');
  });

  test("two workloads in one namespace get objects of their own; a bare control-plane name becomes Istio's cluster name", async () => {
    const file = path.join(tmp, "plain.yaml");
    writeFileSync(file, "metadata: { name: p }\nspec:\n  rules:\n    - match: {}\n      fault: { percentage: 5, abort: { httpStatus: 503 } }\n");
    const names = async (app: string, cp: string) => {
      const r = await hfi("render", "-f", file, "--selector", `app=${app}`, "--namespace", "demo", "--image", "ghcr.io/you/hfi@sha256:" + "a".repeat(64), "--control-plane", cp);
      assert.equal(r.code, 0, r.stderr);
      const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as { metadata: { name: string }; spec: any });
      return { names: docs.map((d) => d.metadata.name), cluster: docs[0].spec.pluginConfig.control_plane.cluster as string };
    };
    const a = await names("frontend", "http://hfi-control-plane:8080");
    const b = await names("backend", "http://hfi-control-plane.boifi:8080");
    assert.deepEqual(a.names, ["hfi-fault-injection-frontend", "hfi-wasm-stats-frontend", "hfi-stats-bootstrap-frontend"]);
    assert.deepEqual(b.names, ["hfi-fault-injection-backend", "hfi-wasm-stats-backend", "hfi-stats-bootstrap-backend"]);
    assert.equal(a.cluster, "outbound|8080||hfi-control-plane.demo.svc.cluster.local", "a bare name is in the rendered namespace");
    assert.equal(b.cluster, "outbound|8080||hfi-control-plane.boifi.svc.cluster.local");
    assert.equal((await names("x", "http://cp.hfi.svc:9000")).cluster, "outbound|9000||cp.hfi.svc.cluster.local");
  });

  test("no image, no manifest: the shipped placeholder is never rendered", async () => {
    const r = await hfi("render", "-f", ENVOY_FIXTURE, "--selector", "app=frontend", "--namespace", "demo");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^hfi render: --image is required/);
    assert.equal(r.stdout, "");
  });

  test("policies the plugin refuses are not rendered", async () => {
    const file = path.join(tmp, "bad.yaml");
    writeFileSync(file, "metadata: { name: bad }\nspec:\n  rules:\n    - match: {}\n      fault: { percentage: 500, abort: { httpStatus: 503 } }\n");
    const r = await hfi("render", "-f", file, "--selector", "app=frontend", "--namespace", "demo");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^hfi render: the plugin refuses 1 part\(s\) of these policies, first: policies\[0\]\.spec\.rules\[0\]\.fault\.percentage: must be a number from 0 to 100, got 500/);
  });
});
