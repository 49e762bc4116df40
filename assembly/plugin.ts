// One FaultInjector per root context: holds the configuration and policies in force, decides
// per request (pure functions in match/ and faults/), and acts through the host layer.
import { ConfigurationResult, parseConfiguration } from "./config/configuration";
import { ControlPlaneSettings, LogLevel, Settings } from "./config/settings";
import { PollSchedule } from "./controlplane/schedule";
import { FetchOutcome, FetchResult, failed, interpretResponse, MAX_POLICY_BODY_BYTES } from "./controlplane/response";
import { ParseLimits } from "./policy/parse";
import { abortReply, FAULT_HEADER, isGrpcContentType } from "./faults/abort";
import { chanceByKey, Sampler } from "./faults/sampling";
import { TimerHeap } from "./faults/timers";
import { HostRequest } from "./glue/request";
import { notePressure } from "./glue/memory";
import {
  addHeader, getHeader, HeaderMapType, nowNanos, sendLocalResponse, setEffectiveContext, continueStream,
  setTickPeriodMs, StreamType, WasmResult, getStringProperty, httpCall, lastHttpCallResult, getBuffer, BufferType,
} from "./glue/host";
import { Logger } from "./log";
import { HeaderSlots, RequestAttributes } from "./match/request";
import { Metric, Metrics } from "./metrics";
import { Fault, Policy, Rule } from "./policy/model";
import { ClockOwner, combinePolicies, Identity, PolicySet } from "./policy/store";
import { LiveSet, vmState } from "./vmstate";

export const enum HeadersStatus {
  Continue = 0,
  StopIteration = 1,
}
export const enum DataStatus {
  Continue = 0,
  StopIterationAndBuffer = 1,
}

const NS_PER_MS: i64 = 1000000;
const CONTENT_TYPE = String.UTF8.encode("content-type");
const STATUS = String.UTF8.encode(":status");
const ETAG = String.UTF8.encode("etag");
/** A poll with no answer this long after its timeout is given up (the host should answer 504 first). */
const POLL_GIVE_UP_GRACE_MS: i64 = 1000;

// A counting filter over the context ids of faulted streams: most requests are not faulted,
// and a zero count says so without a Map lookup, however many requests are held. One byte
// per slot; a count that reaches 255 stays there (only ever a false "maybe").
const FILTER_SLOTS: i32 = 65536;
const faultedFilter: usize = memory.data(FILTER_SLOTS);

@inline function filterSlot(contextId: u32): usize {
  return faultedFilter + <usize>(contextId & <u32>(FILTER_SLOTS - 1));
}

function markFaulted(contextId: u32): void {
  const slot = filterSlot(contextId);
  const count = load<u8>(slot);
  if (count < 255) store<u8>(slot, count + 1);
}

function unmarkFaulted(contextId: u32): void {
  const slot = filterSlot(contextId);
  const count = load<u8>(slot);
  if (count > 0 && count < 255) store<u8>(slot, count - 1);
}

@inline function mayBeFaulted(contextId: u32): bool {
  return load<u8>(filterSlot(contextId)) != 0;
}

/** The little state a faulted request needs. Only faulted requests have one. */
export class FaultedStream {
  /** True while the request is held; false once resumed or answered. */
  held: bool = true;
  constructor(
    public contextId: u32,
    public rule: Rule,
    public startNs: i64,
    public generation: u32,
  ) {}
}

