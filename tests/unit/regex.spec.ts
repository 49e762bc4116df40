import { regexGarbageCollected, compileRegex, MAX_PROGRAM_SIZE, Regex } from "../../assembly/regex/index";

/** Compiles `pattern`, which must be valid. */
function re(pattern: string): Regex {
  const result = compileRegex(pattern);
  if (result.error != "") trace("unexpected compile error for " + pattern + ": " + result.error);
  expect(result.error).toBe("");
  expect(result.regex).not.toBeNull();
  return result.regex!;
}

function matches(pattern: string, subject: string): bool {
  return re(pattern).matches(subject);
}

/** The compile error for `pattern`, which must be invalid. */
function compileError(pattern: string): string {
  const result = compileRegex(pattern);
  expect(result.regex).toBeNull();
  expect(result.error).not.toBe("");
  return result.error;
}

/** Asserts that the compile error for `pattern` mentions `part`. */
function expectErrorMentions(pattern: string, part: string): void {
  const error = compileError(pattern);
  if (!error.includes(part)) trace("error for " + pattern + " is: " + error + " (expected to mention: " + part + ")");
  expect(error.includes(part)).toBe(true);
}

function repeatChar(c: string, n: i32): string {
  return c.repeat(n);
}

// A test run compiles far more than one configuration would: start each test with a fresh budget.
beforeEach(() => regexGarbageCollected());

describe("regex: literals and search", () => {
  it("finds a literal anywhere in the subject (unanchored)", () => {
    expect(matches("abc", "abc")).toBe(true);
    expect(matches("abc", "xxabcxx")).toBe(true);
    expect(matches("abc", "ab")).toBe(false);
    expect(matches("abc", "abx")).toBe(false);
    expect(matches("abc", "")).toBe(false);
  });

  it("treats the empty pattern as matching everything", () => {
    expect(matches("", "")).toBe(true);
    expect(matches("", "anything")).toBe(true);
    expect(matches("()", "x")).toBe(true);
  });

  it("keeps the pattern it was compiled from", () => {
    expect(re("^a+$").pattern).toBe("^a+$");
  });

  it("is case-sensitive by default", () => {
    expect(matches("Chrome", "chrome")).toBe(false);
    expect(matches("Chrome", "Chrome/120")).toBe(true);
  });

  it("matches non-ASCII characters literally (as their UTF-8 bytes)", () => {
    expect(matches("é", "café")).toBe(true);
    expect(matches("^caf.$", "café")).toBe(true);
    expect(matches("é", "cafe")).toBe(false);
  });

  it("treats ] and } outside a class as literals", () => {
    expect(matches("a]", "a]")).toBe(true);
    expect(matches("a}", "a}")).toBe(true);
  });
});

describe("regex: anchors", () => {
  it("anchors the docs' header pattern at both ends", () => {
    const r = re("^test-[0-9]+$");
    expect(r.matches("test-1")).toBe(true);
    expect(r.matches("test-123456")).toBe(true);
    expect(r.matches("xtest-1")).toBe(false);
    expect(r.matches("test-12a")).toBe(false);
    expect(r.matches("test-")).toBe(false);
    expect(r.matches("test-1\n")).toBe(false);
  });

  it("matches ^ only at the start and $ only at the end (no multi-line mode)", () => {
    expect(matches("^b", "ab")).toBe(false);
    expect(matches("^b", "a\nb")).toBe(false);
    expect(matches("a$", "a\nb")).toBe(false);
    expect(matches("a$", "ba")).toBe(true);
    expect(matches("^$", "")).toBe(true);
    expect(matches("^$", "x")).toBe(false);
    expect(matches("a^b", "a^b")).toBe(false);
  });

  it("supports \\A and \\z", () => {
    expect(matches("\\Aab\\z", "ab")).toBe(true);
    expect(matches("\\Ab", "ab")).toBe(false);
    expect(matches("a\\z", "ab")).toBe(false);
  });

  it("supports anchors inside alternations and groups", () => {
    const r = re("^(?:GET|HEAD)$|^OPTIONS");
    expect(r.matches("GET")).toBe(true);
    expect(r.matches("HEAD")).toBe(true);
    expect(r.matches("OPTIONS /x")).toBe(true);
    expect(r.matches("GETX")).toBe(false);
    expect(r.matches("xOPTIONS")).toBe(false);
    expect(matches("a|^b", "cb")).toBe(false);
    expect(matches("a|^b", "ca")).toBe(true);
  });

  it("supports word boundaries \\b and \\B", () => {
    expect(matches("\\bfoo\\b", "a foo b")).toBe(true);
    expect(matches("\\bfoo\\b", "foo")).toBe(true);
    expect(matches("\\bfoo\\b", "afoo")).toBe(false);
    expect(matches("\\bfoo\\b", "foo_")).toBe(false);
    expect(matches("\\Boo\\B", "foo")).toBe(false);
    expect(matches("\\Bo\\B", "foox")).toBe(true);
  });
});

