// Recursive-descent parser for the supported RE2 subset. It never throws: the first problem is
// recorded in `error` (with its offset, in UTF-16 code units of the pattern) and every caller unwinds by
// returning null. Recursion depth is bounded by MAX_NESTING, so hostile patterns such as
// "((((...))))" cannot exhaust the Wasm stack.

import { AssertKind, Node, NodeKind } from "./ast";
import { CharSet, digitSet, MAX_RUNE, posixSet, spaceSet, wordSet } from "./charset";

/** RE2's limit for {n,m}. */
export const MAX_REPEAT: i32 = 1000;
/** Deepest allowed nesting of groups. */
export const MAX_NESTING: i32 = 100;
/** Largest compiled program, in instructions (counted repetitions expanded). */
export const MAX_PROGRAM_SIZE: i32 = 10000;

const BACKSLASH: i32 = 0x5c;
const LPAREN: i32 = 0x28;
const RPAREN: i32 = 0x29;
const LBRACKET: i32 = 0x5b;
const RBRACKET: i32 = 0x5d;
const LBRACE: i32 = 0x7b;
const RBRACE: i32 = 0x7d;
const PIPE: i32 = 0x7c;
const STAR: i32 = 0x2a;
const PLUS: i32 = 0x2b;
const QUESTION: i32 = 0x3f;
const CARET: i32 = 0x5e;
const DOLLAR: i32 = 0x24;
const DOT: i32 = 0x2e;
const COLON: i32 = 0x3a;
const DASH: i32 = 0x2d;
const COMMA: i32 = 0x2c;
const NEWLINE: i32 = 0x0a;

/** Result of one escape or class member: a single code unit, or a set (\d, [:alpha:]...). */
class Piece {
  isSet: bool = false;
  char: i32 = 0;
  set: CharSet | null = null;
  /** ASSERT escapes (\b \B \A \z) outside classes; -1 otherwise. */
  assertion: i32 = -1;
}

/** A parsed {n}, {n,} or {n,m}; `end` is the offset after the closing brace. */
class RepeatSpec {
  valid: bool = false;
  min: i32 = 0;
  max: i32 = 0;
  end: i32 = 0;
}

export class Parser {
  private pattern: string;
  private pos: i32 = 0;
  private depth: i32 = 0;
  private caseInsensitive: bool = false;
  private dotMatchesNewline: bool = false;
  private groupNames: Array<string> = new Array<string>();
  error: string = "";

  constructor(pattern: string) {
    this.pattern = pattern;
  }

  /** Parses the whole pattern; null with `error` set when it is invalid. */
  parse(): Node | null {
    const node = this.parseAlternation();
    if (node === null) return null;
    if (this.pos < this.pattern.length) {
      // parseAlternation stops only at the end or at a ')' with no group open.
      return this.fail("unmatched ')' at offset " + this.pos.toString());
    }
    if (node.size + 1 > <i64>MAX_PROGRAM_SIZE) return this.tooLarge();
    return node;
  }

  // ---- structure -------------------------------------------------------------------------

  private parseAlternation(): Node | null {
    const branches = new Array<Node>();
    while (true) {
      const branch = this.parseConcatenation();
      if (branch === null) return null;
      branches.push(branch);
      if (this.peek(0) != PIPE) break;
      this.pos++;
    }
    const node = Node.alternate(branches);
    if (node.size > <i64>MAX_PROGRAM_SIZE) return this.tooLarge();
    return node;
  }

  private parseConcatenation(): Node | null {
    const parts = new Array<Node>();
    while (this.pos < this.pattern.length) {
      const c = this.peek(0);
      if (c == PIPE || c == RPAREN) break;
      if (c == STAR || c == PLUS || c == QUESTION) {
        return this.fail(
          "missing argument to repetition operator '" + String.fromCharCode(c) + "' at offset " +
            this.pos.toString() + ": there is nothing before it to repeat",
        );
      }
      if (c == LBRACE) {
        const spec = this.scanRepeat(this.pos);
        if (this.error.length > 0) return null;
        if (spec.valid) {
          return this.fail(
            "missing argument to repetition operator '" + this.pattern.substring(this.pos, spec.end) +
              "' at offset " + this.pos.toString() + ": there is nothing before it to repeat",
          );
        }
        return this.badBrace(this.pos);
      }
      const atomStart = this.pos;
      const atom = this.parseAtom();
      if (atom === null) return null;
      if (atom.kind == NodeKind.EMPTY && this.pos > atomStart && this.wasFlagGroup(atomStart)) {
        continue; // (?i) changes flags and matches nothing; it cannot be repeated
      }
      const piece = this.parseQuantifier(atom);
      if (piece === null) return null;
      parts.push(piece);
    }
    const node = Node.concat(parts);
    if (node.size > <i64>MAX_PROGRAM_SIZE) return this.tooLarge();
    return node;
  }

