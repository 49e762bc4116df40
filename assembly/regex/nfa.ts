// Thompson-NFA simulation over bytes (a Pike VM without capture slots: callers need yes/no).
// This is the plain definition the DFA (dfa.ts) is tested against; the plugin itself matches
// with the DFA, which is one table lookup per byte.
// All threads advance in lock step over the subject; each instruction is visited at most once
// per subject position (the `mark` generation check), so a search costs
// O(subject length x program size) whatever the pattern, and nothing ever backtracks.
// Every buffer is allocated here, once per compiled regex; `search` allocates nothing.
//
// The arrays are indexed with `unchecked`: every pc comes from a program that passed
// `Program.isWellFormed` (targets in range, consuming instructions followed by another
// instruction), the thread lists hold each pc at most once per step (so at most `n` entries),
// and the explicit stack is bounded below.

import { AssertKind } from "./ast";
import { Op, Program } from "./program";

export class Nfa {
  private program: Program;
  private current: StaticArray<i32>;
  private next: StaticArray<i32>;
  /** mark[pc] == generation when pc is already in the list being built for this position. */
  private mark: StaticArray<u32>;
  private generation: u32 = 0;
  /** Pending pcs of one closure: each visited pc pushes at most two, plus the seed. */
  private stack: StaticArray<i32>;
  private matched: bool = false;

  get programLength(): i32 {
    return this.program.length;
  }

  constructor(program: Program) {
    const n = program.length;
    this.program = program;
    this.current = new StaticArray<i32>(n);
    this.next = new StaticArray<i32>(n);
    this.mark = new StaticArray<u32>(n);
    this.stack = new StaticArray<i32>(2 * n + 2);
  }

  /** True if the program matches somewhere in the `length` bytes at `base`. */
  search(base: usize, length: i32): bool {
    const prog = this.program;
    const ops = prog.op;
    const anchored = prog.anchoredStart;
    this.matched = false;

    this.advanceGeneration();
    let count = this.addThread(this.current, 0, 0, 0, base, length);
    if (this.matched) return true;

    for (let i = 0; i < length; i++) {
      if (count == 0 && anchored) return false;
      const c = <i32>load<u8>(base + <usize>i);
      this.advanceGeneration();
      const list = this.current;
      const nextList = this.next;
      let nextCount = 0;
      for (let t = 0; t < count; t++) {
        const pc = unchecked(list[t]);
        const op = unchecked(ops[pc]);
        if (op == Op.BYTE && prog.accepts(pc, c)) {
          nextCount = this.addThread(nextList, nextCount, pc + 1, i + 1, base, length);
          if (this.matched) return true;
        }
      }
      if (!anchored) {
        // Unanchored search: a new attempt starts at every position.
        nextCount = this.addThread(nextList, nextCount, 0, i + 1, base, length);
        if (this.matched) return true;
      }
      this.next = list;
      this.current = nextList;
      count = nextCount;
    }
    return false;
  }

  /**
   * Adds `start` and everything reachable from it without consuming input at offset `pos`
   * to `list` (which holds `count` entries); returns the new count. Sets `matched` on MATCH.
   */
  private addThread(list: StaticArray<i32>, count: i32, start: i32, pos: i32, base: usize, length: i32): i32 {
    const prog = this.program;
    const ops = prog.op;
    const mark = this.mark;
    const stack = this.stack;
    const stackCap = stack.length;
    const generation = this.generation;
    let sp = 0;
    unchecked((stack[sp++] = start));
    while (sp > 0) {
      const pc = unchecked(stack[--sp]);
      if (unchecked(mark[pc]) == generation) continue;
      unchecked((mark[pc] = generation));
      const op = unchecked(ops[pc]);
      if (op == Op.JUMP) {
        if (sp < stackCap) unchecked((stack[sp++] = unchecked(prog.a[pc])));
      } else if (op == Op.SPLIT) {
        if (sp + 1 < stackCap) {
          unchecked((stack[sp++] = unchecked(prog.b[pc])));
          unchecked((stack[sp++] = unchecked(prog.a[pc])));
        }
      } else if (op == Op.ASSERT) {
        if (assertionHolds(unchecked(prog.a[pc]), pos, base, length) && sp < stackCap) {
          unchecked((stack[sp++] = pc + 1));
        }
      } else if (op == Op.MATCH) {
        this.matched = true;
        return count;
      } else if (count < list.length) {
        unchecked((list[count++] = pc));
      }
    }
    return count;
  }

  private advanceGeneration(): void {
    if (this.generation == u32.MAX_VALUE) {
      const mark = this.mark;
      for (let i = 0; i < mark.length; i++) unchecked((mark[i] = 0));
      this.generation = 0;
    }
    this.generation++;
  }
}

function assertionHolds(kind: i32, pos: i32, base: usize, length: i32): bool {
  if (kind == <i32>AssertKind.BEGIN_TEXT) return pos == 0;
  if (kind == <i32>AssertKind.END_TEXT) return pos == length;
  const before = pos > 0 && isWordByte(<i32>load<u8>(base + <usize>(pos - 1)));
  const after = pos < length && isWordByte(<i32>load<u8>(base + <usize>pos));
  if (kind == <i32>AssertKind.WORD_BOUNDARY) return before != after;
  return before == after; // NOT_WORD_BOUNDARY
}

/** ASCII word bytes [0-9A-Za-z_], as RE2's \b. */
export function isWordByte(c: i32): bool {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x5f;
}