describe("regex: patterns from the product docs", () => {
  it("^/api/v[12]/", () => {
    const r = re("^/api/v[12]/");
    expect(r.matches("/api/v1/users")).toBe(true);
    expect(r.matches("/api/v2/")).toBe(true);
    expect(r.matches("/api/v3/users")).toBe(false);
    expect(r.matches("/x/api/v1/")).toBe(false);
    expect(r.matches("/api/v1")).toBe(false);
  });

  it("\\.(png|jpg)$", () => {
    const r = re("\\.(png|jpg)$");
    expect(r.matches("/img/logo.png")).toBe(true);
    expect(r.matches("a.jpg")).toBe(true);
    expect(r.matches("a.png?x=1")).toBe(false);
    expect(r.matches("apng")).toBe(false);
    expect(r.matches("a.gif")).toBe(false);
  });

  it("^Mozilla/.*Chrome", () => {
    const r = re("^Mozilla/.*Chrome");
    expect(r.matches("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0")).toBe(true);
    expect(r.matches("Mozilla/5.0 Firefox/121.0")).toBe(false);
    expect(r.matches("curl/8 Mozilla/5.0 Chrome")).toBe(false);
    expect(r.matches("Mozilla/\nChrome")).toBe(false); // . does not cross a newline
  });
});

describe("regex: dot, alternation and groups", () => {
  it("matches . against any character except a newline", () => {
    expect(matches("a.c", "abc")).toBe(true);
    expect(matches("a.c", "a-c")).toBe(true);
    expect(matches("a.c", "ac")).toBe(false);
    expect(matches("a.c", "a\nc")).toBe(false);
  });

  it("lets (?s) make . match a newline", () => {
    expect(matches("(?s)a.c", "a\nc")).toBe(true);
    expect(matches("(?s:a.)c", "a\nc")).toBe(true);
  });

  it("alternates between branches, including empty ones", () => {
    const r = re("cat|dog|bird");
    expect(r.matches("hotdog")).toBe(true);
    expect(r.matches("bird")).toBe(true);
    expect(r.matches("cow")).toBe(false);
    expect(matches("^(a|)$", "")).toBe(true);
    expect(matches("^(a|)$", "a")).toBe(true);
    expect(matches("^(|a)b$", "b")).toBe(true);
    expect(matches("^(a|)$", "aa")).toBe(false);
  });

  it("groups with (), (?:), (?P<name>) and (?<name>)", () => {
    expect(matches("^(ab)+$", "ababab")).toBe(true);
    expect(matches("^(ab)+$", "ababa")).toBe(false);
    expect(matches("^(?:ab)+$", "abab")).toBe(true);
    expect(matches("^(?P<pair>ab)+$", "abab")).toBe(true);
    expect(matches("^(?<pair>ab)+$", "abab")).toBe(true);
    expect(matches("^(?P<v>v[0-9]+)/(?P<id>[a-z]+)$", "v2/users")).toBe(true);
    expect(matches("^((a)(b(c)))$", "abc")).toBe(true);
  });
});

