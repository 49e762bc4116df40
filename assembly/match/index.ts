// Finds the first matching rule without trying every rule. Rules whose path condition is an
// exact or prefix literal are filed in a trie by that literal; a request walks the trie along
// its path once and only tries the rules found there plus the rules that have no such
// condition, in their original order. With 1,000 path-prefixed rules a request costs about as
// much as with ten.
import { Rule, StringMatchKind } from "../model/policy";
import { ProxyKind } from "../model/scope";
import { ruleMatches } from "./matcher";
import { RequestAttributes } from "./request";
import { ByteBuffer } from "../util/bytes";

/** One byte of a literal path. Children form a linked list (one allocation per node); rule
 * lists exist only where a literal ends. */
class TrieNode {
  firstChild: TrieNode | null = null;
  nextSibling: TrieNode | null = null;
  /** Positions of rules whose path prefix ends here. */
  prefixRules: i32[] | null = null;
  /** Positions of rules whose exact path ends here. */
  exactRules: i32[] | null = null;

  constructor(public byte: i32) {}

  child(c: i32): TrieNode | null {
    let node = this.firstChild;
    while (node !== null) {
      if (node.byte == c) return node;
      node = node.nextSibling;
    }
    return null;
  }

  childOrNew(c: i32): TrieNode {
    const found = this.child(c);
    if (found !== null) return found;
    const node = new TrieNode(c);
    node.nextSibling = this.firstChild;
    this.firstChild = node;
    return node;
  }
}

/** firstMatch's answer when no rule matches. */
export const NO_MATCH: i32 = -1;

export class RuleIndex {
  private root: TrieNode = new TrieNode(-1);
  /** Positions of rules that must be tried for every request. */
  private unindexed: i32[] = [];
  private indexedCount: i32 = 0;

  constructor(private rules: Rule[], private sinceMs: i64[], private kind: ProxyKind = ProxyKind.Other) {
    for (let i = 0; i < rules.length; i++) {
      const rule = unchecked(rules[i]);
      if (rule.fault.percentage <= 0) continue; // never injects
      const path = rule.match.path;
      if (path !== null && (path.kind == StringMatchKind.Exact || path.kind == StringMatchKind.Prefix)) {
        // The trie is keyed by the literal's bytes, as every matcher compares bytes.
        let node = this.root;
        const literal = changetype<usize>(path.bytes);
        const n = path.bytes.byteLength;
        for (let c = 0; c < n; c++) node = node.childOrNew(<i32>load<u8>(literal + <usize>c));
        if (path.kind == StringMatchKind.Exact) node.exactRules = appendTo(node.exactRules, i);
        else node.prefixRules = appendTo(node.prefixRules, i);
        this.indexedCount++;
      } else {
        this.unindexed.push(i);
      }
    }
  }

  get size(): i32 {
    return this.unindexed.length + this.indexedCount;
  }

  /**
   * The position of the first rule, in order, that is live at `nowMs` and whose conditions
   * hold; NO_MATCH if none. Same answer as trying every rule in order.
   *
   * The rules to try are in several lists, each in ascending order: those with no path literal,
   * and those filed at each trie node along the request's path. Each list is tried only while
   * its positions are below the best match found so far, so a request costs at most one try per
   * listed rule and no sorting, however the lists interleave.
   */
  firstMatch(request: RequestAttributes, nowMs: i64): i32 {
    let best = this.firstIn(this.unindexed, request, nowMs, i32.MAX_VALUE);
    if (this.indexedCount > 0) {
      const path = request.pathBytes();
      if (path.length >= 0) best = this.walk(path, request, nowMs, best);
    }
    return best == i32.MAX_VALUE ? NO_MATCH : best;
  }

  private walk(path: ByteBuffer, request: RequestAttributes, nowMs: i64, best: i32): i32 {
    let node: TrieNode | null = this.root;
    const n = path.length;
    for (let i = 0; i < n; i++) {
      const current = changetype<TrieNode>(node);
      best = this.firstIn(current.prefixRules, request, nowMs, best);
      node = current.child(path.byteAt(i));
      if (node === null) return best;
    }
    const last = changetype<TrieNode>(node);
    best = this.firstIn(last.prefixRules, request, nowMs, best);
    return this.firstIn(last.exactRules, request, nowMs, best);
  }

  /** The first rule of `positions` (ascending) below `best` that is live and matches; else `best`. */
  private firstIn(positions: i32[] | null, request: RequestAttributes, nowMs: i64, best: i32): i32 {
    if (positions === null) return best;
    const rules = this.rules;
    for (let i = 0; i < positions.length; i++) {
      const at = unchecked(positions[i]);
      if (at >= best) return best;
      const rule = unchecked(rules[at]);
      if (!rule.isLive(unchecked(this.sinceMs[at]), nowMs)) continue;
      if (ruleMatches(rule, this.kind, request)) return at;
    }
    return best;
  }
}

function appendTo(list: i32[] | null, position: i32): i32[] {
  if (list === null) return [position];
  list.push(position);
  return list;
}

