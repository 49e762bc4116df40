// The policy model: what a parsed, validated policy set looks like. Built once per
// configuration or control-plane update and never mutated afterwards, so a request that
// started under one set keeps a consistent view of its rule while a new set is swapped in.
import { Regex } from "../regex/index";
import { borderTable } from "../util/bytes";
import { RuleTally, UNTALLIED } from "../observe/tally";
import { ResponseFault } from "../response/model";
import { DelayDistribution } from "../distributions/delay";
import { InjectionBudget } from "../budgets/injection-budget";
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

/** Envoy's matchers compare bytes: the literal is kept as its UTF-8 bytes, never as text. */
export class StringMatch {
  readonly bytes: ArrayBuffer;
  /** Search table for `contains` (see util/bytes.ts); empty for other kinds. */
  readonly borders: StaticArray<i32>;

  constructor(
    public kind: StringMatchKind,
    literal: string,
    public regex: Regex | null,
  ) {
    const bytes = kind == StringMatchKind.Regex ? new ArrayBuffer(0) : String.UTF8.encode(literal);
    this.bytes = bytes;
    this.borders = kind == StringMatchKind.Contains ? borderTable(bytes) : new StaticArray<i32>(0);
  }
}

/** A header condition. `slot` indexes the per-request header cache of the document the
 * condition was parsed from (see match/request.ts). */
export class HeaderMatch {
  constructor(
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

/** Shared by every rule of a policy without exclusions; never modified. */
export const NO_MATCHES: Match[] = [];

export const NO_GRPC_STATUS: i32 = -1;

export class Abort {
  constructor(
    public httpStatus: i32, // 0 when only grpcStatus was given
    public grpcStatus: i32, // NO_GRPC_STATUS when not given
    public body: string,
  ) {}
  /** Extra reply headers: alternating lower-cased names and values (policy/parse-faults.ts). */
  headers: string[] = [];
  /** gRPC aborts: the text Envoy sends as grpc-message ("" = the body). */
  grpcMessage: string = "";
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
  /** Reset the request's stream instead of answering it (after any hold). */
  reset: bool = false;
  /** Applied when the upstream answers (response/). */
  response: ResponseFault | null = null;

  /** A delay form other than fixed_delay_ms (parse-delay.ts): drawn per faulted request. */
  delay: DelayDistribution | null = null;
  /** `max_injections` (parse-fault-extras.ts); `budgetKey` is set once the policy's identity is known. */
  budget: InjectionBudget | null = null;
  budgetKey: ArrayBuffer = new ArrayBuffer(0);
  /** `from_headers`: Envoy's x-envoy-fault-* request headers choose the fault (header-faults/). */
  fromHeaders: bool = false;

  /** Start delay plus fixed delay, in ms (a drawn `delay` comes on top: faults/plan.ts). */
  @inline holdMs(): i64 {
    return this.startDelayMs + this.delayMs;
  }
}

export class Rule {
  /** When the rule's policy was first seen (ms since epoch); filled in by the policy store. */
  activeSinceMs: i64 = 0;
  /** The policy's `spec.mode` is dry_run (policy/parse-mode.ts): match and sample, never inject. */
  dryRun: bool = false;
  /** Metric ids and access-log marks, set when a policy set is assembled (observe/). */
  tally: RuleTally = UNTALLIED;
  /** The policy's `spec.exclude`: a request matching one is never faulted by this rule. */
  exclude: Match[] = NO_MATCHES;
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