describe("regex: quantifiers", () => {
  it("* + ?", () => {
    expect(matches("^ab*c$", "ac")).toBe(true);
    expect(matches("^ab*c$", "abbbc")).toBe(true);
    expect(matches("^ab+c$", "ac")).toBe(false);
    expect(matches("^ab+c$", "abbc")).toBe(true);
    expect(matches("^ab?c$", "ac")).toBe(true);
    expect(matches("^ab?c$", "abc")).toBe(true);
    expect(matches("^ab?c$", "abbc")).toBe(false);
  });

  it("lazy forms give the same yes/no answers", () => {
    expect(matches("^ab*?c$", "abbbc")).toBe(true);
    expect(matches("^ab+?c$", "ac")).toBe(false);
    expect(matches("^ab??c$", "abc")).toBe(true);
    expect(matches("^a{2,3}?$", "aaa")).toBe(true);
    expect(matches("^a{2,3}?$", "aaaa")).toBe(false);
  });

  it("{n}, {n,} and {n,m}", () => {
    expect(matches("^a{3}$", "aaa")).toBe(true);
    expect(matches("^a{3}$", "aa")).toBe(false);
    expect(matches("^a{3}$", "aaaa")).toBe(false);
    expect(matches("^a{2,}$", "a")).toBe(false);
    expect(matches("^a{2,}$", "aa")).toBe(true);
    expect(matches("^a{2,}$", repeatChar("a", 50))).toBe(true);
    expect(matches("^a{2,4}$", "a")).toBe(false);
    expect(matches("^a{2,4}$", "aaa")).toBe(true);
    expect(matches("^a{2,4}$", "aaaa")).toBe(true);
    expect(matches("^a{2,4}$", "aaaaa")).toBe(false);
    expect(matches("^a{0}b$", "b")).toBe(true);
    expect(matches("^a{0,1}b$", "ab")).toBe(true);
    expect(matches("^(ab){2}$", "abab")).toBe(true);
    expect(matches("^[0-9a-f]{8}-[0-9a-f]{4}$", "deadbeef-0123")).toBe(true);
    expect(matches("^[0-9a-f]{8}-[0-9a-f]{4}$", "deadbee-0123")).toBe(false);
  });

  it("accepts counts up to 1000", () => {
    expect(matches("^a{1000}$", repeatChar("a", 1000))).toBe(true);
    expect(matches("^a{1000}$", repeatChar("a", 999))).toBe(false);
    expect(matches("^a{0,1000}$", repeatChar("a", 1000))).toBe(true);
    expect(matches("^a{0,1000}$", repeatChar("a", 1001))).toBe(false);
  });

  it("repeats groups that can match the empty string", () => {
    expect(matches("^(a*)*$", "aaa")).toBe(true);
    expect(matches("^(a*)+b$", "b")).toBe(true);
    expect(matches("^(a?){3}$", "a")).toBe(true);
    expect(matches("^(a|b?)*c$", "ababc")).toBe(true);
  });
});

