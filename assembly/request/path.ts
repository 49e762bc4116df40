// A request's life, top-down, in one place:
//   match      the first rule that matches, unless an exclusion (the policy's or the global
//              `exclude`) takes the request out                        (match/)
//   plan       what fault it gets: kinds, delay drawn, abort            (plan/plan.ts)
//   admission  schedule, guard, hold slot, max_injections, cap          (admission/admission.ts)
//   dry run    recorded as what would have happened, nothing done
//   act        hold, answer, reset, or rewrite the response             (this file, host layer)
//   record     the totals, per-policy series and access-log marks, at the moment each kind is
//              acted on                                                (observe/record.ts)
// Only faulted streams get state here (FaultedStream); every other request costs one header
// read and no allocation.
import { Admission, Slot, Verdict } from "../admission/admission";
import { LogLevel, Settings } from "../config/settings";
import { abortReply, FAULT_HEADER, isGrpcContentType } from "../faults/abort";
import { Sampler } from "../faults/sampling";
import { TimerFilter, TimerHeap } from "../faults/timers";
import { monotonicNanos } from "../glue/clock";
import {
  addHeader, closeStream, continueStream, getHeader, HeaderMapType, sendLocalResponse, setEffectiveContext, StreamType, WasmResult,
} from "../glue/host";
import { notePressure } from "../glue/memory";
import { HostRequest } from "./attributes";
import { Logger } from "../log";
import { NO_MATCH } from "../match/index";
import { excluded } from "../match/matcher";
import { HeaderSlots } from "../match/request";
import { Metrics } from "../metrics";
import { recordDryRun, recordHoldEnded, recordHoldStarted, recordInjected, recordMatched, recordOverflow } from "../observe/record";
import { Decision, DecisionTrace } from "../observe/trace";
import { RuleTally } from "../observe/tally";
import { Plan, PlanOutcome } from "../plan/plan";
import { Kind } from "../model/kinds";
import { Abort, Rule } from "../model/policy";
import { PolicySet } from "../policyset/store";
import { rewriteResponseBody, rewriteResponseHeaders, rewriteResponseTrailers } from "../response/act";
import { Gate } from "../safety/index";

export const enum HeadersStatus {
  Continue = 0,
  StopIteration = 1,
}
export const enum DataStatus {
  Continue = 0,
  StopIterationAndBuffer = 1,
}

const NS_PER_MS: i64 = 1000000;
const CONTENT_TYPE = String.UTF8.encode("content-type");

// A counting filter over the context ids of faulted streams: most requests are not faulted,
// and a zero count says so without a Map lookup, however many requests are held. One byte
// per slot; a count that reaches 255 stays there (only ever a false "maybe").
const FILTER_SLOTS: i32 = 65536;
const faultedFilter: usize = memory.data(FILTER_SLOTS);

@inline function filterSlot(contextId: u32): usize {
  return faultedFilter + <usize>(contextId & <u32>(FILTER_SLOTS - 1));
}

function markFaulted(contextId: u32): void {
  const slot = filterSlot(contextId);
  const n = load<u8>(slot);
  if (n < 255) store<u8>(slot, n + 1);
}

function unmarkFaulted(contextId: u32): void {
  const slot = filterSlot(contextId);
  const n = load<u8>(slot);
  if (n > 0 && n < 255) store<u8>(slot, n - 1);
}

@inline function mayBeFaulted(contextId: u32): bool {
  return load<u8>(filterSlot(contextId)) != 0;
}

/** The little state a faulted request needs. Only faulted requests have one. */
export class FaultedStream {
  /** True while the request (or, with `inResponse`, the response) is held. */
  held: bool = false;
  /** The hold is on the response headers (fault.response.delay_ms), not the request. */
  inResponse: bool = false;
  /** The place the current hold takes under max_active_faults. */
  slot: Slot = Slot.None;
  /** The kinds acted on so far (policy/kinds.ts). */
  given: u8 = 0;
  /** What response/act.ts still has to do to this response. */
  response: u8 = 0;
  startNs: i64 = 0;
  generation: u32 = 0;
  constructor(
    public contextId: u32,
    public rule: Rule,
    /** The rule's metric ids, from the set it matched in (a new set may be in force since). */
    public tally: RuleTally,
    /** The plan's kinds, delay and abort (plan/plan.ts), kept for after the hold. */
    public kinds: u8,
    public delayMs: i64,
    public abort: Abort | null,
  ) {}

  /** Is the current hold a delay (counted as one), not a start delay alone? */
  @inline get holdIsDelay(): bool {
    return this.inResponse || this.delayMs > 0;
  }
}

