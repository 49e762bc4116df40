// Numbers in error messages: what the user wrote, not AssemblyScript's f64 spelling
// ("50", not "50.0"), so a message can quote the configuration back.

/** An integral value without a fraction part; anything else as f64#toString. */
export function formatNumber(x: f64): string {
  if (isFinite(x) && x == Math.floor(x) && Math.abs(x) < 9007199254740992.0) {
    return (<i64>x).toString();
  }
  return x.toString();
}