describe("regex: classes and escapes", () => {
  it("[abc], [^abc] and ranges", () => {
    expect(matches("^[abc]+$", "cab")).toBe(true);
    expect(matches("^[abc]+$", "cabd")).toBe(false);
    expect(matches("^[^abc]+$", "xyz")).toBe(true);
    expect(matches("^[^abc]+$", "xaz")).toBe(false);
    expect(matches("^[^abc]$", "\n")).toBe(true);
    expect(matches("^[a-z0-9_]+$", "user_42")).toBe(true);
    expect(matches("^[a-z0-9_]+$", "User_42")).toBe(false);
  });

  it("treats ] first, - first or last, and [ inside a class as literals", () => {
    expect(matches("^[]a]+$", "]a]")).toBe(true);
    expect(matches("^[^]a]$", "b")).toBe(true);
    expect(matches("^[^]a]$", "]")).toBe(false);
    expect(matches("^[-a]+$", "-a")).toBe(true);
    expect(matches("^[a-]+$", "-a")).toBe(true);
    expect(matches("^[a-]+$", "b")).toBe(false);
    expect(matches("^[[a]+$", "[a")).toBe(true);
  });

  it("accepts escapes inside classes", () => {
    expect(matches("^[\\]\\[\\-\\\\^]+$", "][-\\^")).toBe(true);
    expect(matches("^[\\d_]+$", "12_3")).toBe(true);
    expect(matches("^[\\d_]+$", "12a")).toBe(false);
    expect(matches("^[\\s]$", " ")).toBe(true);
    expect(matches("^[^\\s]$", " ")).toBe(false);
    expect(matches("^[\\D]$", "a")).toBe(true);
    expect(matches("^[\\D]$", "1")).toBe(false);
    expect(matches("^[\\x41-\\x43]+$", "ABC")).toBe(true);
    expect(matches("^[\\x41-\\x43]+$", "D")).toBe(false);
    expect(matches("^[\\t\\n]+$", "\t\n")).toBe(true);
    expect(matches("^[é-ë]$", "ê")).toBe(true);
  });

  it("\\d \\D \\w \\W \\s \\S", () => {
    expect(matches("^\\d+$", "0123456789")).toBe(true);
    expect(matches("\\d", "abc")).toBe(false);
    expect(matches("^\\D+$", "abc")).toBe(true);
    expect(matches("\\D", "123")).toBe(false);
    expect(matches("^\\w+$", "a_Z9")).toBe(true);
    expect(matches("\\w", "-+ ")).toBe(false);
    expect(matches("^\\W+$", "-+ ")).toBe(true);
    expect(matches("^\\s+$", " \t\r\n\f")).toBe(true);
    expect(matches("\\s", "\v")).toBe(false); // as in RE2, \s excludes \v
    expect(matches("^\\S+$", "a-b")).toBe(true);
    expect(matches("\\S", " \t")).toBe(false);
  });

  it("POSIX classes", () => {
    expect(matches("^[[:alpha:]]+$", "abcXYZ")).toBe(true);
    expect(matches("^[[:alpha:]]+$", "abc1")).toBe(false);
    expect(matches("^[[:digit:]]+$", "123")).toBe(true);
    expect(matches("^[[:alnum:]]+$", "a1B2")).toBe(true);
    expect(matches("^[[:lower:]]+$", "abc")).toBe(true);
    expect(matches("^[[:lower:]]+$", "aBc")).toBe(false);
    expect(matches("^[[:upper:]]+$", "ABC")).toBe(true);
    expect(matches("^[[:space:]]+$", " \t\v")).toBe(true);
    expect(matches("^[[:xdigit:]]+$", "09afAF")).toBe(true);
    expect(matches("^[[:xdigit:]]+$", "g")).toBe(false);
    expect(matches("^[[:punct:]]+$", "!-/:@[`{~")).toBe(true);
    expect(matches("^[[:punct:]]+$", "a")).toBe(false);
    expect(matches("^[[:word:]]+$", "a_1")).toBe(true);
    expect(matches("^[[:^digit:]]+$", "abc")).toBe(true);
    expect(matches("^[[:^digit:]]+$", "a1")).toBe(false);
    expect(matches("^[[:digit:]x]+$", "1x2")).toBe(true);
  });

  it("escaped punctuation is literal", () => {
    expect(matches("^\\\\\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\^\\$\\/\\-$", "\\.*+?()[]{}|^$/-")).toBe(true);
    expect(matches("^a\\.b$", "axb")).toBe(false);
    expect(matches("^\\#\\%\\&\\~\\ $", "#%&~ ")).toBe(true);
  });

  it("control escapes \\t \\n \\r \\f \\v \\a", () => {
    expect(matches("^\\t\\n\\r\\f\\v\\a$", "\t\n\r\f\v\x07")).toBe(true);
  });

  it("hex escapes \\xHH and \\x{HHHH} name code points", () => {
    expect(matches("^\\x41\\x62$", "Ab")).toBe(true);
    expect(matches("^\\x{41}\\x{e9}\\x{20AC}\\x{1F600}$", "Aé€😀")).toBe(true);
    expect(matches("\\x41", "a")).toBe(false);
  });

  it("treats a surrogate pair in the pattern as one character", () => {
    expect(matches("^a😀b$", "a😀b")).toBe(true);
    expect(matches("^a.b$", "a😀b")).toBe(true); // one character, four UTF-8 bytes
    expect(matches("^a..b$", "a😀b")).toBe(false);
    expect(matches("^[😀-😂]+$", "😁😀😂")).toBe(true);
    expect(matches("^[😀-😂]$", "😃")).toBe(false);
  });
});

