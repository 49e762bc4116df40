/**
 * The plugin never traps (a trap kills the VM inside Envoy): thousands of mangled
 * configurations, control-plane bodies and request headers, and the VM is still healthy and
 * still injecting.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { policy, respond, startHfi } from "../helpers/hfi";

/** Deterministic pseudo-random numbers, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The plugin configuration of envoy/envoy.yaml (its fixed copy in tests/fixtures): a realistic starting point. */
function exampleConfiguration(): string {
  const envoy = parse(readFileSync(path.resolve(__dirname, "..", "fixtures", "envoy.yaml"), "utf8"));
  const filters = envoy.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters;
  return filters.find((f: { name: string }) => f.name === "envoy.filters.http.wasm").typed_config.config.configuration.value;
}

const SPICE = ['{', '}', '[', ']', '"', ':', ',', '\\', '\\u', '\\ud800', '1e999', '-0', 'null', 'true', '"\u0000"', '\uffff', '(a+)+$', '[', '(?=x)', '{1001}', '9'.repeat(40)];

function mutate(text: string, random: () => number): Buffer {
  const bytes = Buffer.from(text, "utf8");
  switch (Math.floor(random() * 6)) {
    case 0: return bytes.subarray(0, Math.floor(random() * bytes.length)); // truncated
    case 1: { // random byte flips, including invalid UTF-8
      const out = Buffer.from(bytes);
      for (let i = 0; i < 1 + random() * 8; i++) out[Math.floor(random() * out.length)] = Math.floor(random() * 256);
      return out;
    }
    case 2: { // a token inserted somewhere
      const at = Math.floor(random() * text.length);
      return Buffer.from(text.slice(0, at) + SPICE[Math.floor(random() * SPICE.length)] + text.slice(at), "utf8");
    }
    case 3: return Buffer.from("[".repeat(1 + Math.floor(random() * 5000)) + text, "utf8"); // deep nesting
    case 4: return Buffer.from(text + text.slice(0, Math.floor(random() * 50)), "utf8"); // trailing garbage
    default: { // a value replaced by something of the wrong type
      const types = ['"x"', "-1", "1e308", "[]", "{}", "null", "0.5", '"\\u0000"'];
      return Buffer.from(text.replace(/: (\d+|"[^"]*"|true|false)/, `: ${types[Math.floor(random() * types.length)]}`), "utf8");
    }
  }
}

test("2,000 mangled plugin configurations: each is applied or refused, the VM never dies", async () => {
  const good = exampleConfiguration();
  const hfi = await startHfi(good);
  const random = rng(20261126);
  let refused = 0;
  for (let i = 0; i < 2000; i++) {
    const result = hfi.plugin.reconfigure(mutate(good, random));
    if (!result.ok) refused++;
    assert.equal(hfi.vm.failed, false, `VM died on mutation ${i}: ${hfi.vm.failure}`);
    assert.notEqual(result.stage, "vm_failed", `canary VM died on mutation ${i}: ${result.failure}`);
  }
  assert.ok(refused > 100 && refused < 2000, `${refused} refused`);
  assert.ok(hfi.plugin.reconfigure(good).ok);
  assert.equal(hfi.request("GET", "/checkout").localReply?.status, 503, "still injecting afterwards");
});

test("1,000 mangled control-plane bodies: the last good set stays, the VM never dies", async () => {
  const good = JSON.stringify({ policies: [policy("chaos", { path: { prefix: "/api/" }, headers: [{ name: "x-user", regex: "^test-[0-9]+$" }] }, { percentage: 100, abort: { httpStatus: 503 } })] });
  const random = rng(7);
  let next: Buffer = Buffer.from(good);
  let fetched = 0;
  const hfi = await startHfi(
    { control_plane: { cluster: "cp", authority: "cp:8080", poll_interval_ms: 1000 } },
    { clusters: { cp: () => { fetched++; return { status: 200, body: next }; } } },
  );
  hfi.clock.advance(5000);
  let fetches = 0;
  for (let i = 0; i < 1000; i++) {
    next = mutate(good, random);
    const before = fetched;
    hfi.clock.advance(61_000); // longer than the longest backoff: every body is fetched
    fetches += fetched > before ? 1 : 0;
    assert.equal(hfi.vm.failed, false, `VM died on body ${i}: ${hfi.vm.failure}`);
  }
  assert.equal(fetches, 1000, "every mangled body was fetched and survived");
  assert.ok(hfi.metric("hfi_faults_policy_fetch_failures_total") > 100);
  next = Buffer.from(good);
  hfi.clock.advance(70_000);
  assert.equal(hfi.request("GET", "/api/x", [["x-user", "test-1"]]).localReply?.status, 503);
});

test("hostile header values against regex, prefix and sampling rules: no trap, no stall", async () => {
  const hfi = await startHfi({
    policies: [
      policy("re", { headers: [{ name: "x-a", regex: "(a+)+$" }, { name: "x-b", regex: "^(x|xy)*z" }] }, { percentage: 100, abort: { httpStatus: 503 } }),
      policy("sampled", { path: { prefix: "/s" } }, { percentage: 50, abort: { httpStatus: 500 }, sampling: { header: "x-request-id" } }),
    ],
  }, { countWork: true });
  const random = rng(99);
  let worstPerByte = 0;
  for (let i = 0; i < 300; i++) {
    const len = Math.floor(random() * 20000);
    const junkBytes = Buffer.alloc(len);
    for (let j = 0; j < len; j++) junkBytes[j] = 32 + Math.floor(random() * 224);
    const junk = junkBytes.toString("latin1");
    const before = hfi.work();
    respondIfOpen(hfi.request("GET", "/s/" + junk.slice(0, 200), [["x-a", "a".repeat(len) + "!"], ["x-b", "xy".repeat(len / 2)], ["x-request-id", junk]]));
    assert.equal(hfi.vm.failed, false);
    // Linear-time matching: the work grows with the bytes a client sent, never with their square
    // (backtracking on (a+)+$ would double with every byte).
    const perByte = (hfi.work() - before - 5_000) / (3 * len + 200);
    worstPerByte = Math.max(worstPerByte, perByte);
  }
  assert.ok(worstPerByte <= 4, `${worstPerByte.toFixed(1)} units per byte of header values`);
});

function respondIfOpen(s: ReturnType<Awaited<ReturnType<typeof startHfi>>["request"]>): void {
  if (!s.localReply) respond(s);
}

// Each kind of request alone, so garbage one kind leaves cannot hide behind collections
// another kind triggers.
for (const kind of ["abort", "pass", "delay"] as const) {
  test(`memory stays flat: 60,000 requests that ${kind === "pass" ? "match nothing" : kind} after warm-up grow linear memory by at most one page`, async () => {
    const hfi = await startHfi({
      policies: [
        policy("fail", { path: { prefix: "/fail" } }, { percentage: 100, abort: { httpStatus: 503, body: "x".repeat(200) } }),
        policy("slow", { path: { prefix: "/slow" } }, { percentage: 100, delay: { fixed_delay_ms: 5 } }),
        policy("hdr", { path: { prefix: "/pass/x" }, headers: [{ name: "x-any", exact: "never" }] }, { percentage: 100, abort: { httpStatus: 500 } }),
      ],
    });
    const memoryBytes = () => (hfi.vm.module as unknown as { memory: WebAssembly.Memory }).memory.buffer.byteLength;
    const run = (n: number) => {
      for (let i = 0; i < n; i++) {
        if (kind === "abort") hfi.request("GET", `/fail/${i}`);
        else if (kind === "pass") respond(hfi.request("GET", `/pass/x${i}?q=${i}`, [["x-any", `v${i}`]]));
        else {
          const s = hfi.request("GET", "/slow");
          hfi.clock.advance(5);
          respond(s);
        }
      }
    };
    run(20_000);
    const afterWarmup = memoryBytes();
    run(60_000);
    assert.ok(memoryBytes() - afterWarmup <= 65536, `grew from ${afterWarmup} to ${memoryBytes()} bytes`);
    assert.equal(hfi.metric("hfi_faults_active"), 0);
  });
}
