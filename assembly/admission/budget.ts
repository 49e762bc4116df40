// Spending a rule's `max_injections`: the count lives in Proxy-Wasm shared data under the rule's
// budget key, as [policy identity, count], and moves by compare-and-swap, so every worker VM of
// the proxy draws from one budget and no two workers can both take the last injection
// (budgets/injection-budget.ts). Envoy's semantics (envoy-host.md): a set with the cas of the
// read fails with CasMismatch if anyone wrote in between; a missing key reads with a cas that
// creates it only if it is still missing.
import { BUDGET_VALUE_BYTES, countFor, takeFrom, TakeResult, writeValue } from "../budgets/injection-budget";
import { getSharedBytes, setSharedBytes, sharedCas, WasmResult } from "../glue/host";
import { Fault } from "../model/policy";

/** Compare-and-swap attempts before giving up (only a broken host loses this many races). */
const TRIES = 16;
/** The value a set writes: [identity, count]. */
const VALUE = new ArrayBuffer(BUDGET_VALUE_BYTES);

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
  return move(fault, 1) ? Spend.Taken : spent ? Spend.Spent : Spend.Failed;
}

/** Gives back an injection taken with spendInjection whose fault a later gate refused. */
export function refundInjection(fault: Fault): void {
  if (fault.hasBudget) move(fault, -1);
}

let spent = false;

/** Moves the count by `delta` (+1 within the maximum, -1 down to 0); true when it moved. */
function move(fault: Fault, delta: i32): bool {
  spent = false;
  const key = fault.budgetKey;
  for (let i = 0; i < TRIES; i++) {
    const used = countFor(getSharedBytes(key), fault.budgetIdentity);
    const cas = sharedCas;
    if (cas == 0) return false;
    if (delta > 0 && takeFrom(used, fault.maxInjections) != TakeResult.Taken) {
      spent = true;
      return false;
    }
    if (delta < 0 && used == 0) return false;
    writeValue(VALUE, fault.budgetIdentity, delta > 0 ? used + 1 : used - 1);
    const r = setSharedBytes(key, VALUE, cas);
    if (r == WasmResult.Ok) return true;
    if (r != WasmResult.CasMismatch) return false;
  }
  return false;
}
