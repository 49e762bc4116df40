// The effective policy set of a root context: one info line per change (added, changed,
// removed; expired when a rule's duration_seconds runs out), and a compact JSON of the policies
// in force, published in shared data for admin tools (`hfi.effective.<slot>`, one slot per
// worker VM; `hfi.effective.vms` counts the slots). The format: docs/observability.md.
import { NO_NOT_AFTER, NO_NOT_BEFORE } from "../schedule/window";
import { LogLevel } from "../config/settings";
import { getSharedBytes, getSharedI64, recordMetric, setSharedBytes, setSharedI64, sharedCas, WasmResult } from "../glue/host";
import { wallNanos } from "../glue/clock";
import { Utf8JsonWriter } from "../json/utf8-writer";
import { ByteBuffer } from "../util/bytes";
import { Logger } from "../log";
import { Policy, Rule } from "../model/policy";
import { Identity, PolicySet, selectorApplies } from "../policyset/store";
import { firstToReport } from "../problems";
import { NO_END, PolicyState, policyState, RailsView, STATE_NAMES, StateNow } from "./policy-state";
import { ruleEndMs } from "../model/policy";
import { RuleTally } from "./tally";
import { effectiveDirection } from "../match/scope";
import { Destination, Direction } from "../model/scope";

function directionName(d: Direction): string {
  return d == Direction.Inbound ? "inbound" : d == Direction.Outbound ? "outbound" : "any";
}

/** "service reviews, namespace bookinfo, port 9080, subset v2", "cluster c", or "" for any. */
function destinationText(d: Destination | null): string {
  if (d === null) return "";
  if (d.cluster.length > 0) return "cluster " + d.cluster;
  const parts: string[] = [];
  if (d.service.length > 0) parts.push("service " + d.service);
  if (d.namespace.length > 0) parts.push("namespace " + d.namespace);
  if (d.port != 0) parts.push("port " + d.port.toString());
  if (d.subset.length > 0) parts.push("subset " + d.subset);
  return parts.length == 0 ? "any" : parts.join(", ");
}

const SLOT_COUNT_KEY = String.UTF8.encode("hfi.effective.vms");
/** About how many bytes of the published JSON go in one shared value. */
const PUBLISH_CHUNK: i32 = 64 * 1024;

/** Writes what `w` holds as piece `chunk` of `prefix`, empties it; the next piece's number. */
function flushChunk(w: Utf8JsonWriter, prefix: string, chunk: i32): i32 {
  setSharedBytes(String.UTF8.encode(prefix + "." + chunk.toString()), w.bytes.data, 0, w.bytes.length);
  w.bytes.length = 0;
  return chunk + 1;
}
// The proxy-wide last logged lists are under `hfi.effective.last.<source>` ("\n<name>\t<identity>\t" each).

// Per VM: the slot it publishes under (claimed at its first publication), whether it has had a
// tick (Envoy's configuration canary never does, so it never publishes), and the root context
// whose set is current. Publishing writes the whole set (megabytes for thousands of long names),
// so it happens on ticks and configurations, never in a request's callback: a request that finds
// something to publish only asks for a tick (`pending`).
let slot: i64 = -1;
let vmActive = false;
let currentRoot: u32 = 0;

export class EffectiveSet {
  /** Something changed that is not yet published: the root arms its next tick at once. */
  pending: bool = false;
  private set: PolicySet | null = null;
  private live: Policy[] | null = null;
  private etag: string = "";
  private nextExpiryMs: i64 = i64.MAX_VALUE;
  private checkedMs: i64 = 0;
  identity: Identity | null = null;
  identitySource: string = "none";
  dryRun: bool = false;
  enabled: bool = true;
  /** Each policy's state and when it ends, by position, as last worked out and set in the
   * state gauges. */
  private states: PolicyState[] = [];
  private untils: i64[] = [];
  /** Some policy's state can change with time (rails, budgets, durations): look each tick. */
  private timeBound: bool = false;
  private readonly now: StateNow = new StateNow();
  /** The set's metric ids, by rule position. */
  private tallies: RuleTally[] = [];

