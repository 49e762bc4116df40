/**
 * Clocks on the real module: holds, start delays, polls and policy expiry run on monotonic
 * time (WASI clock_time_get, clock id 1), so a wall-clock step (NTP, a VM migration) changes
 * none of them. TestClock.stepWall moves only the wall clock, as such a step would.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { TestClock, type ClusterReply, type HttpStream } from "../../host/index";
import { policy, respond, startHfi } from "../helpers/hfi";

const HOUR = 3_600_000;
// Functions, not inline checks: an inline `=== undefined` assertion would narrow the type.
const notForwarded = (s: HttpStream) => s.upstream.headers === undefined;
const notAnswered = (s: HttpStream) => s.localReply === undefined;
const SLOW = (ms: number) => ({ percentage: 100, delay: { fixed_delay_ms: ms } });

for (const [what, step] of [["back", -HOUR], ["forward", HOUR]] as const) {
  test(`a wall-clock step ${what} by 1 h while a 500 ms delay is held changes nothing: released at 500 ms`, async () => {
    const hfi = await startHfi({ policies: [policy("slow", {}, SLOW(500))] });
    const s = hfi.request("GET", "/");
    hfi.clock.advance(100);
    hfi.clock.stepWall(step);
    hfi.clock.advance(399);
    assert.ok(notForwarded(s), "still held at 499 ms");
    hfi.clock.advance(1);
    assert.ok(s.upstream.headers, "released at 500 ms of monotonic time");
    assert.equal(hfi.metric("hfi_faults_active"), 0);
    hfi.stats.flush();
    const prom = hfi.stats.renderPrometheus().split("\n");
    assert.ok(prom.includes('hfi_faults_delay_duration_milliseconds_bucket{le="250"} 0'), "the recorded hold is over 250 ms");
    assert.ok(prom.includes('hfi_faults_delay_duration_milliseconds_bucket{le="1000"} 1'), "and at most 1000 ms");
  });
}

test("a wall-clock jump forward releases no other held request early", async () => {
  const hfi = await startHfi({ policies: [policy("slow", {}, SLOW(1000))] });
  const first = hfi.request("GET", "/");
  hfi.clock.advance(500);
  const second = hfi.request("GET", "/");
  hfi.clock.stepWall(HOUR);
  hfi.clock.advance(500);
  assert.ok(first.upstream.headers, "the first is due at 1000 ms");
  assert.ok(notForwarded(second), "the second is due at 1500 ms, whatever the wall clock says");
  hfi.clock.advance(500);
  assert.ok(second.upstream.headers);
});

test("a start delay counts on monotonic time across a wall-clock step back", async () => {
  const hfi = await startHfi({ policies: [policy("late", {}, { percentage: 100, start_delay_ms: 200, abort: { httpStatus: 500 } })] });
  const s = hfi.request("GET", "/checkout");
  hfi.clock.advance(50);
  hfi.clock.stepWall(-HOUR);
  hfi.clock.advance(149);
  assert.ok(notAnswered(s), "still waiting at 199 ms");
  hfi.clock.advance(1);
  assert.equal(s.localReply?.status, 500, "answered at 200 ms");
});

test("polling keeps its schedule across wall-clock steps back and forward", async () => {
  const CLUSTER = "outbound|8080||cp.local";
  const polls: number[] = [];
  const clock = new TestClock();
  const hfi = await startHfi(
    { control_plane: { cluster: CLUSTER, authority: "cp.local:8080", poll_interval_ms: 2000, timeout_ms: 500 } },
    {
      clock,
      clusters: {
        [CLUSTER]: (): ClusterReply => {
          polls.push(clock.monotonic());
          return { status: 200, headers: [["content-type", "application/json"]], body: '{"policies": []}' };
        },
      },
    },
  );
  hfi.clock.advance(2000); // the first poll comes within the interval
  assert.equal(polls.length, 1);
  const first = polls[0];
  hfi.clock.stepWall(-HOUR);
  hfi.clock.advance(6000);
  hfi.clock.stepWall(2 * HOUR);
  hfi.clock.advance(4000);
  assert.deepEqual(polls, [0, 1, 2, 3, 4, 5].map((i) => first + i * 2000), "one poll every 2 s throughout");
});

const expiring = { policies: [policy("brief", {}, { percentage: 100, abort: { httpStatus: 503 }, duration_seconds: 10 })] };
const statusOf = (s: HttpStream) => (s.localReply ? s.localReply.status : (respond(s), s.reply.status));

test("duration_seconds follows monotonic time: a wall step forward does not end it early", async () => {
  const hfi = await startHfi(expiring);
  hfi.clock.advance(1000);
  hfi.clock.stepWall(HOUR);
  assert.equal(statusOf(hfi.request("GET", "/")), 503, "still injecting after 1 s");
  hfi.clock.advance(8999);
  assert.equal(statusOf(hfi.request("GET", "/")), 503, "still injecting at 9.999 s");
  hfi.clock.advance(1);
  assert.equal(statusOf(hfi.request("GET", "/")), 200, "expired at 10 s");
});

test("duration_seconds follows monotonic time: a wall step back does not extend it", async () => {
  const hfi = await startHfi(expiring);
  hfi.clock.advance(1000);
  hfi.clock.stepWall(-HOUR);
  hfi.clock.advance(9000);
  assert.equal(statusOf(hfi.request("GET", "/")), 200, "expired at 10 s");
});

test("duration_seconds survives a reconfiguration across a wall step", async () => {
  const hfi = await startHfi(expiring);
  hfi.clock.advance(6000);
  hfi.clock.stepWall(-HOUR);
  assert.ok(hfi.plugin.reconfigure({ ...expiring, log_level: "debug" }).ok);
  hfi.clock.advance(3999);
  assert.equal(statusOf(hfi.request("GET", "/")), 503, "the same policy keeps its clock");
  hfi.clock.advance(1);
  assert.equal(statusOf(hfi.request("GET", "/")), 200, "expired 10 s after it was first seen");
});

/** A host whose monotonic clock misbehaves (jumps back 10 s) once `broken` is set. */
class FailingMonotonic extends TestClock {
  broken = false;
  monotonic(): number {
    return super.monotonic() - (this.broken ? 10_000 : 0);
  }
}

test("if the monotonic clock misbehaves the plugin falls back to the wall clock, continuing, without trapping", async () => {
  const clock = new FailingMonotonic();
  const hfi = await startHfi({ policies: [policy("slow", {}, SLOW(500))] }, { clock });
  clock.advance(20_000);
  hfi.request("GET", "/");
  clock.advance(500); // the plugin last read the monotonic clock at 20.5 s
  clock.broken = true;
  const s = hfi.request("GET", "/");
  clock.advance(499);
  assert.ok(notForwarded(s), "still held at 499 ms");
  clock.advance(1);
  assert.ok(s.upstream.headers, "released at 500 ms of wall time");
  clock.stepWall(-HOUR);
  const t = hfi.request("GET", "/");
  clock.advance(500);
  assert.ok(notForwarded(t), "a wall step back in the fallback pauses time: held longer, never released early");
  clock.advance(HOUR);
  assert.ok(t.upstream.headers, "and released once the wall clock has caught up");
  assert.equal(hfi.vm.failed, false);
});
