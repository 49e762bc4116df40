// The compiled form of a pattern: a Thompson NFA as a flat instruction list, plus the tables
// of its character classes. Instructions that consume a code unit always continue at pc + 1;
// only SPLIT and JUMP transfer control elsewhere. `compileProgram` checks every target after
// emitting, which is what lets the matcher index these arrays without bounds checks.

import { AssertKind, Node, NodeKind } from "./ast";
import { CharSet, rangeHi, rangeLo } from "./charset";

export const enum Op {
  CHAR, // consume a == c or b == c
  CLASS, // consume c in class a
  SPLIT, // continue at a and at b
  JUMP, // continue at a
  ASSERT, // continue at pc + 1 if AssertKind a holds here
  MATCH,
}

export class Program {
  op: StaticArray<i32>;
  a: StaticArray<i32>;
  b: StaticArray<i32>;
  /** Four 32-bit words per class: membership of code units 0..127. */
  classAscii: StaticArray<u32>;
  /** Per class: where its ranges of code units >= 128 start in `rangeLo`/`rangeHi`, and how many. */
  classRangeStart: StaticArray<i32>;
  classRangeCount: StaticArray<i32>;
  rangeLo: StaticArray<i32>;
  rangeHi: StaticArray<i32>;
  /** True when every match must start at offset 0 (the pattern begins with ^ or \A). */
  anchoredStart: bool;

  constructor(ops: Array<i32>, as: Array<i32>, bs: Array<i32>, classes: Array<CharSet>, anchoredStart: bool) {
    const n = ops.length;
    const k = classes.length;
    let wide = 0;
    for (let c = 0; c < k; c++) wide += countWide(classes[c]);
    this.op = new StaticArray<i32>(n);
    this.a = new StaticArray<i32>(n);
    this.b = new StaticArray<i32>(n);
    this.classAscii = new StaticArray<u32>(k * 4);
    this.classRangeStart = new StaticArray<i32>(k);
    this.classRangeCount = new StaticArray<i32>(k);
    this.rangeLo = new StaticArray<i32>(wide);
    this.rangeHi = new StaticArray<i32>(wide);
    this.anchoredStart = anchoredStart;
    for (let i = 0; i < n; i++) {
      this.op[i] = ops[i];
      this.a[i] = as[i];
      this.b[i] = bs[i];
    }
    let next = 0;
    for (let c = 0; c < k; c++) {
      const ranges = classes[c].ranges;
      this.classRangeStart[c] = next;
      for (let r = 0; r < ranges.length; r++) {
        const lo = rangeLo(ranges[r]);
        const hi = rangeHi(ranges[r]);
        for (let ch = lo; ch <= hi && ch < 128; ch++) {
          this.classAscii[c * 4 + (ch >> 5)] |= <u32>1 << <u32>(ch & 31);
        }
        if (hi >= 128) {
          this.rangeLo[next] = lo < 128 ? 128 : lo;
          this.rangeHi[next] = hi;
          next++;
        }
      }
      this.classRangeCount[c] = next - this.classRangeStart[c];
    }
  }

  get length(): i32 {
    return this.op.length;
  }

  /** Every jump target and class index is in range and the program ends in MATCH. */
  isWellFormed(): bool {
    const n = this.op.length;
    if (n == 0 || this.op[n - 1] != Op.MATCH) return false;
    const classes = this.classRangeStart.length;
    for (let pc = 0; pc < n; pc++) {
      const op = this.op[pc];
      const a = this.a[pc];
      const b = this.b[pc];
      if (op == Op.SPLIT) {
        if (a < 0 || a >= n || b < 0 || b >= n) return false;
      } else if (op == Op.JUMP) {
        if (a < 0 || a >= n) return false;
      } else if (op == Op.CLASS) {
        if (a < 0 || a >= classes || pc + 1 >= n) return false;
      } else if (op == Op.CHAR || op == Op.ASSERT) {
        if (pc + 1 >= n) return false;
      } else if (op != Op.MATCH) {
        return false;
      }
    }
    for (let c = 0; c < classes; c++) {
      const start = this.classRangeStart[c];
      const count = this.classRangeCount[c];
      if (start < 0 || count < 0 || start + count > this.rangeLo.length) return false;
    }
    return true;
  }
}

function countWide(set: CharSet): i32 {
  let count = 0;
  for (let r = 0; r < set.ranges.length; r++) {
    if (rangeHi(set.ranges[r]) >= 128) count++;
  }
  return count;
}

/** Emits the program for a parsed pattern whose size is already known to be within limits. */
export function compileProgram(root: Node): Program | null {
  const emitter = new Emitter();
  emitter.emit(root);
  emitter.add(Op.MATCH, 0, 0);
  const program = new Program(emitter.ops, emitter.as, emitter.bs, emitter.classes, isAnchoredStart(root));
  if (!program.isWellFormed()) return null;
  return program;
}

class Emitter {
  ops: Array<i32> = new Array<i32>();
  as: Array<i32> = new Array<i32>();
  bs: Array<i32> = new Array<i32>();
  classes: Array<CharSet> = new Array<CharSet>();

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

  emit(node: Node): void {
    switch (node.kind) {
      case NodeKind.EMPTY:
        return;
      case NodeKind.LITERAL:
        this.add(Op.CHAR, node.value, node.value2);
        return;
      case NodeKind.CLASS: {
        // A class node is emitted once per copy under a counted repetition; share its table.
        if (node.value < 0) {
          node.value = this.classes.length;
          this.classes.push(node.set!);
        }
        this.add(Op.CLASS, node.value, 0);
        return;
      }
      case NodeKind.ASSERT:
        this.add(Op.ASSERT, node.value, 0);
        return;
      case NodeKind.CONCAT:
        for (let i = 0; i < node.children.length; i++) this.emit(node.children[i]);
        return;
      case NodeKind.ALTERNATE:
        this.emitAlternate(node.children);
        return;
      case NodeKind.REPEAT:
        if (node.children.length == 1) this.emitRepeat(node.children[0], node.min, node.max);
        return;
    }
  }

  private emitAlternate(branches: Array<Node>): void {
    const jumps = new Array<i32>();
    const last = branches.length - 1;
    for (let i = 0; i < last; i++) {
      const split = this.add(Op.SPLIT, this.pc + 1, -1);
      this.emit(branches[i]);
      jumps.push(this.add(Op.JUMP, -1, 0));
      this.bs[split] = this.pc;
    }
    if (last >= 0) this.emit(branches[last]);
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
