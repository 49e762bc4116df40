/** Configuration: strict validation with precise errors, refusal, reconfiguration, selectors, expiry. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { istioNode } from "../../host/index";
import { policy, respond, startHfi, startHfiUnchecked } from "../helpers/hfi";

const ok = { percentage: 100, abort: { httpStatus: 503 } };
const rule = (fault: object, match: object = {}) => ({ match, fault });
const named = (name: string, ...rules: object[]) => ({ metadata: { name }, spec: { rules } });

// Each bad policy, the exact log line it must produce, and proof that the rest still applies.
const BAD: Array<[string, object, string]> = [
  ["status out of range", named("p", rule({ percentage: 100, abort: { httpStatus: 700 } })),
    'policy "p" rule 0: fault.abort.httpStatus: must be an HTTP status from 200 to 599, got 700'],
  ["status not an integer", named("p", rule({ percentage: 100, abort: { httpStatus: 503.5 } })),
    'policy "p" rule 0: fault.abort.httpStatus: must be an HTTP status from 200 to 599, got 503.5'],
  ["grpc status out of range", named("p", rule({ percentage: 100, abort: { httpStatus: 503, grpcStatus: 20 } })),
    'policy "p" rule 0: fault.abort.grpcStatus: must be a gRPC error status from 1 to 16 (0 is OK, not a fault), got 20'],
  ["grpc status 0 (OK is not a fault)", named("p", rule({ percentage: 100, abort: { grpcStatus: 0 } })),
    'policy "p" rule 0: fault.abort.grpcStatus: must be a gRPC error status from 1 to 16 (0 is OK, not a fault), got 0'],
  ["a misspelt selector (it would widen the policy to every workload)", { metadata: { name: "p" }, spec: { selectr: { service: "payments" }, rules: [rule({ percentage: 100, abort: { httpStatus: 503 } })] } },
    'policy "p": spec.selectr: unknown field (did you mean "selector"?) (expected selector, direction, destination, rules, mode, exclude, guard or schedule)'],
  ["a misspelt match condition", named("p", rule({ percentage: 100, abort: { httpStatus: 503 } }, { pth: { prefix: "/x" } })),
    'policy "p" rule 0: match.pth: unknown field (did you mean "path"?) (expected method, path or headers)'],
  ["percentage above 100", named("p", rule({ percentage: 150, abort: { httpStatus: 503 } })),
    'policy "p" rule 0: fault.percentage: must be a number from 0 to 100, got 150'],
  ["percentage as a string", named("p", rule({ percentage: "50", abort: { httpStatus: 503 } })),
    'policy "p" rule 0: fault.percentage: must be a number from 0 to 100, got "50"'],
  ["missing percentage", named("p", rule({ abort: { httpStatus: 503 } })),
    'policy "p" rule 0: fault.percentage: is required (0 to 100)'],
  ["negative delay", named("p", rule({ percentage: 100, delay: { fixed_delay_ms: -1 } })),
    'policy "p" rule 0: fault.delay.fixed_delay_ms: must be a whole number of milliseconds >= 0, got -1'],
  ["negative start delay", named("p", rule({ percentage: 100, start_delay_ms: -5, abort: { httpStatus: 500 } })),
    'policy "p" rule 0: fault.start_delay_ms: must be a whole number of milliseconds >= 0, got -5'],
  ["two string matchers", named("p", rule(ok, { path: { exact: "/a", prefix: "/" } })),
    'policy "p" rule 0: match.path: needs exactly one of exact, prefix, suffix, contains, regex; got {"exact":"/a","prefix":"/"}'],
  ["no string matcher", named("p", rule(ok, { method: {} })),
    'policy "p" rule 0: match.method: needs exactly one of exact, prefix, suffix, contains, regex; got {}'],
  ["empty header name", named("p", rule(ok, { headers: [{ name: "", exact: "x" }] })),
    'policy "p" rule 0: match.headers[0].name: must be a non-empty header name, got ""'],
  ["backtracking-only regex", named("p", rule(ok, { headers: [{ name: "x-id", regex: "(a)\\1" }] })),
    'policy "p" rule 0: match.headers[0].regex: invalid regex "(a)\\\\1": unsupported syntax \'\\1\' at offset 3: backreferences are not supported'],
  ["unknown fault field", named("p", rule({ percentage: 100, delay: { fixed_delay: 5 } })),
    'policy "p" rule 0: fault.delay.fixed_delay: unknown field (expected one of fixed_delay_ms, uniform, normal, lognormal or percentiles)'],
  ["no abort nor delay", named("p", rule({ percentage: 10 })),
    'policy "p" rule 0: fault: needs an abort, a delay, a reset or a response (or from_headers: true); got {"percentage":10}'],
  ["rule without match", { metadata: { name: "p" }, spec: { rules: [{ fault: ok }] } },
    'policy "p" rule 0: match: must be an object (use {} to match every request), got nothing'],
  ["policy without name", { metadata: {}, spec: { rules: [rule(ok)] } },
    'policies[0]: metadata.name: must be a non-empty string, got nothing'],
];

for (const [what, bad, message] of BAD) {
  test(`a bad rule refuses its policy with a precise error: ${what}`, async () => {
    const hfi = await startHfi({ policies: [bad, policy("good", { path: { prefix: "/good" } }, ok)] });
    const warnings = hfi.logs("warn");
    assert.ok(warnings.includes(`hfi: ${message} (in plugin configuration; dropped)`), `expected:\n  ${message}\ngot:\n  ${warnings.join("\n  ")}`);
    // Envoy configures the canary and then the worker, sharing stats, log and shared data: the
    // problem is counted and warned once per proxy (by the canary, which sees it first); the
    // worker repeats it only at debug (config-problems.test.ts).
    assert.equal(hfi.metric("hfi_faults_config_errors_total"), 1, "counted once for the proxy");
    assert.equal(hfi.metric("hfi_faults_config_problems"), 1, "one problem in force");
    assert.equal(hfi.canary.logs("warn").filter((l) => l.includes(message)).length, 1, "the canary warns once");
    assert.equal(hfi.workerLogs("warn").filter((l) => l.includes(message)).length, 0, "the worker does not warn again");
    assert.equal(hfi.request("GET", "/good").localReply?.status, 503, "the rest of the set still applies");
  });
}

test("a broken rule refuses its whole policy; other policies stay", async () => {
  const hfi = await startHfi({ policies: [
    named("mixed", rule({ percentage: 100, abort: { httpStatus: 999 } }, { path: { exact: "/bad" } }), rule(ok, { path: { exact: "/fine" } })),
    policy("other", { path: { exact: "/other" } }, ok),
  ] });
  assert.equal(respond(hfi.request("GET", "/fine")).reply.status, 200, "half a policy is not what its author asked for");
  assert.equal(respond(hfi.request("GET", "/bad")).reply.status, 200);
  assert.equal(hfi.request("GET", "/other").localReply?.status, 503);
  assert.equal(hfi.metric("hfi_faults_config_problems"), 1);
});

test("a configuration that is not JSON is refused, and the previous one stays in force", async () => {
  const hfi = await startHfi({ policies: [policy("kept", {}, ok)] });
  // Envoy (like the host) tries a new configuration before it replaces the running one.
  const result = hfi.plugin.reconfigure("{ policies: [ this is not json");
  assert.equal(result.ok, false);
  assert.equal(result.stage, "configure");
  const refusal = result.logs.map((l) => l.message).find((m) => m.includes("configuration refused"));
  assert.match(refusal ?? "", /^hfi: configuration refused: plugin configuration is not valid JSON: .+ at line 1, column 3 \(byte 2\)$/);
  assert.equal(hfi.request("GET", "/").localReply?.status, 503, "old policies still inject");
});

test("a first configuration that is not JSON fails the plugin start (on_configure returns 0)", async () => {
  const hfi = await startHfiUnchecked("{garbage");
  assert.equal(hfi.plugin.ok, false);
  assert.equal(hfi.plugin.result.stage, "configure");
});

for (const [what, config, expected] of [
  ["an array", "[1, 2]", "plugin configuration must be a JSON object, got [1,2]"],
  ["trailing garbage", '{"policies": []}}}', "plugin configuration is not valid JSON: "],
  ["a number", "42", "plugin configuration must be a JSON object, got 42"],
  ["plain words", "please inject faults", "plugin configuration is neither a JSON object nor a host:port address: please inject faults"],
] as const) {
  test(`refuses ${what} with a clear reason`, async () => {
    const hfi = await startHfiUnchecked(config);
    assert.equal(hfi.plugin.ok, false);
    assert.ok(hfi.logs("error").some((l) => l.includes(expected)), hfi.logs().join("\n"));
  });
}

test("out-of-range and unknown settings refuse the configuration, every out-of-range one named", async () => {
  const hfi = await startHfiUnchecked({ max_delay_ms: -5, max_active_faults: 1.5, policies: [policy("slow", {}, { percentage: 100, delay: { fixed_delay_ms: 400 } })] });
  assert.equal(hfi.plugin.ok, false);
  const line = hfi.logs("error").find((l) => l.includes("configuration refused"));
  assert.equal(line, "hfi: configuration refused: configuration: max_delay_ms: must be a whole number of ms from 0 to 86400000, got -5; " +
    "configuration: max_active_faults: must be a whole number >= 0, got 1.5", hfi.logs().join("\n"));
  const refused = await startHfiUnchecked({ max_active_fault: 3 });
  assert.equal(refused.plugin.ok, false);
  assert.ok(refused.logs("error").some((l) => l.includes('configuration refused: configuration: max_active_fault: unknown setting (did you mean "max_active_faults"?)')), refused.logs().join("\n"));
});

test("a reconfiguration replaces the policies without a restart", async () => {
  const hfi = await startHfi({ policies: [policy("a", {}, { percentage: 100, abort: { httpStatus: 500 } })] });
  assert.equal(hfi.request("GET", "/").localReply?.status, 500);
  assert.ok(hfi.plugin.reconfigure({ policies: [policy("b", {}, { percentage: 100, abort: { httpStatus: 502 } })] }).ok);
  assert.equal(hfi.request("GET", "/").localReply?.status, 502);
  assert.ok(hfi.plugin.reconfigure({ policies: [] }).ok);
  assert.equal(respond(hfi.request("GET", "/")).reply.status, 200);
});

test("selectors: service matches WORKLOAD_NAME or the app / canonical-name label; namespace matches NAMESPACE", async () => {
  const policies = [
    policy("by-workload", { path: { exact: "/w" } }, ok, { service: "frontend-v2", namespace: "demo" }),
    policy("by-app", { path: { exact: "/a" } }, ok, { service: "frontend" }),
    policy("by-canonical", { path: { exact: "/c" } }, ok, { service: "frontend-svc", namespace: "*" }),
    policy("other-ns", { path: { exact: "/n" } }, ok, { namespace: "prod" }),
    policy("other-service", { path: { exact: "/o" } }, ok, { service: "backend" }),
    policy("everyone", { path: { exact: "/e" } }, ok, { service: "*", namespace: "" }),
  ];
  const node = istioNode({ workloadName: "frontend-v2", namespace: "demo", labels: { app: "frontend", "service.istio.io/canonical-name": "frontend-svc" } });
  const hfi = await startHfi({ policies }, { node });
  const injected = (h: typeof hfi, p: string) => h.request("GET", p).localReply !== undefined;
  assert.deepEqual(["/w", "/a", "/c", "/n", "/o", "/e"].map((p) => injected(hfi, p)), [true, true, true, false, false, true]);
  // Outside Istio the identity is unknown: only wildcard policies apply.
  const bare = await startHfi({ policies });
  assert.deepEqual(["/w", "/a", "/c", "/n", "/o", "/e"].map((p) => injected(bare, p)), [false, false, false, false, false, true]);
});

test("duration_seconds: a rule stops injecting when its time is up, and re-applying it does not restart the clock", async () => {
  const config = { policies: [policy("ten-minutes", {}, { percentage: 100, abort: { httpStatus: 500 }, duration_seconds: 600 })] };
  const hfi = await startHfi(config);
  assert.equal(hfi.request("GET", "/").localReply?.status, 500);
  hfi.clock.advance(300_000);
  assert.ok(hfi.plugin.reconfigure(config).ok, "the same policy pushed again (e.g. another setting changed)");
  hfi.clock.advance(299_999);
  assert.equal(hfi.request("GET", "/").localReply?.status, 500, "still inside the 600 s");
  hfi.clock.advance(1);
  assert.equal(respond(hfi.request("GET", "/")).reply.status, 200, "expired 600 s after it was first seen");
  // A changed policy is a new experiment with a fresh clock.
  assert.ok(hfi.plugin.reconfigure({ policies: [policy("ten-minutes", {}, { percentage: 100, abort: { httpStatus: 502 }, duration_seconds: 600 })] }).ok);
  assert.equal(hfi.request("GET", "/").localReply?.status, 502);
});
