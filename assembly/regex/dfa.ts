// A DFA over bytes, built completely when the pattern is configured (subset construction over
// the program of program.ts), so a search is one table lookup per byte whatever the subject and
// whatever the pattern: that is the cost guarantee. A pattern whose DFA would exceed the limits
// below is refused when configured, with the limit named (see docs/regex.md for why there is no
// NFA fallback: a Pike VM costs program size x bytes, which breaks the 1 ms budget on a 60 KiB
// value for all but tiny programs).
//
// Bytes are grouped into classes that every byte set of the program treats alike (RE2's byte
// map), so the table has one column per class. A DFA state is the set of program positions
// reached just after a byte (before their empty-width closure), plus two flags: "at the start"
// and "the last byte was a word byte" (only when the pattern has \b or \B), which is all the
// closure needs to decide ^, \A, \b and \B; $ and \z are decided at the end of the subject.
// Row 0 is the dead state (no match possible), row 1 the match state (a match was found).

import { AssertKind } from "./ast";
import { isWordByte } from "./nfa";
import { Op, Program } from "./program";

/** Most DFA transitions (states x byte classes) a pattern may have; 2 bytes each (128 KiB). */
export const MAX_DFA_TRANSITIONS: i32 = 65535;
/** Most closure steps building one DFA may take (bounds the time a configuration takes). */
export const MAX_DFA_BUILD_STEPS: i32 = 10_000_000;
/** Most DFA table entries all patterns of one configuration may keep (2 MiB). */
export const MAX_TOTAL_DFA_TRANSITIONS: i32 = 1 << 20;
/** Most steps building all DFAs of one configuration may take (about 1 s here). */
export const MAX_TOTAL_DFA_BUILD_STEPS: i32 = 50_000_000;
// What this configuration's patterns used so far (restarted when the plugin collects garbage,
// which it does after each configuration is parsed).
let totalSteps: i32 = 0;
let totalTransitions: i32 = 0;

export function restartDfaBudget(): void {
  totalSteps = 0;
  totalTransitions = 0;
}

/** Most program positions all DFA states may hold together while building (1 MiB; bounds its memory). */
export const MAX_DFA_POSITIONS: i32 = 1 << 18;

const END_MATCH: u16 = 0x8000;
const AT_START: i32 = 1;
const PREV_WORD: i32 = 2;

export class Dfa {
  /** Byte -> class (column). */
  classOf: StaticArray<u8> = new StaticArray<u8>(256);
  /**
   * Row offsets (state x stride), by row offset + class. The last column of a row is not a
   * transition: it holds an ASCII range (hi << 8 | lo) of bytes that lead back to the same state,
   * or 0, so a run of such bytes is skipped eight at a time; and in bit 15, END_MATCH when a
   * match ends where the subject ends.
   */
  trans: StaticArray<u16> = new StaticArray<u16>(0);
  /** Byte classes + 1 (the skip column). */
  stride: i32 = 2;
  start: i32 = 0;

  get states(): i32 {
    return this.trans.length / this.stride;
  }

  /**
   * One lookup per byte, or one test per eight bytes that leave the state as it is; stops soon
   * after the byte that decides. The dead and match states lead to themselves, so checking once
   * per four bytes is enough. Allocates nothing.
   */
  search(base: usize, length: i32): bool {
    const trans = changetype<usize>(this.trans);
    const classOf = changetype<usize>(this.classOf);
    const stride = this.stride;
    const decided = stride << 1; // rows 0 (dead) and 1 (match)
    const ones: u64 = 0x0101010101010101;
    let s = this.start;
    let i = 0;
    while (i + 8 <= length) {
      const skip = <u64>(load<u16>(trans + (<usize>(s + stride - 1) << 1)) & 0x7fff);
      if (skip != 0) {
        // A byte is in [lo, hi] (ASCII) iff x + (0x7f - hi) has no high bit and x + (0x80 - lo)
        // has one; a byte >= 0x80 fails one of the two (lo <= hi), and a carry into the next
        // byte happens only when this byte already failed.
        const above = (0x7f - (skip >> 8)) * ones;
        const atLeast = (0x80 - (skip & 0xff)) * ones;
        while (i + 8 <= length) {
          const x = load<u64>(base + <usize>i);
          if (((x + above) | ~(x + atLeast)) & 0x8080808080808080) break;
          i += 8;
        }
      }
      const end = i + 8 <= length ? i + 8 : i;
      for (; i < end; i += 4) {
        const w = load<u32>(base + <usize>i);
        s = <i32>load<u16>(trans + (<usize>(s + <i32>load<u8>(classOf + <usize>(w & 0xff))) << 1));
        s = <i32>load<u16>(trans + (<usize>(s + <i32>load<u8>(classOf + <usize>((w >> 8) & 0xff))) << 1));
        s = <i32>load<u16>(trans + (<usize>(s + <i32>load<u8>(classOf + <usize>((w >> 16) & 0xff))) << 1));
        s = <i32>load<u16>(trans + (<usize>(s + <i32>load<u8>(classOf + <usize>(w >> 24))) << 1));
        if (s < decided) return s != 0;
      }
    }
    for (; i < length; i++) {
      s = <i32>load<u16>(trans + (<usize>(s + <i32>load<u8>(classOf + <usize>load<u8>(base + <usize>i))) << 1));
    }
    if (s < decided) return s != 0;
    return (load<u16>(trans + (<usize>(s + stride - 1) << 1)) & END_MATCH) != 0;
  }
}