  /** Applies at most one quantifier (and its lazy '?') to `atom`. */
  private parseQuantifier(atom: Node): Node | null {
    const start = this.pos;
    const c = this.peek(0);
    let min = 0;
    let max = 0;
    if (c == STAR) {
      min = 0;
      max = -1;
      this.pos++;
    } else if (c == PLUS) {
      min = 1;
      max = -1;
      this.pos++;
    } else if (c == QUESTION) {
      min = 0;
      max = 1;
      this.pos++;
    } else if (c == LBRACE) {
      const spec = this.scanRepeat(this.pos);
      if (this.error.length > 0) return null;
      if (!spec.valid) return this.badBrace(this.pos);
      min = spec.min;
      max = spec.max;
      this.pos = spec.end;
    } else {
      return atom;
    }
    const op = this.pattern.substring(start, this.pos);
    const next = this.peek(0);
    if (next == QUESTION) {
      this.pos++; // lazy: cannot change whether there is a match
    } else if (next == PLUS) {
      return this.fail(
        "unsupported syntax '" + op + "+' at offset " + start.toString() +
          ": possessive quantifiers are not supported",
      );
    }
    const after = this.peek(0);
    if (after == STAR || after == PLUS || after == QUESTION || (after == LBRACE && this.scanRepeat(this.pos).valid)) {
      if (this.error.length > 0) return null;
      return this.fail(
        "bad repetition operator '" + this.pattern.substring(start, this.pos + 1) + "' at offset " +
          start.toString() + ": a repetition cannot be repeated directly; group it with (?:...)",
      );
    }
    if (this.error.length > 0) return null;
    const node = Node.repeat(atom, min, max);
    if (node.size > <i64>MAX_PROGRAM_SIZE) return this.tooLarge();
    return node;
  }

  private parseAtom(): Node | null {
    const start = this.pos;
    const c = this.peek(0);
    if (c == LPAREN) return this.parseGroup();
    if (c == LBRACKET) return this.parseClass();
    if (c == DOT) {
      this.pos++;
      // `.` is any character except \n, or any character at all under (?s).
      const set = CharSet.of(0, MAX_RUNE);
      if (!this.dotMatchesNewline) {
        set.ranges = new Array<u64>();
        set.addRange(0, NEWLINE - 1);
        set.addRange(NEWLINE + 1, MAX_RUNE);
      }
      return Node.charClass(set);
    }
    if (c == CARET) {
      this.pos++;
      return Node.assertion(AssertKind.BEGIN_TEXT);
    }
    if (c == DOLLAR) {
      this.pos++;
      return Node.assertion(AssertKind.END_TEXT);
    }
    if (c == BACKSLASH) {
      const piece = this.parseEscape(false);
      if (piece === null) return null;
      if (piece.assertion >= 0) return Node.assertion(<AssertKind>piece.assertion);
      if (piece.isSet) return this.setNode(piece.set!);
      return this.literal(piece.char);
    }
    if (c < 0) return this.fail("unexpected end of pattern at offset " + start.toString());
    return this.literal(this.nextCodePoint());
  }

  private parseGroup(): Node | null {
    const open = this.pos;
    if (this.depth >= MAX_NESTING) {
      return this.fail(
        "groups nested too deeply at offset " + open.toString() + ": at most " +
          MAX_NESTING.toString() + " levels are allowed",
      );
    }
    this.pos++; // (
    const savedCase = this.caseInsensitive;
    const savedDot = this.dotMatchesNewline;
    if (this.peek(0) == QUESTION) {
      if (!this.parseGroupPrefix(open)) return null;
      if (this.wasFlagGroup(open)) return Node.empty(); // (?i): flags stay set for the enclosing group
    }
    this.depth++;
    const inner = this.parseAlternation();
    this.depth--;
    this.caseInsensitive = savedCase;
    this.dotMatchesNewline = savedDot;
    if (inner === null) return null;
    if (this.peek(0) != RPAREN) {
      return this.fail("missing closing ')' for the group opened at offset " + open.toString());
    }
    this.pos++;
    return inner;
  }

