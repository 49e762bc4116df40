/**
 * The tests run on a fixed copy of envoy/envoy.yaml (users edit that file for the hot-reload
 * demo). This keeps the copy in step with the committed file, not with the working copy a user
 * may have edited: after changing envoy/envoy.yaml, commit it and refresh the copy with
 *   { head -2 tests/fixtures/envoy.yaml; git show HEAD:envoy/envoy.yaml; } > /tmp/e && mv /tmp/e tests/fixtures/envoy.yaml
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { ENVOY_FIXTURE, ROOT } from "./helpers";

test("tests/fixtures/envoy.yaml is the committed envoy/envoy.yaml under its two comment lines", () => {
  const committed = execFileSync("git", ["show", "HEAD:envoy/envoy.yaml"], { cwd: ROOT, encoding: "utf8" });
  const fixture = readFileSync(ENVOY_FIXTURE, "utf8").split("\n");
  assert.match(fixture[0], /^# A fixed copy of envoy\/envoy\.yaml/);
  assert.equal(fixture.slice(2).join("\n"), committed);
});