/** A DFA, or the reason the pattern is refused. */
export class DfaResult {
  constructor(public dfa: Dfa | null, public error: string) {}
}

// One builder, reused: its buffers grow to the largest pattern configured and are then reused,
// so compiling many patterns before the next collection leaves only their tables behind.
let builder: Builder | null = null;

export function buildDfa(prog: Program): DfaResult {
  let b = builder;
  if (b === null) builder = b = new Builder();
  b.reset(prog);
  const result = b.build();
  totalSteps += b.steps; // refused or not, the time was spent
  if (result.dfa !== null) totalTransitions += result.dfa!.trans.length;
  return result;
}

class Builder {
  prog: Program = changetype<Program>(0);
  dfa: Dfa = new Dfa();
  rep: StaticArray<i32> = new StaticArray<i32>(256);
  // States: their positions are pool[start .. start + len), in no particular order.
  pool: Array<i32> = new Array<i32>();
  stStart: Array<i32> = new Array<i32>();
  stLen: Array<i32> = new Array<i32>();
  stFlags: Array<i32> = new Array<i32>();
  slots: StaticArray<i32> = new StaticArray<i32>(0);
  slotMask: i32 = 0;
  /** Rows as they are built (i32: the module's own array type; stored as u16 in the DFA). */
  trans: Array<i32> = new Array<i32>();
  maxStates: i32 = 0;
  closures: Array<Array<i32>> = [new Array<i32>(), new Array<i32>()];
  next: Array<i32> = new Array<i32>();
  // Closure scratch.
  mark: StaticArray<u32> = new StaticArray<u32>(0);
  generation: u32 = 0;
  stack: StaticArray<i32> = new StaticArray<i32>(0);
  matched: bool = false;
  steps: i32 = 0;
  error: string = "";

  reset(prog: Program): void {
    const n = prog.length;
    this.prog = prog;
    this.dfa = new Dfa();
    this.pool.length = 0;
    this.stStart.length = 0;
    this.stLen.length = 0;
    this.stFlags.length = 0;
    this.trans.length = 0;
    this.steps = 0;
    this.error = "";
    if (this.mark.length < n) {
      this.mark = new StaticArray<u32>(n);
      this.stack = new StaticArray<i32>(2 * n + 2);
      this.generation = 0;
    }
    const stride = this.makeClasses();
    this.maxStates = MAX_DFA_TRANSITIONS / stride;
    let size = 16;
    while (size < 2 * this.maxStates) size <<= 1;
    if (this.slots.length < size) this.slots = new StaticArray<i32>(size);
    for (let i = 0; i < size; i++) this.slots[i] = 0;
    this.slotMask = size - 1;
  }

  /** Byte classes: runs of bytes that no set (and, with \b, no word test) tells apart. */
  private makeClasses(): i32 {
    const prog = this.prog;
    const cut = new StaticArray<bool>(256);
    const sets = prog.sets.length >> 3;
    for (let s = 0; s < sets; s++) {
      for (let b = 1; b < 256; b++) {
        if (inSet(prog, s, b) != inSet(prog, s, b - 1)) cut[b] = true;
      }
    }
    if (prog.hasWordAssert) {
      for (let b = 1; b < 256; b++) if (isWordByte(b) != isWordByte(b - 1)) cut[b] = true;
    }
    let k = 0;
    for (let b = 1; b < 256; b++) {
      if (cut[b]) this.rep[++k] = b;
      this.dfa.classOf[b] = <u8>k;
    }
    this.dfa.stride = k + 2;
    return k + 2;
  }

