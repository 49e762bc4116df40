// RFC 3339 parsing (strict, with errors naming the field and the value), the schedule window,
// and the watcher that reports opening and closing once.
import { daysFromCivil, formatUtc, parseRfc3339 } from "../../assembly/schedule/rfc3339";
import {
  ScheduleTransition, ScheduleWatcher, ScheduleWindow, scheduleWindow,
} from "../../assembly/schedule/window";
import { AllocProbe } from "./alloc-probe";

const F = "spec.schedule.not_before";

function ms(s: string): i64 {
  const p = parseRfc3339(F, s);
  expect(p.error).toBe("");
  return p.ms;
}

function err(s: string): string {
  const p = parseRfc3339(F, s);
  expect(p.ok).toBe(false);
  return p.error;
}

// 2026-12-01T14:00:00Z, computed by hand: 1970..2025 are 56 years with 14 leap years
// (1972..2024), 56 * 365 + 14 = 20,454 days to 2026-01-01, plus 334 days (January to November
// 2026) = 20,788 days, plus 14 hours.
const DEC1_14H: i64 = 20788 * 86400000 + 14 * 3600000;

describe("RFC 3339 timestamps", () => {
  it("parses UTC, offsets, fractions and lower-case t/z to epoch milliseconds", () => {
    expect(ms("1970-01-01T00:00:00Z")).toBe(0);
    expect(ms("2026-12-01T14:00:00Z")).toBe(DEC1_14H);
    expect(ms("2026-12-01t14:00:00z")).toBe(DEC1_14H);
    expect(ms("2026-12-01T16:00:00+02:00")).toBe(DEC1_14H);
    expect(ms("2026-12-01T09:30:00-04:30")).toBe(DEC1_14H);
    expect(ms("2026-12-01T14:00:00-00:00")).toBe(DEC1_14H);
    expect(ms("2026-12-01T14:00:00.5Z")).toBe(DEC1_14H + 500);
    expect(ms("2026-12-01T14:00:00.123456789Z")).toBe(DEC1_14H + 123);
    expect(ms("2026-12-01T14:00:00.999999Z")).toBe(DEC1_14H + 999); // truncated, not rounded up
    expect(ms("1969-12-31T23:59:59Z")).toBe(-1000);
    expect(ms("2000-03-01T00:00:00Z") - ms("2000-02-28T00:00:00Z")).toBe(2 * 86400000); // 2000 is leap
    expect(ms("2100-03-01T00:00:00Z") - ms("2100-02-28T00:00:00Z")).toBe(86400000); // 2100 is not
  });

  it("checks month and day ranges, leap years included", () => {
    expect(err("2026-13-01T00:00:00Z")).toBe("spec.schedule.not_before: \"2026-13-01T00:00:00Z\": month 13 is not in 01-12");
    expect(err("2026-00-01T00:00:00Z")).toBe("spec.schedule.not_before: \"2026-00-01T00:00:00Z\": month 00 is not in 01-12");
    expect(err("2026-04-31T00:00:00Z")).toBe("spec.schedule.not_before: \"2026-04-31T00:00:00Z\": day 31 is not in 01-30 for 2026-04");
    expect(err("2026-02-29T00:00:00Z")).toBe("spec.schedule.not_before: \"2026-02-29T00:00:00Z\": day 29 is not in 01-28 for 2026-02");
    expect(ms("2028-02-29T00:00:00Z")).toBeGreaterThan(0);
    expect(err("2026-01-00T00:00:00Z")).toBe("spec.schedule.not_before: \"2026-01-00T00:00:00Z\": day 00 is not in 01-31 for 2026-01");
  });

  it("checks hour, minute, second and offset ranges", () => {
    expect(err("2026-12-01T24:00:00Z")).toBe("spec.schedule.not_before: \"2026-12-01T24:00:00Z\": hour 24 is not in 00-23");
    expect(err("2026-12-01T14:60:00Z")).toBe("spec.schedule.not_before: \"2026-12-01T14:60:00Z\": minute 60 is not in 00-59");
    expect(err("2026-12-01T14:00:61Z")).toBe("spec.schedule.not_before: \"2026-12-01T14:00:61Z\": second 61 is not in 00-60");
    expect(err("2026-12-01T14:00:00+24:00")).toBe("spec.schedule.not_before: \"2026-12-01T14:00:00+24:00\": offset hour 24 is not in 00-23");
    expect(err("2026-12-01T14:00:00+02:60")).toBe("spec.schedule.not_before: \"2026-12-01T14:00:00+02:60\": offset minute 60 is not in 00-59");
  });

  it("accepts a leap second only at 23:59:60 UTC, as the last millisecond of the day", () => {
    expect(ms("2016-12-31T23:59:60Z")).toBe(ms("2017-01-01T00:00:00Z") - 1);
    expect(ms("2017-01-01T01:59:60+02:00")).toBe(ms("2017-01-01T00:00:00Z") - 1);
    expect(err("2016-12-31T12:59:60Z")).toBe("spec.schedule.not_before: \"2016-12-31T12:59:60Z\": second 60 (a leap second) is only valid at 23:59:60 UTC");
  });

  it("refuses other shapes with one message naming the field, the value and the expected form", () => {
    expect(err("2026-12-01 14:00:00Z")).toBe("spec.schedule.not_before: \"2026-12-01 14:00:00Z\": is not an RFC 3339 time like 2026-12-01T14:00:00Z");
    expect(err("2026-12-01T14:00:00")).toBe("spec.schedule.not_before: \"2026-12-01T14:00:00\": is not an RFC 3339 time like 2026-12-01T14:00:00Z");
    expect(err("2026-12-01T14:00Z")).toBe("spec.schedule.not_before: \"2026-12-01T14:00Z\": is not an RFC 3339 time like 2026-12-01T14:00:00Z");
    expect(err("26-12-01T14:00:00Z")).toBe("spec.schedule.not_before: \"26-12-01T14:00:00Z\": is not an RFC 3339 time like 2026-12-01T14:00:00Z");
    expect(err("2026-12-01T14:00:00.Z")).toBe("spec.schedule.not_before: \"2026-12-01T14:00:00.Z\": is not an RFC 3339 time like 2026-12-01T14:00:00Z");
    expect(err("2026-12-01T14:00:00Zjunk")).toBe("spec.schedule.not_before: \"2026-12-01T14:00:00Zjunk\": is not an RFC 3339 time like 2026-12-01T14:00:00Z");
    expect(err("2026-12-01T14:00:00+0200")).toBe("spec.schedule.not_before: \"2026-12-01T14:00:00+0200\": is not an RFC 3339 time like 2026-12-01T14:00:00Z");
    expect(err("")).toBe("spec.schedule.not_before: \"\": is not an RFC 3339 time like 2026-12-01T14:00:00Z");
  });

  it("formats epoch milliseconds back for log lines", () => {
    expect(formatUtc(DEC1_14H + 250)).toBe("2026-12-01T14:00:00.250Z");
    expect(formatUtc(-1)).toBe("1969-12-31T23:59:59.999Z");
    expect(daysFromCivil(2000, 3, 1)).toBe(11017);
  });
});

