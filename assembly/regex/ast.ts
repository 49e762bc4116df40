// The parsed form of a pattern. Groups leave no node of their own (nothing is captured), and
// empty pieces are dropped while parsing, so every node other than EMPTY compiles to at least
// one instruction. Each node knows its compiled size, so an oversized pattern is rejected
// before any instruction is emitted and emitting is linear in the program it produces.
// Every consuming instruction matches one byte (see program.ts): a literal compiles to its UTF-8
// bytes, a class to the alternation of its UTF-8 branches (utf8.ts).

import { CharSet } from "./charset";
import { ByteSeq, utf8Branches } from "./utf8";

export const enum NodeKind {
  EMPTY, // matches the empty string
  LITERAL, // one code point: `a`, or with (?i) either case of an ASCII letter
  CLASS, // a set of code points: [...], \d, `.`
  ASSERT, // zero-width: ^ $ \A \z \b \B
  CONCAT,
  ALTERNATE,
  REPEAT, // child{min,max}; max == -1 means unbounded
}

export const enum AssertKind {
  BEGIN_TEXT,
  END_TEXT,
  WORD_BOUNDARY,
  NOT_WORD_BOUNDARY,
}

// Shared by every node without children or branches (never mutated): a pattern's nodes are
// garbage once it is compiled, and a configuration may compile many before memory is collected.
const NO_NODES = new Array<Node>(0);
const NO_BRANCHES = new Array<ByteSeq>(0);

/** Sizes saturate here: anything larger is already over every limit. */
export const SIZE_CAP: i64 = 1 << 40;

export class Node {
  kind: NodeKind;
  /** LITERAL: the code point (lower case when folded); ASSERT: the AssertKind; CLASS: its first byte-set index once emitted, else -1. */
  value: i32 = 0;
  /** LITERAL: the other case of `value` when case-insensitive, else the same as `value`. */
  value2: i32 = 0;
  min: i32 = 0;
  max: i32 = 0;
  set: CharSet | null = null;
  /** CLASS: the UTF-8 branches of `set`. */
  branches: Array<ByteSeq> = NO_BRANCHES;
  children: Array<Node> = NO_NODES;
  /** Number of instructions this node compiles to. */
  size: i64 = 0;

  constructor(kind: NodeKind) {
    this.kind = kind;
  }

  static empty(): Node {
    return new Node(NodeKind.EMPTY);
  }

  static literal(c: i32, other: i32): Node {
    const n = new Node(NodeKind.LITERAL);
    n.value = c;
    n.value2 = other;
    // One byte set when case-folded; otherwise one per UTF-8 byte (a surrogate matches nothing: 1).
    n.size = c != other || c < 0x80 || (c >= 0xd800 && c <= 0xdfff) ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    return n;
  }

  static charClass(set: CharSet): Node {
    const n = new Node(NodeKind.CLASS);
    set.normalize();
    n.set = set;
    n.value = -1;
    const b = utf8Branches(set);
    n.branches = b;
    // An alternation of the branches; an empty class is one instruction that matches nothing.
    let size: i64 = b.length > 1 ? 2 * (<i64>b.length - 1) : 0;
    for (let i = 0; i < b.length; i++) size += 1 + <i64>b[i].tail.length;
    n.size = size > 0 ? size : 1;
    return n;
  }

  static assertion(kind: AssertKind): Node {
    const n = new Node(NodeKind.ASSERT);
    n.value = <i32>kind;
    n.size = 1;
    return n;
  }

  /** Concatenation of the non-empty parts; a single part stands for itself. */
  static concat(parts: Array<Node>): Node {
    const kept = new Array<Node>();
    for (let i = 0; i < parts.length; i++) {
      if (parts[i].kind != NodeKind.EMPTY) kept.push(parts[i]);
    }
    if (kept.length == 0) return Node.empty();
    if (kept.length == 1) return kept[0];
    const n = new Node(NodeKind.CONCAT);
    n.children = kept;
    let size: i64 = 0;
    for (let i = 0; i < kept.length; i++) size = saturate(size + kept[i].size);
    n.size = size;
    return n;
  }

  /** Alternation; each branch but the last costs a split and a jump. */
  static alternate(branches: Array<Node>): Node {
    if (branches.length == 1) return branches[0];
    const n = new Node(NodeKind.ALTERNATE);
    n.children = branches;
    let size: i64 = 2 * (<i64>branches.length - 1);
    for (let i = 0; i < branches.length; i++) size = saturate(size + branches[i].size);
    n.size = size;
    return n;
  }

  /** child{min,max}; repeating an empty node, or repeating zero times, is empty. */
  static repeat(child: Node, min: i32, max: i32): Node {
    if (child.kind == NodeKind.EMPTY || max == 0) return Node.empty();
    if (min == 1 && max == 1) return child;
    const n = new Node(NodeKind.REPEAT);
    n.children = [child];
    n.min = min;
    n.max = max;
    const s = child.size;
    let size: i64;
    if (max < 0) {
      // x* is split, x, jump; x{n,} is n-1 copies then x+ (x, split).
      size = min == 0 ? s + 2 : saturate(<i64>min * s) + 1;
    } else {
      // n copies, then max-n optional copies each guarded by a split.
      size = saturate(<i64>min * s) + saturate(<i64>(max - min) * (s + 1));
    }
    n.size = saturate(size);
    return n;
  }
}

function saturate(v: i64): i64 {
  return v > SIZE_CAP ? SIZE_CAP : v;
}