describe("regex: case-insensitive matching", () => {
  it("(?i) at the start folds ASCII letters in literals and classes", () => {
    const r = re("(?i)^x-debug: *on$");
    expect(r.matches("X-Debug: ON")).toBe(true);
    expect(r.matches("x-debug:on")).toBe(true);
    expect(r.matches("x-debug: off")).toBe(false);
    expect(matches("(?i)^[a-c]+$", "AbC")).toBe(true);
    expect(matches("(?i)^[A-C]+$", "abc")).toBe(true);
    expect(matches("(?i)^[^a]$", "A")).toBe(false);
    expect(matches("(?i)^[[:lower:]]+$", "ABC")).toBe(true);
    expect(matches("(?i)é", "É")).toBe(false); // ASCII only
  });

  it("(?i: ...) applies only inside the group", () => {
    const r = re("^(?i:chrome)/X$");
    expect(r.matches("CHROME/X")).toBe(true);
    expect(r.matches("chrome/x")).toBe(false);
  });

  it("(?i) in the middle applies to the rest of its group, (?-i) turns it off", () => {
    expect(matches("^a(?i)b$", "aB")).toBe(true);
    expect(matches("^a(?i)b$", "AB")).toBe(false);
    expect(matches("^(a(?i)b)c$", "aBc")).toBe(true);
    expect(matches("^(a(?i)b)c$", "aBC")).toBe(false);
    expect(matches("(?i)^a(?-i)b$", "Ab")).toBe(true);
    expect(matches("(?i)^a(?-i)b$", "AB")).toBe(false);
    expect(matches("(?i)x|y", "Y")).toBe(true);
  });
});