export class FaultInjector {
  settings: Settings = new Settings();
  policies: PolicySet = new PolicySet();
  staticPolicies: Policy[] = [];
  livePolicies: Policy[] = [];
  /** Header slots of the static and of the live policies: they go away with their policies. */
  private staticSlots: HeaderSlots | null = null;
  private liveSlots: HeaderSlots | null = null;
  private readonly clockOwner: ClockOwner = new ClockOwner();
  readonly metrics: Metrics = new Metrics();
  readonly log: Logger = new Logger();
  readonly sampler: Sampler;
  readonly timers: TimerHeap = new TimerHeap();
  readonly streams: Map<u32, FaultedStream> = new Map();
  identity: Identity = new Identity("", "", "", "");
  heldCount: i32 = 0;
  private request: HostRequest;
  private generation: u32 = 0;
  private tickMs: u32 = 0;
  /** When the armed tick fires next (ns); i64.MAX_VALUE when not armed. */
  private nextWakeNs: i64 = i64.MAX_VALUE;
  configured: bool = false;
  // Control-plane polling (null when no control plane is configured).
  private controlPlane: ControlPlaneSettings | null = null;
  private poll: PollSchedule | null = null;
  private pollToken: i64 = -1;
  private pollSentNs: i64 = 0;
  /** Last good answer of the configured endpoint (shared with later root contexts). */
  private live: LiveSet | null = null;
  /** "" while the control plane answers well; otherwise the current failure's class. */
  private fetchState: string = "";

  constructor(public readonly contextId: u32) {
    this.request = new HostRequest();
    this.sampler = new Sampler(<u64>nowNanos() ^ (<u64>contextId << 32));
  }

  // ---- configuration -------------------------------------------------------------------

  /** Applies a plugin configuration. False refuses it; the previous one stays in force. */
  configure(bytes: ArrayBuffer): bool {
    const result: ConfigurationResult = parseConfiguration(bytes);
    const config = result.configuration;
    if (config === null) {
      this.metrics.define(this.settings.metricPrefix);
      this.metrics.add(Metric.ConfigErrors, 1);
      // Envoy tries a new configuration in a throwaway "canary" VM first, where nothing was
      // configured before: say only what is certain there.
      this.log.write(LogLevel.Error, "configuration refused" + (this.configured ? " (the previous configuration stays in force)" : "") + ": " + result.error);
      return false;
    }
    this.settings = config.settings;
    this.log.level = config.settings.logLevel;
    this.metrics.define(config.settings.metricPrefix);
    this.report(config.diagnostics.errors, config.diagnostics.warnings, "plugin configuration");
    this.identity = readIdentity();
    this.staticPolicies = config.policies;
    this.staticSlots = config.slots;
    this.configureControlPlane(config.settings.controlPlane);
    this.rebuild();
    this.configured = true;
    const nowNs = nowNanos();
    this.arm(nowNs, this.nextDueNs());
    if (this.log.enabled(LogLevel.Info)) {
      this.log.write(LogLevel.Info, "configured: " + this.policies.policies.length.toString() + " policies, " +
        this.policies.rules.length.toString() + " rules apply to workload '" + this.identity.workloadName +
        "' in namespace '" + this.identity.namespace + "'" + (this.settings.enabled ? "" : " (injection disabled)") +
        describePolling(this.controlPlane));
    }
    return true;
  }

  /** Logs and counts the problems of a parse; `source` says where the input came from. */
  report(errors: string[], warnings: string[], source: string): void {
    for (let i = 0; i < errors.length; i++) {
      this.log.write(LogLevel.Warn, unchecked(errors[i]) + " (in " + source + "; dropped)");
    }
    if (errors.length > 0) this.metrics.add(Metric.ConfigErrors, errors.length);
    for (let i = 0; i < warnings.length; i++) {
      this.log.write(LogLevel.Warn, unchecked(warnings[i]) + " (in " + source + ")");
    }
  }

  /** Swaps in the set built from the static and live policies. In-flight requests keep their rule. */
  rebuild(): void {
    const all = combinePolicies(this.staticPolicies, this.livePolicies);
    this.policies = vmState.clocks.assemble(this.clockOwner, all, this.identity, nowNanos() / NS_PER_MS);
  }

  /** The root context is being deleted: let go of what it shared with the VM. */
  release(): void {
    vmState.clocks.release(this.clockOwner);
    this.poll = null;
    this.controlPlane = null;
    this.pollToken = -1;
  }

