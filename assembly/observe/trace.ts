import { LogLevel } from "../config/settings";
import { monotonicNanos } from "../glue/clock";
import { Logger } from "../log";
import { RequestAttributes } from "../match/request";
import { Rule } from "../policy/model";

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

/** The debug trace of request decisions. Callers check `log.enabled(LogLevel.Debug)` first, so
 * with debug off a request pays nothing for it. */
export class DecisionTrace {
  private limiter: TraceLimiter = new TraceLimiter();
  constructor(private log: Logger) {}

  matched(contextId: u32, request: RequestAttributes, rule: Rule, sampled: bool, dryRun: bool): void {
    this.write(contextId, request, "policy " + rule.policyName + " rule " + rule.index.toString() + " matched; " +
      (!sampled ? "not sampled" : dryRun ? "dry run: would inject " + String.UTF8.decode(rule.tally.faultMark) : "injecting"));
  }

  write(contextId: u32, request: RequestAttributes, decision: string): void {
    const dropped = this.limiter.admit(monotonicNanos());
    if (dropped < 0) return;
    const method = request.method();
    const path = request.path();
    this.log.write(LogLevel.Debug, "request " + contextId.toString() + " " + (method === null ? "-" : method) + " " +
      (path === null ? "-" : path) + ": " + decision + (dropped > 0 ? " (" + dropped.toString() + " lines suppressed before)" : ""));
  }
}