/** What the request path asks of its root context: a tick by a deadline (the ABI has one timer
 * per root), and a new publication of the policies' states. */
export abstract class Waker {
  abstract armBy(nowNs: i64, dueNs: i64): void;
  abstract stateChanged(position: i32): void;
}

export class RequestPath extends TimerFilter {
  settings: Settings = new Settings();
  policies: PolicySet = new PolicySet();
  /** The set's metric ids, by rule position. */
  tallies: RuleTally[] = [];
  staticSlots: HeaderSlots | null = null;
  liveSlots: HeaderSlots | null = null;
  readonly streams: Map<u32, FaultedStream> = new Map();
  readonly timers: TimerHeap = new TimerHeap();
  readonly admission: Admission;
  private readonly request: HostRequest = new HostRequest();
  private readonly plan: Plan = new Plan();
  private generation: u32 = 0;

  constructor(
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly trace: DecisionTrace,
    private readonly sampler: Sampler,
    private readonly waker: Waker,
    admission: Admission,
  ) {
    super();
    this.admission = admission;
  }

  /** Timer entries of holds that ended early (the client left): dropped from the heap once they
   * outnumber the live ones, so resets cannot grow the VM while long holds are pending. */
  private staleTimers: i32 = 0;

  keep(stream: u32, generation: u32): bool {
    if (!this.streams.has(stream)) return false;
    const s = this.streams.get(stream);
    return s.held && s.generation == generation;
  }

  /** Requests held right now in this VM. */
  heldCount: i32 = 0;

  // ---- request headers: match → plan → admission → dry run → act → record ---------------

  onRequestHeaders(contextId: u32): HeadersStatus {
    const settings = this.settings;
    const cap = this.admission.safety.cap;
    if (cap !== null) cap.countRequest(); // an integer increment: no host call
    const set = this.policies;
    const request = this.request;
    if (set.rules.length == 0 || !settings.enabled) {
      if (this.log.enabled(LogLevel.Debug)) {
        request.reset(this.staticSlots, this.liveSlots);
        this.trace.write(contextId, request, set.rules.length == 0 ? Decision.NoPolicy : Decision.Disabled, null);
      }
      return HeadersStatus.Continue;
    }

    // Match. The clock is read only when some rule can expire: one host call fewer per request.
    request.reset(this.staticSlots, this.liveSlots);
    const nowMs = set.expiring ? monotonicNanos() / NS_PER_MS : 0;
    const position = set.index.firstMatch(request, nowMs);
    if (position == NO_MATCH) {
      if (this.log.enabled(LogLevel.Debug)) this.trace.write(contextId, request, Decision.NoMatch, null);
      return HeadersStatus.Continue;
    }
    const exclude = settings.exclude;
    if (exclude.length > 0 && excluded(exclude, request)) return HeadersStatus.Continue;
    const rule = unchecked(set.rules[position]);
    const tally = unchecked(this.tallies[position]);
    recordMatched(tally);

    // Plan, then admission.
    const plan = this.plan;
    const planned = plan.decide(rule.fault, request, this.sampler, settings.maxDelayMs);
    const dryRun = rule.dryRun || settings.dryRun;
    const admission = this.admission;
    const rails = admission.safety.railsAt(position);
    const verdict = admission.admit(position, rule, rails, plan, dryRun, settings.maxActiveFaults);
    if (this.log.enabled(LogLevel.Debug)) this.trace.write(contextId, request, decisionOf(verdict, planned, dryRun), rule);
    // A guard watches what the upstream answers: every request of its policy that the plugin
    // does not answer, reset or rewrite itself.
    if (rails !== null && admission.gate == Gate.Watched && (verdict != Verdict.Admitted || dryRun || !answersItself(plan.kinds))) {
      admission.safety.track(contextId, rails);
    }
    if (verdict == Verdict.Overflow) {
      recordOverflow(this.metrics, tally);
      if (this.log.enabled(LogLevel.Debug)) {
        this.log.write(LogLevel.Debug, "no room for a fault; request " + contextId.toString() + " not faulted by policy " + rule.policyName);
      }
    }
    if (admission.newlySpent) this.waker.stateChanged(position);
    if (verdict != Verdict.Admitted) return HeadersStatus.Continue;
    if (dryRun) {
      recordDryRun(tally, plan.kinds);
      return HeadersStatus.Continue;
    }

    // Act: hold first (start delay and delay), else answer or reset now, else wait for the
    // upstream's answer (a response fault).
    const stream = this.track(contextId, rule, tally);
    const holdMs = plan.holdMs();
    if (holdMs > 0) {
      this.hold(stream, admission.slot, monotonicNanos(), holdMs);
      return HeadersStatus.StopIteration;
    }
    return this.end(stream) ? HeadersStatus.StopIteration : HeadersStatus.Continue;
  }

