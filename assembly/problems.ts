// Configuration problems, reported once per proxy. Envoy configures every new plugin
// configuration first in a throwaway canary VM and then in each worker VM, all sharing one
// stats scope and one log, and every worker fetches the same control-plane answer: counted and
// logged by each VM, one bad rule would read N+1 times. The first VM to see an input claims it
// in shared data (the hash of its bytes, set by compare-and-swap), counts its problems and logs
// them at warn; the others find the hash there and log at debug. Claims go to one of a fixed
// number of keys per kind, which hold the last hash claimed: inputs that keep changing (a
// control plane's answers) reuse the keys instead of adding one each.
import { getSharedI64, setSharedI64, sharedCas, WasmResult } from "./glue/host";

/** Keys per kind: distinct inputs reported at the same time rarely share one. */
const SLOTS_PER_KIND: u64 = 64;

/** True for the first VM of the proxy to report this input (and where shared data fails). An
 * input of `size` bytes of which only the start was read is known by that start and its size. */
export function firstToReport(kind: string, input: ArrayBuffer, size: u32 = input.byteLength): bool {
  const hash = fnv1a64(input) ^ <u64>size;
  const key = String.UTF8.encode("hfi.reported." + kind + "." + (hash % SLOTS_PER_KIND).toString());
  if (getSharedI64(key) == <i64>hash) return false;
  return setSharedI64(key, <i64>hash, sharedCas) != WasmResult.CasMismatch;
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
