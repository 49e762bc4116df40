// The plugin-wide safety settings: `max_fault_percentage`.
import { Settings } from "./settings";
import { maxFaultPercentage } from "../budgets/blast-radius";
import { Diagnostics } from "./diagnostics";

export function readSafetySettings(percent: f64, s: Settings, diag: Diagnostics): void {
  const r = maxFaultPercentage(percent);
  if (r.ok) s.maxFaultPercentage = r.percent;
  else diag.errors.push("configuration: " + r.error);
}
