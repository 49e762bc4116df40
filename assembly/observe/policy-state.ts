// The state of a policy, the one definition every tool shows: the plugin's JSON for /policies
// (observe/effective.ts), the per-policy gauges hfi status reads, and hfi simulate. Worked out
// from the selector, the rules' durations, the schedule window, the guard and the budgets, with
// the moment that state ends.
import { countFor } from "../budgets/injection-budget";
import { getSharedBytes } from "../glue/host";
import { Policy, Rails, ruleEndMs } from "../model/policy";
import { NO_NOT_AFTER, NO_NOT_BEFORE } from "../schedule/window";

/** What the rails in force say of a policy's guard (safety/ answers; this file only reads). */
export abstract class RailsView {
  /** Monotonic ms until which the policy's guard halts it; 0 when it does not. */
  abstract haltedUntilMs(rails: Rails, monoMs: i64): i64;
}

/** In order of precedence: the first that holds is the policy's state. */
export const enum PolicyState {
  Active = 0,
  DryRun = 1,
  Halted = 2,
  NotYetStarted = 3,
  WindowClosed = 4,
  BudgetExhausted = 5,
  Expired = 6,
  NotHere = 7,
}

/** The words for each state (the `hfi_faults_policy_state` gauge carries the number). */
export const STATE_NAMES: StaticArray<string> = [
  "active", "dry run", "halted", "not yet started", "window closed", "budget exhausted", "expired", "not for this workload",
];

/** Wall-clock ms at which a state ends; NO_END when nothing will end it. */
export const NO_END: i64 = -1;

export class StateNow {
  state: PolicyState = PolicyState.Active;
  /** Unix ms when the state ends (NO_END: it does not end by itself). */
  untilWallMs: i64 = NO_END;
}

/**
 * The state of `p` now, first seen at `sinceMs`. `monoMs` is the monotonic clock of rule expiry
 * and the guard; `wallMs` the wall clock of the schedule and of the answer. Budgets are read
 * from shared data, so every VM of the proxy says the same.
 */
export function policyState(p: Policy, sinceMs: i64, applies: bool, globalDryRun: bool, rails: RailsView, monoMs: i64, wallMs: i64, out: StateNow): void {
  out.untilWallMs = NO_END;
  if (!applies || p.rules.length == 0) {
    out.state = PolicyState.NotHere;
    return;
  }
  const rules = p.rules;
  let end: i64 = 0; // when the last rule expires (monotonic)
  let spent = true; // every rule has a budget, all spent
  for (let i = 0; i < rules.length; i++) {
    const r = unchecked(rules[i]);
    end = max<i64>(end, ruleEndMs(sinceMs, r.fault.durationSeconds));
    if (spent && (!r.fault.hasBudget || countFor(getSharedBytes(r.fault.budgetKey), r.fault.budgetIdentity) < r.fault.maxInjections)) spent = false;
  }
  if (end <= monoMs) {
    out.state = PolicyState.Expired;
    return;
  }
  const first = unchecked(rules[0]);
  const config = first.rails;
  let closesWallMs: i64 = i64.MAX_VALUE;
  if (config !== null) {
    const window = config.window;
    if (window !== null) {
      if (window.notBeforeMs != NO_NOT_BEFORE && wallMs < window.notBeforeMs) {
        out.state = PolicyState.NotYetStarted;
        out.untilWallMs = window.notBeforeMs;
        return;
      }
      if (window.notAfterMs != NO_NOT_AFTER) {
        if (wallMs >= window.notAfterMs) {
          out.state = PolicyState.WindowClosed;
          return;
        }
        closesWallMs = window.notAfterMs;
      }
    }
    const haltedUntil = rails.haltedUntilMs(config, monoMs);
    if (haltedUntil > monoMs) {
      out.state = PolicyState.Halted;
      out.untilWallMs = wallMs + (haltedUntil - monoMs);
      return;
    }
  }
  if (spent) {
    out.state = PolicyState.BudgetExhausted;
    return;
  }
  out.state = first.dryRun || globalDryRun ? PolicyState.DryRun : PolicyState.Active;
  const expiresWallMs = end == i64.MAX_VALUE ? i64.MAX_VALUE : wallMs + (end - monoMs);
  const until = min<i64>(expiresWallMs, closesWallMs);
  out.untilWallMs = until == i64.MAX_VALUE ? NO_END : until;
}
