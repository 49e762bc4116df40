// Access-log marks: the decision of a faulted (or dry-run) request as stream filter state.
// Envoy stores proxy_set_property(key, value) as filter state `wasm.<key>` (context.cc,
// Context::setProperty), which access logs print with %FILTER_STATE(wasm.hfi_policy:PLAIN)%.
import { setProperty } from "../glue/host";
import { RuleTally } from "./tally";

const POLICY_KEY = String.UTF8.encode("hfi_policy");
const FAULT_KEY = String.UTF8.encode("hfi_fault");

/** hfi_policy = the policy's name; hfi_fault = "delay", "abort", "delay,abort", or
 * "dry_run:<kinds>" for a dry run. */
export function markStream(t: RuleTally, dryRun: bool): void {
  setProperty(POLICY_KEY, t.policyMark);
  setProperty(FAULT_KEY, dryRun ? t.dryRunMark : t.faultMark);
}
