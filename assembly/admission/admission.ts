// Admission: may this planned fault happen now? Every gate, in one fixed order, cheap checks
// first and reservations last:
//   1. schedule window (a policy with `schedule`)        → Closed
//   2. SLO guard (a policy with `guard`)                 → Halted
//   3. nothing planned                                   → NotPlanned
//   4. dry run: no reservation is taken                  → Admitted
//   5. a hold slot (max_active_faults), for a held plan  → Overflow
//   6. one injection of max_injections                   → Exhausted
//   7. a share of the blast-radius cap                   → Overflow (the slot and injection
//                                                          taken above are given back)
// One verdict with its reason; the request path records it (observe/record.ts).
import { LogLevel } from "../config/settings";
import { Logger } from "../log";
import { Metric, Metrics } from "../metrics";
import { Plan } from "../plan/plan";
import { Fault, Rule } from "../model/policy";
import { firstToReport } from "../problems";
import { Gate, Safety } from "../safety/index";
import { PolicySafety } from "../safety/policy-safety";
import { refundInjection, Spend, spendInjection } from "./budget";
import { HoldSlot, releaseHoldSlot, takeHoldSlot } from "./hold-slots";

export const enum Verdict {
  Admitted = 0,
  /** Outside the policy's schedule window. */
  Closed = 1,
  /** The policy's guard halted it. */
  Halted = 2,
  /** The plan has no fault. */
  NotPlanned = 3,
  /** No room: max_active_faults or max_fault_percentage. */
  Overflow = 4,
  /** The rule's max_injections is spent. */
  Exhausted = 5,
}

/** A hold place taken for a stream: given back when its hold ends. */
export const enum Slot {
  None = 0,
  /** Counted in the proxy-wide shared count. */
  Shared = 1,
  /** Shared data did not work: counted in this VM alone. */
  Local = 2,
}

export class Admission {
  /** Holds this VM counts itself (when shared data fails). */
  private localHolds: i64 = 0;
  /** The gate of the last verdict: Watched when its outcome feeds a guard. */
  gate: Gate = Gate.Open;
  /** The hold place the last Admitted verdict took (Slot.None if none). */
  slot: Slot = Slot.None;
  /** The last verdict found a budget spent that this VM had not seen spent: the policy's state
   * may have changed. */
  newlySpent: bool = false;
  /** By rule position in the set in force: this VM has seen the rule's budget spent. */
  private spent: StaticArray<bool> = new StaticArray<bool>(0);

  constructor(readonly safety: Safety, private readonly metrics: Metrics, private readonly log: Logger) {}

  /** A new set is in force with `rules` rules. */
  refresh(rules: i32): void {
    this.spent = new StaticArray<bool>(rules);
  }

  /** The verdict on `plan` for a request matched by `rule` at `position` in the set, with its
   * policy's rails. `plan.kinds` is 0 when it was not sampled: the rails are still asked, so a
   * guard watches every request it may fault. */
  admit(position: i32, rule: Rule, rails: PolicySafety | null, plan: Plan, dryRun: bool, maxActive: i64): Verdict {
    this.slot = Slot.None;
    this.gate = Gate.Open;
    this.newlySpent = false;
    if (rails !== null) {
      const gate = this.safety.gate(rails);
      this.gate = gate;
      if (gate == Gate.Closed) return Verdict.Closed;
      if (gate == Gate.Halted) return Verdict.Halted;
    }
    if (plan.kinds == 0) return Verdict.NotPlanned;
    if (dryRun) return Verdict.Admitted;
    if (plan.holdMs() > 0) {
      const slot = this.takeSlot(maxActive);
      if (slot == Slot.None) return Verdict.Overflow;
      this.slot = slot;
    }
    if (!this.spend(position, rule)) {
      this.giveBack(this.slot);
      this.slot = Slot.None;
      return Verdict.Exhausted;
    }
    if (!this.safety.takeCapShare()) {
      refundInjection(rule.fault);
      this.giveBack(this.slot);
      this.slot = Slot.None;
      return Verdict.Overflow;
    }
    return Verdict.Admitted;
  }

  /** One injection of the rule's max_injections. A request left unfaulted for it counts in
   * hfi_faults_budget_skipped_total; the proxy's first VM to find a budget spent logs it once
   * and counts it in hfi_faults_budget_exhausted_total. Counts only grow, so a budget this VM
   * saw spent costs no more host calls. */
  private spend(position: i32, rule: Rule): bool {
    const fault = rule.fault;
    if (!fault.hasBudget) return true;
    const seen = position < this.spent.length && unchecked(this.spent[position]);
    const r = seen ? Spend.Spent : spendInjection(fault);
    if (r == Spend.Taken) return true;
    this.metrics.add(Metric.BudgetSkipped, 1);
    if (r == Spend.Spent && !seen) {
      if (position < this.spent.length) unchecked((this.spent[position] = true));
      this.newlySpent = true;
      if (firstToReport("budget", budgetReport(fault))) {
        this.metrics.add(Metric.BudgetsExhausted, 1);
        this.log.write(LogLevel.Warn, "policy " + rule.policyName + " rule " + rule.index.toString() + ": max_injections " +
          (<i64>fault.maxInjections).toString() + " reached; no more faults until the policy changes");
      }
    }
    return false;
  }

  /** A hold place for a response hold, taken when the upstream answers. */
  takeResponseSlot(maxActive: i64): Slot {
    return this.takeSlot(maxActive);
  }

  /** A hold ended: its place is free again. */
  giveBack(slot: Slot): void {
    if (slot == Slot.Shared) releaseHoldSlot();
    else if (slot == Slot.Local) this.localHolds--;
  }

  /** One of `limit` places, proxy-wide (faults/active.ts); this VM's own count when shared
   * data does not work. */
  private takeSlot(limit: i64): Slot {
    const r = takeHoldSlot(limit);
    if (r == HoldSlot.Taken) return Slot.Shared;
    if (r == HoldSlot.Full || this.localHolds >= limit) return Slot.None;
    this.localHolds++;
    return Slot.Local;
  }
}

/** What identifies one budget running out: its key and the policy version it counted for (the
 * same key serves every version of a policy). */
function budgetReport(fault: Fault): ArrayBuffer {
  const key = fault.budgetKey;
  const out = new ArrayBuffer(key.byteLength + 8);
  memory.copy(changetype<usize>(out), changetype<usize>(key), <usize>key.byteLength);
  store<u64>(changetype<usize>(out) + <usize>key.byteLength, fault.budgetIdentity);
  return out;
}