  /**
   * Handles what follows "(?": a name, ':' or flags. Leaves `pos` after the prefix; for a
   * flags-only group "(?i)" leaves `pos` after its ')'. Returns false on error.
   */
  private parseGroupPrefix(open: i32): bool {
    const p = this.pattern;
    const c = this.peek(1);
    if (c == COLON) {
      this.pos += 2;
      return true;
    }
    if (c == 0x3d) return this.failBool(this.unsupported(open, 3, "lookahead is not supported"));
    if (c == 0x21) return this.failBool(this.unsupported(open, 3, "negative lookahead is not supported"));
    if (c == 0x3e) return this.failBool(this.unsupported(open, 3, "atomic groups are not supported"));
    if (c == 0x23) return this.failBool(this.unsupported(open, 3, "comments are not supported"));
    if (c == 0x7c) return this.failBool(this.unsupported(open, 3, "branch reset groups are not supported"));
    if (c == LPAREN) return this.failBool(this.unsupported(open, 3, "conditionals are not supported"));
    if (c == 0x3c) {
      // (?<= (?<! lookbehind, or (?<name>
      const d = this.peek(2);
      if (d == 0x3d) return this.failBool(this.unsupported(open, 4, "lookbehind is not supported"));
      if (d == 0x21) return this.failBool(this.unsupported(open, 4, "negative lookbehind is not supported"));
      return this.parseGroupName(open, open + 3);
    }
    if (c == 0x50) {
      // P
      const d = this.peek(2);
      if (d == 0x3c) return this.parseGroupName(open, open + 4);
      if (d == 0x3d) return this.failBool(this.unsupported(open, 4, "backreferences are not supported"));
      if (d == 0x3e) return this.failBool(this.unsupported(open, 4, "recursion is not supported"));
      return this.failBool(this.unsupported(open, 3, "expected (?P<name>...)"));
    }
    // Flags: (?flags) or (?flags:...), flags from "is", optionally negated after '-'.
    let i = open + 2;
    let negated = false;
    let sawFlag = false;
    let caseInsensitive = this.caseInsensitive;
    let dotAll = this.dotMatchesNewline;
    while (i < p.length) {
      const f = p.charCodeAt(i);
      if (f == RPAREN || f == COLON) {
        if (!sawFlag || (negated && p.charCodeAt(i - 1) == DASH)) {
          return this.failBool(
            "invalid flag group '" + p.substring(open, i + 1) + "' at offset " + open.toString(),
          );
        }
        this.caseInsensitive = caseInsensitive;
        this.dotMatchesNewline = dotAll;
        this.pos = i + 1;
        return true;
      }
      if (f == DASH) {
        if (negated) {
          return this.failBool("invalid flag group '" + p.substring(open, i + 1) + "' at offset " + open.toString());
        }
        negated = true;
      } else if (f == 0x69) {
        caseInsensitive = !negated;
        sawFlag = true;
      } else if (f == 0x73) {
        dotAll = !negated;
        sawFlag = true;
      } else if (f == 0x6d) {
        return this.failBool(
          this.unsupported(open, i + 1 - open, "multi-line mode is not supported; ^ and $ match only at the start and end of the subject"),
        );
      } else if (f == 0x55) {
        return this.failBool(this.unsupported(open, i + 1 - open, "ungreedy mode is not supported; use lazy quantifiers"));
      } else {
        return this.failBool(
          this.unsupported(open, i + 1 - open, "unknown flag '" + String.fromCharCode(f) + "'; only i and s are supported"),
        );
      }
      i++;
    }
    return this.failBool("missing closing ')' for the group opened at offset " + open.toString());
  }

  /** Parses "name>" starting at `at`; the group is then treated as a plain group. */
  private parseGroupName(open: i32, at: i32): bool {
    const p = this.pattern;
    let i = at;
    while (i < p.length && isWordChar(p.charCodeAt(i))) i++;
    if (i >= p.length) return this.failBool("missing closing ')' for the group opened at offset " + open.toString());
    if (p.charCodeAt(i) != 0x3e || i == at) {
      return this.failBool("invalid group name in '" + p.substring(open, i + 1) + "' at offset " + open.toString());
    }
    const name = p.substring(at, i);
    if (this.groupNames.includes(name)) {
      return this.failBool("duplicate group name '" + name + "' at offset " + open.toString());
    }
    this.groupNames.push(name);
    this.pos = i + 1;
    return true;
  }