  // ---- requests ------------------------------------------------------------------------

  onRequestHeaders(contextId: u32): HeadersStatus {
    const rules = this.policies.rules;
    if (rules.length == 0 || !this.settings.enabled) return HeadersStatus.Continue;
    const request = this.request;
    request.reset(this.staticSlots, this.liveSlots);
    // The clock is read only when some rule can expire: one host call fewer per request.
    const set = this.policies;
    const nowMs = set.expiring ? nowNanos() / NS_PER_MS : 0;
    const rule = set.index.firstMatch(request, nowMs);
    if (rule === null) return HeadersStatus.Continue;
    const fault = rule.fault;
    if (!this.sampled(fault, request)) return HeadersStatus.Continue;

    const holdMs = fault.holdMs();
    if (holdMs > 0) return this.startHold(contextId, rule, nowNanos(), holdMs);
    this.abort(rule);
    return HeadersStatus.StopIteration;
  }

  /** While a request is held its body is buffered, as Envoy's own fault filter does. */
  onRequestBody(contextId: u32): DataStatus {
    return this.isHeld(contextId) ? DataStatus.StopIterationAndBuffer : DataStatus.Continue;
  }

  onRequestTrailers(contextId: u32): HeadersStatus {
    return this.isHeld(contextId) ? HeadersStatus.StopIteration : HeadersStatus.Continue;
  }

  onResponseHeaders(contextId: u32): HeadersStatus {
    if (!this.isFaulted(contextId)) return HeadersStatus.Continue;
    const stream = this.streams.get(contextId);
    const fault = stream.rule.fault;
    if (fault.delayMs > 0 && fault.abort === null && this.settings.markDelayedResponses) {
      addHeader(HeaderMapType.ResponseHeaders, FAULT_HEADER, "delay");
      if (this.settings.policyHeader.length > 0) {
        addHeader(HeaderMapType.ResponseHeaders, this.settings.policyHeader, stream.rule.policyName);
      }
    }
    return HeadersStatus.Continue;
  }

  /** The stream is gone (finished, or the client reset it): drop its state, never resume it. */
  onDelete(contextId: u32): void {
    if (!this.isFaulted(contextId)) return;
    const stream = this.streams.get(contextId);
    if (stream.held) {
      stream.held = false;
      this.heldCount--;
      this.metrics.add(Metric.Active, -1);
      if (this.log.enabled(LogLevel.Debug)) {
        this.log.write(LogLevel.Debug, "request " + contextId.toString() + " ended while held by policy " + stream.rule.policyName);
      }
    }
    this.streams.delete(contextId);
    unmarkFaulted(contextId);
  }

  // ---- timers --------------------------------------------------------------------------

  onTick(): void {
    const nowNs = nowNanos();
    this.nextWakeNs = i64.MAX_VALUE;
    const timers = this.timers;
    while (timers.size > 0 && timers.peekDeadline() <= nowNs) {
      const id = timers.peekStream();
      const generation = timers.peekGeneration();
      timers.pop();
      if (!this.streams.has(id)) continue;
      const stream = this.streams.get(id);
      if (!stream.held || stream.generation != generation) continue;
      this.releaseHold(stream, nowNs);
    }
    this.maybePoll(nowNs);
    // Releasing many requests takes time, and the host arms the tick from the moment it is
    // asked: measure the wait from now, not from when this tick began.
    this.arm(nowNanos(), this.nextDueNs());
  }

  /** Earliest moment the root needs a tick; i64.MAX_VALUE when nothing is pending. */
  nextDueNs(): i64 {
    let due = this.timers.size > 0 ? this.timers.peekDeadline() : i64.MAX_VALUE;
    const poll = this.poll;
    if (poll !== null) {
      if (this.pollToken >= 0) {
        const giveUp = this.pollGiveUpNs();
        if (giveUp < due) due = giveUp;
      } else if (poll.nextNs < due) {
        due = poll.nextNs;
      }
    }
    return due;
  }