describe("the schedule window", () => {
  it("is open from not_before (inclusive) to not_after (exclusive)", () => {
    const r = scheduleWindow("2026-12-01T14:00:00Z", "2026-12-01T14:30:00Z");
    expect(r.error).toBe("");
    const w = changetype<ScheduleWindow>(r.window);
    expect(w.isOpen(DEC1_14H - 1)).toBe(false);
    expect(w.isOpen(DEC1_14H)).toBe(true);
    expect(w.isOpen(DEC1_14H + 30 * 60000 - 1)).toBe(true);
    expect(w.isOpen(DEC1_14H + 30 * 60000)).toBe(false);
    expect(w.describe()).toBe("[2026-12-01T14:00:00.000Z, 2026-12-01T14:30:00.000Z)");
  });

  it("may be open-ended on either side", () => {
    const onlyEnd = changetype<ScheduleWindow>(scheduleWindow(null, "2026-12-01T14:00:00Z").window);
    expect(onlyEnd.isOpen(0)).toBe(true);
    expect(onlyEnd.isOpen(DEC1_14H)).toBe(false);
    const onlyStart = changetype<ScheduleWindow>(scheduleWindow("2026-12-01T14:00:00Z", null).window);
    expect(onlyStart.isOpen(i64.MAX_VALUE - 1)).toBe(true);
  });

  it("refuses an inverted or empty window, a malformed bound, and no bound at all", () => {
    expect(scheduleWindow("2026-12-01T14:30:00Z", "2026-12-01T14:00:00Z").error).toBe(
      "spec.schedule.not_after: \"2026-12-01T14:00:00Z\" is not after not_before \"2026-12-01T14:30:00Z\"");
    expect(scheduleWindow("2026-12-01T16:00:00+02:00", "2026-12-01T14:00:00Z").ok).toBe(false); // same instant
    expect(scheduleWindow("2026-12-01T14:00:00Z", "2026-12-32T14:00:00Z").error).toBe(
      "spec.schedule.not_after: \"2026-12-32T14:00:00Z\": day 32 is not in 01-31 for 2026-12");
    expect(scheduleWindow(null, null).error).toBe("spec.schedule: needs not_before, not_after or both");
  });

  it("answers isOpen without allocating", () => {
    const w = changetype<ScheduleWindow>(scheduleWindow("2026-12-01T14:00:00Z", "2026-12-01T14:30:00Z").window);
    const probe = new AllocProbe();
    let open = 0;
    for (let i: i64 = 0; i < 100; i++) if (w.isOpen(DEC1_14H + i * 60000)) open++;
    expect(probe.nothingAllocated()).toBe(true);
    expect(open).toBe(30);
  });
});

describe("the schedule watcher", () => {
  it("reports opening and closing once each", () => {
    const w = changetype<ScheduleWindow>(scheduleWindow("2026-12-01T14:00:00Z", "2026-12-01T14:30:00Z").window);
    const watch = new ScheduleWatcher(w);
    expect(watch.observe(DEC1_14H - 2000)).toBe(ScheduleTransition.None);
    expect(watch.observe(DEC1_14H - 1000)).toBe(ScheduleTransition.None);
    expect(watch.observe(DEC1_14H)).toBe(ScheduleTransition.Opened);
    expect(watch.observe(DEC1_14H + 1000)).toBe(ScheduleTransition.None);
    expect(watch.observe(DEC1_14H + 1800000)).toBe(ScheduleTransition.Closed);
    expect(watch.observe(DEC1_14H + 1900000)).toBe(ScheduleTransition.None);
  });

  it("reports the state found at the first observation: open, or already over", () => {
    const w = changetype<ScheduleWindow>(scheduleWindow("2026-12-01T14:00:00Z", "2026-12-01T14:30:00Z").window);
    expect(new ScheduleWatcher(w).observe(DEC1_14H + 5)).toBe(ScheduleTransition.Opened);
    expect(new ScheduleWatcher(w).observe(DEC1_14H + 3600000)).toBe(ScheduleTransition.Closed);
  });
});
