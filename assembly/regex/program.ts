// The compiled form of a pattern: a Thompson NFA over bytes as a flat instruction list, plus
// the 256-bit byte sets its consuming instructions test. Instructions that consume a byte always
// continue at pc + 1; only SPLIT and JUMP transfer control elsewhere. `compileProgram` checks
// every target after emitting, which is what lets the matchers index these arrays unchecked.

import { AssertKind, Node, NodeKind } from "./ast";
import { encodeUtf8 } from "./utf8";

export const enum Op {
  BYTE, // consume a byte in set a
  SPLIT, // continue at a and at b
  JUMP, // continue at a
  ASSERT, // continue at pc + 1 if AssertKind a holds here
  MATCH,
}

export class Program {
  op: Array<i32>;
  a: Array<i32>;
  b: Array<i32>;
  /** Eight 32-bit words per set: membership of bytes 0..255. */
  sets: Array<u32>;
  /** True when every match must start at offset 0 (the pattern begins with ^ or \A). */
  anchoredStart: bool;
  /** True when the program has \b or \B (the DFA then tracks whether the last byte was a word byte). */
  hasWordAssert: bool = false;

  constructor(ops: Array<i32>, as: Array<i32>, bs: Array<i32>, sets: Array<u32>, anchoredStart: bool) {
    this.op = ops;
    this.a = as;
    this.b = bs;
    this.sets = sets;
    this.anchoredStart = anchoredStart;
    for (let i = 0; i < ops.length; i++) {
      if (ops[i] == Op.ASSERT && as[i] >= <i32>AssertKind.WORD_BOUNDARY) this.hasWordAssert = true;
    }
  }

  get length(): i32 {
    return this.op.length;
  }

  /** Is byte `c` in the set of the BYTE instruction at `pc`? */
  @inline accepts(pc: i32, c: i32): bool {
    const word = unchecked(this.sets[(unchecked(this.a[pc]) << 3) + (c >> 5)]);
    return ((word >>> <u32>(c & 31)) & 1) != 0;
  }

  /** Every jump target and set index is in range and the program ends in MATCH. */
  isWellFormed(): bool {
    const n = this.op.length;
    if (n == 0 || this.op[n - 1] != Op.MATCH) return false;
    const sets = this.sets.length >> 3;
    for (let pc = 0; pc < n; pc++) {
      const op = this.op[pc];
      const a = this.a[pc];
      const b = this.b[pc];
      if (op == Op.SPLIT) {
        if (a < 0 || a >= n || b < 0 || b >= n) return false;
      } else if (op == Op.JUMP) {
        if (a < 0 || a >= n) return false;
      } else if (op == Op.BYTE) {
        if (a < 0 || a >= sets || pc + 1 >= n) return false;
      } else if (op == Op.ASSERT) {
        if (pc + 1 >= n) return false;
      } else if (op != Op.MATCH) {
        return false;
      }
    }
    return true;
  }
}

/** Emits the program for a parsed pattern whose size is already known to be within limits. */
export function compileProgram(root: Node): Program | null {
  const emitter = new Emitter();
  emitter.emit(root);
  emitter.add(Op.MATCH, 0, 0);
  const program = new Program(emitter.ops, emitter.as, emitter.bs, emitter.sets, isAnchoredStart(root));
  if (!program.isWellFormed()) return null;
  return program;
}

class Emitter {
  ops: Array<i32> = new Array<i32>();
  as: Array<i32> = new Array<i32>();
  bs: Array<i32> = new Array<i32>();
  sets: Array<u32> = new Array<u32>();
  /** Set index of each single byte b (and at 256 + b of a folded letter pair), once made. */
  private byteSets: StaticArray<i32> = new StaticArray<i32>(512); // index + 1; 0 = not made
  private utf8: StaticArray<i32> = new StaticArray<i32>(4);

  get pc(): i32 {
    return this.ops.length;
  }

  add(op: Op, a: i32, b: i32): i32 {
    const pc = this.ops.length;
    this.ops.push(<i32>op);
    this.as.push(a);
    this.bs.push(b);
    return pc;
  }

  /** A new empty byte set; returns its index. */
  private newSet(): i32 {
    const index = this.sets.length >> 3;
    for (let i = 0; i < 8; i++) this.sets.push(0);
    return index;
  }

  private addByte(set: i32, c: i32): void {
    const i = (set << 3) + (c >> 5);
    this.sets[i] = this.sets[i] | (<u32>1 << <u32>(c & 31));
  }

  /** The set holding `c` and `other` (equal unless case-folded), shared by every use. */
  private byteSet(c: i32, other: i32): i32 {
    const key = c == other ? c : 256 + c;
    let set = this.byteSets[key] - 1;
    if (set < 0) {
      set = this.newSet();
      this.addByte(set, c);
      this.addByte(set, other);
      this.byteSets[key] = set + 1;
    }
    return set;
  }

