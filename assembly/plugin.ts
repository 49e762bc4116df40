// One FaultInjector per root context: holds the configuration and policies in force, decides
// per request (pure functions in match/ and faults/), and acts through the host layer.
import { ConfigurationResult, parseConfiguration } from "./config/configuration";
import { ControlPlaneSettings, LogLevel, Settings } from "./config/settings";
import { Poller } from "./controlplane/poller";
import { abortReply, FAULT_HEADER, isGrpcContentType } from "./faults/abort";
import { HoldSlot, releaseHoldSlot, takeHoldSlot } from "./faults/active";
import { spendInjection } from "./faults/budget";
import { FaultPlan, HeaderPlan } from "./faults/plan";
import { chanceByKey, Sampler } from "./faults/sampling";
import { TimerHeap } from "./faults/timers";
import { HostRequest } from "./glue/request";
import { notePressure } from "./glue/memory";
import { entropy64, monotonicNanos } from "./glue/clock";
import { readIdentity } from "./glue/identity";
import {
  addHeader, closeStream, getHeader, HeaderMapType, sendLocalResponse, setEffectiveContext, continueStream,
  setTickPeriodMs, StreamType, WasmResult,
} from "./glue/host";
import { excluded } from "./match/matcher";
import { rewriteResponseBody, rewriteResponseHeaders, rewriteResponseTrailers } from "./response/act";
import { ResponseFault } from "./response/model";
import { Logger } from "./log";
import { HeaderSlots, RequestAttributes } from "./match/request";
import { Metric, Metrics } from "./metrics";
import { Abort, Fault, Policy, Rule } from "./policy/model";
import { ClockOwner, combinePolicies, Identity, PolicySet } from "./policy/store";
import { firstToReport } from "./problems";
import { Admission, Safety } from "./safety/index";
import { PolicySafety } from "./safety/policy-safety";
import { vmState } from "./vmstate";
import { EffectiveSet } from "./observe/effective";
import { markStream } from "./observe/marks";
import { tallyRules } from "./observe/policy-metrics";
import { count } from "./observe/tally";
import { Decision, DecisionTrace } from "./observe/trace";

