// Spending a rule's `max_injections`: the count lives in Proxy-Wasm shared data under the rule's
// budget key and moves by compare-and-swap, so every worker VM of the proxy draws from one budget
// and no two workers can both take the last injection (budgets/injection-budget.ts).
// Envoy's semantics (envoy-host.md): a set with the cas of the read fails with CasMismatch if
// anyone wrote in between; getSharedI64 answers a missing key with CAS_CREATE_ONLY, which
// creates the key only if it is still missing (a set with cas 0 would overwrite).
import { takeFrom, TakeResult } from "../budgets/injection-budget";
import { getSharedI64, setSharedI64, sharedCas, sharedFound, WasmResult } from "../glue/host";
import { Fault } from "../model/policy";

/** Compare-and-swap attempts before giving up (only a broken host loses this many races). */
const TRIES = 16;

export const enum Spend {
  /** One injection taken (or the rule has no budget). */
  Taken = 0,
  /** The budget is spent. */
  Spent = 1,
  /** Shared data did not work: no injection, as if spent, but not known to be. */
  Failed = 2,
}

/** Takes one injection from the fault's budget. */
export function spendInjection(fault: Fault): Spend {
  if (!fault.hasBudget) return Spend.Taken;
  const key = fault.budgetKey;
  for (let i = 0; i < TRIES; i++) {
    const used = getSharedI64(key);
    const cas = sharedCas;
    if (cas == 0) return Spend.Failed;
    if (takeFrom(<u64>used, fault.maxInjections) != TakeResult.Taken) return Spend.Spent;
    const s = setSharedI64(key, used + 1, cas);
    if (s == WasmResult.Ok) return Spend.Taken;
    if (s != WasmResult.CasMismatch) return Spend.Failed;
  }
  return Spend.Failed;
}

/** Gives back an injection taken with spendInjection whose fault a later gate refused. */
export function refundInjection(fault: Fault): void {
  if (!fault.hasBudget) return;
  const key = fault.budgetKey;
  for (let i = 0; i < TRIES; i++) {
    const used = getSharedI64(key);
    const cas = sharedCas;
    if (!sharedFound || used <= 0) return;
    if (setSharedI64(key, used - 1, cas) != WasmResult.CasMismatch) return;
  }
}
