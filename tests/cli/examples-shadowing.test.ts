/**
 * examples/policies is what `make run POLICY_DIR=examples/policies` applies together: for each
 * rule, a request made to match it (as make run's banner makes it) must be decided by that rule,
 * not by an earlier policy's rule. Asked of the real plugin through hfi simulate.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { readPolicyDir } from "../../host/runner/policy-files";
import { sampleRequest } from "../../host/runner/banner";
import { simulate } from "../../cli/simulate";
import { ROOT } from "./helpers";

const DIR = path.join(ROOT, "examples", "policies");

test("no rule of examples/policies is shadowed by another policy for its own sample request", async () => {
  const set = readPolicyDir(DIR);
  assert.deepEqual(set.problems, []);
  const shadowed: string[] = [];
  let checked = 0;
  for (const policy of set.policies) {
    const name = (policy.metadata as { name: string }).name;
    const rules = (policy.spec as { rules: Array<{ match?: Record<string, unknown> }> }).rules;
    for (const [i, rule] of rules.entries()) {
      const sample = sampleRequest(rule.match ?? {});
      const method = /-X (\S+)/.exec(sample.options)?.[1] ?? "GET";
      const headers = [...sample.options.matchAll(/-H '([^:]+): ([^']*)'/g)].map((m) => [m[1].toLowerCase(), m[2]] as [string, string]);
      const r = await simulate({ files: [DIR], labels: [], headers, requests: 0, method, path: sample.path });
      checked++;
      if (r.decision?.policy !== name || r.decision.rule !== i) {
        shadowed.push(`${name} rule ${i} (${method} ${sample.path}): decided by ${r.decision ? `${r.decision.policy} rule ${r.decision.rule}` : "no rule"}`);
      }
    }
  }
  assert.ok(checked >= 6, `${checked} rules checked`);
  assert.deepEqual(shadowed, []);
});
