// The SLO guard: a policy halts itself on a proxy when too many of the requests it
// matched fail, stays halted for `cooldown_seconds`, then resumes with an empty window (and may
// trip again).
//
// How the act layer uses it:
//   parse time   `guardConfig(max_error_rate, min_requests, window_seconds, cooldown_seconds)`
//                -> `GuardConfigResult` (`.config` or `.error` naming `spec.guard.<field>`).
//   per policy   one `Guard` per worker VM for its own not-yet-published counts (`local`) and
//                one scratch `Guard` for the pooled state (`pooled`), both built at parse time.
//   on_log       for a request the policy matched and the plugin did not answer itself:
//                `local.record(nowMs, isFailedOutcome(...))` (see failure.ts). Nothing else.
//   publish      (on_tick, or at on_log when the matched path may pay two host calls):
//                  loop {
//                    (bytes, cas) = proxy_get_shared_data(guardKey(policy.name))
//                    found ? pooled.decode(bytes) : pooled.reset()      // malformed = reset
//                    pooled.addCountsFrom(local)
//                    decision = pooled.decide(nowMs)
//                    r = proxy_set_shared_data(key, pooled.encode(), casForSet(found, cas))
//                    if r == CasMismatch continue; break
//                  }
//                  local.clearCounts(); local.adoptHalt(pooled)
//                  Tripped -> one warning (`pooled.describeTrip(policyName)`), guard trips metric
//                  Resumed -> one info log; the per-policy "halted" gauge follows `isHalted`.
//                Exactly one worker's CAS carries the transition, so the warning is logged once
//                per proxy, not once per worker.
//   per request  `local.isHalted(nowMs)`: when true the policy injects nothing (and records
//                nothing: the window is cleared on resume anyway).
//
// Byte form: i64 haltedUntilMs, u32 trips, u32 0, u64 policy identity, then the CountWindow
// (count-window.ts): 24 + 164 = 188 bytes with 10 buckets.
import { CountWindow } from "../window/count-window";
import { formatNumber } from "../format/number";
// casForSet (../window/shared-cas) is what the publish loop sets with.

export const GUARD_BUCKETS: i32 = 10;

export class GuardConfig {
  constructor(
    /** 0..1: failures / requests above this trips the guard. */
    public maxErrorRate: f64,
    /** No decision below this many requests in the window. */
    public minRequests: u32,
    public windowMs: i64,
    public cooldownMs: i64,
  ) {}
}

export class GuardConfigResult {
  constructor(public config: GuardConfig | null, public error: string) {}
  get ok(): bool { return this.config !== null; }
}

function bad(field: string, v: f64, why: string): GuardConfigResult {
  return new GuardConfigResult(null, "spec.guard." + field + ": " + formatNumber(v) + " " + why);
}

@inline function isWhole(v: f64): bool {
  return isFinite(v) && v == Math.floor(v);
}

/** Validates the JSON numbers of `spec.guard`. */
export function guardConfig(maxErrorRate: f64, minRequests: f64, windowSeconds: f64, cooldownSeconds: f64): GuardConfigResult {
  if (!(maxErrorRate >= 0 && maxErrorRate <= 1)) return bad("max_error_rate", maxErrorRate, "is not in [0, 1]");
  if (!isWhole(minRequests) || minRequests < 1 || minRequests > 1e9) return bad("min_requests", minRequests, "is not a whole number in [1, 1000000000]");
  if (!isWhole(windowSeconds) || windowSeconds < 1 || windowSeconds > 86400) return bad("window_seconds", windowSeconds, "is not a whole number of seconds in [1, 86400]");
  if (!isWhole(cooldownSeconds) || cooldownSeconds < 0 || cooldownSeconds > 604800) return bad("cooldown_seconds", cooldownSeconds, "is not a whole number of seconds in [0, 604800]");
  return new GuardConfigResult(new GuardConfig(maxErrorRate, <u32>minRequests, <i64>windowSeconds * 1000, <i64>cooldownSeconds * 1000), "");
}

export const enum GuardDecision {
  /** Injecting; nothing changed. */
  Active = 0,
  /** Halted; nothing changed. */
  Halted = 1,
  /** This call halted the policy. */
  Tripped = 2,
  /** This call ended the cooldown; the window starts empty. */
  Resumed = 3,
}

const HEADER_BYTES: i32 = 24;

export class Guard {
  readonly window: CountWindow;
  /** 0 when not halted; else the monotonic ms at which the cooldown ends. */
  haltedUntilMs: i64 = 0;
  trips: u32 = 0;
  /** The counts that tripped the guard last, for the warning. */
  lastTotal: u64 = 0;
  lastFailures: u64 = 0;
  private bytes: ArrayBuffer;
  /** The identity of the policy whose guard this is: its shared value says whose counts it
   * holds, so a changed policy (same name, new identity) starts afresh in the same key. */
  identity: u64 = 0;

  constructor(public readonly config: GuardConfig) {
    const window = new CountWindow(config.windowMs, GUARD_BUCKETS);
    this.window = window;
    this.bytes = new ArrayBuffer(HEADER_BYTES + window.encodedSize);
  }

