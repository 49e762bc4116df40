// The policy model: what a parsed, validated policy set looks like. Built once per
// configuration or control-plane update and never mutated afterwards, so a request that
// started under one set keeps a consistent view of its rule while a new set is swapped in.
import { Regex } from "../regex/index";
import { PolicySafety } from "../safety/policy-safety";

/** How a string condition compares. Present/Absent only apply to headers. */
export const enum StringMatchKind {
  Exact = 0,
  Prefix = 1,
  Suffix = 2,
  Contains = 3,
  Regex = 4,
  Present = 5,
  Absent = 6,
}

export class StringMatch {
  constructor(
    public kind: StringMatchKind,
    public value: string,
    public regex: Regex | null,
  ) {}
}

/** A header condition. `slot` indexes the per-request header cache (see match/request.ts). */
export class HeaderMatch {
  constructor(
    public name: string, // lower-cased
    public slot: i32,
    public match: StringMatch,
  ) {}
}

/** All conditions must hold; a missing condition holds. */
/** Shared by every match without header conditions; never modified. */
const NO_HEADERS: HeaderMatch[] = [];

export class Match {
  method: StringMatch | null = null;
  path: StringMatch | null = null;
  headers: HeaderMatch[] = NO_HEADERS;
}

export const NO_GRPC_STATUS: i32 = -1;

export class Abort {
  constructor(
    public httpStatus: i32, // 0 when only grpcStatus was given
    public grpcStatus: i32, // NO_GRPC_STATUS when not given
    public body: string,
  ) {}
}

export class Fault {
  /** 0..100, fractions allowed. */
  percentage: f64 = 0;
  abort: Abort | null = null;
  /** Milliseconds the request is held before it continues (or is aborted). */
  delayMs: i64 = 0;
  /** Milliseconds the request waits before the fault applies. */
  startDelayMs: i64 = 0;
  /** Seconds the rule injects after its policy was first seen; 0 = no expiry. */
  durationSeconds: i64 = 0;
  /** When set, the sampling decision hashes this request header instead of drawing at random. */
  samplingHeader: string = "";
  samplingSlot: i32 = -1;

  /** Total time a faulted request is held, in milliseconds. */
  @inline holdMs(): i64 {
    return this.startDelayMs + this.delayMs;
  }
}

export class Rule {
  /** When the rule's policy was first seen (ms since epoch); filled in by the policy store. */
  activeSinceMs: i64 = 0;
  /** The policy's guard and schedule (parse-safety.ts); null for most policies. */
  safety: PolicySafety | null = null;
  constructor(
    public policyName: string,
    public index: i32,
    public match: Match,
    public fault: Fault,
  ) {}

  /** False once `duration_seconds` has passed since the policy was first seen. */
  @inline isLive(nowMs: i64): bool {
    const d = this.fault.durationSeconds;
    return d <= 0 || nowMs < this.activeSinceMs + d * 1000;
  }
}

export class Selector {
  constructor(
    public service: string, // "" or "*" = any
    public namespace: string,
  ) {}
}

export class Policy {
  constructor(
    public name: string,
    /** 64-bit hash of the whole policy (name included), member order ignored: same name and
     * content = same identity = same expiry clock. */
    public identity: u64,
    public selector: Selector,
    public rules: Rule[],
  ) {}
}
