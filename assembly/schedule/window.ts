// The wall-clock window of a policy: `spec.schedule.not_before` and
// `not_after`, RFC 3339 (see rfc3339.ts). Outside the window the policy injects nothing.
//
// How the act layer uses it:
//   parse time   `scheduleWindow(notBefore, notAfter)` with the two strings (null when the
//                field is absent) -> `ScheduleResult` (`.window` or `.error` naming the field
//                and the value; an inverted or empty window is an error). Store the
//                `ScheduleWindow` on the policy and one `ScheduleWatcher` per policy per VM.
//   per request  `window.isOpen(wallMs)`: two comparisons, no allocation. `wallMs` is the
//                host's wall clock (proxy_get_current_time_nanoseconds / 1e6), read once per
//                request; every other timing (delays, guard, budgets) uses the monotonic clock.
//   on_tick      `watcher.observe(wallMs)`: Opened / Closed exactly once per transition, for
//                the one info log line ("policy X: schedule window open until ..."), so the
//                log does not depend on traffic. Each worker VM has its own watcher; log from
//                the VM that owns logging, or accept one line per VM.
// The window is half-open: open from not_before (inclusive) until not_after (exclusive).
import { ParsedTime, formatUtc, parseRfc3339 } from "./rfc3339";

export const NO_NOT_BEFORE: i64 = i64.MIN_VALUE;
export const NO_NOT_AFTER: i64 = i64.MAX_VALUE;

export class ScheduleWindow {
  constructor(public notBeforeMs: i64, public notAfterMs: i64) {}

  @inline isOpen(wallMs: i64): bool {
    return wallMs >= this.notBeforeMs && wallMs < this.notAfterMs;
  }

  /** Past not_after: it will never open again. */
  @inline isOver(wallMs: i64): bool {
    return wallMs >= this.notAfterMs;
  }

  describe(): string {
    const from = this.notBeforeMs == NO_NOT_BEFORE ? "any time" : formatUtc(this.notBeforeMs);
    const to = this.notAfterMs == NO_NOT_AFTER ? "no end" : formatUtc(this.notAfterMs);
    return "[" + from + ", " + to + ")";
  }
}

export class ScheduleResult {
  constructor(public window: ScheduleWindow | null, public error: string) {}
  get ok(): bool { return this.window !== null; }
}

export function scheduleWindow(notBefore: string | null, notAfter: string | null): ScheduleResult {
  if (notBefore === null && notAfter === null) {
    return new ScheduleResult(null, "spec.schedule: needs not_before, not_after or both");
  }
  let from = NO_NOT_BEFORE;
  let to = NO_NOT_AFTER;
  if (notBefore !== null) {
    const p: ParsedTime = parseRfc3339("spec.schedule.not_before", changetype<string>(notBefore));
    if (!p.ok) return new ScheduleResult(null, p.error);
    from = p.ms;
  }
  if (notAfter !== null) {
    const p: ParsedTime = parseRfc3339("spec.schedule.not_after", changetype<string>(notAfter));
    if (!p.ok) return new ScheduleResult(null, p.error);
    to = p.ms;
  }
  if (to <= from) {
    return new ScheduleResult(null, "spec.schedule.not_after: \"" + changetype<string>(notAfter) +
      "\" is not after not_before \"" + changetype<string>(notBefore) + "\"");
  }
  return new ScheduleResult(new ScheduleWindow(from, to), "");
}

export const enum ScheduleTransition {
  None = 0,
  Opened = 1,
  Closed = 2,
}

const UNKNOWN: i32 = -1;
const CLOSED: i32 = 0;
const OPEN: i32 = 1;

/**
 * Reports each opening and closing once. The first observation reports Opened when the window
 * is open, Closed when it is already over (so a stale window is logged at load), and nothing
 * when it has not opened yet.
 */
export class ScheduleWatcher {
  private state: i32 = UNKNOWN;

  constructor(public window: ScheduleWindow) {}

  observe(wallMs: i64): ScheduleTransition {
    const open = this.window.isOpen(wallMs);
    const was = this.state;
    this.state = open ? OPEN : CLOSED;
    if (was == UNKNOWN) {
      if (open) return ScheduleTransition.Opened;
      return this.window.isOver(wallMs) ? ScheduleTransition.Closed : ScheduleTransition.None;
    }
    if (open && was == CLOSED) return ScheduleTransition.Opened;
    if (!open && was == OPEN) return ScheduleTransition.Closed;
    return ScheduleTransition.None;
  }
}
