// What fault one matched request gets: the plan. From the rule's own fault (sampled by its
// percentage, randomly or by a request header's hash; a delay drawn from its distribution) or,
// on a rule with `from_headers: true`, from Envoy's x-envoy-fault-* request headers. The plan
// carries the kinds it will inject; everything downstream (admission, acting, recording) reads
// the kinds from here, never from the rule's static fields.
import { unitFromBits } from "../distributions/delay";
import { chanceByKey, Sampler } from "../faults/sampling";
import { HeaderMapType, getHeader } from "../glue/host";
import {
  ABORT_GRPC_REQUEST_HEADER, ABORT_PERCENTAGE_HEADER, ABORT_REQUEST_HEADER, DELAY_PERCENTAGE_HEADER,
  DELAY_REQUEST_HEADER, HeaderFault,
} from "../header-faults/index";
import { RequestAttributes } from "../match/request";
import { Kind } from "../model/kinds";
import { Abort, Fault } from "../model/policy";
import { ResponseFault } from "../model/response";

const ABORT_REQUEST = String.UTF8.encode(ABORT_REQUEST_HEADER);
const ABORT_GRPC_REQUEST = String.UTF8.encode(ABORT_GRPC_REQUEST_HEADER);
const DELAY_REQUEST = String.UTF8.encode(DELAY_REQUEST_HEADER);
const ABORT_PERCENTAGE = String.UTF8.encode(ABORT_PERCENTAGE_HEADER);
const DELAY_PERCENTAGE = String.UTF8.encode(DELAY_PERCENTAGE_HEADER);

/** Why a matched request gets no fault (Planned when it gets one). */
export const enum PlanOutcome {
  Planned = 0,
  /** The rule's percentage (or a header's) said no. */
  NotSampled = 1,
  /** A from_headers rule with no fault of its own, and the request asks for none. */
  NotAsked = 2,
}

/** One per root context, reused: the fault of the request being decided. */
export class Plan {
  /** The kinds this request will get (a response hold counts as a delay). */
  kinds: u8 = 0;
  /** Held this long before anything else happens (not a delay: no delay is counted). */
  startDelayMs: i64 = 0;
  /** The request's delay (fixed, drawn, or asked for by a header). */
  delayMs: i64 = 0;
  abort: Abort | null = null;
  /** What to do to the upstream's answer (null: nothing). */
  response: ResponseFault | null = null;
  private readonly headers: HeaderFault = new HeaderFault();

  /** How long the request is held before its abort, reset or upstream call. */
  @inline holdMs(): i64 {
    return this.startDelayMs + this.delayMs;
  }

  @inline has(kind: Kind): bool {
    return (this.kinds & <u8>kind) != 0;
  }

  /** Decides the fault of a matched request. */
  decide(fault: Fault, request: RequestAttributes, sampler: Sampler, maxDelayMs: i64): PlanOutcome {
    this.clear();
    if (fault.fromHeaders) {
      const asked = this.fromHeaders(fault, sampler, maxDelayMs);
      if (asked != PlanOutcome.NotAsked) return asked;
      // The headers ask for nothing: the rule's own fault applies, if it has one.
      if (fault.abort === null && fault.delayMs == 0 && fault.delay === null && !fault.reset && fault.response === null) {
        return PlanOutcome.NotAsked;
      }
    }
    if (!sampled(fault, request, sampler)) return PlanOutcome.NotSampled;
    this.fromRule(fault, sampler);
    // A drawn delay of 0 ms on a delay-only rule: nothing to inject, not even its start delay.
    return this.kinds != 0 ? PlanOutcome.Planned : PlanOutcome.NotSampled;
  }

  private clear(): void {
    this.kinds = 0;
    this.startDelayMs = 0;
    this.delayMs = 0;
    this.abort = null;
    this.response = null;
  }

  /** The rule's own fault: a delay first (drawn when it has a distribution), then what ends it. */
  private fromRule(fault: Fault, sampler: Sampler): void {
    const d = fault.delay;
    this.delayMs = d !== null ? d.sampleMs(unitFromBits(sampler.next())) : fault.delayMs;
    this.startDelayMs = fault.startDelayMs;
    this.abort = fault.abort;
    this.response = fault.response;
    let kinds: u8 = this.delayMs > 0 ? <u8>Kind.Delay : 0;
    if (fault.abort !== null) kinds |= <u8>Kind.Abort;
    else if (fault.reset) kinds |= <u8>Kind.Reset;
    const response = fault.response;
    if (response !== null) {
      kinds |= <u8>Kind.Response;
      if (response.delayMs > 0) kinds |= <u8>Kind.Delay;
    }
    this.kinds = kinds;
  }

  /**
   * What the request's headers ask for, within the rule's percentage and max_delay_ms. As
   * Envoy, the delay and the abort have a draw each (Envoy makes the abort's after the delay;
   * drawn here at once, which is the same distribution). The headers' fault replaces the
   * rule's own: no start delay, reset or response fault comes with it.
   */
  private fromHeaders(fault: Fault, sampler: Sampler, maxDelayMs: i64): PlanOutcome {
    const h = this.headers;
    const req = HeaderMapType.RequestHeaders;
    h.compute(getHeader(req, ABORT_REQUEST), getHeader(req, ABORT_GRPC_REQUEST), getHeader(req, DELAY_REQUEST),
      getHeader(req, ABORT_PERCENTAGE), getHeader(req, DELAY_PERCENTAGE), fault.percentage, maxDelayMs);
    if (!h.hasAbort && !h.hasDelay) return PlanOutcome.NotAsked;
    this.delayMs = h.hasDelay && h.wantsDelay(unitFromBits(sampler.next())) ? h.delayMs : 0;
    this.abort = h.hasAbort && h.wantsAbort(unitFromBits(sampler.next()))
      ? new Abort(h.abortHttpStatus, h.abortGrpcStatus, "") : null;
    let kinds: u8 = this.delayMs > 0 ? <u8>Kind.Delay : 0;
    if (this.abort !== null) kinds |= <u8>Kind.Abort;
    this.kinds = kinds;
    return kinds != 0 ? PlanOutcome.Planned : PlanOutcome.NotSampled;
  }
}

/** Is the request inside the fault's percentage? By the sampling header's hash when the rule
 * names one and the request carries it, else by a random draw. */
function sampled(fault: Fault, request: RequestAttributes, sampler: Sampler): bool {
  if (fault.samplingSlot >= 0) {
    const key = request.headerBytes(fault.samplingSlot);
    if (key.length >= 0) return chanceByKey(key.ptr, key.length, fault.percentage);
  }
  return sampler.chance(fault.percentage);
}
