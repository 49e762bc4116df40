// Sets of code points (0..0x10FFFF), built while parsing a character class or an escape like \d.
// A set is a list of inclusive ranges packed as (lo << 32) | hi, so sorting the packed values
// sorts by lower bound; `normalize` merges them into disjoint ascending ranges. utf8.ts turns a
// set into the byte sequences the compiled program matches.

export const MAX_RUNE: i32 = 0x10ffff;

export class CharSet {
  ranges: Array<u64> = new Array<u64>();

  static of(lo: i32, hi: i32): CharSet {
    const set = new CharSet();
    set.addRange(lo, hi);
    return set;
  }

  addRange(lo: i32, hi: i32): void {
    if (lo < 0) lo = 0;
    if (hi > MAX_RUNE) hi = MAX_RUNE;
    if (lo > hi) return;
    this.ranges.push(pack(lo, hi));
  }

  addChar(c: i32): void {
    this.addRange(c, c);
  }

  addSet(other: CharSet): void {
    const r = other.ranges;
    for (let i = 0; i < r.length; i++) this.ranges.push(r[i]);
  }

  /** Adds the complement of `other` (used for \D, \W, \S and [:^name:] inside a class). */
  addNegatedSet(other: CharSet): void {
    const copy = new CharSet();
    copy.addSet(other);
    copy.negate();
    this.addSet(copy);
  }

  /** Makes ASCII letters match regardless of case: every a-z gets its A-Z twin and back. */
  foldAsciiCase(): void {
    const n = this.ranges.length;
    for (let i = 0; i < n; i++) {
      const lo = rangeLo(this.ranges[i]);
      const hi = rangeHi(this.ranges[i]);
      addShifted(this, lo, hi, 0x61, 0x7a, -32); // a-z -> A-Z
      addShifted(this, lo, hi, 0x41, 0x5a, 32); // A-Z -> a-z
    }
  }

  /** Sorts and merges overlapping or adjacent ranges. */
  normalize(): void {
    const r = this.ranges;
    if (r.length < 2) return;
    // Insertion sort: classes have few ranges, and Array#sort<u64> would add 1 KiB to the module.
    for (let i = 1; i < r.length; i++) {
      const v = r[i];
      let j = i - 1;
      for (; j >= 0 && r[j] > v; j--) r[j + 1] = r[j];
      r[j + 1] = v;
    }
    const merged = new Array<u64>();
    let curLo = rangeLo(r[0]);
    let curHi = rangeHi(r[0]);
    for (let i = 1; i < r.length; i++) {
      const lo = rangeLo(r[i]);
      const hi = rangeHi(r[i]);
      if (lo <= curHi + 1) {
        if (hi > curHi) curHi = hi;
      } else {
        merged.push(pack(curLo, curHi));
        curLo = lo;
        curHi = hi;
      }
    }
    merged.push(pack(curLo, curHi));
    this.ranges = merged;
  }

  /** Replaces the set by its complement over all code points 0..0x10FFFF. */
  negate(): void {
    this.normalize();
    const r = this.ranges;
    const out = new Array<u64>();
    let next = 0;
    for (let i = 0; i < r.length; i++) {
      const lo = rangeLo(r[i]);
      const hi = rangeHi(r[i]);
      if (lo > next) out.push(pack(next, lo - 1));
      next = hi + 1;
    }
    if (next <= MAX_RUNE) out.push(pack(next, MAX_RUNE));
    this.ranges = out;
  }
}

function pack(lo: i32, hi: i32): u64 {
  return (<u64>lo << 32) | <u64>hi;
}

export function rangeLo(packed: u64): i32 {
  return <i32>(packed >>> 32);
}

export function rangeHi(packed: u64): i32 {
  return <i32>(packed & 0xffffffff);
}

function addShifted(set: CharSet, lo: i32, hi: i32, from: i32, to: i32, shift: i32): void {
  const a = lo > from ? lo : from;
  const b = hi < to ? hi : to;
  if (a <= b) set.ranges.push(pack(a + shift, b + shift));
}
// Perl classes, as RE2 defines them (ASCII only; \s does not include \v).
export function digitSet(): CharSet {
  return CharSet.of(0x30, 0x39);
}

export function wordSet(): CharSet {
  const set = CharSet.of(0x30, 0x39);
  set.addRange(0x41, 0x5a);
  set.addChar(0x5f);
  set.addRange(0x61, 0x7a);
  return set;
}

export function spaceSet(): CharSet {
  const set = CharSet.of(0x09, 0x0a); // \t \n
  set.addRange(0x0c, 0x0d); // \f \r
  set.addChar(0x20);
  return set;
}

/** The POSIX class named inside [[:name:]], or null when the name is unknown. */
export function posixSet(name: string): CharSet | null {
  const set = new CharSet();
  if (name == "alnum") {
    set.addRange(0x30, 0x39);
    set.addRange(0x41, 0x5a);
    set.addRange(0x61, 0x7a);
  } else if (name == "alpha") {
    set.addRange(0x41, 0x5a);
    set.addRange(0x61, 0x7a);
  } else if (name == "ascii") {
    set.addRange(0x00, 0x7f);
  } else if (name == "blank") {
    set.addChar(0x09);
    set.addChar(0x20);
  } else if (name == "cntrl") {
    set.addRange(0x00, 0x1f);
    set.addChar(0x7f);
  } else if (name == "digit") {
    set.addRange(0x30, 0x39);
  } else if (name == "graph") {
    set.addRange(0x21, 0x7e);
  } else if (name == "lower") {
    set.addRange(0x61, 0x7a);
  } else if (name == "print") {
    set.addRange(0x20, 0x7e);
  } else if (name == "punct") {
    set.addRange(0x21, 0x2f);
    set.addRange(0x3a, 0x40);
    set.addRange(0x5b, 0x60);
    set.addRange(0x7b, 0x7e);
  } else if (name == "space") {
    set.addRange(0x09, 0x0d);
    set.addChar(0x20);
  } else if (name == "upper") {
    set.addRange(0x41, 0x5a);
  } else if (name == "word") {
    set.addSet(wordSet());
  } else if (name == "xdigit") {
    set.addRange(0x30, 0x39);
    set.addRange(0x41, 0x46);
    set.addRange(0x61, 0x66);
  } else {
    return null;
  }
  return set;
}
