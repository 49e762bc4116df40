/**
 * Words the plugin defines that the host's tools print: the `hfi_fault` kinds and the policy
 * states. The plugin is the source (assembly/model/kinds.ts KIND_NAMES,
 * assembly/observe/policy-state.ts STATE_NAMES); tests/observability/vocabulary.test.ts fails
 * when these lists drift from it.
 */

/** The `hfi_fault` kinds, in the plugin's bit order. */
export const FAULT_KINDS = ["delay", "abort", "reset", "response"] as const;

/** Policy states, by the number the `hfi_faults_policy_state` gauge carries. */
export const POLICY_STATES = [
  "active", "dry run", "halted", "not yet started", "window closed", "budget exhausted", "expired", "not for this workload",
] as const;
