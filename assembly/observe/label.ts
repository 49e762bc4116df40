// A policy name as the `hfi_policy` segment of a stat name. Names made of ASCII letters,
// digits, `_`, `-` and single inner dots pass unchanged. Anything else is escaped as JavaScript's
// escape() does (`%XX` for other ASCII, `%uXXXX` for other UTF-16 units; unescape() reverses it),
// and so are a leading, trailing or doubled dot (Envoy's stat tokens cannot carry an empty
// token) and the last `_` of a name ending in `_rq_NNN` or `_rq_Nxx` (`%5F`: Envoy's built-in
// response-code extractors would cut that part). See docs/metrics.md ("Policy names in labels").

const HEX = "0123456789ABCDEF";

export function policyLabel(name: string): string {
  const n = name.length;
  const rq = responseCodeTail(name);
  // Two passes: the label's length, then its units written once into a string of that size
  // (a set of thousands of long names labels them all in one callback, with no garbage).
  let size = 0;
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    size += i != rq && keeps(name, i, c) ? 1 : c < 256 ? 3 : 6;
  }
  if (size == n) return name;
  const out = changetype<string>(__new(<usize>size << 1, idof<string>()));
  let p = changetype<usize>(out);
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if (i != rq && keeps(name, i, c)) {
      store<u16>(p, <u16>c);
      p += 2;
      continue;
    }
    store<u16>(p, 0x25); // %
    p += 2;
    if (c >= 256) {
      store<u16>(p, 0x75); // u
      store<u16>(p + 2, hex(c >> 12));
      store<u16>(p + 4, hex(c >> 8));
      p += 6;
    }
    store<u16>(p, hex(c >> 4));
    store<u16>(p + 2, hex(c));
    p += 4;
  }
  return out;
}

@inline function hex(v: i32): u16 {
  return <u16>HEX.charCodeAt(v & 15);
}

function keeps(s: string, i: i32, c: i32): bool {
  if (c == 46 /* . */) return i > 0 && i < s.length - 1 && s.charCodeAt(i - 1) != 46;
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c == 95 || c == 45;
}

/** Index of the `_` before the code in a name ending `_rq_NNN` / `_rq_Nxx`, else -1. */
function responseCodeTail(s: string): i32 {
  const u = s.length - 4;
  if (u < 3 || s.substring(u - 3, u + 1) != "_rq_" || !digit(s, u + 1)) return -1;
  const xx = s.charCodeAt(u + 2) == 120 && s.charCodeAt(u + 3) == 120;
  return xx || (digit(s, u + 2) && digit(s, u + 3)) ? u : -1;
}

function digit(s: string, i: i32): bool {
  const c = s.charCodeAt(i);
  return c >= 48 && c <= 57;
}