  build(): DfaResult {
    const prog = this.prog;
    const stride = this.dfa.stride;
    const classes = stride - 1;
    const word = prog.hasWordAssert;
    const anchored = prog.anchoredStart;
    // Rows 0 (dead) and 1 (match) lead to themselves.
    for (let r = 0; r < 2; r++) {
      this.stStart.push(0);
      this.stLen.push(0);
      this.stFlags.push(-1);
      for (let k = 0; k < classes; k++) this.trans.push(r * stride);
      this.trans.push(r == 1 ? <i32>END_MATCH : 0);
    }
    // The start state may be the one that does not fit: refused, never built with a bad start.
    const start = this.intern([0], AT_START);
    if (start < 0) return new DfaResult(null, this.error);
    this.dfa.start = start * stride;
    const closures = this.closures;
    const closureMatched = [false, false];
    const next = this.next;
    const variants = word ? 2 : 1;
    for (let s = 2; s < this.stStart.length; s++) {
      this.closure(s, false, true, closures[0]);
      const endMatch = this.matched ? END_MATCH : 0;
      for (let w = 0; w < variants; w++) {
        this.closure(s, w == 1, false, closures[w]);
        closureMatched[w] = this.matched;
      }
      for (let k = 0; k < classes; k++) {
        const c = this.rep[k];
        const w = word && isWordByte(c) ? 1 : 0;
        if (closureMatched[w]) {
          this.trans.push(stride);
          continue;
        }
        next.length = 0;
        if (!anchored) next.push(0); // an unanchored search starts again after every byte
        const list = closures[w];
        for (let i = 0; i < list.length; i++) {
          if (prog.accepts(list[i], c)) next.push(list[i] + 1);
        }
        this.steps += list.length;
        const target = next.length == 0 ? 0 : this.intern(next, w == 1 ? PREV_WORD : 0);
        if (target < 0) return new DfaResult(null, this.error);
        this.trans.push(target * stride);
      }
      this.trans.push(<i32>(this.selfLoopRange(s) | endMatch));
      if (this.steps > MAX_DFA_BUILD_STEPS) return this.fail(this.tooComplex("its automaton needs more than " + MAX_DFA_BUILD_STEPS.toString() + " steps to build (MAX_DFA_BUILD_STEPS)"));
      if (totalSteps + this.steps > MAX_TOTAL_DFA_BUILD_STEPS) return this.fail(tooMuch("building all its automata takes more than " + MAX_TOTAL_DFA_BUILD_STEPS.toString() + " steps (MAX_TOTAL_DFA_BUILD_STEPS)"));
    }
    const dfa = this.dfa;
    const trans = new StaticArray<u16>(this.trans.length);
    for (let i = 0; i < trans.length; i++) trans[i] = <u16>this.trans[i];
    dfa.trans = trans;
    return new DfaResult(dfa, "");
  }

  /** The longest run of ASCII bytes that lead state `s` (whose row is complete but for this column) back to itself, as hi << 8 | lo; 0 if none is longer than one byte. */
  private selfLoopRange(s: i32): u16 {
    const row = s * this.dfa.stride;
    let best = 0;
    let run = 0;
    for (let b = 0; b < 128; b++) {
      run = this.trans[row + <i32>this.dfa.classOf[b]] == row ? run + 1 : 0;
      if (run > 1 && run > ((best >> 8) - (best & 0xff) + 1)) best = (b << 8) | (b - run + 1);
    }
    return <u16>best;
  }

