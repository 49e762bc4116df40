// The root context: one per plugin configuration. It parses configurations and control-plane
// answers into the policy set in force, keeps the VM's one tick (holds, polls, rails, expiry),
// and hands every stream callback to the request path (request/path.ts).
import { Admission } from "./admission/admission";
import { ConfigurationResult, parseConfiguration } from "./config/configuration";
import { ControlPlaneSettings, LogLevel, Settings } from "./config/settings";
import { Poller } from "./controlplane/poller";
import { Sampler } from "./faults/sampling";
import { entropy64, monotonicNanos } from "./glue/clock";
import { getStringProperty, setTickPeriodMs } from "./glue/host";
import { readIdentity } from "./policyset/identity";
import { Logger } from "./log";
import { HeaderSlots } from "./match/request";
import { Metric, Metrics } from "./metrics";
import { EffectiveSet } from "./observe/effective";
import { tallyRules } from "./observe/policy-metrics";
import { DecisionTrace } from "./observe/trace";
import { Policy } from "./model/policy";
import { ProxyKind } from "./model/scope";
import { ClockOwner, combinePolicies, Identity, PolicySet } from "./policyset/store";
import { firstToReport } from "./problems";
import { HeadersStatus, RequestPath, Waker } from "./request/path";
import { Safety } from "./safety/index";
import { vmState } from "./vmstate";

// Every time below is monotonic (glue/clock.ts): a wall-clock step changes no hold or poll.

const NS_PER_MS: i64 = 1000000;
/** Problem lines one configuration or control-plane answer may write to the log. */
const MAX_PROBLEM_LINES: i32 = 100;

export class FaultInjector extends Waker {
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
  /** From the host's CSPRNG: VMs started in the same millisecond must not draw alike. */
  readonly sampler: Sampler = new Sampler(entropy64(<u64>this.contextId << 32));
  /** Guard, schedule and blast-radius cap (safety/). */
  readonly safety: Safety = new Safety(this.metrics, this.log);
  readonly effective: EffectiveSet = new EffectiveSet(this.contextId, this.log, this.safety);
  readonly path: RequestPath = new RequestPath(this.metrics, this.log, new DecisionTrace(this.log), this.sampler, this,
    new Admission(this.safety, this.metrics, this.log));
  identity: Identity = new Identity("", "", "", "");
  /** Where the identity came from: "xds.node", "node" or "none". */
  identitySource: string = "none";
  /** Problems (dropped policies or rules) in the static configuration in force. */
  staticProblems: i32 = 0;
  private tickMs: u32 = 0;
  /** When the armed tick fires next (ns); i64.MAX_VALUE when not armed. */
  private nextWakeNs: i64 = i64.MAX_VALUE;
  configured: bool = false;
  /** The plugin's root id (Envoy's root_id, Istio's pluginName): root contexts with the same one
   * are configurations of one plugin. */
  rootId: string = "";
  /** A newer configuration of this plugin took over (retire). */
  retired: bool = false;
  /** Control-plane polling (null when no control plane is configured). */
  private poller: Poller | null = null;

  constructor(public readonly contextId: u32) {
    super();
  }

  // ---- configuration -------------------------------------------------------------------