// Every time below is monotonic (glue/clock.ts): a wall-clock step changes no hold or poll.

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
  /** Counted in the proxy-wide hold count (faults/active.ts), to be given back. */
  sharedSlot: bool = false;
  /** The hold is on the response headers (fault.response.delay_ms), not the request. */
  inResponse: bool = false;
  /** What response/act.ts still has to do to this response. */
  response: u8 = 0;
  constructor(
    public contextId: u32,
    public rule: Rule,
    public startNs: i64,
    public generation: u32,
    /** The delay planned for this request (faults/plan.ts) and the abort that follows it. */
    public delayMs: i64,
    public abort: Abort | null,
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
  readonly effective: EffectiveSet = new EffectiveSet(this.contextId, this.log);
  readonly trace: DecisionTrace = new DecisionTrace(this.log);
  readonly sampler: Sampler;
  readonly timers: TimerHeap = new TimerHeap();
  readonly streams: Map<u32, FaultedStream> = new Map();
  private readonly plan: FaultPlan = new FaultPlan();
  /** Guard, schedule and blast-radius cap (safety/). */
  readonly safety: Safety = new Safety(this.metrics, this.log);
  identity: Identity = new Identity("", "", "", "");
  /** Where the identity came from: "xds.node", "node" or "none". */
  identitySource: string = "none";
  /** Problems (dropped policies or rules) in the static configuration in force. */
  staticProblems: i32 = 0;
  heldCount: i32 = 0;
  private request: HostRequest;
  private generation: u32 = 0;
  private tickMs: u32 = 0;
  /** When the armed tick fires next (ns); i64.MAX_VALUE when not armed. */
  private nextWakeNs: i64 = i64.MAX_VALUE;
  configured: bool = false;
  /** Control-plane polling (null when no control plane is configured). */
  private poller: Poller | null = null;

  constructor(public readonly contextId: u32) {
    this.request = new HostRequest();
    // From the host's CSPRNG: VMs started in the same millisecond must not draw alike.
    this.sampler = new Sampler(entropy64(<u64>contextId << 32));
  }

  // ---- configuration -------------------------------------------------------------------

  /** Applies a plugin configuration. False refuses it; the previous one stays in force. */
  configure(bytes: ArrayBuffer): bool {
    const result: ConfigurationResult = parseConfiguration(bytes);
    const config = result.configuration;
    if (config === null) {
      this.metrics.define(this.settings.metricPrefix);
      // Envoy tries a new configuration in a throwaway "canary" VM first, where nothing was
      // configured before: say only what is certain there. Counted and logged once per proxy.
      const first = firstToReport("config", bytes);
      if (first) this.metrics.add(Metric.ConfigErrors, 1);
      this.log.write(first ? LogLevel.Error : LogLevel.Debug, "configuration refused" +
        (this.configured ? " (the previous configuration stays in force)" : "") + ": " + result.error);
      return false;
    }
    this.settings = config.settings;
    this.log.level = config.settings.logLevel;
    this.metrics.define(config.settings.metricPrefix);
    this.report(bytes, "config", config.diagnostics.errors, config.diagnostics.warnings, "plugin configuration");
    this.staticProblems = config.diagnostics.errors.length;
    const lookup = readIdentity();
    this.identity = lookup.identity;
    this.identitySource = lookup.source;
    this.staticPolicies = config.policies;
    this.staticSlots = config.slots;
    this.configureControlPlane(config.settings.controlPlane);
    this.rebuild();
    this.configured = true;
    const nowNs = monotonicNanos();
    this.arm(nowNs, this.nextDueNs());
    if (this.log.enabled(LogLevel.Info)) {
      const poller = this.poller;
      this.log.write(LogLevel.Info, "configured: " + this.policies.policies.length.toString() + " policies, " +
        this.policies.rules.length.toString() + " rules apply to workload '" + this.identity.workloadName +
        "' in namespace '" + this.identity.namespace + "' (identity from " + this.identitySource + ")" +
        (this.settings.enabled ? "" : " (injection disabled)") + describePolling(poller === null ? null : poller.settings));
    }
    return true;
  }

  /**
   * Logs and counts the problems of one input (`kind`: "config" or "policies"; `source` says
   * where it came from), once per proxy: the first VM to report these bytes counts the errors in
   * hfi_faults_config_errors_total and logs at warn; the others log at debug.
   */
  report(input: ArrayBuffer, kind: string, errors: string[], warnings: string[], source: string): void {
    if (errors.length == 0 && warnings.length == 0) return;
    const first = firstToReport(kind, input);
    if (first && errors.length > 0) this.metrics.add(Metric.ConfigErrors, errors.length);
    const level = first ? LogLevel.Warn : LogLevel.Debug;
    if (!this.log.enabled(level)) return;
    for (let i = 0; i < errors.length; i++) {
      this.log.write(level, unchecked(errors[i]) + " (in " + source + "; dropped)");
    }
    for (let i = 0; i < warnings.length; i++) {
      this.log.write(level, unchecked(warnings[i]) + " (in " + source + ")");
    }
  }

  /** hfi_faults_config_problems: problems in the static configuration and the live set in force.
   * Set, not added: every VM with the same configuration and live set writes the same value. */
  private publishProblems(): void {
    const poller = this.poller;
    this.metrics.set(Metric.ConfigProblems, this.staticProblems + (poller === null ? 0 : poller.live.problems));
  }

  /** Swaps in the set built from the static and live policies. In-flight requests keep their rule. */
  rebuild(): void {
    const all = combinePolicies(this.staticPolicies, this.livePolicies);
    const nowMs = monotonicNanos() / NS_PER_MS;
    this.policies = vmState.clocks.assemble(this.clockOwner, all, this.identity, nowMs);
    this.safety.refresh(this.policies.rules, this.settings);
    this.publishProblems();
    tallyRules(this.policies.rules, this.metrics, this.settings.maxLabelledPolicies, this.log);
    const e = this.effective;
    e.identity = this.identity;
    e.identitySource = this.identitySource;
    e.dryRun = this.settings.dryRun;
    e.enabled = this.settings.enabled;
    const poller = this.poller;
    const answered = poller !== null && poller.live.body !== null;
    e.changed(this.policies, this.staticPolicies, this.livePolicies, answered, poller === null ? "" : poller.live.etag, nowMs);
  }

  /** The root context is being deleted: let go of what it shared with the VM. */
  release(): void {
    vmState.clocks.release(this.clockOwner);
    this.poller = null;
  }

  // ---- requests ------------------------------------------------------------------------

  onRequestHeaders(contextId: u32): HeadersStatus {
    if (this.effective.pending) this.effective.serving(monotonicNanos() / NS_PER_MS);
    const cap = this.safety.cap;
    if (cap !== null) cap.countRequest(); // an integer increment: no host call
    const rules = this.policies.rules;
    const request = this.request;
    if (rules.length == 0 || !this.settings.enabled) {
      if (this.log.enabled(LogLevel.Debug)) {
        request.reset(this.staticSlots, this.liveSlots);
        this.trace.write(contextId, request, rules.length == 0 ? Decision.NoPolicy : Decision.Disabled, null);
      }
      return HeadersStatus.Continue;
    }
    request.reset(this.staticSlots, this.liveSlots);
    // The clock is read only when some rule can expire: one host call fewer per request.
    const set = this.policies;
    const nowMs = set.expiring ? monotonicNanos() / NS_PER_MS : 0;
    const rule = set.index.firstMatch(request, nowMs);
    if (rule === null) {
      if (this.log.enabled(LogLevel.Debug)) this.trace.write(contextId, request, Decision.NoMatch, null);
      return HeadersStatus.Continue;
    }
    // An excluded request is not faulted and not counted as matched.
    const exclude = this.settings.exclude;
    if (exclude.length > 0 && excluded(exclude, request)) return HeadersStatus.Continue;
    const fault = rule.fault;
    count(rule.tally.matched);
    const safety = rule.safety;
    let watched = false;
    if (safety !== null) {
      // A guard-halted policy, or one outside its schedule, injects nothing.
      const admission = this.safety.admit(safety);
      if (admission == Admission.Skip) return HeadersStatus.Continue;
      watched = admission == Admission.Track;
    }
    const plan = this.plan;
    // Five header reads, only for a matched rule with from_headers.
    const fromHeaders = fault.fromHeaders ? plan.fromHeaders(fault, this.sampler, this.settings.maxDelayMs) : HeaderPlan.None;
    let sampled = fromHeaders != HeaderPlan.NotDrawn;
    if (sampled && fromHeaders == HeaderPlan.None) {
      // A from_headers rule without a fault of its own injects only what headers ask for.
      if (fault.fromHeaders && fault.abort === null && fault.delayMs == 0 && fault.delay === null && !fault.reset && fault.response === null) sampled = false;
      else if (this.sampled(fault, request)) plan.fromRule(fault, this.sampler);
      else sampled = false;
    }
    const dryRun = sampled && (rule.dryRun || this.settings.dryRun);
    if (this.log.enabled(LogLevel.Debug)) {
      this.trace.write(contextId, request, !sampled ? Decision.NotSampled : dryRun ? Decision.DryRun : Decision.Inject, rule);
    }
    // A watched request counts for its guard unless the plugin answers or rewrites it itself.
    if (!sampled || dryRun || !this.safety.grantFault()) {
      if (watched) this.safety.track(contextId, changetype<PolicySafety>(safety));
      if (!dryRun) return HeadersStatus.Continue;
      const t = rule.tally;
      if (plan.delayMs > 0) count(t.dryRunDelay);
      if (plan.abort !== null) count(t.dryRunAbort);
      else if (fault.reset) count(t.dryRunReset);
      if (fault.response !== null) count(t.dryRunResponse);
      markStream(t, true);
      return HeadersStatus.Continue;
    }
    if (watched && plan.abort === null && !fault.reset && fault.response === null) this.safety.track(contextId, changetype<PolicySafety>(safety));

    const holdMs = fault.startDelayMs + plan.delayMs;
    if (holdMs > 0) return this.startHold(contextId, rule, monotonicNanos(), holdMs);
    if (plan.abort === null && !fault.reset) {
      // A response fault acts when the upstream answers.
      if (fault.response !== null && spendInjection(rule, this.metrics, this.log)) this.track(contextId, rule, 0);
      return HeadersStatus.Continue;
    }
    if (!spendInjection(rule, this.metrics, this.log)) return HeadersStatus.Continue;
    markStream(rule.tally, false);
    this.answer(rule, plan.abort);
    return HeadersStatus.StopIteration;
  }

  /** While a request is held its body is buffered, as Envoy's own fault filter does. */
  onRequestBody(contextId: u32): DataStatus {
    return this.isHeld(contextId, false) ? DataStatus.StopIterationAndBuffer : DataStatus.Continue;
  }

  onRequestTrailers(contextId: u32): HeadersStatus {
    return this.isHeld(contextId, false) ? HeadersStatus.StopIteration : HeadersStatus.Continue;
  }

  onResponseHeaders(contextId: u32, endOfStream: bool): HeadersStatus {
    if (!this.isFaulted(contextId)) return HeadersStatus.Continue;
    const stream = this.streams.get(contextId);
    const response = stream.rule.fault.response;
    if (response !== null) return this.faultResponse(stream, response, endOfStream);
    if (stream.delayMs > 0 && stream.abort === null && this.settings.markDelayedResponses) {
      addHeader(HeaderMapType.ResponseHeaders, FAULT_HEADER, "delay");
      if (this.settings.policyHeader.length > 0) {
        addHeader(HeaderMapType.ResponseHeaders, this.settings.policyHeader, stream.rule.policyName);
      }
    }
    return HeadersStatus.Continue;
  }

  /** A response body chunk: rewritten as it passes (and buffered while the response is held). */
  onResponseBody(contextId: u32, size: u32, endOfStream: bool): DataStatus {
    if (!this.isFaulted(contextId)) return DataStatus.Continue;
    const stream = this.streams.get(contextId);
    const response = stream.rule.fault.response;
    if (response !== null && stream.response != 0) stream.response = rewriteResponseBody(response, stream.response, size, endOfStream, stream.held);
    return stream.held ? DataStatus.StopIterationAndBuffer : DataStatus.Continue;
  }

  onResponseTrailers(contextId: u32): HeadersStatus {
    if (!this.isFaulted(contextId)) return HeadersStatus.Continue;
    const stream = this.streams.get(contextId);
    const response = stream.rule.fault.response;
    if (response !== null && stream.response != 0) stream.response = rewriteResponseTrailers(response, stream.response);
    return stream.held ? HeadersStatus.StopIteration : HeadersStatus.Continue;
  }

  /** The access-log phase: the guard reads the upstream's answer here. */
  onLog(contextId: u32): void {
    this.safety.onLog(contextId);
  }

  /** The stream is gone (finished, or the client reset it): drop its state, never resume it. */
  onDelete(contextId: u32): void {
    this.safety.forget(contextId);
    if (!this.isFaulted(contextId)) return;
    const stream = this.streams.get(contextId);
    if (stream.held) {
      this.endHold(stream, monotonicNanos());
      if (this.log.enabled(LogLevel.Debug)) {
        this.log.write(LogLevel.Debug, "request " + contextId.toString() + " ended while held by policy " + stream.rule.policyName);
      }
    }
    this.streams.delete(contextId);
    unmarkFaulted(contextId);
  }

  // ---- timers --------------------------------------------------------------------------

  onTick(): void {
    const nowNs = monotonicNanos();
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
    const poller = this.poller;
    if (poller !== null && poller.onTick(nowNs)) {
      this.livePolicies = poller.live.policies; // the lease ran out
      this.rebuild();
    }
    this.effective.onTick(nowNs / NS_PER_MS);
    this.safety.onTick();
    // Releasing many requests takes time, and the host arms the tick from the moment it is
    // asked: measure the wait from now, not from when this tick began.
    this.arm(monotonicNanos(), this.nextDueNs());
  }

  /** Earliest moment the root needs a tick; i64.MAX_VALUE when nothing is pending. */
  nextDueNs(): i64 {
    let due = this.timers.size > 0 ? this.timers.peekDeadline() : i64.MAX_VALUE;
    const expiryMs = this.effective.nextDueMs; // to log a rule's expiry when it happens
    if (expiryMs < i64.MAX_VALUE / NS_PER_MS) due = min<i64>(due, expiryMs * NS_PER_MS);
    due = min<i64>(due, this.safety.nextDueNs());
    const poller = this.poller;
    return poller === null ? due : min<i64>(due, poller.nextDueNs());
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

  // ---- control plane (controlplane/poller.ts polls; this applies what it returns) ------

  private configureControlPlane(cp: ControlPlaneSettings | null): void {
    if (cp === null) {
      this.livePolicies = [];
      this.liveSlots = null;
      this.poller = null;
      return;
    }
    const current = this.poller;
    if (current !== null && cp.sameAs(current.settings)) return;
    // Start from the last good answer of this endpoint (a previous root context of this VM
    // may have fetched it), so a configuration change never drops live faults.
    const live = vmState.liveSet(cp.cluster + "\n" + cp.authority + "\n" + cp.path);
    this.livePolicies = live.policies;
    this.liveSlots = live.slots;
    this.poller = new Poller(cp, live, this.sampler, this.metrics, this.log, monotonicNanos());
  }

  onHttpCallResponse(token: u32, headerCount: u32, bodySize: u32): void {
    const poller = this.poller;
    if (poller === null) return;
    const update = poller.onResponse(token, headerCount, bodySize, monotonicNanos(), this.settings.maxDelayMs);
    if (update !== null) {
      const live = poller.live;
      const diag = update.diagnostics;
      const body = live.body;
      this.report(body === null ? new ArrayBuffer(0) : body, "policies", diag.errors, diag.warnings, "control plane policies");
      this.livePolicies = update.policies;
      this.liveSlots = update.slots;
      this.rebuild();
      this.metrics.add(Metric.PolicyUpdates, 1);
      if (this.log.enabled(LogLevel.Info)) {
        this.log.write(LogLevel.Info, "applied " + update.policies.length.toString() + " policies from the control plane (" +
          diag.errors.length.toString() + " problems); " + this.policies.rules.length.toString() + " rules apply here");
      }
    }
    this.arm(monotonicNanos(), this.nextDueNs()); // parsing a large set takes time
  }

  // ---- faults --------------------------------------------------------------------------

  private sampled(fault: Fault, request: RequestAttributes): bool {
    if (fault.samplingSlot >= 0) {
      const key = request.headerBytes(fault.samplingSlot);
      if (key.length >= 0) return chanceByKey(key.ptr, key.length, fault.percentage);
    }
    return this.sampler.chance(fault.percentage);
  }

  private startHold(contextId: u32, rule: Rule, nowNs: i64, holdMs: i64): HeadersStatus {
    const slot = this.takeSlot(contextId, rule);
    if (slot == HoldSlot.Full) return HeadersStatus.Continue;
    // A request turned away by max_active_faults does not spend max_injections.
    if (!spendInjection(rule, this.metrics, this.log)) {
      if (slot == HoldSlot.Taken) releaseHoldSlot();
      return HeadersStatus.Continue;
    }
    const stream = this.track(contextId, rule, nowNs);
    this.hold(stream, slot, stream.delayMs > 0, nowNs, holdMs);
    return HeadersStatus.StopIteration;
  }

  /** A hold slot under max_active_faults; Full (counted and logged) when none is left. */
  private takeSlot(contextId: u32, rule: Rule): HoldSlot {
    // The limit holds per proxy, as Envoy's does: one count for every VM and metric prefix.
    const limit = this.settings.maxActiveFaults;
    const slot = takeHoldSlot(limit);
    if (slot == HoldSlot.Full || (slot == HoldSlot.Unshared && this.heldCount >= limit)) {
      this.metrics.add(Metric.Overflow, 1);
      count(rule.tally.overflow);
      if (this.log.enabled(LogLevel.Debug)) {
        this.log.write(LogLevel.Debug, "max_active_faults reached; request " + contextId.toString() + " not faulted by policy " + rule.policyName);
      }
      return HoldSlot.Full;
    }
    return slot;
  }

  /** Gives the stream fault state (not held yet), with the fault planned for it. */
  private track(contextId: u32, rule: Rule, nowNs: i64): FaultedStream {
    const plan = this.plan;
    const stream = new FaultedStream(contextId, rule, nowNs, 0, plan.delayMs, plan.abort);
    stream.held = false;
    notePressure(96);
    this.streams.set(contextId, stream);
    markFaulted(contextId);
    return stream;
  }

  private hold(stream: FaultedStream, slot: HoldSlot, countDelay: bool, nowNs: i64, holdMs: i64): void {
    const generation = ++this.generation;
    stream.held = true;
    stream.generation = generation;
    stream.startNs = nowNs;
    stream.sharedSlot = slot == HoldSlot.Taken;
    this.heldCount++;
    this.metrics.add(Metric.Active, 1);
    if (countDelay) {
      this.metrics.add(Metric.Delays, 1);
      count(stream.rule.tally.injectedDelay);
    }
    markStream(stream.rule.tally, false);
    const dueNs = nowNs + holdMs * NS_PER_MS;
    this.timers.push(dueNs, stream.contextId, generation);
    this.armBy(nowNs, dueNs);
  }

  /** The upstream answered a faulted request: rewrite the response, and hold it if asked. */
  private faultResponse(stream: FaultedStream, response: ResponseFault, endOfStream: bool): HeadersStatus {
    stream.response = rewriteResponseHeaders(response, stream.rule.policyName, this.settings.policyHeader, endOfStream);
    this.metrics.add(Metric.ResponseFaults, 1);
    count(stream.rule.tally.injectedResponse);
    if (response.delayMs <= 0) return HeadersStatus.Continue;
    const slot = this.takeSlot(stream.contextId, stream.rule);
    if (slot == HoldSlot.Full) return HeadersStatus.Continue;
    stream.inResponse = true;
    this.hold(stream, slot, true, monotonicNanos(), response.delayMs);
    return HeadersStatus.StopIteration;
  }

  /** The hold is over: record it, then answer (abort) or let the request go on. */
  private releaseHold(stream: FaultedStream, nowNs: i64): void {
    this.endHold(stream, nowNs);
    if (setEffectiveContext(stream.contextId) != WasmResult.Ok) return; // stream already gone
    if (stream.inResponse) {
      continueStream(StreamType.Response);
    } else if (stream.abort !== null || stream.rule.fault.reset) {
      this.answer(stream.rule, stream.abort);
    } else {
      continueStream(StreamType.Request);
    }
  }

  /** Every injected delay is one sample of the histogram, also when the client left early;
   * a start delay alone (before an abort) is not a delay (docs/metrics.md, "Invariants"). */
  private endHold(stream: FaultedStream, nowNs: i64): void {
    if (stream.inResponse || stream.delayMs > 0) {
      this.metrics.record(Metric.DelayDuration, <u64>max<i64>((nowNs - stream.startNs) / NS_PER_MS, 0));
    }
    stream.held = false;
    this.heldCount--;
    this.metrics.add(Metric.Active, -1);
    if (stream.sharedSlot) releaseHoldSlot();
  }

  /** Ends the current stream: with `abort` (the rule's own, or one its headers asked for), else
   * by resetting it when the rule says so. */
  private answer(rule: Rule, abort: Abort | null): void {
    if (abort === null) {
      if (!rule.fault.reset) return;
      // Envoy resets the stream once this callback returns (docs/how-it-works.md, "Reset").
      this.metrics.add(Metric.Resets, 1);
      count(rule.tally.injectedReset);
      closeStream(StreamType.Request);
      return;
    }
    const grpc = abort.grpcStatus >= 0 && isGrpcContentType(getHeader(HeaderMapType.RequestHeaders, CONTENT_TYPE));
    const reply = abortReply(abort, rule.policyName, this.settings.policyHeader, grpc);
    this.metrics.add(Metric.Aborts, 1);
    count(rule.tally.injectedAbort);
    sendLocalResponse(reply.status, "hfi_fault_abort", reply.body, reply.headers, reply.grpcStatus);
  }

  /** Is the request (`inResponse` false) or the response held? */
  private isHeld(contextId: u32, inResponse: bool): bool {
    if (!this.isFaulted(contextId)) return false;
    const stream = this.streams.get(contextId);
    return stream.held && stream.inResponse == inResponse;
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
