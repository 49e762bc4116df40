import { LogLevel } from "../config/settings";
import { monotonicNanos } from "../glue/clock";
import { Logger } from "../log";
import { RequestAttributes } from "../match/request";
import { Rule } from "../model/policy";

// The per-request decision trace (debug) is rate-limited per VM: at most LINES_PER_SECOND lines
// in any one-second window, and the first line after a window that dropped some says how many.

export const TRACE_LINES_PER_SECOND: i32 = 20;
const WINDOW_NS: i64 = 1000000000;

export class TraceLimiter {
  private windowStartNs: i64 = i64.MIN_VALUE / 2; // no window yet (and no overflow below)
  private used: i32 = 0;
  private suppressed: i32 = 0;

  /** -1: drop this line; otherwise the number of lines dropped before it (to be reported). */
  admit(nowNs: i64): i32 {
    if (nowNs - this.windowStartNs >= WINDOW_NS) {
      this.windowStartNs = nowNs;
      this.used = 0;
    }
    if (this.used >= TRACE_LINES_PER_SECOND) {
      this.suppressed++;
      return -1;
    }
    this.used++;
    const dropped = this.suppressed;
    this.suppressed = 0;
    return dropped;
  }
}

/** What was decided for a request, as the trace says it. */
export const enum Decision {
  NoPolicy = 0,
  Disabled = 1,
  NoMatch = 2,
  NotSampled = 3,
  DryRun = 4,
  Inject = 5,
  Closed = 6,
  Halted = 7,
  Overflow = 8,
  Exhausted = 9,
  NotAsked = 10,
}
const SAID: string[] = [
  "no policy applies here", "injection disabled", "no rule matched", "not sampled", "dry run", "injecting",
  "outside its schedule window", "halted by its guard", "no room (max_active_faults or max_fault_percentage)",
  "max_injections spent", "from_headers: the request asks for no fault",
];

/** The debug trace of request decisions. Callers check `log.enabled(LogLevel.Debug)` first, so
 * with debug off a request pays nothing for it. */
export class DecisionTrace {
  private limiter: TraceLimiter = new TraceLimiter();
  constructor(private log: Logger) {}

  write(contextId: u32, request: RequestAttributes, decision: Decision, rule: Rule | null): void {
    const dropped = this.limiter.admit(monotonicNanos());
    if (dropped < 0) return;
    const method = request.methodBytes();
    const path = request.pathBytes();
    let line = "request " + contextId.toString() + " " + (method.length < 0 ? "-" : method.toString()) + " " + (path.length < 0 ? "-" : path.toString()) + ": ";
    if (rule !== null) line += "policy " + rule.policyName + " rule " + rule.index.toString() + " matched; ";
    line += unchecked(SAID[decision]);
    this.log.write(LogLevel.Debug, dropped > 0 ? line + " (" + dropped.toString() + " lines suppressed before)" : line);
  }
}
