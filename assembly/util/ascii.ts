// ASCII helpers. Header names are ASCII; String#toLowerCase would pull Unicode case tables
// into the module for nothing.

/** Lower-cases A-Z only; returns `s` itself when there is nothing to change. */
export function asciiLower(s: string): string {
  const n = s.length;
  let result = "";
  let start = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) {
      result += s.substring(start, i) + String.fromCharCode(c + 32);
      start = i + 1;
    }
  }
  return start == 0 ? s : result + s.substring(start);
}
