// Linear-time regular expressions for policy matching: an RE2 subset compiled to a Thompson
// NFA and run as a Pike VM (see matcher.ts). compileRegex never throws: a bad pattern yields a
// message naming the problem and its offset. A compiled Regex matches in
// O(subject length x program size) time with no backtracking and no allocation, so a hostile
// header value cannot stall a worker.
//
// Characters are UTF-16 code units: `.` and each class member match one code unit (a character
// outside the BMP is two), and case-insensitivity folds ASCII letters only.
//
// Supported: literals; `.` (not \n, unless (?s)); escaped punctuation; \t \n \r \f \v \a;
// \xHH and \x{HHHH}; \d \D \w \W \s \S (ASCII, as RE2); classes [abc] [^abc] [a-z0-9_] with
// escapes and [[:name:]] / [[:^name:]] for alnum alpha ascii blank cntrl digit graph lower print
// punct space upper word xdigit; ^ $ \A \z (whole subject) and \b \B (ASCII word boundary);
// ( ), (?: ), (?P<name> ), (?<name> ); |; * + ? {n} {n,} {n,m} and their lazy forms; flags
// (?i) (?s) (?-i) etc. for the rest of the enclosing group and (?i: ... ) for a group.
// Everything else is a compile error. Limits: counts up to MAX_REPEAT, nesting up to
// MAX_NESTING, compiled program up to MAX_PROGRAM_SIZE instructions.

import { Parser } from "./parser";
import { compileProgram } from "./program";
import { Matcher } from "./matcher";

export { MAX_NESTING, MAX_PROGRAM_SIZE, MAX_REPEAT } from "./parser";

export class Regex {
  readonly pattern: string;
  private matcher: Matcher;
  /** Instructions in the compiled program (bounded by MAX_PROGRAM_SIZE). */
  readonly programSize: i32;

  constructor(pattern: string, matcher: Matcher, programSize: i32) {
    this.pattern = pattern;
    this.matcher = matcher;
    this.programSize = programSize;
  }

  /** Unanchored search, like RE2::PartialMatch: true if the pattern matches anywhere in `subject`, unless anchored with ^/$. */
  matches(subject: string): bool {
    return this.matcher.search(subject);
  }

  /** The same search over `length` UTF-8 bytes at `ptr` (header and path values as Envoy holds them). */
  matchesBytes(ptr: usize, length: i32): bool {
    return this.matcher.search(String.UTF8.decodeUnsafe(ptr, <usize>length));
  }
}

export class RegexCompileResult {
  regex: Regex | null;
  /** "" on success; otherwise what is wrong and at which offset. */
  error: string;

  constructor(regex: Regex | null, error: string) {
    this.regex = regex;
    this.error = error;
  }
}

export function compileRegex(pattern: string): RegexCompileResult {
  const parser = new Parser(pattern);
  const root = parser.parse();
  if (root === null) {
    const error = parser.error.length > 0 ? parser.error : "invalid pattern";
    return new RegexCompileResult(null, error);
  }
  const program = compileProgram(root);
  if (program === null) {
    return new RegexCompileResult(null, "internal error: the pattern compiled to an invalid program");
  }
  const regex = new Regex(pattern, new Matcher(program), program.length);
  return new RegexCompileResult(regex, "");
}