  /** True when the text at `start` is a flags-only group such as "(?i)" or "(?-s)". */
  private wasFlagGroup(start: i32): bool {
    const p = this.pattern;
    if (p.charCodeAt(start) != LPAREN || p.charCodeAt(start + 1) != QUESTION) return false;
    for (let i = start + 2; i < p.length; i++) {
      const f = p.charCodeAt(i);
      if (f == RPAREN) return true;
      if (f != DASH && f != 0x69 && f != 0x73) return false;
    }
    return false;
  }

  // ---- character classes -------------------------------------------------------------------

  private parseClass(): Node | null {
    const p = this.pattern;
    const open = this.pos;
    this.pos++; // [
    let negated = false;
    if (this.peek(0) == CARET) {
      negated = true;
      this.pos++;
    }
    const set = new CharSet();
    let first = true;
    while (true) {
      const c = this.peek(0);
      if (c < 0) {
        return this.fail("missing closing ']' for the character class opened at offset " + open.toString());
      }
      if (c == RBRACKET && !first) {
        this.pos++;
        break;
      }
      first = false;
      if (c == LBRACKET && this.peek(1) == COLON) {
        const handled = this.parsePosixClass(set);
        if (this.error.length > 0) return null;
        if (handled) continue;
      }
      const loStart = this.pos;
      const lo = this.parseClassMember();
      if (lo === null) return null;
      if (lo.isSet) {
        set.addSet(lo.set!);
        if (this.peek(0) == DASH && this.peek(1) != RBRACKET && this.peek(1) >= 0) {
          return this.fail(
            "invalid character class range '" + p.substring(loStart, this.pos + 2) + "' at offset " +
              loStart.toString() + ": a range cannot start with a class",
          );
        }
        continue;
      }
      if (this.peek(0) == DASH && this.peek(1) != RBRACKET && this.peek(1) >= 0) {
        this.pos++; // -
        const hi = this.parseClassMember();
        if (hi === null) return null;
        if (hi.isSet) {
          return this.fail(
            "invalid character class range '" + p.substring(loStart, this.pos) + "' at offset " +
              loStart.toString() + ": a range cannot end with a class",
          );
        }
        if (hi.char < lo.char) {
          return this.fail(
            "invalid character class range '" + p.substring(loStart, this.pos) + "' at offset " +
              loStart.toString() + ": the end is before the start",
          );
        }
        set.addRange(lo.char, hi.char);
      } else {
        set.addChar(lo.char);
      }
    }
    if (this.caseInsensitive) set.foldAsciiCase();
    if (negated) set.negate();
    return Node.charClass(set);
  }

  /** One member of a class: a code unit, an escape, or a set escape like \d. */
  private parseClassMember(): Piece | null {
    const c = this.peek(0);
    if (c == BACKSLASH) return this.parseEscape(true);
    const piece = new Piece();
    piece.char = this.nextCodePoint();
    return piece;
  }

  /** The character at `pos` (a surrogate pair is one code point); advances past it. */
  private nextCodePoint(): i32 {
    const c = this.peek(0);
    const d = this.peek(1);
    this.pos++;
    if (c < 0xd800 || c > 0xdbff || d < 0xdc00 || d > 0xdfff) return c;
    this.pos++;
    return 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
  }

  /**
   * Parses "[:name:]" or "[:^name:]" at `pos` into `set`. Returns false (consuming nothing)
   * when the text is not of that shape, so '[' is then a literal member.
   */
  private parsePosixClass(set: CharSet): bool {
    const p = this.pattern;
    const start = this.pos;
    let i = start + 2;
    let negated = false;
    if (p.charCodeAt(i) == CARET) {
      negated = true;
      i++;
    }
    const nameStart = i;
    while (i < p.length && isAsciiLetter(p.charCodeAt(i))) i++;
    if (p.charCodeAt(i) != COLON || p.charCodeAt(i + 1) != RBRACKET) return false;
    const name = p.substring(nameStart, i);
    const posix = posixSet(name);
    if (posix === null) {
      this.failVoid("unknown POSIX class '" + p.substring(start, i + 2) + "' at offset " + start.toString());
      return false;
    }
    if (negated) set.addNegatedSet(posix);
    else set.addSet(posix);
    this.pos = i + 2;
    return true;
  }

