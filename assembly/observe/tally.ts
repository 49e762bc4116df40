// What a rule reports when it matches: the host ids of its policy's per-policy metrics and
// its access-log marks, made once when a policy set is assembled so that counting on the
// request path is a host call and nothing else (no name built, no allocation).
import { incrementMetric } from "../glue/host";

/** The `hfi_fault` kinds. A rule with both a delay and an abort injects both. */
export const KIND_ABORT = "abort";
export const KIND_DELAY = "delay";
export const KIND_RESET = "reset";
export const KIND_RESPONSE = "response";

export class RuleTally {
  /** The `hfi_policy` label this rule's policy counts under (its encoded name, or `_other`). */
  label: string = "";
  matched: i64 = -1;
  overflow: i64 = -1;
  injectedAbort: i64 = -1;
  injectedDelay: i64 = -1;
  dryRunAbort: i64 = -1;
  dryRunDelay: i64 = -1;
  injectedReset: i64 = -1;
  injectedResponse: i64 = -1;
  dryRunReset: i64 = -1;
  dryRunResponse: i64 = -1;
  /** UTF-8 of the policy name and of the fault kinds ("delay,abort"), for filter state. */
  policyMark: ArrayBuffer = new ArrayBuffer(0);
  faultMark: ArrayBuffer = new ArrayBuffer(0);
  dryRunMark: ArrayBuffer = new ArrayBuffer(0);
}

/** Every rule's tally until its set is assembled: counts nothing. */
export const UNTALLIED = new RuleTally();

/** Adds one to a counter defined at assembly (-1: the host refused it, skip). */
@inline export function count(id: i64): void {
  if (id >= 0) incrementMetric(<u32>id, 1);
}
