// The act layer of the safety rails: turns the pure decisions of guard/, schedule/ and
// budgets/blast-radius.ts into host calls (clocks, shared data, logs, metrics). Admission asks
// it about one request (gate, cap share); the root routes on_log and ticks here. A request no
// policy matches never reaches this file except for the cap's integer count (and only when
// max_fault_percentage is set).
import { BlastRadius, BLAST_RADIUS_KEY } from "../budgets/blast-radius";
import { LogLevel, Settings } from "../config/settings";
import { monotonicNanos, wallNanos } from "../glue/clock";
import { getHeader, getPropertyI64, HeaderMapType, incrementMetric, WasmResult } from "../glue/host";
import { GuardDecision } from "../guard/guard";
import { isFailedOutcome, parseGrpcStatus, upstreamFailureFlagged } from "../guard/failure";
import { Logger } from "../log";
import { Metric, Metrics } from "../metrics";
import { Rails, Rule } from "../model/policy";
import { RuleTally } from "../observe/tally";
import { RailsView } from "../observe/policy-state";
import { ScheduleTransition } from "../schedule/window";
import { PolicySafety } from "./policy-safety";
import { MAX_CAS_TRIES, readFailed, readShared, writeShared } from "./shared";

const NS_PER_MS: i64 = 1000000;
/** How often the rails publish and look at the clocks while any rail is configured. */
export const SAFETY_TICK_MS: i64 = 1000;
/** The cap's sliding window. */
export const BLAST_RADIUS_WINDOW_MS: i64 = 60000;
const STATUS = String.UTF8.encode(":status");
const GRPC_STATUS = String.UTF8.encode("grpc-status");
const CAP_KEY = String.UTF8.encode(BLAST_RADIUS_KEY);
const RESPONSE_FLAGS = String.UTF8.encode("response\0flags");

/** A policy's rails' verdict on a matched request (admission/admission.ts asks). */
export const enum Gate {
  /** No guard: may be faulted; nothing to watch. */
  Open = 0,
  /** Guarded and not halted: may be faulted; its outcome feeds the guard. */
  Watched = 1,
  /** Outside its schedule window: inject nothing. */
  Closed = 2,
  /** Halted by its guard: inject nothing. */
  Halted = 3,
}

@inline function nowMs(): i64 {
  return monotonicNanos() / NS_PER_MS;
}

export class Safety extends RailsView {
  /** Streams of guarded policies on their way to the upstream, by context id. */
  readonly tracked: Map<u32, PolicySafety> = new Map();
  /** The distinct rails of the policy set in force, one per policy that has any. */
  private rails: PolicySafety[] = [];
  /** By rule position in the set in force: its policy's rails, or null. */
  private atPosition: Array<PolicySafety | null> = [];
  cap: BlastRadius | null = null;

  constructor(private readonly metrics: Metrics, private readonly log: Logger) {
    super();
  }

  haltedUntilMs(config: Rails, monoMs: i64): i64 {
    const s = this.railsFor(config);
    if (s === null) return 0;
    const guard = s.local;
    return guard !== null && guard.isHalted(monoMs) ? guard.haltedUntilMs : 0;
  }

  /**
   * A new policy set or new settings. Each policy with rails gets its runtime state, with its
   * guard series from `tallies` (by rule position). A guard's pooled state lives in shared data,
   * so a new set loses at most this VM's counts of one tick.
   */
  refresh(rules: Rule[], tallies: RuleTally[], settings: Settings): void {
    const rails: PolicySafety[] = [];
    const at = new Array<PolicySafety | null>(rules.length);
    for (let i = 0; i < rules.length; i++) {
      const config = unchecked(rules[i]).rails;
      if (config === null) continue;
      // A policy's rules are consecutive and share their Rails: one entry per policy.
      let s: PolicySafety;
      if (rails.length > 0 && unchecked(rails[rails.length - 1]).rails === config) s = unchecked(rails[rails.length - 1]);
      else {
        s = new PolicySafety(config);
        if (i < tallies.length) {
          s.haltedGauge = unchecked(tallies[i]).halted;
          s.tripsCounter = unchecked(tallies[i]).guardTrips;
        }
        rails.push(s);
      }
      unchecked((at[i] = s));
    }
    this.rails = rails;
    this.atPosition = at;
    const pct = settings.maxFaultPercentage;
    const cap = this.cap;
    if (pct < 0) this.cap = null;
    else if (cap === null || cap.capPercent != pct) this.cap = new BlastRadius(pct, BLAST_RADIUS_WINDOW_MS);
  }

  /** The rails of the rule at `position` in the set in force (null: none). */
  @inline railsAt(position: i32): PolicySafety | null {
    return position < this.atPosition.length ? unchecked(this.atPosition[position]) : null;
  }

  /** The runtime rails built from a policy's configured `rails` (null: none in force). */
  railsFor(config: Rails | null): PolicySafety | null {
    if (config === null) return null;
    const rails = this.rails;
    for (let i = 0; i < rails.length; i++) if (unchecked(rails[i]).rails === config) return unchecked(rails[i]);
    return null;
  }

  /** When the rails next need a tick (i64.MAX_VALUE: never). */
  nextDueNs(): i64 {
    return this.rails.length > 0 || this.cap !== null ? monotonicNanos() + SAFETY_TICK_MS * NS_PER_MS : i64.MAX_VALUE;
  }