  // ---- escapes -------------------------------------------------------------------------

  /** Parses the escape at `pos` (which holds '\'). */
  private parseEscape(inClass: bool): Piece | null {
    const start = this.pos;
    const c = this.peek(1);
    const piece = new Piece();
    if (c < 0) {
      this.failVoid("trailing backslash at offset " + start.toString() + ": the pattern ends with '\\'");
      return null;
    }
    this.pos += 2;
    const esc = "'\\" + String.fromCharCode(c) + "'";
    const where = " at offset " + start.toString();
    // Perl classes.
    if (c == 0x64 || c == 0x44 || c == 0x77 || c == 0x57 || c == 0x73 || c == 0x53) {
      const lower = c | 0x20;
      const base = lower == 0x64 ? digitSet() : lower == 0x77 ? wordSet() : spaceSet();
      if (c != lower) base.negate(); // \D \W \S
      piece.isSet = true;
      piece.set = base;
      return piece;
    }
    // Assertions.
    if (c == 0x62 || c == 0x42 || c == 0x41 || c == 0x7a) {
      if (inClass) {
        this.failVoid("unsupported escape " + esc + where + " inside a character class");
        return null;
      }
      piece.assertion =
        c == 0x62
          ? <i32>AssertKind.WORD_BOUNDARY
          : c == 0x42
            ? <i32>AssertKind.NOT_WORD_BOUNDARY
            : c == 0x41
              ? <i32>AssertKind.BEGIN_TEXT
              : <i32>AssertKind.END_TEXT;
      return piece;
    }
    // Control characters.
    let ctl = -1;
    if (c == 0x61) ctl = 0x07; // \a
    else if (c == 0x66) ctl = 0x0c; // \f
    else if (c == 0x74) ctl = 0x09; // \t
    else if (c == 0x6e) ctl = 0x0a; // \n
    else if (c == 0x72) ctl = 0x0d; // \r
    else if (c == 0x76) ctl = 0x0b; // \v
    if (ctl >= 0) {
      piece.char = ctl;
      return piece;
    }
    if (c == 0x78) return this.parseHexEscape(start, piece);
    if (c >= 0x31 && c <= 0x39) {
      this.failVoid("unsupported syntax " + esc + where + ": backreferences are not supported");
      return null;
    }
    if (c == 0x30) {
      this.failVoid("unsupported syntax " + esc + where + ": octal escapes are not supported; use \\x00");
      return null;
    }
    if (c == 0x6b || c == 0x67) {
      this.failVoid("unsupported syntax " + esc + where + ": backreferences are not supported");
      return null;
    }
    if (c == 0x70 || c == 0x50) {
      this.failVoid("unsupported syntax " + esc + where + ": Unicode classes are not supported");
      return null;
    }
    if (c == 0x51) {
      this.failVoid("unsupported syntax " + esc + where + ": \\Q...\\E is not supported; escape each character");
      return null;
    }
    if (c == 0x5a) {
      this.failVoid("unsupported syntax " + esc + where + ": use \\z or $ for the end of the subject");
      return null;
    }
    // Escaped punctuation stands for itself.
    if (c >= 0x20 && c < 0x7f && !isWordChar(c)) {
      piece.char = c;
      return piece;
    }
    this.failVoid("unknown escape " + esc + where);
    return null;
  }

