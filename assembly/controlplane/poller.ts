// Polls the control plane for live policies: when (schedule.ts decides), the HTTP call, what
// an answer means (response.ts decides), backoff after failures, and the last good answer.
// The root context's tick and HTTP-call callbacks are routed here by the FaultInjector, which
// applies the policy sets this returns. Times are monotonic nanoseconds.
import { ControlPlaneSettings, LogLevel } from "../config/settings";
import { PollSchedule } from "./schedule";
import { FetchOutcome, FetchResult, failed, interpretResponse, MAX_POLICY_BODY_BYTES, parseStatus } from "./response";
import { isEntityTag } from "./etag";
import { BufferType, getBuffer, getHeader, HeaderMapType, httpCall, lastHttpCallResult, WasmResult } from "../glue/host";
import { Sampler } from "../faults/sampling";
import { Logger } from "../log";
import { HeaderSlots } from "../match/request";
import { Metric, Metrics } from "../metrics";
import { ParseLimits } from "../config/limits";
import { LiveSet } from "../vmstate";
import { leaseExpiresNs, logLeaseExpiry } from "./lease";

const NS_PER_MS: i64 = 1000000;
const STATUS = String.UTF8.encode(":status");
const ETAG = String.UTF8.encode("etag");
/** A poll with no answer this long after its timeout is given up (the host should answer 504 first). */
const POLL_GIVE_UP_GRACE_MS: i64 = 1000;

export class Poller {
  private readonly schedule: PollSchedule;
  private token: i64 = -1;
  private sentNs: i64 = 0;
  /** "" while the control plane answers well; otherwise the current failure's class. */
  private fetchState: string = "";
  private badEtagLogged: bool = false;

  constructor(
    readonly settings: ControlPlaneSettings,
    /** Last good answer of this endpoint (shared with later root contexts of the VM). */
    readonly live: LiveSet,
    private readonly sampler: Sampler,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    nowNs: i64,
  ) {
    this.schedule = new PollSchedule(settings.pollIntervalMs);
    this.schedule.start(nowNs, this.unitRandom());
  }

  /** When the poller next needs a tick: the next poll, or giving up on the one in flight. */
  nextDueNs(): i64 {
    return min<i64>(this.token >= 0 ? this.giveUpNs() : this.schedule.nextNs, leaseExpiresNs(this.settings, this.live));
  }

  /**
   * On a tick: drops the live set when its lease ran out (returns true: the caller rebuilds),
   * gives up on an unanswered poll, or sends the next one when it is due.
   */
  onTick(nowNs: i64): bool {
    const cp = this.settings;
    let expired = false;
    if (nowNs >= leaseExpiresNs(cp, this.live)) {
      logLeaseExpiry(cp, this.live, this.metrics, this.log);
      const live = this.live;
      // Forget the body and ETag too: the same answer must bring the policies back.
      live.policies = [];
      live.body = null;
      live.etag = "";
      live.problems = 0;
      expired = true;
    }
    if (this.token >= 0) {
      if (nowNs < this.giveUpNs()) return expired;
      this.token = -1;
      this.failed(failed("no answer", "no answer within " + cp.timeoutMs.toString() + " ms"), nowNs);
      return expired;
    }
    if (!this.schedule.isDue(nowNs)) return expired;
    const headers: string[] = [":method", "GET", ":path", cp.path, ":authority", cp.authority, "accept", "application/json"];
    if (this.live.etag.length > 0) {
      headers.push("if-none-match");
      headers.push(this.live.etag);
    }
    const token = httpCall(cp.cluster, headers, "", <u32>cp.timeoutMs);
    if (token < 0) {
      const why = lastHttpCallResult == WasmResult.BadArgument ? "Envoy refused the call (unknown cluster '" + cp.cluster + "'?)" :
        "Envoy refused the call (result " + lastHttpCallResult.toString() + ")";
      this.failed(failed("call refused", why), nowNs);
      return expired;
    }
    this.token = token;
    this.sentNs = nowNs;
    this.schedule.sent();
    return expired;
  }

  /**
   * An HTTP-call answer. Returns the new live set when it changed (already recorded as the last
   * good answer, with its body in `lastBody`), else null.
   */
  onResponse(token: u32, headerCount: u32, bodySize: u32, nowNs: i64, maxDelayMs: i64): FetchResult | null {
    if (this.token < 0 || <u32>this.token != token) return null; // an abandoned poll
    this.token = -1;
    if (headerCount == 0) {
      this.failed(failed("connection reset", "the connection to the control plane was reset"), nowNs);
      return null;
    }
    const statusText = getHeader(HeaderMapType.HttpCallResponseHeaders, STATUS);
    const status = statusText === null ? 0 : parseStatus(changetype<string>(statusText));
    let body: ArrayBuffer | null = null;
    if (bodySize == 0) body = new ArrayBuffer(0);
    else if (status >= 200 && status <= 299 && bodySize <= MAX_POLICY_BODY_BYTES) body = getBuffer(BufferType.HttpCallResponseBody, 0, bodySize);
    const limits = new ParseLimits();
    limits.maxDelayMs = maxDelayMs;
    const live = this.live;
    const result = interpretResponse(status, body, bodySize, live.body, limits);
    if (result.outcome == FetchOutcome.Failed) {
      this.failed(result, nowNs);
      return null;
    }
    let update: FetchResult | null = null;
    if (result.outcome == FetchOutcome.Updated) {
      if (result.diagnostics.errors.length > 0) this.metrics.add(Metric.FetchFailures, 1);
      live.policies = result.policies;
      live.slots = result.slots;
      live.body = body;
      live.problems = result.diagnostics.errors.length;
      live.etag = this.etagOf(getHeader(HeaderMapType.HttpCallResponseHeaders, ETAG));
      update = result;
    }
    this.succeeded(nowNs);
    return update;
  }

  /** The ETag to send back next time, or "" when the answer's is absent or not an entity-tag. */
  private etagOf(value: string | null): string {
    if (value === null) return "";
    if (isEntityTag(value)) return value;
    if (!this.badEtagLogged && this.log.enabled(LogLevel.Debug)) {
      this.badEtagLogged = true;
      this.log.write(LogLevel.Debug, "the control plane's ETag is not an entity-tag (" + value.length.toString() +
        " characters); polling without If-None-Match");
    }
    return "";
  }

  private giveUpNs(): i64 {
    return this.sentNs + (this.settings.timeoutMs + POLL_GIVE_UP_GRACE_MS) * NS_PER_MS;
  }

  private succeeded(nowNs: i64): void {
    if (this.fetchState.length > 0) {
      this.log.write(LogLevel.Info, "control plane answers again; polling every " + this.schedule.intervalMs.toString() + " ms");
      this.fetchState = "";
    }
    this.schedule.succeeded(nowNs);
    this.live.goodNs = nowNs;
  }

  private failed(result: FetchResult, nowNs: i64): void {
    this.metrics.add(Metric.FetchFailures, 1);
    const schedule = this.schedule;
    schedule.failed(nowNs, this.unitRandom());
    if (result.reason != this.fetchState) {
      this.fetchState = result.reason;
      this.log.write(LogLevel.Warn, "policy fetch from " + this.settings.cluster + " failed: " + result.detail +
        "; keeping the last good set (" + this.live.policies.length.toString() + " live policies); retrying with backoff (next in " +
        ((schedule.nextNs - nowNs) / NS_PER_MS).toString() + " ms)");
    }
  }

  private unitRandom(): f64 {
    return <f64>(this.sampler.next() >> 11) / 9007199254740992.0;
  }
}
