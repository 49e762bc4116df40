// The policy model: what a parsed, validated policy set looks like. Built once per
// configuration or control-plane update and never mutated afterwards, so a request that
// started under one set keeps a consistent view of its rule while a new set is swapped in.
// Runtime state lives with its owners, keyed by a rule's position in the assembled set
// (policy/store.ts): first-seen clocks in the set, metric ids in observe/, guard counts in
// safety/, budget flags in admission/.
import { Regex } from "../regex/index";
import { borderTable } from "../util/bytes";
import { ResponseFault } from "./response";
import { DelayDistribution } from "../distributions/delay";
import { GuardConfig } from "../guard/guard";
import { ScheduleWindow } from "../schedule/window";
import { Destination, Direction } from "./scope";

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

export const NO_BUDGET: u64 = u64.MAX_VALUE;

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
  /** `max_injections` (parse-fault-extras.ts): NO_BUDGET when not set. `budgetKey`, the budget's
   * shared-data key, is set once the policy's identity is known. */
  maxInjections: u64 = NO_BUDGET;
  budgetKey: ArrayBuffer = new ArrayBuffer(0);
  /** The identity of the policy the budget counts for (its shared value names it). */
  budgetIdentity: u64 = 0;
  /** `from_headers`: Envoy's x-envoy-fault-* request headers choose the fault (header-faults/). */
  fromHeaders: bool = false;

  /** Start delay plus fixed delay, in ms (a drawn `delay` comes on top: plan/plan.ts). */
  @inline holdMs(): i64 {
    return this.startDelayMs + this.delayMs;
  }

  @inline get hasBudget(): bool {
    return this.maxInjections != NO_BUDGET;
  }
}

/** A policy's safety rails as configured (`spec.guard`, `spec.schedule`); shared by its rules.
 * The guard's counts live in safety/ (PolicySafety), built from this. */
export class Rails {
  constructor(
    public policyName: string,
    public policyIdentity: u64,
    public guard: GuardConfig | null,
    public window: ScheduleWindow | null,
  ) {}
}

export class Rule {
  /** The policy's `spec.mode` is dry_run (policy/parse-mode.ts): match and sample, never inject. */
  dryRun: bool = false;
  /** The policy's `spec.exclude`: a request matching one is never faulted by this rule. */
  exclude: Match[] = NO_MATCHES;
  /** The policy's `spec.direction` (Unset when not given: see match/scope.ts). */
  direction: Direction = Direction.Unset;
  /** The policy's `spec.destination`; null when any destination will do. */
  destination: Destination | null = null;
  /** The policy's guard and schedule (parse-safety.ts); null for most policies. */
  rails: Rails | null = null;
  constructor(
    public policyName: string,
    public index: i32,
    public match: Match,
    public fault: Fault,
  ) {}

  /** False once `duration_seconds` has passed since the policy was first seen (`sinceMs`). */
  @inline isLive(sinceMs: i64, nowMs: i64): bool {
    return nowMs < ruleEndMs(sinceMs, this.fault.durationSeconds);
  }
}

/** When a rule stops injecting (monotonic ms); i64.MAX_VALUE when it never does. */
export function ruleEndMs(sinceMs: i64, durationSeconds: i64): i64 {
  return durationSeconds <= 0 ? i64.MAX_VALUE : sinceMs + durationSeconds * 1000;
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
