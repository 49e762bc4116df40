// The policies in force. Static policies (plugin configuration) and live ones (control plane)
// are combined into one immutable PolicySet; a new set replaces the old one in a single
// assignment, so a request keeps the Rule object it matched even if the set changes under it.
import { Policy, Rule, Selector } from "../model/policy";
import { RuleIndex } from "../match/index";
import { ProxyKind } from "../model/scope";

/** Who this proxy is, from Istio's node metadata. Empty strings when unknown. */
export class Identity {
  constructor(
    public workloadName: string,
    public namespace: string,
    public appLabel: string,
    public canonicalName: string,
    /** From Istio's node id (`sidecar~...`, `router~...`, `waypoint~...`). */
    public kind: ProxyKind = ProxyKind.Other,
  ) {}
}

@inline function isWildcard(s: string): bool {
  return s.length == 0 || s == "*";
}

/** Selector semantics of the earlier plugin, plus the app / canonical-name labels. */
export function selectorApplies(sel: Selector, id: Identity): bool {
  if (!isWildcard(sel.service)) {
    const s = sel.service;
    const known = (id.workloadName.length > 0 && id.workloadName == s) ||
      (id.appLabel.length > 0 && id.appLabel == s) ||
      (id.canonicalName.length > 0 && id.canonicalName == s);
    if (!known) return false;
  }
  if (!isWildcard(sel.namespace)) {
    if (id.namespace.length == 0 || id.namespace != sel.namespace) return false;
  }
  return true;
}

export class PolicySet {
  /** Rules of the policies that apply to this proxy, in evaluation order. A rule's position
   * here keys its runtime state everywhere (first-seen clock, metric ids, rails, budget). */
  rules: Rule[] = [];
  /** When each rule's policy was first seen (monotonic ms), by rule position. */
  ruleSinceMs: i64[] = [];
  /** The same by policy position (in `policies`). */
  policySinceMs: i64[] = [];
  /** By policy position: the position of its first rule in `rules`, -1 when it does not apply
   * here. */
  firstRule: i32[] = [];
  /** By rule position: its policy's position in `policies`. */
  policyOfRule: i32[] = [];
  /** Looks up the first matching rule among `rules`. */
  index: RuleIndex = new RuleIndex([], []);
  /** The kind of proxy the set was assembled for: it decides what a rule without a direction
   * means (match/scope.ts). */
  kind: ProxyKind = ProxyKind.Other;
  /** Some rule has a duration_seconds: matching needs the current time. */
  expiring: bool = false;
  /** All policies in force (including those whose selector excludes this proxy). */
  policies: Policy[] = [];

  /** The rule position of the policy at `policyIndex`'s first rule; -1 when it does not apply. */
  positionOf(policyIndex: i32): i32 {
    return policyIndex < this.firstRule.length ? unchecked(this.firstRule[policyIndex]) : -1;
  }

  /** The policy position of the rule at `position` (-1 when there is none). */
  policyAt(position: i32): i32 {
    return position >= 0 && position < this.policyOfRule.length ? unchecked(this.policyOfRule[position]) : -1;
  }
}

/**
 * Combines static and live policies: a live policy replaces a static one of the same name;
 * static policies come first, then live ones in the order the control plane sent them.
 */
export function combinePolicies(staticPolicies: Policy[], livePolicies: Policy[]): Policy[] {
  if (livePolicies.length == 0) return staticPolicies;
  const liveNames = new Map<string, i32>(); // a string set (one map type in the module)
  for (let i = 0; i < livePolicies.length; i++) liveNames.set(unchecked(livePolicies[i]).name, 0);
  const out: Policy[] = [];
  for (let i = 0; i < staticPolicies.length; i++) {
    const p = unchecked(staticPolicies[i]);
    if (!liveNames.has(p.name)) out.push(p);
  }
  for (let i = 0; i < livePolicies.length; i++) out.push(unchecked(livePolicies[i]));
  return out;
}

/** The policy identities one root context currently uses (see PolicyClocks). */
export class ClockOwner {
  /** A set of identities, kept as the clocks' own map type (one map type fewer in the module). */
  ids: Map<u64, ClockEntry> = new Map();
}

class ClockEntry {
  constructor(
    public sinceMs: i64,
    public owners: i32,
  ) {}
}

/**
 * Remembers when each policy (same name and content) was first seen, so `duration_seconds`
 * counts from then and survives re-applies and polls; a changed policy starts a new clock.
 * Shared by every root context of the VM (Envoy makes a new root context for each
 * configuration change), a clock is forgotten only when no root context uses the policy.
 */
export class PolicyClocks {
  private entries: Map<u64, ClockEntry> = new Map();

  /** Builds `owner`'s set for `policies` at `nowMs` (monotonic: a wall-clock step must not
   * shorten or stretch a duration), stamping rules with their first-seen time. */
  assemble(owner: ClockOwner, policies: Policy[], identity: Identity, nowMs: i64): PolicySet {
    const set = new PolicySet();
    const ids = new Map<u64, ClockEntry>();
    for (let i = 0; i < policies.length; i++) {
      const id = unchecked(policies[i]).identity;
      if (ids.has(id)) continue;
      if (owner.ids.has(id)) {
        ids.set(id, owner.ids.get(id));
        continue;
      }
      let entry: ClockEntry;
      if (this.entries.has(id)) {
        entry = this.entries.get(id);
        entry.owners++;
      } else {
        entry = new ClockEntry(nowMs, 1);
        this.entries.set(id, entry);
      }
      ids.set(id, entry);
    }
    this.releaseExcept(owner, ids);
    owner.ids = ids;
    for (let i = 0; i < policies.length; i++) {
      const p = unchecked(policies[i]);
      const since = this.entries.has(p.identity) ? this.entries.get(p.identity).sinceMs : nowMs;
      set.policies.push(p);
      set.policySinceMs.push(since);
      const applies = selectorApplies(p.selector, identity);
      set.firstRule.push(applies && p.rules.length > 0 ? set.rules.length : -1);
      if (!applies) continue;
      for (let r = 0; r < p.rules.length; r++) {
        const rule = unchecked(p.rules[r]);
        if (rule.fault.durationSeconds > 0) set.expiring = true;
        set.rules.push(rule);
        set.ruleSinceMs.push(since);
        set.policyOfRule.push(i);
      }
    }
    set.kind = identity.kind;
    set.index = new RuleIndex(set.rules, set.ruleSinceMs, identity.kind);
    return set;
  }

  /** The owner is gone (its root context was deleted). */
  release(owner: ClockOwner): void {
    this.releaseExcept(owner, new Map<u64, ClockEntry>());
    owner.ids = new Map<u64, ClockEntry>();
  }

  private releaseExcept(owner: ClockOwner, keep: Map<u64, ClockEntry>): void {
    const owned = owner.ids.keys();
    for (let i = 0; i < owned.length; i++) {
      const id = unchecked(owned[i]);
      if (keep.has(id) || !this.entries.has(id)) continue;
      const entry = this.entries.get(id);
      entry.owners--;
      if (entry.owners <= 0) this.entries.delete(id);
    }
  }

  get size(): i32 {
    return this.entries.size;
  }
}
