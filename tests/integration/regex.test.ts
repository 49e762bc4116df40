/**
 * Regex rules on the real build/plugin.wasm: byte-exact matching (invalid UTF-8 is matched by
 * nothing, as by Envoy's RE2), patterns refused at configure time with the limit named, and
 * memory that stays small when a huge pattern is refused. Header values are sent as latin1
 * strings: each character is one byte on the wire (host/headers.ts).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startHfi, startHfiUnchecked } from "../helpers/hfi";

const abort = { percentage: 100, abort: { httpStatus: 503 } };
const onPath = (regex: string) => ({ policies: [{ metadata: { name: "p" }, spec: { rules: [{ match: { path: { regex } }, fault: abort }] } }] });
const onHeader = (regex: string) => ({ policies: [{ metadata: { name: "p" }, spec: { rules: [{ match: { headers: [{ name: "x-env", regex }] }, fault: abort }] } }] });

async function pathAborted(regex: string, path: string): Promise<boolean> {
  const hfi = await startHfi(onPath(regex));
  return hfi.request("GET", path).localReply?.status === 503;
}

// The cases: each pair (pattern, path bytes) and whether Envoy's RE2 would match.
const BYTES: Array<[string, string, boolean]> = [
  ["^/test-[0-9]+$", "/test-1\xff", false],
  ["^/test-[0-9]+$", "/test-12", true],
  ["^/prod$", "/prod\xff", false],
  ["^/$", "\xc0\xaf", false], // an overlong '/'
  ["admin", "/\xffadmin", true],
  ["^/caf.$", "/caf\xc3\xa9", true], // é is one character, two bytes
  ["^/caf.$", "/caf\xe9", false], // a latin1 é alone is not UTF-8
  ["^/café$", "/caf\xc3\xa9", true],
  ["^/[^a]$", "/\x80", false],
];

for (const [regex, path, expected] of BYTES) {
  test(`path regex ${JSON.stringify(regex)} on the bytes ${JSON.stringify(path)}: ${expected ? "matches" : "does not match"}`, async () => {
    assert.equal(await pathAborted(regex, path), expected);
  });
}

test("ordinary header patterns are accepted and match as RE2 does", async () => {
  const cases: Array<[string, string, boolean]> = [
    ["^test-[0-9]+$", "test-42", true],
    ["^test-[0-9]+$", "test-42x", false],
    [".*canary.*", "a-canary-b", true],
    [".*canary.*", "canar", false],
    ["(foo|bar|baz)-[a-z]{1,20}", "xbar-qq", true],
    ["^[a-z0-9._%+-]+@[a-z0-9.-]+\\.[a-z]{2,}$", "jane.doe@example.org", true],
    ["^[a-z0-9._%+-]+@[a-z0-9.-]+\\.[a-z]{2,}$", "jane.doe@example", false],
    [".{0,100}z", "y".repeat(5000) + "z", true],
  ];
  for (const [regex, value, expected] of cases) {
    const hfi = await startHfi(onHeader(regex));
    const status = hfi.request("GET", "/", [["x-env", value]]).localReply?.status;
    assert.equal(status === 503, expected, `${regex} on ${value.slice(0, 40)}`);
  }
});

test("a pattern whose automaton would be too large is refused with the limit named", async () => {
  const hfi = await startHfiUnchecked(onHeader("(a|b)*a(a|b){15}"));
  const warnings = hfi.logs("warn").join("\n");
  assert.match(warnings, /match\.headers\[0\]\.regex: invalid regex .*pattern too complex: its automaton needs more than 65535 transitions \(MAX_DFA_TRANSITIONS/);
  assert.match(warnings, /use smaller repetition counts, anchor it with \^, or split it/);
  // The rule is not in force: the request passes.
  assert.equal(hfi.request("GET", "/", [["x-env", "ab".repeat(20)]]).localReply, undefined);
});

test("a counted repetition over the program limit is refused with MAX_PROGRAM_SIZE named", async () => {
  const hfi = await startHfiUnchecked(onHeader(".{0,1000}z"));
  assert.match(hfi.logs("warn").join("\n"), /pattern too large: it compiles to more than 10000 instructions \(MAX_PROGRAM_SIZE/);
});

test("a 4 MiB pattern is refused before anything is built from it, and VM memory stays small", async () => {
  // The configuration's own size limit (4 MiB) refuses it before JSON parsing.
  const hfi = await startHfiUnchecked(onHeader("a".repeat(4 * 1024 * 1024)));
  assert.equal(hfi.plugin.ok, false);
  assert.match(hfi.logs("error").join("\n"), /plugin configuration is \d+ bytes long, over the 4194304-byte limit/);
  const bytes = hfi.vm.module.memory.buffer.byteLength;
  assert.ok(bytes <= 64 * 1024 * 1024, `VM memory ${bytes} bytes`);
});

test("a pattern over 4,096 characters is refused before it is parsed, with MAX_PATTERN_LENGTH named", async () => {
  const hfi = await startHfiUnchecked(onHeader("a".repeat(5000)));
  assert.match(hfi.logs("warn").join("\n"), /pattern too long: 5000 characters; the limit is 4096 \(MAX_PATTERN_LENGTH\)/);
  assert.ok(hfi.vm.module.memory.buffer.byteLength <= 16 * 1024 * 1024);
});

test("one configuration compiles at most 32768 pattern characters; the next configuration starts over", async () => {
  const long = (i: number) => `^${String.fromCharCode(97 + i)}${"a".repeat(3999)}`;
  const policies = Array.from({ length: 10 }, (_, i) => ({ metadata: { name: `p${i}` }, spec: { rules: [{ match: { headers: [{ name: "x-env", regex: long(i) }] }, fault: abort }] } }));
  const config = { policies };
  const hfi = await startHfiUnchecked(config);
  const warnings = hfi.logs("warn").join("\n");
  // 8 patterns of 4,000 characters fit; the 9th does not.
  assert.match(warnings, /policy "p8" rule 0: match\.headers\[0\]\.regex: invalid regex .*too much regex in one configuration: with this pattern, more than 32768 characters of patterns in all \(MAX_TOTAL_PATTERN_LENGTH\)/);
  assert.doesNotMatch(warnings, /policy "p7"/);
  assert.equal(hfi.request("GET", "/", [["x-env", long(7).slice(1)]]).localReply?.status, 503);
  assert.equal(hfi.request("GET", "/", [["x-env", long(8).slice(1)]]).localReply, undefined);
  // The same configuration again: the budget is per configuration, not per VM.
  const again = hfi.plugin.reconfigure(config);
  assert.ok(again.ok);
  assert.equal(again.logs.filter((l) => l.message.includes('policy "p7"')).length, 0);
  assert.equal(hfi.request("GET", "/", [["x-env", long(7).slice(1)]]).localReply?.status, 503);
});

test("the DFA tables of one configuration are bounded: MAX_TOTAL_DFA_TRANSITIONS is named when exceeded", async () => {
  // Ten patterns on each of four headers: under the per-input limit, over the tables' total.
  const policies = Array.from({ length: 40 }, (_, i) => ({ metadata: { name: `p${i}` }, spec: { rules: [{ match: { headers: [{ name: "x-env", regex: "(a|b)*a(a|b){12}" }].map((h) => ({ ...h, name: i < 10 ? "x-env" : `x-env-${i % 4}` })) }, fault: abort }] } }));
  const hfi = await startHfiUnchecked({ policies });
  const refused = hfi.logs("warn").filter((l) => l.includes("invalid regex"));
  assert.ok(refused.length > 0 && refused.length < 40, `${refused.length} refused`);
  for (const line of refused) assert.match(line, /too much regex in one configuration: its automata need more than 1048576 transitions in all \(MAX_TOTAL_DFA_TRANSITIONS\)/);
  // The accepted ones work.
  assert.equal(hfi.request("GET", "/", [["x-env", "a" + "b".repeat(12)]]).localReply?.status, 503);
  assert.equal(hfi.request("GET", "/", [["x-env", "b".repeat(13)]]).localReply, undefined);
  assert.ok(hfi.vm.module.memory.buffer.byteLength <= 16 * 1024 * 1024, `VM memory ${hfi.vm.module.memory.buffer.byteLength}`);
});

test("a pattern whose start state no longer fits the configuration's automaton budget is refused, never accepted half-built", async () => {
  // Fill the budget with header patterns of shrinking size (each its own policy and header) until
  // even a one-letter pattern is refused; then a path pattern that matches one path only. Built
  // half, it would answer random paths with aborts.
  const fillers: Array<[string, number]> = [["^[a-h]{0,1000}$", 400], ["^[a-h]{0,100}$", 100], ["^[a-h]{0,10}$", 100], ["^a$", 100]];
  const policies: object[] = [];
  let n = 0;
  for (const [regex, copies] of fillers) {
    for (let copy = 0; copy < copies; copy++, n++) {
      policies.push({ metadata: { name: `f${n}` }, spec: { rules: [{ match: { headers: [{ name: `x-f${n}`, regex }] }, fault: abort }] } });
    }
  }
  policies.push({ metadata: { name: "target" }, spec: { rules: [{ match: { path: { regex: "^/never-matches$" } }, fault: abort }] } });
  const hfi = await startHfiUnchecked({ policies });
  assert.ok(hfi.logs("warn").some((l) => l.includes("MAX_TOTAL_DFA_TRANSITIONS")), "the budget is named");
  // Every filler matches "a" on its own header: the first fit, the last one-letter one does not.
  assert.equal(hfi.request("GET", "/", [["x-f0", "a"]]).localReply?.status, 503, "the first filler is in force");
  assert.equal(hfi.request("GET", "/", [[`x-f${n - 1}`, "a"]]).localReply, undefined, "the budget ran out before the last one-letter filler");
  assert.equal(hfi.request("GET", "/never-matches").localReply, undefined, "the pattern with no room is refused, not in force");
  let aborted = 0;
  let seed = 7;
  for (let i = 0; i < 2000; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const path = "/" + seed.toString(36) + (i % 3 === 0 ? "/never" : "");
    if (hfi.request("GET", path).localReply !== undefined) aborted++;
  }
  assert.equal(aborted, 0, "a refused pattern injects nothing");
});