  /** While a request is held its body is buffered, as Envoy's own fault filter does. */
  onRequestBody(contextId: u32): DataStatus {
    return this.isHeld(contextId, false) ? DataStatus.StopIterationAndBuffer : DataStatus.Continue;
  }

  onRequestTrailers(contextId: u32): HeadersStatus {
    return this.isHeld(contextId, false) ? HeadersStatus.StopIteration : HeadersStatus.Continue;
  }

  // ---- the upstream's answer -----------------------------------------------------------

  onResponseHeaders(contextId: u32, endOfStream: bool): HeadersStatus {
    if (!this.isFaulted(contextId)) return HeadersStatus.Continue;
    const stream = this.streams.get(contextId);
    const rule = stream.rule;
    const response = rule.fault.response;
    if (response !== null && (stream.kinds & <u8>Kind.Response) != 0) {
      stream.response = rewriteResponseHeaders(response, rule.policyName, this.settings.policyHeader, endOfStream);
      stream.given = recordInjected(this.metrics, stream.tally, <u8>Kind.Response, stream.given);
      if (response.delayMs <= 0) return HeadersStatus.Continue;
      const slot = this.admission.takeResponseSlot(this.settings.maxActiveFaults);
      if (slot == Slot.None) {
        recordOverflow(this.metrics, stream.tally);
        return HeadersStatus.Continue;
      }
      stream.inResponse = true;
      this.hold(stream, slot, monotonicNanos(), response.delayMs);
      return HeadersStatus.StopIteration;
    }
    if (stream.delayMs > 0 && stream.abort === null && this.settings.markDelayedResponses) {
      addHeader(HeaderMapType.ResponseHeaders, FAULT_HEADER, "delay");
      if (this.settings.policyHeader.length > 0) addHeader(HeaderMapType.ResponseHeaders, this.settings.policyHeader, rule.policyName);
    }
    return HeadersStatus.Continue;
  }

  /** A response body chunk: rewritten as it passes (and buffered while the response is held). */
  onResponseBody(contextId: u32, size: u32, endOfStream: bool): DataStatus {
    if (!this.isFaulted(contextId)) return DataStatus.Continue;
    const stream = this.streams.get(contextId);
    const response = stream.rule.fault.response;
    if (response !== null && stream.response != 0) stream.response = rewriteResponseBody(response, stream.response, size, endOfStream, stream.held);
    return stream.held ? DataStatus.StopIterationAndBuffer : DataStatus.Continue;
  }

  onResponseTrailers(contextId: u32): HeadersStatus {
    if (!this.isFaulted(contextId)) return HeadersStatus.Continue;
    const stream = this.streams.get(contextId);
    const response = stream.rule.fault.response;
    if (response !== null && stream.response != 0) stream.response = rewriteResponseTrailers(response, stream.response);
    return stream.held ? HeadersStatus.StopIteration : HeadersStatus.Continue;
  }

  // ---- the end -------------------------------------------------------------------------

  /** The access-log phase: the guard reads the upstream's answer here. */
  onLog(contextId: u32): void {
    this.admission.safety.onLog(contextId);
  }

  /** The stream is gone (finished, or the client reset it): drop its state, never resume it. */
  onDelete(contextId: u32): void {
    this.admission.safety.forget(contextId);
    if (!this.isFaulted(contextId)) return;
    const stream = this.streams.get(contextId);
    if (stream.held) {
      this.endHold(stream, monotonicNanos());
      if (this.log.enabled(LogLevel.Debug)) {
        this.log.write(LogLevel.Debug, "request " + contextId.toString() + " ended while held by policy " + stream.rule.policyName);
      }
      this.staleTimers++;
    }
    this.streams.delete(contextId);
    unmarkFaulted(contextId);
    if (this.staleTimers > 64 && this.staleTimers > this.timers.size - this.staleTimers) {
      this.timers.keepOnly(this);
      this.staleTimers = 0;
    }
  }

  // ---- holds ---------------------------------------------------------------------------

