// The same scenarios through this project's host and through proxy-wasm-cpp-host (cpphost-run),
// compared on what both observe. See docs/testing.md ("Differential tests").
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { canon, differences, maskRandomTiming, normalise } from "./compare";
import { ENVOY_DIFFERENCES } from "./envoy-differences";
import { runScript, type Json, type Observed, type Script } from "./script-runner";

const ROOT = path.resolve(__dirname, "..", "..");
const PLUGIN = process.env.HFI_WASM ?? path.join(ROOT, "build", "plugin.wasm");
/** HFI_CPPHOST_RUN overrides where the tool is looked for. */
const CPPHOST = process.env.HFI_CPPHOST_RUN ?? path.resolve(ROOT, "..", "shared", "tools", "cpphost", "bin", "cpphost-run");
const SCENARIOS = path.join(__dirname, "scenarios");

type Obj = { [key: string]: Json };

/** What the plugin must do in both hosts, beyond agreeing: a stream's local reply status. */
type Expected = { stream: string; localReply: number | null; todo?: string };
const EXPECTED_REPLIES: Record<string, Expected | Expected[]> = {
  "selectors-legacy": { stream: "a", localReply: 503 },
  "selectors-both": { stream: "a", localReply: 503 },
  // Envoy 1.33+ answers node metadata only under xds: the plugin asks xds.node.metadata.* first.
  "selectors-xds": { stream: "a", localReply: 503 },
  // The worst-case sample: the 60 KiB value matches none of the 32 patterns; this one does.
  "worst-case-sample": { stream: "match", localReply: 503 },
  // Direction and destination, with the attributes each kind of proxy reports per request.
  "scope-sidecar": [
    { stream: "in-inbound", localReply: 503 }, { stream: "in-outbound", localReply: null }, { stream: "api-reviews", localReply: 502 },
    { stream: "api-inbound", localReply: null }, { stream: "api-ratings", localReply: null }, { stream: "api-noroute", localReply: null },
  ],
  "scope-waypoint": [
    { stream: "reviews", localReply: 503 }, { stream: "reviews-v2", localReply: 503 }, { stream: "ratings", localReply: null },
    { stream: "reviews-staging", localReply: null }, { stream: "noroute", localReply: null },
  ],
  // After a configuration change the new root context keeps polling: the stop arrives.
  "reconfigure-keeps-polling": [{ stream: "before", localReply: 418 }, { stream: "kept", localReply: 418 }, { stream: "stopped", localReply: null }],
  "scope-gateway": [
    { stream: "shop-api", localReply: 503 }, { stream: "admin-api", localReply: null }, { stream: "shop-static", localReply: null },
    { stream: "inbound-only", localReply: null },
  ],
};

const scenarios = readdirSync(SCENARIOS).filter((f) => f.endsWith(".json")).sort();
const applied = new Map<string, number>(ENVOY_DIFFERENCES.map((d) => [d.name, 0]));

if (!existsSync(CPPHOST)) {
  const reason = `cpphost-run not found at ${CPPHOST} (it ships in ../shared/tools/cpphost next to the repository in CI); differential tests not run`;
  console.log(`# differential: ${reason}`);
  test("differential tests against proxy-wasm-cpp-host", { skip: reason }, () => {});
} else {
  const observed = new Map<string, { ours: Observed; theirs: Observed }>();
  const run = async (file: string): Promise<{ ours: Observed; theirs: Observed }> => {
    let o = observed.get(file);
    if (!o) {
      const scriptPath = path.join(SCENARIOS, file);
      const script = JSON.parse(readFileSync(scriptPath, "utf8")) as Script;
      const theirs = JSON.parse(execFileSync(CPPHOST, [PLUGIN, scriptPath], { encoding: "utf8", maxBuffer: 64 << 20, stdio: ["ignore", "pipe", "pipe"] })) as Observed;
      o = { ours: await runScript(PLUGIN, script), theirs };
      observed.set(file, o);
    }
    return o;
  };

  for (const file of scenarios) {
    const name = file.replace(/\.json$/, "");
    test(`differential: ${name} observes the same in this host and in proxy-wasm-cpp-host`, async () => {
      const script = JSON.parse(readFileSync(path.join(SCENARIOS, file), "utf8")) as Script;
      const { ours, theirs } = await run(file);
      assert.equal(ours.load.accepted, theirs.load.accepted, "both hosts load the plugin the same way");
      const jittered = JSON.stringify(script.vm?.pluginConfig ?? "").includes("control_plane");
      const a = jittered ? maskRandomTiming(normalise(ours)) : normalise(ours);
      const b = jittered ? maskRandomTiming(normalise(theirs)) : normalise(theirs);
      for (const d of ENVOY_DIFFERENCES) applied.set(d.name, applied.get(d.name)! + d.apply(b, script));
      const diff = differences(a, b, 30);
      assert.equal(canon(a) === canon(b), true, `${name}: the hosts differ at\n  ${diff.join("\n  ")}`);
      assert.ok((ours.steps as Obj[]).length === (script.steps ?? []).length, "every step ran");
    });

    const expectations = EXPECTED_REPLIES[name];
    for (const expected of expectations === undefined ? [] : Array.isArray(expectations) ? expectations : [expectations]) {
      test(`differential: ${name}: stream "${expected.stream}" gets local reply ${expected.localReply} in both hosts`, { todo: expected.todo }, async () => {
        const { ours, theirs } = await run(file);
        for (const [host, o] of [["this host", ours], ["cpphost-run", theirs]] as const) {
          const s = (o.streams as Obj[]).find((x) => x.stream === expected.stream);
          assert.ok(s, `${host}: no stream "${expected.stream}"`);
          assert.equal(s.localReply ?? null, expected.localReply, `${host}: ${JSON.stringify(s)}; log: ${JSON.stringify((o.log as Obj[]).map((l) => l.message))}`);
        }
      });
    }
  }

  test("differential: every recorded Envoy/cpp-host difference still shows up in some scenario", () => {
    for (const d of ENVOY_DIFFERENCES) assert.ok(applied.get(d.name)! > 0, `"${d.name}" no longer applies: remove it (${d.why})`);
  });
}
