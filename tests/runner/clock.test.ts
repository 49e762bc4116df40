import assert from "node:assert/strict";
import { test } from "node:test";
import { RunnerClock } from "../../host/runner/clock";

function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

test("RunnerClock: runDue fires due timers in order while the loop is busy, never early", () => {
  const clock = new RunnerClock();
  const fired: string[] = [];
  const t0 = performance.now();
  const at: number[] = [];
  clock.schedule(20, () => (fired.push("b"), at.push(performance.now() - t0)));
  clock.schedule(10, () => (fired.push("a"), at.push(performance.now() - t0)));
  const cancelled = clock.schedule(5, () => fired.push("x"));
  cancelled.cancel();
  clock.schedule(1000, () => fired.push("late"));
  clock.runDue();
  assert.deepEqual(fired, []);
  busyWait(25);
  clock.runDue();
  assert.deepEqual(fired, ["a", "b"]);
  assert.ok(at[0] >= 10 && at[1] >= 20, `fired at ${at.join(", ")} ms`);
  clock.runDue();
  assert.deepEqual(fired, ["a", "b"]);
});

test("RunnerClock: a timer still fires from the timer queue when idle, once", async () => {
  const clock = new RunnerClock();
  let n = 0;
  clock.schedule(5, () => n++);
  await new Promise((r) => setTimeout(r, 30));
  clock.runDue();
  assert.equal(n, 1);
});