describe("regex: rejected syntax names the construct and its offset", () => {
  it("backreferences", () => {
    expect(compileError("(a)\\1")).toBe("unsupported syntax '\\1' at offset 3: backreferences are not supported");
    expectErrorMentions("(?P<x>a)(?P=x)", "backreferences are not supported");
    expectErrorMentions("(a)\\k<x>", "backreferences");
  });

  it("lookaround", () => {
    expect(compileError("foo(?=bar)")).toBe("unsupported syntax '(?=' at offset 3: lookahead is not supported");
    expect(compileError("foo(?!bar)")).toBe("unsupported syntax '(?!' at offset 3: negative lookahead is not supported");
    expect(compileError("(?<=a)b")).toBe("unsupported syntax '(?<=' at offset 0: lookbehind is not supported");
    expect(compileError("(?<!a)b")).toBe("unsupported syntax '(?<!' at offset 0: negative lookbehind is not supported");
  });

  it("possessive quantifiers and atomic groups", () => {
    expect(compileError("a*+")).toBe("unsupported syntax '*+' at offset 1: possessive quantifiers are not supported");
    expectErrorMentions("a++", "'++' at offset 1: possessive");
    expectErrorMentions("a{2}+", "'{2}+' at offset 1: possessive");
    expect(compileError("(?>a)")).toBe("unsupported syntax '(?>' at offset 0: atomic groups are not supported");
  });

  it("nothing to repeat", () => {
    expectErrorMentions("*a", "missing argument to repetition operator '*' at offset 0");
    expectErrorMentions("a|+b", "missing argument to repetition operator '+' at offset 2");
    expectErrorMentions("(*a)", "'*' at offset 1");
    expectErrorMentions("{2}", "missing argument to repetition operator '{2}' at offset 0");
    expectErrorMentions("(?i)*", "missing argument to repetition operator '*' at offset 4");
  });

  it("a repetition of a repetition", () => {
    expectErrorMentions("a**", "bad repetition operator '**' at offset 1");
    expectErrorMentions("a*?*", "bad repetition operator '*?*' at offset 1");
    expectErrorMentions("a{2}{3}", "bad repetition operator '{2}{' at offset 1");
    expectErrorMentions("a?+", "possessive");
  });

  it("unbalanced parentheses and brackets", () => {
    expect(compileError("(ab")).toBe("missing closing ')' for the group opened at offset 0");
    expect(compileError("a(b(c)")).toBe("missing closing ')' for the group opened at offset 1");
    expect(compileError("ab)")).toBe("unmatched ')' at offset 2");
    expect(compileError("[ab")).toBe("missing closing ']' for the character class opened at offset 0");
    expectErrorMentions("x[]", "missing closing ']'");
    expectErrorMentions("[^]", "missing closing ']'");
  });

  it("bad ranges", () => {
    expect(compileError("[z-a]")).toBe("invalid character class range 'z-a' at offset 1: the end is before the start");
    expectErrorMentions("[\\d-z]", "invalid character class range '\\d-z' at offset 1");
    expectErrorMentions("[a-\\w]", "invalid character class range 'a-\\w' at offset 1");
  });

  it("trailing backslash", () => {
    expect(compileError("abc\\")).toBe("trailing backslash at offset 3: the pattern ends with '\\'");
    expectErrorMentions("[a\\", "trailing backslash at offset 2");
  });

  it("bad repetition counts", () => {
    expect(compileError("a{1001}")).toBe("repetition count too large in '{1001}' at offset 1: the limit is 1000");
    expectErrorMentions("a{0,1001}", "too large");
    expectErrorMentions("a{99999999999}", "too large");
    expectErrorMentions("a{3,2}", "invalid repetition '{3,2}' at offset 1");
  });

  it("a brace that is not a repetition", () => {
    expectErrorMentions("a{", "'{' at offset 1 does not start a repetition");
    expectErrorMentions("a{,3}", "'{' at offset 1");
    expectErrorMentions("/users/{id}", "'{' at offset 7");
  });

  it("unknown and unsupported escapes", () => {
    expect(compileError("\\q")).toBe("unknown escape '\\q' at offset 0");
    expectErrorMentions("\\pL", "Unicode classes are not supported");
    expectErrorMentions("\\Qa.b\\E", "\\Q...\\E is not supported");
    expectErrorMentions("a\\Z", "use \\z or $");
    expectErrorMentions("\\0", "octal escapes are not supported");
    expectErrorMentions("\\x4", "expected two hex digits");
    expectErrorMentions("\\x{110000}", "above \\x{10FFFF}");
    expectErrorMentions("\\x{}", "expected \\x{HHHH}");
    expectErrorMentions("[\\b]", "inside a character class");
    expectErrorMentions("\\_", "unknown escape");
  });

  it("unsupported group kinds and flags", () => {
    expectErrorMentions("(?#comment)", "'(?#' at offset 0: comments are not supported");
    expectErrorMentions("(?m)^a$", "multi-line mode is not supported");
    expectErrorMentions("(?U)a*", "ungreedy mode is not supported");
    expectErrorMentions("(?)", "invalid flag group '(?)'");
    expectErrorMentions("(?i-)", "invalid flag group");
    expectErrorMentions("(?P<>a)", "invalid group name");
    expectErrorMentions("(?P<a>x)(?P<a>y)", "duplicate group name 'a'");
    expectErrorMentions("(?|a)", "branch reset");
    expectErrorMentions("(?(1)a)", "conditionals");
    expectErrorMentions("(?P>x)", "recursion");
    expectErrorMentions("(?a)", "unknown flag 'a'");
  });

  it("POSIX class names", () => {
    expect(compileError("[[:alfa:]]")).toBe("unknown POSIX class '[:alfa:]' at offset 1");
  });
});

describe("regex: size and nesting limits", () => {
  it("rejects programs over the instruction limit after expanding counted repetitions", () => {
    expectErrorMentions("(a{1000}){1000}", "pattern too large");
    expectErrorMentions("((a{1000}){1000}){1000}", "pattern too large");
    const elevenThousand = "[a-z]{1000}[0-9]{1000}x{1000}y{1000}z{1000}w{1000}v{1000}u{1000}t{1000}s{1000}r{1000}";
    expectErrorMentions(elevenThousand, "more than 10000 instructions");
    expectErrorMentions("a{1000}".repeat(11), "MAX_PROGRAM_SIZE");
  });

  it("accepts a large program just under the limit", () => {
    const r = re("^(?:ab|cd){999}");
    expect(r.programSize).toBeLessThanOrEqual(MAX_PROGRAM_SIZE);
    expect(r.matches("abcd".repeat(500))).toBe(true);
    expect(r.matches("abcd".repeat(499))).toBe(false);
    expect(r.matches("x" + "abcd".repeat(500))).toBe(false);
  });

  it("repeating empty groups costs nothing", () => {
    const r = re("((){1000}){1000}a");
    expect(r.matches("xa")).toBe(true);
  });

  it("rejects deep nesting instead of exhausting the stack", () => {
    expectErrorMentions("(".repeat(2000) + "a" + ")".repeat(2000), "groups nested too deeply");
    expect(matches("(".repeat(100) + "a" + ")".repeat(100), "a")).toBe(true);
  });
});