  @inline isHalted(nowMs: i64): bool {
    return nowMs < this.haltedUntilMs;
  }

  /** One finished request the policy matched and the plugin did not answer. */
  record(nowMs: i64, failed: bool): void {
    if (this.isHalted(nowMs)) return;
    this.window.add(nowMs, 1, failed ? 1 : 0);
  }

  total(nowMs: i64): u64 { return this.window.sumA(nowMs); }
  failures(nowMs: i64): u64 { return this.window.sumB(nowMs); }

  decide(nowMs: i64): GuardDecision {
    if (this.haltedUntilMs != 0) {
      if (nowMs < this.haltedUntilMs) return GuardDecision.Halted;
      // Counts from before the end of the cooldown belong to the halted period.
      this.window.clearBefore(this.haltedUntilMs);
      this.haltedUntilMs = 0;
      return GuardDecision.Resumed;
    }
    const total = this.window.sumA(nowMs);
    if (total == 0 || total < <u64>this.config.minRequests) return GuardDecision.Active;
    const failures = this.window.sumB(nowMs);
    if (<f64>failures / <f64>total <= this.config.maxErrorRate) return GuardDecision.Active;
    this.lastTotal = total;
    this.lastFailures = failures;
    this.trips++;
    // 0 would read as "not halted": a zero cooldown still halts for one millisecond.
    const until = nowMs + (this.config.cooldownMs > 0 ? this.config.cooldownMs : 1);
    this.haltedUntilMs = until > 0 ? until : 1;
    this.window.clear();
    return GuardDecision.Tripped;
  }

  /** The warning for a trip, naming the policy, the rate and the window. */
  describeTrip(policyName: string): string {
    const rate = this.lastTotal > 0 ? <f64>this.lastFailures / <f64>this.lastTotal : 0;
    return "guard halted policy \"" + policyName + "\": error rate " + formatNumber(Math.round(rate * 10000) / 10000) +
      " (" + (<i64>this.lastFailures).toString() + " of " + (<i64>this.lastTotal).toString() + " requests in the last " +
      (this.config.windowMs / 1000).toString() + " s) is above max_error_rate " + formatNumber(this.config.maxErrorRate) +
      "; it resumes in " + (this.config.cooldownMs / 1000).toString() + " s";
  }

  /** Adds a worker's unpublished counts (its halt state is not news: it came from here). */
  addCountsFrom(local: Guard): void {
    this.window.mergeFrom(local.window);
  }

  /** Merges two full states: counts added, the later halt and the higher trip count win. */
  mergeFrom(other: Guard): void {
    this.window.mergeFrom(other.window);
    if (other.haltedUntilMs > this.haltedUntilMs) this.haltedUntilMs = other.haltedUntilMs;
    if (other.trips > this.trips) this.trips = other.trips;
  }

  /** After a publish: the pooled state's halt is this worker's halt. */
  adoptHalt(pooled: Guard): void {
    this.haltedUntilMs = pooled.haltedUntilMs;
    this.trips = pooled.trips;
  }

  /** Forgets the counts (after they were published), keeps the halt. */
  clearCounts(): void {
    this.window.clear();
  }

  reset(): void {
    this.window.clear();
    this.haltedUntilMs = 0;
    this.trips = 0;
  }

  /** The byte form, in a buffer owned by this guard (overwritten by the next call). */
  encode(): ArrayBuffer {
    const p = changetype<usize>(this.bytes);
    store<i64>(p, this.haltedUntilMs);
    store<u32>(p, this.trips, 8);
    store<u32>(p, 0, 12);
    store<u64>(p, this.identity, 16);
    this.window.encodeInto(this.bytes, HEADER_BYTES);
    return this.bytes;
  }

  /** Reads a byte form; false (and the guard reset) when the bytes are not one, or are another
   * policy's (an earlier version of this one). */
  decode(buf: ArrayBuffer): bool {
    if (buf.byteLength != HEADER_BYTES + this.window.encodedSize || load<u64>(changetype<usize>(buf), 16) != this.identity ||
      !this.window.decodeFrom(buf, HEADER_BYTES, buf.byteLength)) {
      this.reset();
      return false;
    }
    const p = changetype<usize>(buf);
    const until = load<i64>(p);
    this.haltedUntilMs = until > 0 ? until : 0;
    this.trips = load<u32>(p, 8);
    return true;
  }
}

/** The shared-data key of a policy's guard, by its name: one key per policy however often it
 * changes (its value names the identity it counts for). */
export function guardKey(policyName: string): string {
  return "hfi.guard." + nameHash(policyName).toString(16);
}

/** FNV-1a 64 of a name's UTF-16 units: shared-data keys by name, of bounded length. */
export function nameHash(name: string): u64 {
  let h: u64 = 0xcbf29ce484222325;
  for (let i = 0; i < name.length; i++) h = (h ^ <u64>name.charCodeAt(i)) * 0x100000001b3;
  return h;
}
