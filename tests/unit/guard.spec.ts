// The SLO guard as pure bookkeeping: trip, no decision below min_requests,
// cooldown, resume with an empty window, re-trip, the window sliding, and two workers' counts
// pooled through the byte form the shared-data CAS loop will carry.
import { CountWindow } from "../../assembly/window/count-window";
import { Guard, GuardConfig, GuardDecision, guardConfig, guardKey } from "../../assembly/guard/guard";
import {
  NO_GRPC_STATUS, isFailedOutcome, parseGrpcStatus,
} from "../../assembly/guard/failure";
import { AllocProbe } from "./alloc-probe";

// max_error_rate 0.05, min_requests 20, window 30 s, cooldown 300 s: the example.
function config(): GuardConfig {
  const r = guardConfig(0.05, 20, 30, 300);
  expect(r.error).toBe("");
  return changetype<GuardConfig>(r.config);
}

function feed(g: Guard, nowMs: i64, ok: i32, failed: i32): void {
  for (let i = 0; i < ok; i++) g.record(nowMs, false);
  for (let i = 0; i < failed; i++) g.record(nowMs, true);
}

const T0: i64 = 1000000;

describe("guard: tripping", () => {
  it("trips when failures / requests exceeds max_error_rate with at least min_requests", () => {
    const g = new Guard(config());
    feed(g, T0, 18, 2); // 2 of 20 = 0.10
    expect(g.decide(T0)).toBe(GuardDecision.Tripped);
    expect(g.isHalted(T0 + 1)).toBe(true);
    expect(g.trips).toBe(1);
    expect(g.describeTrip("checkout-errors")).toBe(
      "guard halted policy \"checkout-errors\": error rate 0.1 (2 of 20 requests in the last 30 s) is above max_error_rate 0.05; it resumes in 300 s");
  });

  it("does not trip at exactly max_error_rate", () => {
    const g = new Guard(config());
    feed(g, T0, 19, 1); // 1 of 20 = 0.05
    expect(g.decide(T0)).toBe(GuardDecision.Active);
  });

  it("makes no decision below min_requests, however many fail", () => {
    const g = new Guard(config());
    feed(g, T0, 0, 19);
    expect(g.decide(T0)).toBe(GuardDecision.Active);
    g.record(T0, true);
    expect(g.decide(T0)).toBe(GuardDecision.Tripped);
  });
});

describe("guard: cooldown, resume, re-trip", () => {
  it("stays halted for cooldown_seconds, ignores requests meanwhile, then resumes with an empty window and may trip again", () => {
    const g = new Guard(config());
    feed(g, T0, 10, 10);
    expect(g.decide(T0)).toBe(GuardDecision.Tripped);
    expect(g.decide(T0 + 299999)).toBe(GuardDecision.Halted);
    feed(g, T0 + 100000, 0, 50); // during the cooldown: not counted
    expect(g.decide(T0 + 300000)).toBe(GuardDecision.Resumed);
    expect(g.isHalted(T0 + 300000)).toBe(false);
    expect(g.total(T0 + 300000)).toBe(0);
    expect(g.decide(T0 + 300001)).toBe(GuardDecision.Active);
    feed(g, T0 + 301000, 15, 5);
    expect(g.decide(T0 + 301000)).toBe(GuardDecision.Tripped);
    expect(g.trips).toBe(2);
    expect(g.decide(T0 + 601000)).toBe(GuardDecision.Resumed);
  });

  it("a zero cooldown still reports the trip once, then resumes", () => {
    const g = new Guard(changetype<GuardConfig>(guardConfig(0.5, 1, 10, 0).config));
    g.record(T0, true);
    expect(g.decide(T0)).toBe(GuardDecision.Tripped);
    expect(g.decide(T0 + 1)).toBe(GuardDecision.Resumed);
  });
});

describe("guard: the window slides", () => {
  it("forgets failures older than window_seconds (10 buckets of 3 s)", () => {
    const g = new Guard(config());
    feed(g, T0, 0, 10); // 10 failures at T0 = 1,000,000 ms: bucket 333 (333 * 3000 = 999,000)
    feed(g, T0 + 27000, 10, 0); // bucket 342
    // until bucket 342 ends the window is buckets 333..342 and holds all 20 requests
    expect(g.failures(T0 + 28999)).toBe(10);
    expect(g.total(T0 + 28999)).toBe(20);
    // from 1,029,000 ms (bucket 343) the window is 334..343: the failures have slid out
    expect(g.failures(T0 + 29000)).toBe(0);
    expect(g.total(T0 + 29000)).toBe(10);
    expect(g.decide(T0 + 29000)).toBe(GuardDecision.Active);
    expect(g.decide(T0 + 28999)).toBe(GuardDecision.Tripped);
  });

  it("a slot reused by a later bucket starts from zero", () => {
    const w = new CountWindow(10000, 10);
    w.add(5000, 3, 1);
    w.add(15000, 2, 0); // same slot (epoch 5 and 15), newer epoch
    expect(w.sumA(15000)).toBe(2);
    expect(w.sumB(15000)).toBe(0);
    w.add(5000, 7, 7); // older than the slot: dropped
    expect(w.sumA(15000)).toBe(2);
  });
});