describe("regex: linear time on pathological patterns", () => {
  it("(a+)+$ on 100,000 a's followed by a mismatch", () => {
    const subject = repeatChar("a", 100000) + "!";
    expect(re("^(a+)+$").matches(subject)).toBe(false);
    expect(re("(a+)+$").matches(subject)).toBe(false);
    expect(re("(a+)+$").matches(repeatChar("a", 100000))).toBe(true);
  });

  it("(a|a)*b on 100,000 a's", () => {
    expect(re("(a|a)*b").matches(repeatChar("a", 100000))).toBe(false);
    expect(re("(a|a)*b").matches(repeatChar("a", 100000) + "b")).toBe(true);
  });

  it("(a*)*c on 100,000 a's", () => {
    expect(re("(a*)*c").matches(repeatChar("a", 100000))).toBe(false);
  });

  it("(x+x+)+y on 100,000 x's", () => {
    expect(re("(x+x+)+y").matches(repeatChar("x", 100000))).toBe(false);
    expect(re("(x+x+)+y").matches(repeatChar("x", 100000) + "y")).toBe(true);
  });

  it("(.*a){20} and a{0,500}a{500} stay linear", () => {
    expect(re("^(.*a){20}$").matches(repeatChar("a", 19) + repeatChar("b", 20000))).toBe(false);
    expect(re("^a{0,500}a{500}$").matches(repeatChar("a", 1000))).toBe(true);
    expect(re("^a{0,500}a{500}$").matches(repeatChar("a", 20000))).toBe(false);
  });

  it("stops early on an anchored pattern that cannot match", () => {
    expect(re("^/api/").matches("/x" + repeatChar("a", 100000))).toBe(false);
  });
});

describe("regex: matching allocates nothing", () => {
  it("does not grow memory across many searches of a long subject", () => {
    const r = re("(x+x+)+y|[a-z]*\\d{3}$");
    const subject = String.UTF8.encode(repeatChar("x", 20000));
    const ptr = changetype<usize>(subject);
    r.matchesBytes(ptr, subject.byteLength); // warm up
    const pagesBefore = memory.size();
    let hits = 0;
    for (let i = 0; i < 50; i++) {
      if (r.matchesBytes(ptr, subject.byteLength)) hits++;
    }
    // 1,000,000 bytes scanned; any per-byte allocation would need far more than the pages
    // already reserved.
    expect(hits).toBe(0);
    expect(memory.size()).toBe(pagesBefore);
  });
});

describe("the configuration-wide automaton budget", () => {
  it("refuses a pattern whose start state does not fit; it is never accepted half-built", () => {
    regexGarbageCollected();
    // Fill the budget with patterns of shrinking size until even a tiny one no longer fits:
    // fewer transitions are left than any pattern's start state needs.
    const fillers = ["^[a-h]{0,4000}$", "^[a-h]{0,400}$", "^[a-h]{0,40}$", "^a$"];
    let refusal = "";
    for (let i = 0; i < fillers.length; i++) {
      for (let n = 0; n < 100000; n++) {
        const r = compileRegex(fillers[i]);
        if (r.regex === null) {
          refusal = r.error;
          break;
        }
      }
    }
    expect(refusal.includes("in all")).toBe(true, refusal);
    const target = compileRegex("^/never-matches$");
    expect(target.regex).toBeNull("accepted with no room for its start state");
    expect(target.error.includes("MAX_TOTAL_DFA_TRANSITIONS")).toBe(true, target.error);
    regexGarbageCollected();
    expect(matches("^/never-matches$", "/x")).toBe(false, "a fresh budget compiles it, and it matches only itself");
    expect(matches("^/never-matches$", "/never-matches")).toBe(true);
  });
});
