// Byte values in Proxy-Wasm shared data, for the compare-and-swap loops of the guard and the
// blast-radius cap (see window/shared-cas.ts for why a missing key is set with a sentinel cas).
import * as abi from "@solo-io/proxy-runtime/assembly/imports";
import { adoptHostBuffer, releaseHostBuffer } from "../glue/memory";
import { WasmResult } from "../glue/host";
import { casForSet } from "../window/shared-cas";

/** Tries before a CAS loop gives up (the step is then not applied). */
export const MAX_CAS_TRIES: i32 = 8;

const outPtr = memory.data(8);
const outSize = memory.data(8);
const outCas = memory.data(8);

/** The cas to set with after the last `readShared` (the sentinel when the key was missing). */
export let readCas: u32 = 0;
/** Whether the last `readShared` failed for another reason than a missing key. */
export let readFailed: bool = false;

/** The value of `key`, or null when it is missing (or the host failed: see readFailed). */
export function readShared(key: ArrayBuffer): ArrayBuffer | null {
  store<usize>(outPtr, 0);
  store<usize>(outSize, 0);
  store<u32>(outCas, 0);
  const r = abi.proxy_get_shared_data(changetype<usize>(key), key.byteLength, outPtr, outSize, outCas);
  const ptr = load<usize>(outPtr);
  readFailed = r != WasmResult.Ok && r != WasmResult.NotFound;
  readCas = casForSet(r == WasmResult.Ok, load<u32>(outCas));
  if (r != WasmResult.Ok) {
    releaseHostBuffer(ptr);
    return null;
  }
  return adoptHostBuffer(ptr, load<usize>(outSize));
}

/** Sets `key` if nobody moved it since the last read: Ok, CasMismatch or a host error. */
export function writeShared(key: ArrayBuffer, value: ArrayBuffer): u32 {
  return abi.proxy_set_shared_data(changetype<usize>(key), key.byteLength, changetype<usize>(value), value.byteLength, readCas);
}