describe("guard: pooled across worker VMs", () => {
  it("two workers' counts merged through the byte form decide together what neither sees alone", () => {
    const a = new Guard(config());
    const b = new Guard(config());
    feed(a, T0, 10, 1);
    feed(b, T0 + 4000, 8, 1);
    expect(a.decide(T0 + 4000)).toBe(GuardDecision.Active); // 11 requests
    expect(b.decide(T0 + 4000)).toBe(GuardDecision.Active); // 9 requests

    // worker a publishes to an empty key, then worker b publishes on top of it
    const pooled = new Guard(config());
    pooled.addCountsFrom(a);
    const shared1 = pooled.encode().slice(0);
    expect(shared1.byteLength).toBe(188);
    const pooled2 = new Guard(config());
    expect(pooled2.decode(shared1)).toBe(true);
    pooled2.addCountsFrom(b);
    expect(pooled2.total(T0 + 4000)).toBe(20);
    expect(pooled2.failures(T0 + 4000)).toBe(2);
    expect(pooled2.decide(T0 + 4000)).toBe(GuardDecision.Tripped);

    // the halt travels through shared data to the other worker
    const shared2 = pooled2.encode().slice(0);
    const seen = new Guard(config());
    expect(seen.decode(shared2)).toBe(true);
    a.adoptHalt(seen);
    expect(a.isHalted(T0 + 5000)).toBe(true);
    expect(a.trips).toBe(1);
  });

  it("merging full states adds counts by bucket and keeps the later halt", () => {
    const a = new Guard(config());
    const b = new Guard(config());
    feed(a, T0, 3, 0);
    feed(b, T0, 2, 2);
    b.haltedUntilMs = T0 + 500;
    a.mergeFrom(b);
    expect(a.total(T0)).toBe(7);
    expect(a.failures(T0)).toBe(2);
    expect(a.haltedUntilMs).toBe(T0 + 500);
  });

  it("refuses bytes that are not a guard state, and starts from empty", () => {
    const g = new Guard(config());
    feed(g, T0, 5, 5);
    expect(g.decode(new ArrayBuffer(7))).toBe(false);
    expect(g.total(T0)).toBe(0);
    const other = new Guard(config()).encode().slice(0);
    store<u8>(changetype<usize>(other) + 16, 9); // version byte of the window
    expect(g.decode(other)).toBe(false);
  });

  it("records, decides and encodes without allocating", () => {
    const g = new Guard(config());
    const probe = new AllocProbe();
    for (let i = 0; i < 100; i++) g.record(T0 + <i64>i * 100, i % 3 == 0);
    g.decide(T0 + 10000);
    g.encode();
    expect(probe.nothingAllocated()).toBe(true);
  });

  it("keys the shared value by the policy's name, and ignores another identity's counts", () => {
    expect(guardKey("checkout")).toBe(guardKey("checkout"));
    expect(guardKey("checkout")).not.toBe(guardKey("checkout2"));
    const a = new Guard(config());
    a.identity = 1;
    a.record(0, true);
    a.record(0, true);
    const bytes = a.encode();
    const b = new Guard(config());
    b.identity = 2;
    expect(b.decode(bytes)).toBe(false, "a changed policy starts afresh in the same key");
    b.identity = 1;
    expect(b.decode(bytes)).toBe(true);
  });
});

describe("guard: configuration", () => {
  it("names the field and the value", () => {
    expect(guardConfig(1.5, 20, 30, 300).error).toBe("spec.guard.max_error_rate: 1.5 is not in [0, 1]");
    expect(guardConfig(0.05, 0, 30, 300).error).toBe("spec.guard.min_requests: 0 is not a whole number in [1, 1000000000]");
    expect(guardConfig(0.05, 20, 2.5, 300).error).toBe("spec.guard.window_seconds: 2.5 is not a whole number of seconds in [1, 86400]");
    expect(guardConfig(0.05, 20, 30, -1).error).toBe("spec.guard.cooldown_seconds: -1 is not a whole number of seconds in [0, 604800]");
    expect(guardConfig(NaN, 20, 30, 1).ok).toBe(false);
  });
});

describe("guard: what counts as a failure", () => {
  it("5xx, gRPC UNAVAILABLE / DEADLINE_EXCEEDED / INTERNAL from headers or trailers, and a reset before the response", () => {
    expect(isFailedOutcome(true, 503, NO_GRPC_STATUS, NO_GRPC_STATUS)).toBe(true);
    expect(isFailedOutcome(true, 599, NO_GRPC_STATUS, NO_GRPC_STATUS)).toBe(true);
    expect(isFailedOutcome(true, 404, NO_GRPC_STATUS, NO_GRPC_STATUS)).toBe(false);
    expect(isFailedOutcome(true, 200, NO_GRPC_STATUS, NO_GRPC_STATUS)).toBe(false);
    expect(isFailedOutcome(true, 200, 14, NO_GRPC_STATUS)).toBe(true);
    expect(isFailedOutcome(true, 200, NO_GRPC_STATUS, 4)).toBe(true);
    expect(isFailedOutcome(true, 200, NO_GRPC_STATUS, 13)).toBe(true);
    expect(isFailedOutcome(true, 200, NO_GRPC_STATUS, 5)).toBe(false); // NOT_FOUND is the caller's
    expect(isFailedOutcome(true, 200, 14, 0)).toBe(false); // the trailers have the last word
    expect(isFailedOutcome(false, 0, NO_GRPC_STATUS, NO_GRPC_STATUS)).toBe(true);
  });

  it("reads grpc-status strictly", () => {
    expect(parseGrpcStatus("14")).toBe(14);
    expect(parseGrpcStatus("0")).toBe(0);
    expect(parseGrpcStatus(null)).toBe(NO_GRPC_STATUS);
    expect(parseGrpcStatus("")).toBe(NO_GRPC_STATUS);
    expect(parseGrpcStatus("14 ")).toBe(NO_GRPC_STATUS);
    expect(parseGrpcStatus("-4")).toBe(NO_GRPC_STATUS);
    expect(parseGrpcStatus("99999999999")).toBe(NO_GRPC_STATUS);
  });
});
