/**
 * Size limits on the real module (docs/limits.md): each is refused with a message naming the
 * limit, the field and the value's size, before anything of that size is built.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ClusterReply } from "../../host/index";
import { policy, respond, startHfi, startHfiUnchecked, type Hfi } from "../helpers/hfi";

const ok = { percentage: 100, abort: { httpStatus: 503 } };
const named = (name: string, ...rules: object[]) => ({ metadata: { name }, spec: { rules } });
const rule = (match: object = {}, fault: object = ok) => ({ match, fault });
const good = policy("good", { path: { prefix: "/good" } }, ok);

function status(hfi: Hfi, path: string, headers: Array<[string, string]> = []): number {
  const s = hfi.request("GET", path, headers);
  if (s.localReply) return s.localReply.status;
  respond(s);
  return s.reply.status ?? 0;
}

/** The configuration is refused as a whole, with exactly this reason. */
async function refused(config: object | string, reason: string): Promise<void> {
  const hfi = await startHfiUnchecked(config, { logLevel: "warn" });
  assert.equal(hfi.plugin.ok, false, "refused");
  const errors = hfi.logs("error");
  assert.ok(errors.includes(`hfi: configuration refused: ${reason}`), `expected:\n  ${reason}\ngot:\n  ${errors.join("\n  ")}`);
}

/** One part is dropped with exactly this message; the rest of the set still applies. */
async function dropped(config: { policies: object[] }, message: string): Promise<Hfi> {
  const hfi = await startHfi({ ...config, policies: [...config.policies, good] });
  const warnings = hfi.logs("warn");
  assert.ok(warnings.includes(`hfi: ${message} (in plugin configuration; dropped)`), `expected:\n  ${message}\ngot:\n  ${warnings.join("\n  ")}`);
  assert.equal(status(hfi, "/good"), 503, "the rest still applies");
  return hfi;
}

test("a configuration over 4 MiB is refused before it is parsed", async () => {
  const config = JSON.stringify({ policies: [], pad: "x".repeat(4 * 1024 * 1024) });
  await refused(config, `plugin configuration is ${config.length} bytes long, over the 4194304-byte limit`);
});

test("a configuration over 4 MiB is refused on its size: the VM reads only its start, and reports each one once", async () => {
  const config = (fill: string) => JSON.stringify({ policies: [], pad: fill.repeat(20 * 1024 * 1024) });
  const first = config("x");
  const hfi = await startHfiUnchecked(first, { canary: false, logLevel: "warn" });
  assert.equal(hfi.plugin.ok, false);
  assert.deepEqual(hfi.logs("error"), [`hfi: configuration refused: plugin configuration is ${first.length} bytes long, over the 4194304-byte limit`]);
  const bytes = hfi.vm.module.memory.buffer.byteLength;
  assert.ok(bytes <= 4 * 1024 * 1024, `the VM grew to ${bytes} bytes for a configuration it refused`);
  assert.equal(hfi.metric("hfi_faults_config_errors_total"), 1);
  // Another oversized configuration (another start) is reported and counted again; the same one is not.
  hfi.plugin.reconfigure(config("y"));
  hfi.plugin.reconfigure(config("y"));
  assert.equal(hfi.metric("hfi_faults_config_errors_total"), 2);
});

test("a string over 64 KiB is refused by the JSON reader, naming the member and its size", async () => {
  await refused({ metric_prefix: "m".repeat(65537) },
    'plugin configuration is not valid JSON: string of 65537 bytes (in "metric_prefix") is over the 65536-byte limit for a string at line 1, column 18 (byte 17)');
});

test("a document of more than 100,000 JSON values is refused, whatever its shape", async () => {
  await refused({ policies: [], pad: new Array(100000).fill(0) },
    "plugin configuration is not valid JSON: too many values: more than 100000 (the limit for a document) at line 1, column 200017 (byte 200016)");
});

test("more than 5,000 policies are refused as a whole", async () => {
  const policies = Array.from({ length: 5001 }, (_, i) => named(`p${i}`, rule()));
  await refused({ policies }, "configuration: policies: has 5001 policies, over the limit of 5000");
  assert.equal((await startHfi({ policies: policies.slice(0, 5000) })).plugin.ok, true, "5,000 are accepted");
});

test("more than 10,000 rules in all are refused as a whole", async () => {
  const policies = Array.from({ length: 101 }, (_, i) => named(`p${i}`, ...Array.from({ length: 100 }, () => rule())));
  await refused({ policies }, "configuration: policies: has 10100 rules in all, over the limit of 10000");
});

test("more than 4,096 distinct header names are refused as a whole; 4,096 all work", async () => {
  const withNames = (count: number) => Array.from({ length: Math.ceil(count / 32) }, (_, p) =>
    named(`h${p}`, rule({ headers: Array.from({ length: Math.min(32, count - p * 32) }, (_, i) => ({ name: `x-${p}-${i}`, exact: "on" })) })));
  await refused({ policies: withNames(4097) },
    'policy "h128" rule 0: match.headers[0].name: the document names more than 4096 distinct headers (the limit)');
  const hfi = await startHfi({ policies: [...withNames(4096), policy("last", { headers: [{ name: "x-127-31", exact: "yes" }] }, { percentage: 100, abort: { httpStatus: 418 } })] });
  assert.equal(status(hfi, "/", [["x-127-31", "yes"]]), 418, "the 4,096th name has its own slot");
  assert.equal(status(hfi, "/", [["x-127-31", "on"], ...Array.from({ length: 31 }, (_, i) => [`x-127-${i}`, "on"] as [string, string])]), 503);
});