  /** A request matched a rule of a policy with rails: may it be faulted, and is it watched?
   * The schedule first: a closed window needs no look at the guard. */
  gate(s: PolicySafety): Gate {
    if (s.window !== null && s.isClosed(wallNanos() / NS_PER_MS)) return Gate.Closed;
    if (s.local === null) return Gate.Open;
    return s.isHalted(nowMs()) ? Gate.Halted : Gate.Watched;
  }

  track(contextId: u32, s: PolicySafety): void {
    this.tracked.set(contextId, s);
  }

  /** The blast-radius cap's verdict on one more fault (true when no cap is set); a granted
   * fault is committed to the proxy-wide window. */
  takeCapShare(): bool {
    const cap = this.cap;
    return cap === null || this.stepCap(cap, nowMs(), true);
  }

  /** The stream ended: record a watched request's outcome. */
  onLog(contextId: u32): void {
    const tracked = this.tracked;
    if (tracked.size == 0 || !tracked.has(contextId)) return;
    const s = tracked.get(contextId);
    tracked.delete(contextId);
    const local = s.local;
    if (local === null) return;
    const status = getHeader(HeaderMapType.ResponseHeaders, STATUS);
    // No answer at all: the client left (Envoy's DC or DR), which says nothing of the service;
    // an upstream failure shows as the router's own 5xx reply. Only an upstream failure flag
    // without any reply still counts.
    if (status === null && !upstreamFailureFlagged(getPropertyI64(RESPONSE_FLAGS))) return;
    const failed = isFailedOutcome(status !== null, parseGrpcStatus(status),
      parseGrpcStatus(getHeader(HeaderMapType.ResponseHeaders, GRPC_STATUS)),
      parseGrpcStatus(getHeader(HeaderMapType.ResponseTrailers, GRPC_STATUS)));
    // Published on the next tick (at most SAFETY_TICK_MS later): a guarded request pays no
    // shared-data round trip.
    local.record(nowMs(), failed);
  }

  forget(contextId: u32): void {
    if (this.tracked.size > 0) this.tracked.delete(contextId);
  }

  onTick(): void {
    if (this.rails.length == 0 && this.cap === null) return;
    const now = nowMs();
    const rails = this.rails;
    let wall: i64 = i64.MIN_VALUE;
    for (let i = 0; i < rails.length; i++) {
      const s = unchecked(rails[i]);
      if (s.local !== null) this.publish(s, now);
      const watcher = s.watcher;
      if (watcher === null) continue;
      if (wall == i64.MIN_VALUE) wall = wallNanos() / NS_PER_MS;
      const t = watcher.observe(wall);
      if (t != ScheduleTransition.None) {
        this.log.write(LogLevel.Info, "policy " + s.name + ": schedule window " + (t == ScheduleTransition.Opened ? "open" : "closed"));
      }
    }
    const cap = this.cap;
    if (cap !== null && cap.pending > 0) this.stepCap(cap, now, false);
  }

  /** The guard's CAS loop: pools this worker's counts and decides for the proxy. */
  private publish(s: PolicySafety, now: i64): void {
    const local = s.local;
    const pooled = s.pooled;
    if (local === null || pooled === null) return;
    for (let i = 0; i < MAX_CAS_TRIES; i++) {
      const bytes = readShared(s.key);
      if (readFailed) return;
      if (bytes === null) pooled.reset();
      else pooled.decode(bytes);
      pooled.addCountsFrom(local);
      const d = pooled.decide(now);
      const r = writeShared(s.key, pooled.encode());
      if (r == WasmResult.CasMismatch) continue;
      if (r != WasmResult.Ok) return;
      local.clearCounts();
      local.adoptHalt(pooled);
      // Exactly one worker's successful set carries a transition: logged once per proxy.
      if (d == GuardDecision.Tripped) {
        this.log.write(LogLevel.Warn, pooled.describeTrip(s.name));
        this.metrics.add(Metric.GuardTrips, 1);
        this.perPolicy(s, true);
      } else if (d == GuardDecision.Resumed) {
        this.log.write(LogLevel.Info, "guard resumed policy \"" + s.name + "\"");
        this.perPolicy(s, false);
      }
      return;
    }
  }

  /** The per-policy series (defined under the policy's label, observe/policy-metrics.ts): the
   * halted gauge moves by +1 / -1, so policies that share the `_other` label add up. */
  private perPolicy(s: PolicySafety, halted: bool): void {
    if (s.haltedGauge >= 0) incrementMetric(<u32>s.haltedGauge, halted ? 1 : -1);
    if (halted && s.tripsCounter >= 0) incrementMetric(<u32>s.tripsCounter, 1);
  }

  /** The cap's CAS loop; true when a wanted fault was granted (and committed). */
  private stepCap(cap: BlastRadius, now: i64, wantFault: bool): bool {
    for (let i = 0; i < MAX_CAS_TRIES; i++) {
      const bytes = readShared(CAP_KEY);
      if (readFailed) return false;
      const granted = cap.step(bytes, now, wantFault);
      const r = writeShared(CAP_KEY, cap.bytes);
      if (r == WasmResult.CasMismatch) continue;
      if (r != WasmResult.Ok) return false;
      cap.committed();
      return granted;
    }
    return false;
  }
}