  constructor(private rootId: u32, private log: Logger, private rails: RailsView) {}

  /**
   * A new set is in force in this root context. Changes are logged per source, each against the
   * proxy-wide last logged list of that source: the configuration's policies (every VM, the
   * canary too, sees the same), and the control plane's once this VM has its answer (the canary
   * and a worker before its first poll have none: their view would read as "removed").
   */
  changed(set: PolicySet, tallies: RuleTally[], staticPolicies: Policy[], live: Policy[], answered: bool, etag: string, nowMs: i64): void {
    this.set = set;
    this.tallies = tallies;
    this.live = live;
    this.etag = etag;
    currentRoot = this.rootId;
    this.checkedMs = nowMs;
    this.nextExpiryMs = nextExpiry(set, nowMs);
    const n = set.policies.length;
    this.states = new Array<PolicyState>(n).fill(-1);
    this.untils = new Array<i64>(n).fill(-1);
    this.timeBound = anyTimeBound(set.policies);
    this.refreshStates(nowMs);
    logChange(this.log, "configuration", staticPolicies);
    if (answered) logChange(this.log, "control plane", live);
    this.pending = true;
    if (vmActive) this.publish(nowMs);
  }

  /** A newer root context publishes now: let go of this one's set, quietly. */
  release(): void {
    this.set = null;
    this.live = null;
    this.tallies = [];
    this.states = [];
    this.untils = [];
    this.timeBound = false;
    this.pending = false;
    this.nextExpiryMs = i64.MAX_VALUE;
  }

  /** The policy of the rule at `position` changed state on the request path (a budget found
   * spent, once per budget and VM): its gauges are set now, the set is published on the next
   * tick. */
  stateChanged(nowMs: i64, position: i32): void {
    const set = this.set;
    if (set === null) return;
    const policy = set.policyAt(position);
    if (policy >= 0 && this.refreshStates(nowMs, policy)) this.pending = true;
  }

  /** When the next rule expires (monotonic ms); i64.MAX_VALUE when none will. */
  @inline get nextDueMs(): i64 {
    return this.nextExpiryMs;
  }

  /** On the root's tick: logs the rules whose duration ran out since the last check. */
  onTick(nowMs: i64): void {
    vmActive = true;
    const set = this.set;
    if (set !== null && nowMs >= this.nextExpiryMs) {
      const rules = set.rules;
      for (let i = 0; i < rules.length; i++) {
        const r = unchecked(rules[i]);
        const end = ruleEndMs(unchecked(set.ruleSinceMs[i]), r.fault.durationSeconds);
        if (end > this.checkedMs && end <= nowMs) {
          const line = 'policy "' + r.policyName + '" rule ' + r.index.toString() + " expired (duration_seconds " +
            r.fault.durationSeconds.toString() + ")";
          this.log.write(firstToReport("expired", String.UTF8.encode(line)) ? LogLevel.Info : LogLevel.Debug, line);
        }
      }
      this.checkedMs = nowMs;
      this.nextExpiryMs = nextExpiry(set, nowMs);
      this.pending = true;
    }
    if (this.timeBound && this.refreshStates(nowMs)) this.pending = true;
    if (this.pending) this.publish(nowMs);
  }

  /**
   * Works out every policy's state (or, with `only` >= 0, that policy's); sets the state gauges
   * of those that changed. True when any changed. Runs when a set is assembled and on ticks; on a
   * request only for the one policy whose budget it found spent.
   */
  private refreshStates(nowMs: i64, only: i32 = -1): bool {
    const set = this.set, id = this.identity;
    if (set === null || id === null) return false;
    const wallMs = wallNanos() / 1000000;
    const policies = set.policies;
    const now = this.now;
    let moved = false;
    const from = only >= 0 ? only : 0;
    const to = only >= 0 ? min<i32>(only + 1, policies.length) : policies.length;
    for (let i = from; i < to && i < this.states.length; i++) {
      const p = unchecked(policies[i]);
      policyState(p, unchecked(set.policySinceMs[i]), selectorApplies(p.selector, id), this.dryRun, this.rails, nowMs, wallMs, now);
      // An end worked out from the monotonic clock moves by a millisecond or so between looks as
      // the two clocks are read apart: the same state within a second has not changed.
      const before = unchecked(this.untils[i]);
      const sameEnd = now.untilWallMs == before || (now.untilWallMs != NO_END && before != NO_END && abs<i64>(now.untilWallMs - before) < 1000);
      if (now.state == unchecked(this.states[i]) && sameEnd) continue;
      unchecked((this.states[i] = now.state));
      unchecked((this.untils[i] = now.untilWallMs));
      const position = set.positionOf(i);
      if (position >= 0 && position < this.tallies.length) {
        const tally = unchecked(this.tallies[position]);
        publishGauges(tally.state, tally.stateUntil, now);
      }
      moved = true;
    }
    return moved;
  }

