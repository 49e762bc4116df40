// Regular expressions for policy matching, with a cost per byte fixed when they are configured:
// an RE2 subset (syntax in docs/regex.md) compiled to a program over UTF-8 bytes (program.ts),
// then to a complete DFA (dfa.ts). A search is an optional literal scan (the prefilter below)
// and one DFA table lookup per byte, allocates nothing, and never backtracks; a pattern whose
// DFA would be too large is refused with a message naming the limit. compileRegex never throws.
//
// Matching is on bytes, as RE2 in UTF-8 mode: a literal matches its UTF-8 bytes, `.` and classes
// match one valid UTF-8 encoded character, and a byte that is not part of a valid UTF-8 sequence
// is matched by nothing (not `.`, not [^a]). Case-insensitivity folds ASCII letters only; \b,
// \w, \d, \s are ASCII.

import { Node, NodeKind } from "./ast";
import { buildDfa, Dfa, restartDfaBudget } from "./dfa";
import { Nfa } from "./nfa";
import { Parser } from "./parser";
import { compileProgram, Program } from "./program";
import { encodeUtf8 } from "./utf8";

export { MAX_NESTING, MAX_PROGRAM_SIZE, MAX_REPEAT } from "./parser";
export { MAX_DFA_BUILD_STEPS, MAX_DFA_POSITIONS, MAX_DFA_TRANSITIONS, MAX_TOTAL_DFA_BUILD_STEPS, MAX_TOTAL_DFA_TRANSITIONS } from "./dfa";

/** Longest pattern accepted, in characters (UTF-16 code units); checked before parsing. */
export const MAX_PATTERN_LENGTH: i32 = 4096;
/**
 * Most pattern characters compiled between two garbage collections, i.e. in one configuration:
 * parsing leaves up to a few hundred bytes of garbage per character until the plugin collects
 * after configuring, so this bounds what a configuration's regexes can add to VM memory.
 */
export const MAX_TOTAL_PATTERN_LENGTH: i32 = 32768;
let compiledSinceCollection: i32 = 0;

/** The plugin collected garbage, i.e. a configuration was parsed: the per-configuration budgets start over (glue/memory.ts). */
export function regexGarbageCollected(): void {
  compiledSinceCollection = 0;
  restartDfaBudget();
}

let scratch = new ArrayBuffer(0);

export class Regex {
  readonly pattern: string;
  private dfa: Dfa;
  /** Up to 8 bytes every match contains, little-endian; literalLength 0 when there is none. */
  literal: u64 = 0;
  literalLength: i32 = 0;
  /** The pattern is exactly that literal: finding it is the answer. */
  literalOnly: bool = false;
  /** Instructions in the compiled program (bounded by MAX_PROGRAM_SIZE). */
  readonly programSize: i32;

  constructor(pattern: string, dfa: Dfa, programSize: i32) {
    this.pattern = pattern;
    this.dfa = dfa;
    this.programSize = programSize;
  }

  /** States of the DFA (including the dead and match states). */
  get dfaStates(): i32 {
    return this.dfa.states;
  }

  /**
   * Unanchored search, like RE2::PartialMatch, over the UTF-8 encoding of `subject`, encoded into
   * a scratch buffer shared by all regexes (it grows to the longest subject seen, then is reused).
   */
  matches(subject: string): bool {
    const need = subject.length * 3;
    if (scratch.byteLength < need) scratch = new ArrayBuffer(need);
    const base = changetype<usize>(scratch);
    const length = String.UTF8.encodeUnsafe(changetype<usize>(subject), subject.length, base);
    return this.matchesBytes(base, <i32>length);
  }

  /** The search over `length` bytes at `ptr` (header and path values as Envoy holds them). Allocates nothing. */
  matchesBytes(ptr: usize, length: i32): bool {
    if (this.literalLength > 0) {
      const found = findLiteral(ptr, length, this.literal, this.literalLength);
      if (found == 0) return false;
      if (found > 0 && this.literalOnly) return true;
    }
    return this.dfa.search(ptr, length);
  }
}

export class RegexCompileResult {
  regex: Regex | null;
  /** "" on success; otherwise what is wrong and at which offset, or which limit it exceeds. */
  error: string;

  constructor(regex: Regex | null, error: string) {
    this.regex = regex;
    this.error = error;
  }
}

export function compileRegex(pattern: string): RegexCompileResult {
  const parsed = parseProgram(pattern);
  const program = parsed.program;
  if (program === null) return new RegexCompileResult(null, parsed.error);
  const built = buildDfa(program);
  const dfa = built.dfa;
  if (dfa === null) return new RegexCompileResult(null, built.error);
  const regex = new Regex(pattern, dfa, program.length);
  setPrefilter(regex, parsed.root!, program.anchoredStart);
  return new RegexCompileResult(regex, "");
}