  /** Applies a plugin configuration of `size` bytes, `bytes` (all of it, or the start of one
   * over the size limit). False refuses it; the previous one stays in force. */
  configure(bytes: ArrayBuffer, size: u32 = bytes.byteLength): bool {
    const result: ConfigurationResult = parseConfiguration(bytes, size);
    const config = result.configuration;
    if (config === null) {
      this.metrics.define(this.settings.metricPrefix);
      // Envoy tries a new configuration in a throwaway "canary" VM first, where nothing was
      // configured before: say only what is certain there. Counted and logged once per proxy.
      const first = firstToReport("config", bytes, size);
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
    this.rootId = getStringProperty(["plugin_root_id"]);
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
        "' in namespace '" + this.identity.namespace + "'" + proxyKindWords(this.identity.kind) + " (identity from " + this.identitySource + ")" +
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
    // The first MAX_PROBLEM_LINES, then how many more: a document of thousands of bad policies
    // must not write thousands of lines into Envoy's log (all are counted in the metrics).
    let written = 0;
    for (let i = 0; i < errors.length && written < MAX_PROBLEM_LINES; i++, written++) {
      this.log.write(level, unchecked(errors[i]) + " (in " + source + "; dropped)");
    }
    for (let i = 0; i < warnings.length && written < MAX_PROBLEM_LINES; i++, written++) {
      this.log.write(level, unchecked(warnings[i]) + " (in " + source + ")");
    }
    const more = errors.length + warnings.length - written;
    if (more > 0) this.log.write(level, "... and " + more.toString() + " more problems in " + source + " (not logged; hfi validate lists them all)");
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
    const set = vmState.clocks.assemble(this.clockOwner, all, this.identity, nowMs);
    this.policies = set;
    // The set's runtime state, by rule position: metric ids, rails, budget flags.
    const tallies = tallyRules(set.rules, this.metrics, this.settings.maxLabelledPolicies, this.log);
    this.safety.refresh(set.rules, tallies, this.settings);
    const path = this.path;
    path.admission.refresh(set.rules.length);
    path.policies = set;
    path.tallies = tallies;
    path.settings = this.settings;
    path.staticSlots = this.staticSlots;
    path.liveSlots = this.liveSlots;
    this.publishProblems();
    const e = this.effective;
    e.identity = this.identity;
    e.identitySource = this.identitySource;
    e.dryRun = this.settings.dryRun;
    e.enabled = this.settings.enabled;
    const poller = this.poller;
    const answered = poller !== null && poller.live.body !== null;
    e.changed(set, tallies, this.staticPolicies, this.livePolicies, answered, poller === null ? "" : poller.live.etag, nowMs);
  }

  /** The root context is being deleted: let go of what it shared with the VM. */
  release(): void {
    vmState.clocks.release(this.clockOwner);
    this.poller = null;
  }

  /**
   * A newer configuration of this plugin is in force in another root context: this one only
   * finishes the requests it holds. It lets go of its policy set (a held request keeps its own
   * rule), stops polling and stops its rails; the holds' timers go on.
   */
  retire(): void {
    if (this.retired) return;
    this.retired = true;
    this.staticPolicies = [];
    this.livePolicies = [];
    this.staticSlots = null;
    this.liveSlots = null;
    this.poller = null;
    const empty = new PolicySet();
    this.policies = empty;
    this.safety.refresh([], [], this.settings);
    const path = this.path;
    path.policies = empty;
    path.tallies = [];
    path.staticSlots = null;
    path.liveSlots = null;
    this.effective.release();
    vmState.clocks.release(this.clockOwner);
    // No tick is set here: this runs in the newer root context's configuration callback, where
    // the host applies a tick period to that root. This root's tick stays as it was armed (for
    // its holds, or for a poll it no longer makes) and re-arms itself when it fires.
  }

  // ---- requests (request/path.ts) -----------------------------------------------------

  onRequestHeaders(contextId: u32): HeadersStatus {
    return this.path.onRequestHeaders(contextId);
  }

  // ---- timers --------------------------------------------------------------------------

  onTick(): void {
    const nowNs = monotonicNanos();
    this.nextWakeNs = i64.MAX_VALUE;
    this.path.releaseDue(nowNs);
    const poller = this.poller;
    if (poller !== null && poller.onTick(nowNs)) {
      this.livePolicies = poller.live.policies; // the lease ran out
      this.rebuild();
    }
    // The rails first: a guard that trips or resumes now is in the state published below.
    this.safety.onTick();
    this.effective.onTick(nowNs / NS_PER_MS);
    // Releasing many requests takes time, and the host arms the tick from the moment it is
    // asked: measure the wait from now, not from when this tick began.
    this.arm(monotonicNanos(), this.nextDueNs());
  }

  /** Earliest moment the root needs a tick; i64.MAX_VALUE when nothing is pending. */
  nextDueNs(): i64 {
    if (this.effective.pending) return 0; // publish at once, off the request path
    let due = this.path.nextDueNs();
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

  /** The policy of the rule at `position` changed state on the request path: published on a
   * tick armed now. */
  stateChanged(position: i32): void {
    const nowNs = monotonicNanos();
    this.effective.stateChanged(nowNs / NS_PER_MS, position);
    if (this.effective.pending) this.armBy(nowNs, 0);
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
}

function describePolling(cp: ControlPlaneSettings | null): string {
  if (cp === null) return "";
  return "; polling " + cp.cluster + " " + cp.path + " every " + cp.pollIntervalMs.toString() + " ms";
}

/** " on a sidecar" and the like, for the configure line: what a policy without `direction`
 * means depends on it (docs/policies.md). */
function proxyKindWords(kind: ProxyKind): string {
  switch (kind) {
    case ProxyKind.Sidecar: return " on a sidecar";
    case ProxyKind.Gateway: return " on a gateway";
    case ProxyKind.Waypoint: return " on a waypoint";
    default: return "";
  }
}
