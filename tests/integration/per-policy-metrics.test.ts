/**
 * On the real .wasm: per-policy series turned into Prometheus labels by the shipped
 * stats_tags (tests/fixtures/envoy.yaml), the cap on labelled policies, policy names a stat name
 * cannot carry, dry run, and the access-log marks (filter state).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { StatsStore } from "../../host/index";
import { policy, respond, startHfi, startHfiUnchecked } from "../helpers/hfi";

const ENVOY_YAML = path.resolve(__dirname, "..", "fixtures", "envoy.yaml");
const taggedStats = (): StatsStore => new StatsStore({ tags: parse(readFileSync(ENVOY_YAML, "utf8")).stats_config });
const lines = (text: string): string[] => text.split("\n");
const ABORT = { percentage: 100, abort: { httpStatus: 503 } };

test("/stats/prometheus shows the per-policy series as labels with the shipped stats_tags; /stats the full names", async () => {
  const stats = taggedStats();
  const hfi = await startHfi({
    policies: [
      policy("checkout-fails", { path: { prefix: "/checkout" } }, ABORT),
      policy("team.a.v1.2", { path: { prefix: "/slow" } }, { percentage: 100, delay: { fixed_delay_ms: 50 } }),
      // Keyed sampling at 0.0001%: deterministic, and none of the four keys below is sampled in.
      policy("never", { path: { prefix: "/never" } }, { percentage: 0.0001, sampling: { header: "x-k" }, abort: { httpStatus: 500 } }),
    ],
  }, { stats });
  for (let i = 0; i < 3; i++) hfi.request("GET", "/checkout");
  const slow = hfi.request("GET", "/slow");
  hfi.clock.advance(50);
  respond(slow);
  for (let i = 0; i < 4; i++) respond(hfi.request("GET", "/never", [["x-k", `user-${i}`]]));
  const prom = lines(stats.renderPrometheus());
  for (const line of [
    '# TYPE hfi_faults_policy_injected_total counter',
    'hfi_faults_policy_injected_total{hfi_policy="checkout-fails",hfi_fault="abort"} 3',
    'hfi_faults_policy_injected_total{hfi_policy="team.a.v1.2",hfi_fault="delay"} 1',
    'hfi_faults_policy_matched_total{hfi_policy="checkout-fails"} 3',
    'hfi_faults_policy_matched_total{hfi_policy="never"} 4',
    'hfi_faults_policy_injected_total{hfi_policy="never",hfi_fault="abort"} 0',
    'hfi_faults_policy_dry_run_total{hfi_policy="checkout-fails",hfi_fault="abort"} 0',
    'hfi_faults_policy_overflow_total{hfi_policy="team.a.v1.2"} 0',
    '# TYPE hfi_faults_policy_percentage_max gauge',
    'hfi_faults_policy_percentage_max{hfi_policy="checkout-fails"} 100',
    'hfi_faults_policy_percentage_max{hfi_policy="never"} 1',
    'hfi_faults_aborts_total{} 3',
  ]) {
    assert.ok(prom.includes(line), `missing ${line} in\n${prom.filter((l) => l.includes("policy")).join("\n")}`);
  }
  assert.ok(!prom.some((l) => l.includes('hfi_policy="team.a.v1.2",hfi_fault="abort"')), "only the kinds a policy's rules have");
  const text = lines(stats.renderText());
  assert.ok(text.includes("wasmcustom.hfi_faults_policy_injected_total.hfi_policy.checkout-fails.hfi_fault.abort: 3"));
  assert.ok(text.includes("wasmcustom.hfi_faults_policy_matched_total.hfi_policy.team.a.v1.2: 1"));
});

test("percentage_max is the highest percentage of the policy's rules, rounded up, the same from every root", async () => {
  const hfi = await startHfi({
    policies: [{ metadata: { name: "mixed" }, spec: { rules: [
      { match: { path: { prefix: "/a" } }, fault: { percentage: 12.5, abort: { httpStatus: 503 } } },
      { match: { path: { prefix: "/b" } }, fault: { percentage: 30.2, delay: { fixed_delay_ms: 5 } } },
    ] } }],
  });
  assert.equal(hfi.metric("hfi_faults_policy_percentage_max.hfi_policy.mixed"), 31);
});

test("names a stat name cannot carry are escaped reversibly (unescape() gives the name back)", async () => {
  const stats = taggedStats();
  const names = ["db_rq_503", "edge_rq_5xx", "spaced name/ü", "..dots..", 'quote"back\\slash', "ok-name.v2"];
  const hfi = await startHfi({ policies: names.map((n, i) => policy(n, { path: { prefix: `/p${i}/` } }, ABORT)) }, { stats });
  names.forEach((_, i) => hfi.request("GET", `/p${i}/x`));
  const labels = stats.renderPrometheus().split("\n")
    .map((l) => /^hfi_faults_policy_matched_total\{hfi_policy="(.*)"\} 1$/.exec(l)?.[1]).filter((l) => l !== undefined);
  assert.deepEqual([...labels].sort(), ["%2E%2Edots.%2E", "db_rq%5F503", "edge_rq%5F5xx", "ok-name.v2", "quote%22back%5Cslash", "spaced%20name%2F%FC"].sort());
  assert.deepEqual(labels.map((l) => unescape(l!)).sort(), [...names].sort());
  assert.ok(!stats.renderPrometheus().includes("envoy_response_code"), "no built-in response-code extractor cuts a policy name");
});

test("policies beyond max_labelled_policies count under _other, with one warning per proxy", async () => {
  const stats = taggedStats();
  const hfi = await startHfi({
    max_labelled_policies: 2,
    policies: ["a", "b", "c", "d"].map((n) => policy(n, { path: { prefix: `/${n}` } }, { percentage: n === "d" ? 40 : 10, abort: { httpStatus: 503 } })),
  }, { stats });
  for (const n of ["a", "b", "c", "d", "d"]) hfi.request("GET", `/${n}`);
  const prom = lines(stats.renderPrometheus());
  assert.ok(prom.includes('hfi_faults_policy_matched_total{hfi_policy="a"} 1'));
  assert.ok(prom.includes('hfi_faults_policy_matched_total{hfi_policy="b"} 1'));
  assert.ok(prom.includes('hfi_faults_policy_matched_total{hfi_policy="_other"} 3'));
  assert.ok(prom.includes('hfi_faults_policy_percentage_max{hfi_policy="_other"} 40'));
  assert.ok(!prom.some((l) => l.includes('hfi_policy="c"')));
  const warnings = hfi.logs("warn").filter((l) => l.includes("max_labelled_policies"));
  assert.equal(warnings.length, 1, warnings.join("\n"));
  assert.match(warnings[0], /2 policies over max_labelled_policies: hfi_policy="_other"/);
});

test("max_labelled_policies must be a whole number: anything else refuses the configuration", async () => {
  const hfi = await startHfiUnchecked({ max_labelled_policies: -1, policies: [] });
  assert.equal(hfi.plugin.ok, false);
  assert.ok(hfi.logs("error").some((l) => l.includes("configuration refused") && l.includes("max_labelled_policies") && l.includes("-1")), hfi.logs().join("\n"));
});

test("spec.mode dry_run: matched and sampled, counted as dry run with its kinds, nothing injected", async () => {
  const hfi = await startHfi({
    policies: [
      { metadata: { name: "preview" }, spec: { mode: "dry_run", rules: [{ match: { path: { prefix: "/x" } }, fault: { percentage: 100, delay: { fixed_delay_ms: 500 }, abort: { httpStatus: 503 } } }] } },
      { metadata: { name: "real" }, spec: { mode: "inject", rules: [{ match: { path: { prefix: "/y" } }, fault: ABORT }] } },
    ],
  });
  const s = hfi.request("GET", "/x");
  assert.ok(s.upstream.headers, "not held: the request went straight on");
  assert.equal(s.localReply, undefined);
  respond(s);
  assert.equal(s.downstream.headers?.get("x-fault-injected"), undefined, "no fault header");
  assert.equal(hfi.metric("hfi_faults_policy_dry_run_total.hfi_policy.preview.hfi_fault.delay"), 1);
  assert.equal(hfi.metric("hfi_faults_policy_dry_run_total.hfi_policy.preview.hfi_fault.abort"), 1);
  assert.equal(hfi.metric("hfi_faults_policy_injected_total.hfi_policy.preview.hfi_fault.abort"), 0);
  assert.equal(hfi.metric("hfi_faults_policy_matched_total.hfi_policy.preview"), 1);
  assert.equal(hfi.metric("hfi_faults_delays_total"), 0);
  assert.equal(hfi.metric("hfi_faults_aborts_total"), 0);
  assert.equal(hfi.metric("hfi_faults_active"), 0);
  assert.equal(hfi.request("GET", "/y").localReply?.status, 503, "mode inject injects");
});

test("global mode dry_run applies to every policy; a bad mode is an error naming the field and value", async () => {
  const hfi = await startHfi({ mode: "dry_run", policies: [policy("p", {}, ABORT)] });
  const s = hfi.request("GET", "/");
  assert.ok(s.upstream.headers);
  assert.equal(hfi.metric("hfi_faults_policy_dry_run_total.hfi_policy.p.hfi_fault.abort"), 1);

  const bad = await startHfi({ policies: [
    { metadata: { name: "typo" }, spec: { mode: "dry-run", rules: [{ match: {}, fault: ABORT }] } },
  ] });
  assert.ok(bad.logs("warn").some((l) => l.includes('policy "typo": spec.mode: must be "inject" or "dry_run", got "dry-run"')), bad.logs("warn").join("\n"));
  assert.ok(bad.request("GET", "/").upstream.headers, "the policy is dropped");

  // A bad switch refuses the configuration: the previous one (here: none) stays in force.
  const badGlobal = await startHfiUnchecked({ mode: "off", policies: [policy("p", {}, ABORT)] });
  assert.equal(badGlobal.plugin.ok, false);
  assert.ok(badGlobal.logs("error").some((l) => l.includes('configuration refused: configuration: mode: must be "inject" or "dry_run", got "off"')), badGlobal.logs().join("\n"));
});

test("access-log marks: filter state hfi_policy and hfi_fault on faulted and dry-run requests, absent on others", async () => {
  const hfi = await startHfi({
    policies: [
      policy("fails", { path: { prefix: "/fail" } }, ABORT),
      policy("slow-fail", { path: { prefix: "/both" } }, { percentage: 100, delay: { fixed_delay_ms: 10 }, abort: { httpStatus: 500 } }),
      { metadata: { name: "look" }, spec: { mode: "dry_run", rules: [{ match: { path: { prefix: "/look" } }, fault: { percentage: 100, delay: { fixed_delay_ms: 10 } } }] } },
    ],
  });
  const text = (v: Uint8Array | undefined) => (v === undefined ? undefined : Buffer.from(v).toString());
  const fail = hfi.request("GET", "/fail");
  assert.equal(text(fail.filterState.get("hfi_policy")), "fails");
  assert.equal(text(fail.filterState.get("hfi_fault")), "abort");
  const both = hfi.request("GET", "/both");
  assert.equal(text(both.filterState.get("hfi_fault")), "delay", "while held, only the delay has happened");
  hfi.clock.advance(10);
  assert.equal(both.localReply?.status, 500);
  assert.equal(text(both.filterState.get("hfi_fault")), "delay,abort", "what the access log reads at the stream's end");
  // A client that leaves during the delay never gets the abort: the mark says so, as the counts do.
  const left = hfi.request("GET", "/both");
  left.reset();
  hfi.clock.advance(10);
  assert.equal(text(left.filterState.get("hfi_fault")), "delay");
  assert.equal(hfi.metric("hfi_faults_policy_injected_total.hfi_policy.slow-fail.hfi_fault.delay"), 2);
  assert.equal(hfi.metric("hfi_faults_policy_injected_total.hfi_policy.slow-fail.hfi_fault.abort"), 1);
  const look = hfi.request("GET", "/look");
  assert.equal(text(look.filterState.get("hfi_policy")), "look");
  assert.equal(text(look.filterState.get("hfi_fault")), "dry_run:delay");
  const plain = respond(hfi.request("GET", "/other"));
  assert.equal(plain.filterState.size, 0, "nothing set on a request no policy faulted");
});

test("resets and response faults have their own hfi_fault kind, in the per-policy series and the access-log mark", async () => {
  const stats = taggedStats();
  const hfi = await startHfi({
    policies: [
      policy("drop", { path: { prefix: "/drop" } }, { percentage: 100, reset: true }),
      policy("rewrite", { path: { prefix: "/rewrite" } }, { percentage: 100, delay: { fixed_delay_ms: 10 }, response: { httpStatus: 503, body: "x" } }),
      { metadata: { name: "look" }, spec: { mode: "dry_run", rules: [{ match: { path: { prefix: "/look" } }, fault: { percentage: 100, reset: true } }] } },
    ],
  }, { stats });
  const text = (v: Uint8Array | undefined) => (v === undefined ? undefined : Buffer.from(v).toString());
  const drop = hfi.request("GET", "/drop");
  assert.equal(drop.state, "reset");
  assert.equal(text(drop.filterState.get("hfi_fault")), "reset");
  const rewrite = hfi.request("GET", "/rewrite");
  assert.equal(text(rewrite.filterState.get("hfi_fault")), "delay");
  hfi.clock.advance(10);
  assert.equal(respond(rewrite).reply.status, 503);
  assert.equal(text(rewrite.filterState.get("hfi_fault")), "delay,response");
  const look = respond(hfi.request("GET", "/look"));
  assert.equal(text(look.filterState.get("hfi_fault")), "dry_run:reset");
  const prom = lines(stats.renderPrometheus());
  for (const line of [
    'hfi_faults_policy_injected_total{hfi_policy="drop",hfi_fault="reset"} 1',
    'hfi_faults_policy_injected_total{hfi_policy="rewrite",hfi_fault="delay"} 1',
    'hfi_faults_policy_injected_total{hfi_policy="rewrite",hfi_fault="response"} 1',
    'hfi_faults_policy_dry_run_total{hfi_policy="look",hfi_fault="reset"} 1',
  ]) assert.ok(prom.includes(line), `${line}\n${prom.filter((l) => l.includes("hfi_faults_policy_")).join("\n")}`);
});