  /** Writes this VM's JSON (only the current root context of the VM publishes). */
  private publish(nowMs: i64): void {
    this.pending = false;
    const set = this.set, live = this.live, id = this.identity;
    if (currentRoot != this.rootId || set === null || live === null || id === null) return;
    if (slot < 0) slot = claimSlot();
    if (slot < 0) return;
    const wallMs = wallNanos() / 1000000;
    // The text goes out in pieces of about PUBLISH_CHUNK bytes: a set of thousands of long names
    // is megabytes, and one buffer that size, in a request's callback, could only come from a VM
    // that doubles its memory.
    const w = new Utf8JsonWriter(PUBLISH_CHUNK + 4096);
    const prefix = "hfi.effective." + slot.toString();
    let chunks = 0;
    w.writeAscii('{"slot":' + slot.toString() + ',"at":' + wallMs.toString() + ',"workload":');
    w.writeQuoted(id.workloadName);
    w.writeAscii(',"app":');
    w.writeQuoted(id.appLabel);
    w.writeAscii(',"namespace":');
    w.writeQuoted(id.namespace);
    w.writeAscii(',"identity_from":');
    w.writeQuoted(this.identitySource);
    w.writeAscii(',"dry_run":' + this.dryRun.toString() + ',"enabled":' + this.enabled.toString() + ',"etag":');
    w.writeQuoted(this.etag);
    w.writeAscii(',"policies":[');
    const policies = set.policies;
    for (let i = 0; i < policies.length; i++) {
      const p = unchecked(policies[i]);
      // [name, label, from control plane, selector service, selector namespace, applies here,
      //  dry run, expires (unix ms, -1: never), rules, highest percentage,
      //  schedule not_before, not_after (unix ms, -1: none), state, state ends (unix ms, -1: never),
      //  direction here (inbound, outbound, any), destination ("" for any)]
      let end: i64 = 0;
      let pct: f64 = 0;
      const since = unchecked(set.policySinceMs[i]);
      for (let r = 0; r < p.rules.length; r++) {
        const rule = unchecked(p.rules[r]);
        const e = ruleEndMs(since, rule.fault.durationSeconds);
        end = e == i64.MAX_VALUE || end < 0 ? -1 : max<i64>(end, e);
        if (rule.fault.percentage > pct) pct = rule.fault.percentage;
      }
      const applies = selectorApplies(p.selector, id);
      const first = unchecked(p.rules[0]); // what the policy says for all its rules
      const state = i < this.states.length ? unchecked(this.states[i]) : PolicyState.NotHere;
      const until = i < this.untils.length ? unchecked(this.untils[i]) : NO_END;
      w.writeAscii(i > 0 ? ',[' : '[');
      w.writeQuoted(p.name);
      w.writeByte(44);
      const position = set.positionOf(i);
      w.writeQuoted(position >= 0 && position < this.tallies.length ? unchecked(this.tallies[position]).label : "");
      w.writeByte(44);
      writeFlag(w, i >= policies.length - live.length); // live ones come last (combinePolicies)
      w.writeByte(44);
      w.writeQuoted(p.selector.service);
      w.writeByte(44);
      w.writeQuoted(p.selector.namespace);
      w.writeByte(44);
      writeFlag(w, applies);
      w.writeByte(44);
      writeFlag(w, first.dryRun);
      w.writeByte(44);
      w.writeInteger(end < 0 ? -1 : wallMs + end - nowMs);
      w.writeByte(44);
      w.writeInteger(p.rules.length);
      w.writeByte(44);
      if (pct == Math.floor(pct)) w.writeInteger(<i64>pct);
      else w.writeNumber(pct);
      let notBefore: i64 = -1, notAfter: i64 = -1;
      const rails = first.rails;
      if (rails !== null) {
        const window = rails.window;
        if (window !== null) {
          if (window.notBeforeMs != NO_NOT_BEFORE) notBefore = window.notBeforeMs;
          if (window.notAfterMs != NO_NOT_AFTER) notAfter = window.notAfterMs;
        }
      }
      if (w.bytes.length >= PUBLISH_CHUNK) chunks = flushChunk(w, prefix, chunks);
      w.writeByte(44);
      w.writeInteger(notBefore);
      w.writeByte(44);
      w.writeInteger(notAfter);
      w.writeByte(44);
      w.writeQuoted(unchecked(STATE_NAMES[state]));
      w.writeByte(44);
      w.writeInteger(until);
      w.writeByte(44);
      w.writeQuoted(directionName(effectiveDirection(first, set.kind)));
      w.writeByte(44);
      w.writeQuoted(destinationText(first.destination));
      w.writeByte(93);
    }
    w.writeAscii("]}");
    chunks = flushChunk(w, prefix, chunks);
    // The count last: a reader takes `hfi.effective.<slot>` pieces 0 .. count - 1, in order.
    setSharedI64(String.UTF8.encode(prefix), chunks, 0);
  }
}

