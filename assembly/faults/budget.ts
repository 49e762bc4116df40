// Spending a rule's `max_injections`: the count lives in Proxy-Wasm shared
// data under the rule's budget key and moves by compare-and-swap, so every worker VM of the
// proxy draws from one budget and no two workers can both take the last injection.
// Envoy's semantics (envoy-host.md): a set with the cas of the read fails with CasMismatch if
// anyone wrote in between; getSharedI64 answers a missing key with CAS_CREATE_ONLY, which
// creates the key only if it is still missing (a set with cas 0 would overwrite).
import { TakeResult } from "../budgets/injection-budget";
import { LogLevel } from "../config/settings";
import { getSharedI64, setSharedI64, sharedCas, sharedFound, WasmResult } from "../glue/host";
import { Logger } from "../log";
import { Metric, Metrics } from "../metrics";
import { Rule } from "../policy/model";
import { firstToReport } from "../problems";

/** Compare-and-swap attempts before giving up (only a broken host loses this many races). */
const TRIES = 16;

/**
 * Takes one injection from the rule's budget. True: inject (also for a rule without a budget).
 * False: the budget is spent (or shared data failed): the request goes on unfaulted, counted in
 * hfi_faults_budget_skipped_total; the proxy's first VM to see it spent logs it once and counts
 * it in hfi_faults_budget_exhausted_total.
 */
export function spendInjection(rule: Rule, metrics: Metrics, log: Logger): bool {
  const budget = rule.fault.budget;
  if (budget === null) return true;
  let r = TakeResult.Malformed; // shared data failed: no count, no injection
  // Counts only grow: a budget this VM saw spent needs no more host calls.
  if (budget.exhausted) r = TakeResult.Exhausted;
  else {
    const key = rule.fault.budgetKey;
    for (let i = 0; i < TRIES; i++) {
      const used = getSharedI64(key);
      const cas = sharedCas;
      if (cas == 0) break;
      const take = budget.takeFrom(<u64>used);
      if (take != TakeResult.Taken) {
        r = take;
        break;
      }
      const s = setSharedI64(key, <i64>(used + 1), cas);
      if (s == WasmResult.Ok) return true;
      if (s != WasmResult.CasMismatch) break;
    }
  }
  metrics.add(Metric.BudgetSkipped, 1);
  if (r == TakeResult.Exhausted && budget.firstExhaustion() && firstToReport("budget", rule.fault.budgetKey)) {
    metrics.add(Metric.BudgetsExhausted, 1);
    log.write(LogLevel.Warn, "policy " + rule.policyName + " rule " + rule.index.toString() + ": max_injections " +
      (<i64>budget.maxInjections).toString() + " reached; no more faults until the policy changes");
  }
  return false;
}

/** Gives back an injection taken with spendInjection whose fault was then refused (admission
 * reserves the budget before the blast-radius cap). */
export function refundInjection(rule: Rule): void {
  const budget = rule.fault.budget;
  if (budget === null) return;
  const key = rule.fault.budgetKey;
  for (let i = 0; i < TRIES; i++) {
    const used = getSharedI64(key);
    const cas = sharedCas;
    if (!sharedFound || used <= 0) return;
    if (setSharedI64(key, used - 1, cas) != WasmResult.CasMismatch) return;
  }
}
