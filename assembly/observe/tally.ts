// What a rule reports: the host ids of its policy's per-policy metrics, made once when a policy
// set is assembled (observe/policy-metrics.ts), so that counting on the request path is a host
// call and nothing else (no name built, no allocation).
import { incrementMetric } from "../glue/host";

export class RuleTally {
  /** The `hfi_policy` label this rule's policy counts under (its escaped name, or `_other`). */
  label: string = "";
  matched: i64 = -1;
  overflow: i64 = -1;
  /** Injected and dry-run counters by kind index (policy/kinds.ts, KIND_COUNT); -1: not defined. */
  injected: StaticArray<i64> = [-1, -1, -1, -1];
  dryRun: StaticArray<i64> = [-1, -1, -1, -1];
  /** The policy's state gauges (observe/policy-state.ts); -1 under `_other`, where policies
   * share a label but not a state. */
  state: i64 = -1;
  stateUntil: i64 = -1;
  /** The guard's series, for a guarded policy (safety/ moves them); -1 otherwise. */
  halted: i64 = -1;
  guardTrips: i64 = -1;
  /** UTF-8 of the policy name, for the hfi_policy access-log mark. */
  policyMark: ArrayBuffer = new ArrayBuffer(0);
}

/** Adds one to a counter defined at assembly (-1: the host refused it, skip). */
@inline export function count(id: i64): void {
  if (id >= 0) incrementMetric(<u32>id, 1);
}