  /** Arms the one root tick to fire at `dueNs` (or stops it). */
  arm(nowNs: i64, dueNs: i64): void {
    if (dueNs == i64.MAX_VALUE) {
      if (this.tickMs != 0) {
        setTickPeriodMs(0);
        this.tickMs = 0;
      }
      this.nextWakeNs = i64.MAX_VALUE;
      return;
    }
    let waitNs = dueNs - nowNs;
    if (waitNs < NS_PER_MS) waitNs = NS_PER_MS;
    // Round up: a tick must never come before the deadline it serves.
    const periodMs = <u32>min<i64>((waitNs + NS_PER_MS - 1) / NS_PER_MS, 0x7fffffff);
    setTickPeriodMs(periodMs);
    this.tickMs = periodMs;
    this.nextWakeNs = nowNs + <i64>periodMs * NS_PER_MS;
  }

  /** Makes sure the tick comes no later than `dueNs`. */
  armBy(nowNs: i64, dueNs: i64): void {
    if (dueNs < this.nextWakeNs) this.arm(nowNs, dueNs);
  }

  // ---- control plane -------------------------------------------------------------------

  private configureControlPlane(cp: ControlPlaneSettings | null): void {
    if (cp === null) {
      this.livePolicies = [];
      this.liveSlots = null;
      this.live = null;
      this.controlPlane = null;
      this.poll = null;
      this.pollToken = -1;
      return;
    }
    if (cp.sameAs(this.controlPlane)) return;
    // Start from the last good answer of this endpoint (a previous root context of this VM
    // may have fetched it), so a configuration change never drops live faults.
    this.controlPlane = cp;
    const live = vmState.liveSet(cp.cluster + "\n" + cp.authority + "\n" + cp.path);
    this.live = live;
    this.livePolicies = live.policies;
    this.liveSlots = live.slots;
    const schedule = new PollSchedule(cp.pollIntervalMs);
    schedule.start(nowNanos(), this.unitRandom());
    this.poll = schedule;
    this.pollToken = -1;
    this.fetchState = "";
  }

  private pollGiveUpNs(): i64 {
    const cp = this.controlPlane;
    const timeoutMs = cp === null ? 0 : cp.timeoutMs;
    return this.pollSentNs + (timeoutMs + POLL_GIVE_UP_GRACE_MS) * NS_PER_MS;
  }

  private maybePoll(nowNs: i64): void {
    const poll = this.poll;
    const cp = this.controlPlane;
    if (poll === null || cp === null) return;
    if (this.pollToken >= 0) {
      if (nowNs < this.pollGiveUpNs()) return;
      this.pollToken = -1;
      this.fetchFailed(failed("no answer", "no answer within " + cp.timeoutMs.toString() + " ms"), nowNs);
      return;
    }
    if (!poll.isDue(nowNs)) return;
    const headers: string[] = [":method", "GET", ":path", cp.path, ":authority", cp.authority, "accept", "application/json"];
    const live = this.live;
    if (live !== null && live.etag.length > 0) {
      headers.push("if-none-match");
      headers.push(live.etag);
    }
    const token = httpCall(cp.cluster, headers, "", <u32>cp.timeoutMs);
    if (token < 0) {
      const why = lastHttpCallResult == WasmResult.BadArgument ? "Envoy refused the call (unknown cluster '" + cp.cluster + "'?)" :
        "Envoy refused the call (result " + lastHttpCallResult.toString() + ")";
      this.fetchFailed(failed("call refused", why), nowNs);
      return;
    }
    this.pollToken = token;
    this.pollSentNs = nowNs;
    poll.sent();
  }