  /** Releases the holds due by `nowNs` (the root's tick). */
  releaseDue(nowNs: i64): void {
    const timers = this.timers;
    while (timers.size > 0 && timers.peekDeadline() <= nowNs) {
      const id = timers.peekStream();
      const generation = timers.peekGeneration();
      timers.pop();
      if (!this.keep(id, generation)) {
        if (this.staleTimers > 0) this.staleTimers--;
        continue;
      }
      const stream = this.streams.get(id);
      this.endHold(stream, nowNs);
      if (setEffectiveContext(stream.contextId) != WasmResult.Ok) continue; // stream already gone
      if (stream.inResponse) continueStream(StreamType.Response);
      else if (!this.end(stream)) continueStream(StreamType.Request);
    }
  }

  /** The earliest hold deadline (ns); i64.MAX_VALUE when nothing is held. */
  @inline nextDueNs(): i64 {
    return this.timers.size > 0 ? this.timers.peekDeadline() : i64.MAX_VALUE;
  }

  /** Gives the stream fault state, with the fault planned for it. */
  private track(contextId: u32, rule: Rule, tally: RuleTally): FaultedStream {
    const plan = this.plan;
    const stream = new FaultedStream(contextId, rule, tally, plan.kinds, plan.delayMs, plan.abort);
    notePressure(96);
    this.streams.set(contextId, stream);
    markFaulted(contextId);
    return stream;
  }

  private hold(stream: FaultedStream, slot: Slot, nowNs: i64, holdMs: i64): void {
    const generation = ++this.generation;
    stream.held = true;
    stream.slot = slot;
    stream.generation = generation;
    stream.startNs = nowNs;
    this.heldCount++;
    recordHoldStarted(this.metrics);
    if (stream.holdIsDelay) stream.given = recordInjected(this.metrics, stream.tally, <u8>Kind.Delay, stream.given);
    const dueNs = nowNs + holdMs * NS_PER_MS;
    this.timers.push(dueNs, stream.contextId, generation);
    this.waker.armBy(nowNs, dueNs);
  }

  /** A hold is over (released, or the client left). */
  private endHold(stream: FaultedStream, nowNs: i64): void {
    recordHoldEnded(this.metrics, (nowNs - stream.startNs) / NS_PER_MS, stream.holdIsDelay);
    stream.held = false;
    this.heldCount--;
    this.admission.giveBack(stream.slot);
    stream.slot = Slot.None;
  }

  /** Ends the stream with its abort or reset, if its plan has one (true: the plugin answered). */
  private end(stream: FaultedStream): bool {
    const rule = stream.rule;
    const abort = stream.abort;
    if (abort !== null) {
      const grpc = abort.grpcStatus >= 0 && isGrpcContentType(getHeader(HeaderMapType.RequestHeaders, CONTENT_TYPE));
      const reply = abortReply(abort, rule.policyName, this.settings.policyHeader, grpc);
      stream.given = recordInjected(this.metrics, stream.tally, <u8>Kind.Abort, stream.given);
      sendLocalResponse(reply.status, "hfi_fault_abort", reply.body, reply.headers, reply.grpcStatus);
      return true;
    }
    if ((stream.kinds & <u8>Kind.Reset) != 0) {
      // Envoy resets the stream once this callback returns (docs/how-it-works.md, "Reset").
      stream.given = recordInjected(this.metrics, stream.tally, <u8>Kind.Reset, stream.given);
      closeStream(StreamType.Request);
      return true;
    }
    return false;
  }

  /** Is the request (`inResponse` false) or the response held? */
  private isHeld(contextId: u32, inResponse: bool): bool {
    if (!this.isFaulted(contextId)) return false;
    const stream = this.streams.get(contextId);
    return stream.held && stream.inResponse == inResponse;
  }

  /** Does this stream have fault state here? Cheap for the many streams that do not. */
  @inline private isFaulted(contextId: u32): bool {
    return this.streams.size > 0 && mayBeFaulted(contextId) && this.streams.has(contextId);
  }
}

/** Does a plan of these kinds answer, reset or rewrite the request itself (so the upstream's
 * answer says nothing about the service)? */
@inline function answersItself(kinds: u8): bool {
  return (kinds & <u8>(Kind.Abort | Kind.Reset | Kind.Response)) != 0;
}

function decisionOf(verdict: Verdict, planned: PlanOutcome, dryRun: bool): Decision {
  switch (verdict) {
    case Verdict.Closed: return Decision.Closed;
    case Verdict.Halted: return Decision.Halted;
    case Verdict.Overflow: return Decision.Overflow;
    case Verdict.Exhausted: return Decision.Exhausted;
    case Verdict.NotPlanned: return planned == PlanOutcome.NotAsked ? Decision.NotAsked : Decision.NotSampled;
    default: return dryRun ? Decision.DryRun : Decision.Inject;
  }
}