  emit(node: Node): void {
    switch (node.kind) {
      case NodeKind.EMPTY:
        return;
      case NodeKind.LITERAL: {
        const c = node.value;
        if (c != node.value2 || c < 0x80) {
          this.add(Op.BYTE, this.byteSet(c, node.value2), 0);
        } else if (c >= 0xd800 && c <= 0xdfff) {
          this.add(Op.BYTE, this.newSet(), 0); // a lone surrogate has no UTF-8 form: matches nothing
        } else {
          const n = encodeUtf8(c, this.utf8);
          for (let i = 0; i < n; i++) this.add(Op.BYTE, this.byteSet(this.utf8[i], this.utf8[i]), 0);
        }
        return;
      }
      case NodeKind.CLASS:
        this.emitClass(node);
        return;
      case NodeKind.ASSERT:
        this.add(Op.ASSERT, node.value, 0);
        return;
      case NodeKind.CONCAT:
        for (let i = 0; i < node.children.length; i++) this.emit(node.children[i]);
        return;
      case NodeKind.ALTERNATE: {
        const branches = node.children;
        const jumps = new Array<i32>();
        const last = branches.length - 1;
        for (let i = 0; i < last; i++) {
          const split = this.add(Op.SPLIT, this.pc + 1, -1);
          this.emit(branches[i]);
          jumps.push(this.add(Op.JUMP, -1, 0));
          this.bs[split] = this.pc;
        }
        if (last >= 0) this.emit(branches[last]);
        this.patchJumps(jumps);
        return;
      }
      case NodeKind.REPEAT:
        if (node.children.length == 1) this.emitRepeat(node.children[0], node.min, node.max);
        return;
    }
  }

  /** The alternation of a class's UTF-8 branches. Its sets are made once and shared by every copy. */
  private emitClass(node: Node): void {
    const branches = node.branches;
    if (node.value < 0) {
      node.value = this.sets.length >> 3;
      if (branches.length == 0) this.newSet();
      for (let i = 0; i < branches.length; i++) {
        const first = this.newSet();
        for (let w = 0; w < 8; w++) this.sets[(first << 3) + w] = branches[i].first[w];
        const tail = branches[i].tail;
        for (let t = 0; t < tail.length; t++) {
          const set = this.newSet();
          for (let c = tail[t] >> 8; c <= (tail[t] & 0xff); c++) this.addByte(set, c);
        }
      }
    }
    let set = node.value;
    if (branches.length == 0) {
      this.add(Op.BYTE, set, 0);
      return;
    }
    const jumps = new Array<i32>();
    const last = branches.length - 1;
    for (let i = 0; i <= last; i++) {
      const split = i < last ? this.add(Op.SPLIT, this.pc + 1, -1) : -1;
      const len = 1 + branches[i].tail.length;
      for (let k = 0; k < len; k++) this.add(Op.BYTE, set++, 0);
      if (i < last) {
        jumps.push(this.add(Op.JUMP, -1, 0));
        this.bs[split] = this.pc;
      }
    }
    this.patchJumps(jumps);
  }

  private patchJumps(jumps: Array<i32>): void {
    const end = this.pc;
    for (let i = 0; i < jumps.length; i++) this.as[jumps[i]] = end;
  }

  private emitRepeat(child: Node, min: i32, max: i32): void {
    if (max < 0) {
      if (min == 0) {
        // x*: L: split body, exit; body: x; jump L
        const loop = this.add(Op.SPLIT, this.pc + 1, -1);
        this.emit(child);
        this.add(Op.JUMP, loop, 0);
        this.bs[loop] = this.pc;
        return;
      }
      // x{n,}: n-1 copies, then x+ (L: x; split L, exit)
      for (let i = 1; i < min; i++) this.emit(child);
      const body = this.pc;
      this.emit(child);
      this.add(Op.SPLIT, body, this.pc + 1);
      return;
    }
    for (let i = 0; i < min; i++) this.emit(child);
    // x{n,m}: each optional copy may be skipped to the common exit.
    const splits = new Array<i32>();
    for (let i = min; i < max; i++) {
      splits.push(this.add(Op.SPLIT, this.pc + 1, -1));
      this.emit(child);
    }
    const end = this.pc;
    for (let i = 0; i < splits.length; i++) this.bs[splits[i]] = end;
  }
}

/** True when every match must begin at offset 0; lets the matcher stop once no thread is alive. */
function isAnchoredStart(node: Node): bool {
  switch (node.kind) {
    case NodeKind.ASSERT:
      return node.value == <i32>AssertKind.BEGIN_TEXT;
    case NodeKind.CONCAT:
      return node.children.length > 0 && isAnchoredStart(node.children[0]);
    case NodeKind.ALTERNATE: {
      for (let i = 0; i < node.children.length; i++) {
        if (!isAnchoredStart(node.children[i])) return false;
      }
      return node.children.length > 0;
    }
    case NodeKind.REPEAT:
      return node.min > 0 && node.children.length == 1 && isAnchoredStart(node.children[0]);
  }
  return false;
}