  onHttpCallResponse(token: u32, headerCount: u32, bodySize: u32): void {
    if (this.pollToken < 0 || <u32>this.pollToken != token) return; // an abandoned poll
    this.pollToken = -1;
    const nowNs = nowNanos();
    if (headerCount == 0) {
      this.fetchFailed(failed("connection reset", "the connection to the control plane was reset"), nowNs);
    } else {
      const statusText = getHeader(HeaderMapType.HttpCallResponseHeaders, STATUS);
      const status = statusText === null ? 0 : parseStatus(changetype<string>(statusText));
      let body: ArrayBuffer | null = null;
      if (bodySize == 0) body = new ArrayBuffer(0);
      else if (status >= 200 && status <= 299 && bodySize <= MAX_POLICY_BODY_BYTES) body = getBuffer(BufferType.HttpCallResponseBody, 0, bodySize);
      const limits = new ParseLimits();
      limits.maxDelayMs = this.settings.maxDelayMs;
      const live = this.live;
      const result = interpretResponse(status, body, bodySize, live === null ? null : live.body, limits);
      if (result.outcome == FetchOutcome.Failed) {
        this.fetchFailed(result, nowNs);
      } else {
        if (result.outcome == FetchOutcome.Updated) {
          const etag = getHeader(HeaderMapType.HttpCallResponseHeaders, ETAG);
          this.applyLivePolicies(result, body, etag === null ? "" : changetype<string>(etag), nowNs);
        }
        this.fetchSucceeded(nowNs);
      }
    }
    this.arm(nowNanos(), this.nextDueNs()); // parsing a large set takes time
  }

  private applyLivePolicies(result: FetchResult, body: ArrayBuffer | null, etag: string, nowNs: i64): void {
    const diag = result.diagnostics;
    this.report(diag.errors, diag.warnings, "control plane policies");
    if (diag.errors.length > 0) this.metrics.add(Metric.FetchFailures, 1);
    this.livePolicies = result.policies;
    this.liveSlots = result.slots;
    this.rebuild();
    const live = this.live;
    if (live !== null) {
      live.policies = result.policies;
      live.slots = result.slots;
      live.body = body;
      live.etag = etag;
    }
    this.metrics.add(Metric.PolicyUpdates, 1);
    if (this.log.enabled(LogLevel.Info)) {
      this.log.write(LogLevel.Info, "applied " + result.policies.length.toString() + " policies from the control plane (" +
        diag.errors.length.toString() + " problems); " + this.policies.rules.length.toString() + " rules apply here");
    }
  }

  private fetchSucceeded(nowNs: i64): void {
    const poll = this.poll;
    if (poll === null) return;
    if (this.fetchState.length > 0) {
      this.log.write(LogLevel.Info, "control plane answers again; polling every " + poll.intervalMs.toString() + " ms");
      this.fetchState = "";
    }
    poll.succeeded(nowNs);
  }

  private fetchFailed(result: FetchResult, nowNs: i64): void {
    this.metrics.add(Metric.FetchFailures, 1);
    const poll = this.poll;
    const cp = this.controlPlane;
    if (poll === null || cp === null) return;
    poll.failed(nowNs, this.unitRandom());
    if (result.reason != this.fetchState) {
      this.fetchState = result.reason;
      this.log.write(LogLevel.Warn, "policy fetch from " + cp.cluster + " failed: " + result.detail +
        "; keeping the last good set (" + this.livePolicies.length.toString() + " live policies); retrying with backoff (next in " +
        ((poll.nextNs - nowNs) / NS_PER_MS).toString() + " ms)");
    }
  }

  private unitRandom(): f64 {
    return <f64>(this.sampler.next() >> 11) / 9007199254740992.0;
  }

  // ---- faults --------------------------------------------------------------------------

  private sampled(fault: Fault, request: RequestAttributes): bool {
    if (fault.samplingSlot >= 0) {
      const key = request.headerBytes(fault.samplingSlot);
      if (key.length >= 0) return chanceByKey(key.ptr, key.length, fault.percentage);
    }
    return this.sampler.chance(fault.percentage);
  }