  /**
   * The consuming positions reachable from state `s` without consuming a byte, into
   * `out`; sets `matched` when MATCH is reachable. `nextWord`/`atEnd` describe what follows.
   */
  private closure(s: i32, nextWord: bool, atEnd: bool, out: Array<i32>): void {
    const prog = this.prog;
    const mark = this.mark;
    const stack = this.stack;
    const flags = this.stFlags[s];
    const prevWord = (flags & PREV_WORD) != 0;
    const generation = this.nextGeneration();
    out.length = 0;
    this.matched = false;
    const begin = this.stStart[s];
    const end = begin + this.stLen[s];
    for (let i = begin; i < end; i++) {
      let sp = 0;
      stack[sp++] = this.pool[i];
      while (sp > 0) {
        const pc = stack[--sp];
        if (mark[pc] == generation) continue;
        mark[pc] = generation;
        this.steps++;
        const op = prog.op[pc];
        const a = prog.a[pc];
        if (op == Op.JUMP) {
          stack[sp++] = a;
        } else if (op == Op.SPLIT) {
          stack[sp++] = prog.b[pc];
          stack[sp++] = a;
        } else if (op == Op.ASSERT) {
          let holds = false;
          if (a == <i32>AssertKind.BEGIN_TEXT) holds = (flags & AT_START) != 0;
          else if (a == <i32>AssertKind.END_TEXT) holds = atEnd;
          else if (a == <i32>AssertKind.WORD_BOUNDARY) holds = prevWord != nextWord;
          else holds = prevWord == nextWord;
          if (holds) stack[sp++] = pc + 1;
        } else if (op == Op.MATCH) {
          this.matched = true;
        } else {
          out.push(pc);
        }
      }
    }
  }

  private nextGeneration(): u32 {
    if (this.generation == u32.MAX_VALUE) {
      for (let i = 0; i < this.mark.length; i++) this.mark[i] = 0;
      this.generation = 0;
    }
    return ++this.generation;
  }

  /** The index of the state (positions, flags), made if new; -1 (with `error`) past a limit. */
  private intern(positions: Array<i32>, flags: i32): i32 {
    // A hash and an equality test that ignore order, so no set needs sorting.
    const generation = this.nextGeneration();
    let h: u32 = <u32>flags;
    for (let i = 0; i < positions.length; i++) {
      h += (<u32>positions[i] + 1) * 2654435761;
      this.mark[positions[i]] = generation;
    }
    h ^= h >> 15;
    const mask = this.slotMask;
    let slot = <i32>(h & <u32>mask);
    while (true) {
      const found = this.slots[slot] - 1;
      if (found < 0) break;
      if (this.stFlags[found] == flags && this.samePositions(found, positions.length, generation)) return found;
      slot = (slot + 1) & mask;
    }
    const index = this.stStart.length;
    if (index >= this.maxStates) {
      this.fail(this.tooComplex("its automaton needs more than " + MAX_DFA_TRANSITIONS.toString() + " transitions (MAX_DFA_TRANSITIONS: states x " + this.dfa.stride.toString() + " columns)"));
      return -1;
    }
    if (totalTransitions + (index + 1) * this.dfa.stride > MAX_TOTAL_DFA_TRANSITIONS) {
      this.fail(tooMuch("its automata need more than " + MAX_TOTAL_DFA_TRANSITIONS.toString() + " transitions in all (MAX_TOTAL_DFA_TRANSITIONS)"));
      return -1;
    }
    if (this.pool.length + positions.length > MAX_DFA_POSITIONS) {
      this.fail(this.tooComplex("its automaton needs more than " + MAX_DFA_POSITIONS.toString() + " NFA positions (MAX_DFA_POSITIONS)"));
      return -1;
    }
    this.slots[slot] = index + 1;
    this.stStart.push(this.pool.length);
    this.stLen.push(positions.length);
    this.stFlags.push(flags);
    for (let i = 0; i < positions.length; i++) this.pool.push(positions[i]);
    return index;
  }

  /** Does state `s` hold exactly the `count` positions marked with `generation`? */
  private samePositions(s: i32, count: i32, generation: u32): bool {
    if (this.stLen[s] != count) return false;
    const begin = this.stStart[s];
    for (let i = 0; i < count; i++) if (this.mark[this.pool[begin + i]] != generation) return false;
    return true;
  }

  private tooComplex(why: string): string {
    return "pattern too complex: " + why + "; use smaller repetition counts, anchor it with ^, or split it";
  }

  private fail(error: string): DfaResult {
    if (this.error.length == 0) this.error = error;
    return new DfaResult(null, this.error);
  }
}

function tooMuch(why: string): string {
  return "too much regex in one configuration: " + why + "; use fewer or simpler patterns";
}

function inSet(prog: Program, set: i32, b: i32): bool {
  return ((prog.sets[(set << 3) + (b >> 5)] >>> <u32>(b & 31)) & 1) != 0;
}
