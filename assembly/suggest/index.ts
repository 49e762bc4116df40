// "Did you mean" for unknown configuration keys: `enabeld` must be refused
// with a suggestion, never silently ignored.
//
// How the act layer uses it (configuration time only; allocates):
//   unknown key `k` among the known keys of that object (a short, fixed list per object):
//     error = 'settings: unknown setting "' + k + '"' + didYouMean(k, KNOWN_SETTINGS)
// The distance is the optimal-string-alignment form of Damerau-Levenshtein: insertions,
// deletions, substitutions and transpositions of two adjacent characters each cost 1
// (`enabeld` -> `enabled` is one transposition). A candidate is suggested when it is at most
// 2 edits away and closer than the word is long (so "ab" does not suggest "cd"); of several,
// the nearest, then the first listed.

export const MAX_SUGGESTION_DISTANCE: i32 = 2;

/** Optimal string alignment distance between `a` and `b` (UTF-16 code units). */
export function editDistance(a: string, b: string): i32 {
  const n = a.length;
  const m = b.length;
  if (n == 0) return m;
  if (m == 0) return n;
  // three rows: i - 2, i - 1, i
  let prev2 = new StaticArray<i32>(m + 1);
  let prev = new StaticArray<i32>(m + 1);
  let cur = new StaticArray<i32>(m + 1);
  for (let j = 0; j <= m; j++) unchecked(prev[j] = j);
  for (let i = 1; i <= n; i++) {
    unchecked(cur[0] = i);
    const ai = a.charCodeAt(i - 1);
    for (let j = 1; j <= m; j++) {
      const bj = b.charCodeAt(j - 1);
      const cost = ai == bj ? 0 : 1;
      let d = min(unchecked(prev[j]) + 1, unchecked(cur[j - 1]) + 1);
      d = min(d, unchecked(prev[j - 1]) + cost);
      if (i > 1 && j > 1 && ai == b.charCodeAt(j - 2) && a.charCodeAt(i - 2) == bj) {
        d = min(d, unchecked(prev2[j - 2]) + 1);
      }
      unchecked(cur[j] = d);
    }
    const t = prev2;
    prev2 = prev;
    prev = cur;
    cur = t;
  }
  return unchecked(prev[m]);
}

/** The nearest candidate within MAX_SUGGESTION_DISTANCE, or "" when none is near. */
export function nearest(word: string, candidates: string[]): string {
  let best = "";
  let bestDistance = MAX_SUGGESTION_DISTANCE + 1;
  for (let i = 0; i < candidates.length; i++) {
    const c = unchecked(candidates[i]);
    if (c == word) continue;
    // cheap bound: the length difference alone is at least the distance
    if (abs(c.length - word.length) >= bestDistance) continue;
    const d = editDistance(word, c);
    if (d < bestDistance && d < word.length) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** ' (did you mean "enabled"?)' or "", ready to append to an error message. */
export function didYouMean(word: string, candidates: string[]): string {
  const s = nearest(word, candidates);
  return s.length > 0 ? " (did you mean \"" + s + "\"?)" : "";
}
