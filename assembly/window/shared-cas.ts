// Compare-and-swap on Proxy-Wasm shared data, as Envoy implements it (proxy-wasm-cpp-host
// src/shared_data.cc): every value carries a cas number (never 0); a set with a non-zero cas
// that differs from the key's current cas fails with CasMismatch; a set with cas 0 always
// overwrites; a set on a missing key succeeds whatever the cas.
//
// So "create if missing" cannot be expressed with cas 0 (it would overwrite a value another
// worker created meanwhile). A read that found nothing sets with MISSING_KEY_CAS instead: on a
// still-missing key it succeeds; if another worker created the key in between, the key's cas is
// a real one (cpp-host counts up from 1, skipping 0) and differs from this sentinel, so the set
// fails with CasMismatch and the loop re-reads. The sentinel could only collide after 2^32 - 1
// shared-data writes in the process, and then only if that very write was to this key.

export const MISSING_KEY_CAS: u32 = 0xFFFFFFFF;

/** The cas to set with after a read that `found` the key with `cas` (or did not). */
@inline export function casForSet(found: bool, cas: u32): u32 {
  return found ? cas : MISSING_KEY_CAS;
}
