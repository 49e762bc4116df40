// A shared-data store with Envoy's compare-and-swap semantics (proxy-wasm-cpp-host
// src/shared_data.cc): values carry a cas that starts at 1 and goes up on every set; a set with
// a non-zero cas that differs from the key's current cas fails with CasMismatch; a set on a
// missing key succeeds whatever the cas. Used to run the budgets' CAS loops under simulated
// interleavings of several worker VMs.

export const enum SetResult { Ok = 0, CasMismatch = 1 }

export class FakeSharedData {
  private values: Map<string, ArrayBuffer> = new Map();
  private cases: Map<string, u32> = new Map();
  private nextCas: u32 = 1;
  mismatches: i32 = 0;

  has(key: string): bool { return this.values.has(key); }

  /** A copy of the value, or null when missing. */
  get(key: string): ArrayBuffer | null {
    if (!this.values.has(key)) return null;
    return this.values.get(key).slice(0);
  }

  cas(key: string): u32 {
    return this.cases.has(key) ? this.cases.get(key) : 0;
  }

  set(key: string, value: ArrayBuffer, cas: u32): SetResult {
    if (this.values.has(key) && cas != 0 && cas != this.cases.get(key)) {
      this.mismatches++;
      return SetResult.CasMismatch;
    }
    this.values.set(key, value.slice(0));
    this.cases.set(key, this.nextCas++);
    return SetResult.Ok;
  }
}