  /** \xHH or \x{H...} (a code point, at most 10FFFF). */
  private parseHexEscape(start: i32, piece: Piece): Piece | null {
    const p = this.pattern;
    let value = 0;
    if (this.peek(0) == LBRACE) {
      let i = this.pos + 1;
      const digitsStart = i;
      while (i < p.length && hexValue(p.charCodeAt(i)) >= 0) {
        value = value * 16 + hexValue(p.charCodeAt(i));
        if (value > 0x10ffff) value = 0x110000; // saturate; reported below
        i++;
      }
      if (i == digitsStart || p.charCodeAt(i) != RBRACE) {
        this.failVoid("invalid escape '" + p.substring(start, i + 1) + "' at offset " + start.toString() + ": expected \\x{HHHH}");
        return null;
      }
      if (value > MAX_RUNE) {
        this.failVoid("escape '" + p.substring(start, i + 1) + "' at offset " + start.toString() + " is above \\x{10FFFF}");
        return null;
      }
      this.pos = i + 1;
    } else {
      const h1 = hexValue(this.peek(0));
      const h2 = hexValue(this.peek(1));
      if (h1 < 0 || h2 < 0) {
        this.failVoid(
          "invalid escape '" + p.substring(start, this.pos + 2) + "' at offset " + start.toString() +
            ": expected two hex digits after \\x",
        );
        return null;
      }
      value = h1 * 16 + h2;
      this.pos += 2;
    }
    piece.char = value;
    return piece;
  }

  // ---- repetition counts ------------------------------------------------------------------

  /** Reads "{n}", "{n,}" or "{n,m}" at `at`; sets `error` for counts over the limit. */
  private scanRepeat(at: i32): RepeatSpec {
    const p = this.pattern;
    const spec = new RepeatSpec();
    let i = at + 1;
    const minStart = i;
    let min = 0;
    while (i < p.length && isDigit(p.charCodeAt(i))) {
      if (min <= MAX_REPEAT) min = min * 10 + (p.charCodeAt(i) - 0x30);
      i++;
    }
    if (i == minStart) return spec;
    let max = min;
    if (p.charCodeAt(i) == COMMA) {
      i++;
      const maxStart = i;
      max = 0;
      while (i < p.length && isDigit(p.charCodeAt(i))) {
        if (max <= MAX_REPEAT) max = max * 10 + (p.charCodeAt(i) - 0x30);
        i++;
      }
      if (i == maxStart) max = -1;
    }
    if (p.charCodeAt(i) != RBRACE) return spec;
    const text = p.substring(at, i + 1);
    if (min > MAX_REPEAT || max > MAX_REPEAT) {
      this.failVoid(
        "repetition count too large in '" + text + "' at offset " + at.toString() + ": the limit is " +
          MAX_REPEAT.toString(),
      );
      return spec;
    }
    if (max >= 0 && max < min) {
      this.failVoid("invalid repetition '" + text + "' at offset " + at.toString() + ": the maximum is below the minimum");
      return spec;
    }
    spec.valid = true;
    spec.min = min;
    spec.max = max;
    spec.end = i + 1;
    return spec;
  }

  // ---- helpers ----------------------------------------------------------------------------

  private literal(c: i32): Node {
    if (this.caseInsensitive && isAsciiLetter(c)) return Node.literal(c | 0x20, (c | 0x20) - 32);
    return Node.literal(c, c);
  }

  private setNode(set: CharSet): Node {
    if (this.caseInsensitive) set.foldAsciiCase();
    return Node.charClass(set);
  }

  /** Code unit `k` places ahead of `pos`, or -1 past the end. */
  private peek(k: i32): i32 {
    const i = this.pos + k;
    if (i < 0 || i >= this.pattern.length) return -1;
    return this.pattern.charCodeAt(i);
  }

  private unsupported(open: i32, length: i32, why: string): string {
    return (
      "unsupported syntax '" + this.pattern.substring(open, open + length) + "' at offset " + open.toString() + ": " + why
    );
  }

  private badBrace(at: i32): Node | null {
    return this.fail(
      "'{' at offset " + at.toString() + " does not start a repetition {n}, {n,} or {n,m}; write \\{ for a literal brace",
    );
  }

  private tooLarge(): Node | null {
    return this.fail(
      "pattern too large: it compiles to more than " + MAX_PROGRAM_SIZE.toString() +
        " instructions (MAX_PROGRAM_SIZE; counted repetitions are expanded); use smaller counts",
    );
  }

  private fail(message: string): Node | null {
    this.failVoid(message);
    return null;
  }

  private failBool(message: string): bool {
    this.failVoid(message);
    return false;
  }

  private failVoid(message: string): void {
    if (this.error.length == 0) this.error = message;
  }
}

function isDigit(c: i32): bool {
  return c >= 0x30 && c <= 0x39;
}

function isAsciiLetter(c: i32): bool {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

export function isWordChar(c: i32): bool {
  return isDigit(c) || isAsciiLetter(c) || c == 0x5f;
}

function hexValue(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}
