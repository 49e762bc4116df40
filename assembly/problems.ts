// Configuration problems, reported once per proxy. Envoy configures every new plugin
// configuration first in a throwaway canary VM and then in each worker VM, all sharing one
// stats scope and one log, and every worker fetches the same control-plane answer: counted and
// logged by each VM, one bad rule would read N+1 times. The first VM to see an input claims it
// in shared data (a key made from a hash of its bytes; the claim is a create-only
// compare-and-swap), counts its problems and logs them at warn; the others log at debug.
import { CAS_CREATE_ONLY, setSharedI64, WasmResult } from "./glue/host";

/** True for the first VM of the proxy to report this input (and where shared data fails). */
export function firstToReport(kind: string, input: ArrayBuffer): bool {
  const key = String.UTF8.encode("hfi.reported." + kind + "." + input.byteLength.toString() + "." + fnv1a64(input).toString(16));
  return setSharedI64(key, 1, CAS_CREATE_ONLY) != WasmResult.CasMismatch;
}

/** FNV-1a over bytes. */
function fnv1a64(input: ArrayBuffer): u64 {
  let h: u64 = 0xcbf29ce484222325;
  const base = changetype<usize>(input);
  const n = <usize>input.byteLength;
  for (let i: usize = 0; i < n; i++) {
    h ^= <u64>load<u8>(base + i);
    h *= 0x100000001b3;
  }
  return h;
}