  private tooManyActive(): bool {
    const limit = this.settings.maxActiveFaults;
    // The gauge is shared by every worker VM, so the limit holds per proxy, as Envoy's does.
    let active = this.metrics.value(Metric.Active);
    if (active < 0) active = this.heldCount;
    return active >= limit;
  }

  private startHold(contextId: u32, rule: Rule, nowNs: i64, holdMs: i64): HeadersStatus {
    if (this.tooManyActive()) {
      this.metrics.add(Metric.Overflow, 1);
      if (this.log.enabled(LogLevel.Debug)) {
        this.log.write(LogLevel.Debug, "max_active_faults reached; request " + contextId.toString() + " not faulted by policy " + rule.policyName);
      }
      return HeadersStatus.Continue;
    }
    const generation = ++this.generation;
    const stream = new FaultedStream(contextId, rule, nowNs, generation);
    notePressure(96);
    this.streams.set(contextId, stream);
    markFaulted(contextId);
    this.heldCount++;
    this.metrics.add(Metric.Active, 1);
    if (rule.fault.delayMs > 0) this.metrics.add(Metric.Delays, 1);
    const dueNs = nowNs + holdMs * NS_PER_MS;
    this.timers.push(dueNs, contextId, generation);
    this.armBy(nowNs, dueNs);
    return HeadersStatus.StopIteration;
  }

  /** The hold is over: record it, then answer (abort) or let the request go on. */
  private releaseHold(stream: FaultedStream, nowNs: i64): void {
    stream.held = false;
    this.heldCount--;
    this.metrics.add(Metric.Active, -1);
    const heldMs = (nowNs - stream.startNs) / NS_PER_MS;
    this.metrics.record(Metric.DelayDuration, <u64>max<i64>(heldMs, 0));
    if (setEffectiveContext(stream.contextId) != WasmResult.Ok) return; // stream already gone
    if (stream.rule.fault.abort !== null) {
      this.abort(stream.rule);
    } else {
      continueStream(StreamType.Request);
    }
  }

  /** Answers the current stream with the rule's abort. */
  private abort(rule: Rule): void {
    const abort = rule.fault.abort;
    if (abort === null) return;
    const grpc = abort.grpcStatus >= 0 && isGrpcContentType(getHeader(HeaderMapType.RequestHeaders, CONTENT_TYPE));
    const reply = abortReply(abort, rule.policyName, this.settings.policyHeader, grpc);
    this.metrics.add(Metric.Aborts, 1);
    sendLocalResponse(reply.status, "hfi_fault_abort", reply.body, reply.headers, reply.grpcStatus);
  }

  private isHeld(contextId: u32): bool {
    return this.isFaulted(contextId) && this.streams.get(contextId).held;
  }

  /** Does this stream have fault state here? Cheap for the many streams that do not. */
  @inline private isFaulted(contextId: u32): bool {
    return this.streams.size > 0 && mayBeFaulted(contextId) && this.streams.has(contextId);
  }
}

function describePolling(cp: ControlPlaneSettings | null): string {
  if (cp === null) return "";
  return "; polling " + cp.cluster + " " + cp.path + " every " + cp.pollIntervalMs.toString() + " ms";
}

function parseStatus(text: string): i32 {
  if (text.length != 3) return 0;
  let v = 0;
  for (let i = 0; i < 3; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return 0;
    v = v * 10 + (c - 48);
  }
  return v;
}

/** This proxy's identity from Istio's node metadata (empty when not in Istio). */
function readIdentity(): Identity {
  return new Identity(
    getStringProperty(["node", "metadata", "WORKLOAD_NAME"]),
    getStringProperty(["node", "metadata", "NAMESPACE"]),
    getStringProperty(["node", "metadata", "LABELS", "app"]),
    getStringProperty(["node", "metadata", "LABELS", "service.istio.io/canonical-name"]),
  );
}