test("more than 1,000 regex conditions are refused as a whole; what regexes cost is the regex engine's budget", async () => {
  const withRegexes = (count: number, pattern: string) => Array.from({ length: Math.ceil(count / 32) }, (_, p) =>
    named(`r${p}`, rule({ headers: Array.from({ length: Math.min(32, count - p * 32) }, (_, i) => ({ name: `x-${i}`, regex: pattern })) })));
  await refused({ policies: withRegexes(1001, "^test-[0-9]+$") },
    'policy "r31" rule 0: match.headers[8].regex: the document has more than 1000 regex conditions (the limit)');
  assert.equal((await startHfi({ policies: withRegexes(1000, "^test-[0-9]+$") })).plugin.ok, true, "1,000 are accepted");
  // Large programs are bounded per pattern and per configuration by the regex engine
  // (MAX_PROGRAM_SIZE, MAX_TOTAL_DFA_TRANSITIONS, ...: tests/integration/regex.test.ts); 32 of
  // these have small automata and are accepted.
  assert.equal((await startHfi({ policies: withRegexes(32, "[a-z]{1,1000}") })).plugin.ok, true);
});

test("regex patterns of more than 64 KiB in all are refused as a whole, before the next one is compiled", async () => {
  const policies = Array.from({ length: 9 }, (_, p) => policy(`r${p}`, { headers: [{ name: "x", regex: `[${"a".repeat(7998)}]` }] }, ok)); // 8,000 bytes, one instruction each
  await refused({ policies }, 'policy "r8" rule 0: match.headers[0].regex: the document\'s regex patterns are more than 65536 bytes in all (the limit)');
});

test("a policy name over 253 bytes drops the policy; 253 are accepted", async () => {
  const long = "n".repeat(254);
  await dropped({ policies: [named(long, rule())] }, `policies[0]: metadata.name: is 254 bytes long, over the 253-byte limit: "${"n".repeat(79)}...`);
  const hfi = await startHfi({ policies: [named("n".repeat(253), rule())] });
  assert.equal(status(hfi, "/"), 503);
});

test("more than 100 rules in a policy drop the policy", async () => {
  await dropped({ policies: [named("big", ...Array.from({ length: 101 }, () => rule()))] }, 'policy "big": spec.rules: has 101 rules, over the limit of 100');
});

test("more than 32 header conditions in a rule drop the rule", async () => {
  const headers = Array.from({ length: 33 }, (_, i) => ({ name: `x-${i}`, present: true }));
  await dropped({ policies: [named("wide", rule({ headers }))] }, 'policy "wide" rule 0: match.headers: has 33 header conditions, over the limit of 32');
});

test("header names, literals, patterns and selectors over their limits drop their rule or policy", async () => {
  await dropped({ policies: [named("h", rule({ headers: [{ name: "x".repeat(257), present: true }] }))] },
    `policy "h" rule 0: match.headers[0].name: is 257 bytes long, over the 256-byte limit: "${"x".repeat(79)}...`);
  await dropped({ policies: [named("l", rule({ path: { prefix: "/".repeat(8193) } }))] },
    `policy "l" rule 0: match.path.prefix: is 8193 bytes long, over the 8192-byte limit: "${"/".repeat(79)}...`);
  await dropped({ policies: [named("r", rule({ headers: [{ name: "x", regex: "a".repeat(8193) }] }))] },
    `policy "r" rule 0: match.headers[0].regex: is 8193 bytes long, over the 8192-byte limit: "${"a".repeat(79)}...`);
  await dropped({ policies: [{ metadata: { name: "s" }, spec: { selector: { service: "s".repeat(254) }, rules: [rule()] } }] },
    `policy "s": spec.selector.service: is 254 bytes long, over the 253-byte limit: "${"s".repeat(79)}...`);
});

test("a metric_prefix over 128 bytes refuses the configuration", async () => {
  const hfi = await startHfiUnchecked({ metric_prefix: "p".repeat(129), policies: [good] });
  assert.equal(hfi.plugin.ok, false);
  assert.ok(hfi.logs("error").some((l) => l.includes("configuration refused: configuration: metric_prefix: is 129 bytes long, over the 128-byte limit")), hfi.logs().join("\n"));
});

test("a control-plane body over a count limit is refused and the last good set stays", async () => {
  const CLUSTER = "outbound|8080||cp.test.svc.cluster.local";
  let reply: ClusterReply = { status: 200, body: JSON.stringify({ policies: [policy("live", {}, ok)] }) };
  const hfi = await startHfi({ control_plane: { cluster: CLUSTER, authority: "cp:8080", poll_interval_ms: 1000, timeout_ms: 500 } },
    { clusters: { [CLUSTER]: () => reply } });
  hfi.clock.advance(1000);
  assert.equal(status(hfi, "/"), 503);
  reply = { status: 200, body: JSON.stringify({ policies: Array.from({ length: 5001 }, (_, i) => named(`p${i}`, rule({}, { percentage: 100, abort: { httpStatus: 502 } }))) }) };
  hfi.clock.advance(3000);
  assert.equal(status(hfi, "/"), 503, "still the last good set");
  assert.ok(hfi.logs("warn").some((l) => l.includes("failed: body refused: configuration: policies: has 5001 policies, over the limit of 5000")), hfi.logs("warn").join("\n"));
});
