// The regex engine alone, for the regex bench: compile a pattern, then search byte buffers the
// way the matchers call it (Regex.matchesBytes), with no host in between.
import { compileNfa, compileRegex, Regex } from "../../assembly/regex/index";
import { Nfa } from "../../assembly/regex/nfa";

let current: Regex | null = null;
let lastError = "";

/** A buffer for the host to write into (kept alive: it is referenced by `buffers`). */
const buffers = new Array<ArrayBuffer>();
export function alloc(size: i32): usize {
  const b = new ArrayBuffer(size);
  buffers.push(b);
  return changetype<usize>(b);
}

/** Compiles the UTF-8 pattern at ptr; 1 if accepted, 0 if refused (see errorLength/errorPtr). */
export function compile(ptr: usize, length: i32): i32 {
  const r = compileRegex(String.UTF8.decodeUnsafe(ptr, <usize>length));
  current = r.regex;
  lastError = r.error;
  return r.regex === null ? 0 : 1;
}

export function search(ptr: usize, length: i32): i32 {
  const re = current;
  return re !== null && re.matchesBytes(ptr, length) ? 1 : 0;
}

/** Searches `times` times (one call from the host: no crossing cost in the figure). */
export function searchTimes(ptr: usize, length: i32, times: i32): i32 {
  const re = current;
  if (re === null) return 0;
  let found = 0;
  for (let i = 0; i < times; i++) if (re.matchesBytes(ptr, length)) found++;
  return found;
}

export function dfaStates(): i32 {
  const re = current;
  return re === null ? 0 : re.dfaStates;
}

export function error(): usize {
  const e = String.UTF8.encode(lastError, true);
  buffers.push(e);
  return changetype<usize>(e);
}

// The Pike VM on the same program, to measure its cost per instruction per byte (docs/regex.md).
let nfa: Nfa | null = null;
export function compileNfaOnly(ptr: usize, length: i32): i32 {
  nfa = compileNfa(String.UTF8.decodeUnsafe(ptr, <usize>length));
  return nfa === null ? 0 : nfa!.programLength;
}

export function nfaSearch(ptr: usize, length: i32): i32 {
  const n = nfa;
  return n !== null && n.search(ptr, length) ? 1 : 0;
}
