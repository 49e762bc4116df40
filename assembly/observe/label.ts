// A policy name as the `hfi_policy` segment of a stat name. Names made of ASCII letters,
// digits, `_`, `-` and single inner dots pass unchanged. Anything else is escaped as JavaScript's
// escape() does (`%XX` for other ASCII, `%uXXXX` for other UTF-16 units; unescape() reverses it),
// and so are a leading, trailing or doubled dot (Envoy's stat tokens cannot carry an empty
// token) and the last `_` of a name ending in `_rq_NNN` or `_rq_Nxx` (`%5F`: Envoy's built-in
// response-code extractors would cut that part). See docs/metrics.md ("Policy names in labels").

import { JsonWriter } from "../json/writer";

const HEX = "0123456789ABCDEF";

export function policyLabel(name: string): string {
  const n = name.length;
  const rq = responseCodeTail(name);
  // One buffer for the whole label: appending to a string would copy it at every character.
  const out = new JsonWriter();
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if (i != rq && keeps(name, i, c)) {
      out.writeUnit(<u16>c);
    } else {
      out.writeUnit(0x25); // %
      if (c >= 256) {
        out.writeUnit(0x75); // u
        out.writeUnit(hex(c >> 12));
        out.writeUnit(hex(c >> 8));
      }
      out.writeUnit(hex(c >> 4));
      out.writeUnit(hex(c));
    }
  }
  return out.toString();
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