/**
 * Logs what changed in one source's list since the proxy last logged it (once per proxy: the
 * VM that swaps the shared copy logs). The shared copy is compact bytes, built in one buffer
 * with no string per policy: for each policy its name's hash, its identity and its name. A
 * set of thousands of long names costs a few bytes more than the names, not the square of
 * anything, inside the one callback that configures it.
 */
function logChange(log: Logger, source: string, policies: Policy[]): void {
  // The list's digest first (policy identities in order): a VM that finds the same digest knows
  // another VM of the proxy (the canary, an earlier worker) logged this list, and builds nothing.
  let digest: u64 = 0xcbf29ce484222325;
  for (let i = 0; i < policies.length; i++) digest = (digest ^ unchecked(policies[i]).identity) * 0x100000001b3;
  const digestKey = String.UTF8.encode("hfi.effective.digest." + source);
  if (getSharedI64(digestKey) == <i64>digest) return;
  setSharedI64(digestKey, <i64>digest, 0);
  const list = new ByteBuffer(64);
  list.length = 0;
  const hashes = new StaticArray<u64>(policies.length);
  for (let i = 0; i < policies.length; i++) {
    const p = unchecked(policies[i]);
    const at = list.grow(18);
    list.append(p.name);
    const name = changetype<usize>(list.data) + <usize>at + 18;
    const hash = fnv(name, list.length - at - 18);
    unchecked((hashes[i] = hash));
    store<u64>(name - 18, hash);
    store<u64>(name - 10, p.identity);
    store<u16>(name - 2, <u16>(list.length - at - 18));
  }
  const key = String.UTF8.encode("hfi.effective.last." + source);
  const before = getSharedBytes(key);
  const size = list.length;
  // Equal: already logged. CasMismatch: another VM logs this change right now.
  if (before !== null && before.byteLength == size && memory.compare(changetype<usize>(before), list.ptr, <usize>size) == 0) return;
  if (setSharedBytes(key, list.data, sharedCas, size) == WasmResult.CasMismatch) return;
  // The previous list: each name's hash to its entry's offset.
  const old = new Map<u64, i32>();
  if (before !== null) {
    const base = changetype<usize>(before);
    // A value not in this form (another build wrote it) reads as far as it is whole.
    for (let at = 0; at + 18 <= before.byteLength;) {
      const next = at + 18 + <i32>load<u16>(base + <usize>at + 16);
      if (next > before.byteLength) break;
      old.set(load<u64>(base + <usize>at), at);
      at = next;
    }
  }
  const added = new NameList(" added "), changed = new NameList(" changed "), removed = new NameList(" removed ");
  const now = new Map<u64, i32>();
  for (let i = 0; i < policies.length; i++) {
    const p = unchecked(policies[i]);
    const hash = unchecked(hashes[i]);
    now.set(hash, i);
    if (!old.has(hash)) added.add(p.name);
    else if (load<u64>(changetype<usize>(before) + <usize>old.get(hash) + 8) != p.identity) changed.add(p.name);
  }
  if (before !== null) {
    const base = changetype<usize>(before);
    const keys = old.keys();
    for (let i = 0; i < keys.length; i++) {
      if (now.has(unchecked(keys[i]))) continue;
      const at = old.get(unchecked(keys[i]));
      removed.addBytes(base + <usize>at + 18, <i32>load<u16>(base + <usize>at + 16));
    }
  }
  log.write(LogLevel.Info, "policies changed (" + source + "):" + added.toString() + changed.toString() + removed.toString() +
    " " + policies.length.toString() + " now");
}

