// What a sampled request gets: the delay to hold it (fixed, or drawn from the rule's
// distribution) and the abort to answer with, from the rule itself or, on a rule with
// `from_headers: true`, from Envoy's x-envoy-fault-* request headers (header-faults/).
import { unitFromBits } from "../distributions/delay";
import { HeaderMapType, getHeader } from "../glue/host";
import {
  ABORT_GRPC_REQUEST_HEADER, ABORT_PERCENTAGE_HEADER, ABORT_REQUEST_HEADER, DELAY_PERCENTAGE_HEADER,
  DELAY_REQUEST_HEADER, HeaderFault,
} from "../header-faults/index";
import { Abort, Fault } from "../policy/model";
import { Sampler } from "./sampling";

const ABORT_REQUEST = String.UTF8.encode(ABORT_REQUEST_HEADER);
const ABORT_GRPC_REQUEST = String.UTF8.encode(ABORT_GRPC_REQUEST_HEADER);
const DELAY_REQUEST = String.UTF8.encode(DELAY_REQUEST_HEADER);
const ABORT_PERCENTAGE = String.UTF8.encode(ABORT_PERCENTAGE_HEADER);
const DELAY_PERCENTAGE = String.UTF8.encode(DELAY_PERCENTAGE_HEADER);

export const enum HeaderPlan {
  /** The headers ask for no fault: the rule's own fault (if any) applies. */
  None = 0,
  /** The headers chose the fault: `delayMs` and `abort` say what it is. */
  Planned = 1,
  /** The headers ask for a fault but its percentage draws said no: no fault. */
  NotDrawn = 2,
}

/** One per VM, reused: the fault of the request being decided. */
export class FaultPlan {
  delayMs: i64 = 0;
  abort: Abort | null = null;
  private readonly headers: HeaderFault = new HeaderFault();

  /** The rule's own fault (the request was sampled for it). */
  fromRule(fault: Fault, sampler: Sampler): void {
    const d = fault.delay;
    this.delayMs = d !== null ? d.sampleMs(unitFromBits(sampler.next())) : fault.delayMs;
    this.abort = fault.abort;
  }

  /**
   * from_headers: what the request's headers ask for, within the rule's percentage and
   * max_delay_ms. As Envoy, the delay and the abort have a draw each (Envoy makes the abort's
   * after the delay; drawn here at once, which is the same distribution).
   */
  fromHeaders(fault: Fault, sampler: Sampler, maxDelayMs: i64): HeaderPlan {
    const h = this.headers;
    const req = HeaderMapType.RequestHeaders;
    h.compute(getHeader(req, ABORT_REQUEST), getHeader(req, ABORT_GRPC_REQUEST), getHeader(req, DELAY_REQUEST),
      getHeader(req, ABORT_PERCENTAGE), getHeader(req, DELAY_PERCENTAGE), fault.percentage, maxDelayMs);
    if (!h.hasAbort && !h.hasDelay) return HeaderPlan.None;
    this.delayMs = h.hasDelay && h.wantsDelay(unitFromBits(sampler.next())) ? h.delayMs : 0;
    this.abort = h.hasAbort && h.wantsAbort(unitFromBits(sampler.next()))
      ? new Abort(h.abortHttpStatus, h.abortGrpcStatus, "") : null;
    return this.delayMs > 0 || this.abort !== null ? HeaderPlan.Planned : HeaderPlan.NotDrawn;
  }
}