/** The Pike VM for `pattern` (null if invalid): the slow, plain definition tests compare the DFA with. */
export function compileNfa(pattern: string): Nfa | null {
  const program = parseProgram(pattern).program;
  return program === null ? null : new Nfa(program);
}

class Parsed {
  root: Node | null = null;
  program: Program | null = null;
  error: string = "";
}

function parseProgram(pattern: string): Parsed {
  const out = new Parsed();
  if (pattern.length > MAX_PATTERN_LENGTH) {
    out.error = "pattern too long: " + pattern.length.toString() + " characters; the limit is " +
      MAX_PATTERN_LENGTH.toString() + " (MAX_PATTERN_LENGTH)";
    return out;
  }
  if (compiledSinceCollection + pattern.length > MAX_TOTAL_PATTERN_LENGTH) {
    out.error = "too much regex in one configuration: with this pattern, more than " + MAX_TOTAL_PATTERN_LENGTH.toString() +
      " characters of patterns in all (MAX_TOTAL_PATTERN_LENGTH); use fewer or shorter patterns";
    return out;
  }
  compiledSinceCollection += pattern.length;
  const parser = new Parser(pattern);
  const root = parser.parse();
  if (root === null) {
    out.error = parser.error.length > 0 ? parser.error : "invalid pattern";
    return out;
  }
  out.root = root;
  out.program = compileProgram(root);
  if (out.program === null) out.error = "internal error: the pattern compiled to an invalid program";
  return out;
}

/**
 * The prefilter: the longest run of plain literals in the top-level sequence is in every match,
 * so a subject without (its first 8 bytes of) it cannot match. Not used for an anchored pattern
 * that starts with its literal: the DFA already stops at the first byte that differs.
 */
function setPrefilter(regex: Regex, root: Node, anchored: bool): void {
  const parts = root.kind == NodeKind.CONCAT ? root.children : [root];
  const bytes = new StaticArray<i32>(4);
  let best: u64 = 0;
  let bestLength = 0;
  let bestAt = 0;
  let run: u64 = 0;
  let runLength = 0;
  let runAt = 0;
  let allLiteral = true;
  for (let i = 0; i <= parts.length; i++) {
    const p = i < parts.length ? parts[i] : null;
    const plain = p !== null && p.kind == NodeKind.LITERAL && p.value == p.value2 && (p.value < 0xd800 || p.value > 0xdfff);
    if (plain) {
      if (runLength == 0) runAt = i;
      const n = encodeUtf8(p!.value, bytes);
      for (let k = 0; k < n; k++) {
        if (runLength < 8) run |= <u64>bytes[k] << (<u64>runLength << 3);
        runLength++;
      }
      continue;
    }
    if (p !== null) allLiteral = false;
    if (runLength > bestLength) {
      best = run;
      bestLength = runLength;
      bestAt = runAt;
    }
    run = 0;
    runLength = 0;
  }
  if (bestLength == 0 || (anchored && bestAt <= 1)) return;
  regex.literal = best;
  regex.literalLength = bestLength < 8 ? bestLength : 8;
  regex.literalOnly = allLiteral && bestLength <= 8;
}

/**
 * Does the subject contain the `n` (1..8) bytes of `literal`? 1 yes, 0 no, -1 gave up: its first
 * byte is looked for eight bytes at a time, and when more than one position in four is a false
 * candidate the scan would cost more than the DFA, which then decides alone.
 */
function findLiteral(base: usize, length: i32, literal: u64, n: i32): i32 {
  const last = length - n;
  if (last < 0) return 0;
  let misses = 0;
  const ones: u64 = 0x0101010101010101;
  const highs: u64 = 0x8080808080808080;
  const first = (literal & 0xff) * ones;
  const mask: u64 = n == 8 ? u64.MAX_VALUE : (<u64>1 << (<u64>n << 3)) - 1;
  let i = 0;
  for (; i + 8 <= length; i += 8) {
    const x = load<u64>(base + <usize>i) ^ first;
    let found = (x - ones) & ~x & highs; // a high bit at (at least) each byte equal to the first
    while (found != 0) {
      const j = i + <i32>(ctz(found) >> 3);
      if (j > last) return 0;
      if (literalAt(base, length, j, literal, n, mask)) return 1;
      if (++misses > (i >> 2) + 16) return -1;
      found &= found - 1;
    }
  }
  for (; i <= last; i++) {
    if (literalAt(base, length, i, literal, n, mask)) return 1;
  }
  return 0;
}

function literalAt(base: usize, length: i32, j: i32, literal: u64, n: i32, mask: u64): bool {
  if (j + 8 <= length) return (load<u64>(base + <usize>j) & mask) == literal;
  for (let k = 0; k < n; k++) {
    if (<u64>load<u8>(base + <usize>(j + k)) != ((literal >> (<u64>k << 3)) & 0xff)) return false;
  }
  return true;
}
