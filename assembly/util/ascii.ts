// ASCII helpers. Header names are ASCII; String#toLowerCase would pull Unicode case tables
// into the module for nothing.

/** Lower-cases A-Z only; returns `s` itself when there is nothing to change. Linear: one copy
 * of `s`, changed in place. */
export function asciiLower(s: string): string {
  const n = s.length;
  let first = -1;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) {
      first = i;
      break;
    }
  }
  if (first < 0) return s;
  const units = new Uint16Array(n);
  memory.copy(units.dataStart, changetype<usize>(s), <usize>n << 1);
  for (let i = first; i < n; i++) {
    const c = unchecked(units[i]);
    if (c >= 65 && c <= 90) unchecked((units[i] = c + 32));
  }
  return String.UTF16.decodeUnsafe(units.dataStart, <usize>n << 1);
}