/** FNV-1a 64 of `size` bytes at `ptr`. */
function fnv(ptr: usize, size: i32): u64 {
  let h: u64 = 0xcbf29ce484222325;
  for (let i = 0; i < size; i++) h = (h ^ <u64>load<u8>(ptr + <usize>i)) * 0x100000001b3;
  return h;
}

/** The next free slot number, claimed with compare-and-swap; -1 if shared data keeps failing. */
function claimSlot(): i64 {
  for (let attempt = 0; attempt < 16; attempt++) {
    const n = getSharedI64(SLOT_COUNT_KEY);
    const cas = sharedCas;
    if (cas == 0) return -1;
    if (setSharedI64(SLOT_COUNT_KEY, n + 1, cas) == WasmResult.Ok) return n;
  }
  return -1;
}

/** hfi_faults_policy_state (the state's number) and hfi_faults_policy_state_until_seconds (unix
 * seconds, 0: no end). Set, not added: every VM works out the same state. */
function publishGauges(stateId: i64, untilId: i64, s: StateNow): void {
  if (stateId >= 0) recordMetric(<u32>stateId, <u64>s.state);
  if (untilId >= 0) recordMetric(<u32>untilId, s.untilWallMs == NO_END ? 0 : <u64>(s.untilWallMs / 1000));
}

/** Can a policy's state change with time alone (schedule, guard, budget, duration)? */
function anyTimeBound(policies: Policy[]): bool {
  for (let i = 0; i < policies.length; i++) {
    const rules = unchecked(policies[i]).rules;
    for (let r = 0; r < rules.length; r++) {
      const rule = unchecked(rules[r]);
      if (rule.rails !== null || rule.fault.hasBudget || rule.fault.durationSeconds > 0) return true;
    }
  }
  return false;
}

function nextExpiry(set: PolicySet, nowMs: i64): i64 {
  let next = i64.MAX_VALUE;
  const rules = set.rules;
  for (let i = 0; i < rules.length; i++) {
    const e = ruleEndMs(unchecked(set.ruleSinceMs[i]), unchecked(rules[i]).fault.durationSeconds);
    if (e > nowMs && e < next) next = e;
  }
  return next;
}

/** 1 or 0, as the published rows carry a yes or no. */
@inline function writeFlag(w: Utf8JsonWriter, b: bool): void {
  w.writeByte(b ? 0x31 : 0x30);
}

/** Names for a log line: the first 20, then how many more. */
class NameList {
  private text: string = "";
  private count: i32 = 0;
  constructor(private label: string) {}
  add(name: string): void {
    if (this.count++ < 20) this.text += this.count == 1 ? name : ", " + name;
  }

  /** A name given as UTF-8 bytes (decoded only when it is one of the 20 shown). */
  addBytes(ptr: usize, size: i32): void {
    if (this.count < 20) this.add(String.UTF8.decodeUnsafe(ptr, <usize>size));
    else this.count++;
  }
  toString(): string {
    if (this.count == 0) return "";
    return this.label + this.text + (this.count > 20 ? " and " + (this.count - 20).toString() + " more;" : ";");
  }
}
