/** TestClock: timers run on monotonic time; a wall-clock step moves only what the wall clock reports. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { TestClock } from "../../host/index";

test("stepWall moves the wall clock only: monotonic time and timers are untouched", () => {
  const clock = new TestClock(Date.UTC(2025, 0, 1));
  const fired: number[] = [];
  clock.schedule(500, () => fired.push(clock.monotonic()));
  clock.advance(100);
  clock.stepWall(-3_600_000);
  assert.equal(clock.now(), Date.UTC(2025, 0, 1) + 100 - 3_600_000);
  assert.equal(clock.monotonic(), 100);
  clock.advance(399);
  assert.deepEqual(fired, []);
  clock.advance(1);
  assert.deepEqual(fired, [500], "the timer fires 500 ms after it was set, on monotonic time");
  clock.stepWall(7_200_000);
  assert.equal(clock.pending, 0, "a step forward fires nothing");
  assert.equal(clock.now(), Date.UTC(2025, 0, 1) + 500 + 3_600_000);
  assert.equal(clock.monotonic(), 500);
});
