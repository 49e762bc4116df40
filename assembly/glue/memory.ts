// The host hands every returned buffer (header values, properties, bodies) to the module
// through `malloc`; Envoy refuses a module that does not export it. Buffers are pinned so the
// garbage collector leaves them alone until the module has copied what it needs and frees them.
//
// The module uses AssemblyScript's minimal runtime: a two-colour mark & sweep collector that
// runs only when asked, and no shadow stack (the incremental runtime's shadow stack made the
// module 40 % larger and every call slower). Collection is safe only when no managed value
// lives on the Wasm stack alone, which is true at the very end of a host callback; the ABI
// glue calls `collectIfDue` there. Pressure is estimated from what the host hands in (and what
// the plugin allocates per faulted request), so a busy proxy collects every few thousand
// requests and an idle one never.

import { regexGarbageCollected } from "../regex/index";

/** Collect once this many (estimated) bytes were allocated since the last collection. */
const GC_THRESHOLD: usize = 512 * 1024;
let pressure: usize = 0;

// Most values the host hands in (a `:path`, a header) are small and read at once. They go to
// one static scratch area instead of a fresh allocation, so a request that matches nothing
// allocates nothing. Whoever receives a buffer must `releaseHostBuffer` it before the next
// host call that returns one; a second buffer while the scratch is taken is allocated.
const SCRATCH_SIZE: usize = 4096;
const scratch: usize = memory.data(<i32>SCRATCH_SIZE, 16);
let scratchInUse = false;

export function malloc(size: usize): usize {
  if (size <= SCRATCH_SIZE && !scratchInUse) {
    scratchInUse = true;
    return scratch;
  }
  pressure += size * 3 + 48; // the buffer, and the string usually decoded from it
  return __pin(changetype<usize>(new ArrayBuffer(<i32>size)));
}

export function free(ptr: usize): void {
  releaseHostBuffer(ptr);
}

/** Done with a buffer the host handed in (scratch or allocated). */
export function releaseHostBuffer(ptr: usize): void {
  if (ptr == scratch) scratchInUse = false;
  else if (ptr != 0) __unpin(ptr);
}

/** Takes ownership of a host-handed buffer as an ArrayBuffer (copied out of the scratch). */
export function adoptHostBuffer(ptr: usize, size: usize): ArrayBuffer {
  if (ptr == 0) return new ArrayBuffer(0);
  if (ptr == scratch) {
    const copy = new ArrayBuffer(<i32>size);
    pressure += size + 32;
    memory.copy(changetype<usize>(copy), ptr, size);
    scratchInUse = false;
    return copy;
  }
  const buffer = changetype<ArrayBuffer>(ptr);
  __unpin(ptr);
  return buffer;
}

/** Counts an allocation the plugin makes itself (e.g. per faulted request). */
export function notePressure(bytes: usize): void {
  pressure += bytes;
}

/** A collection at least this often (in callbacks that may collect), whatever the estimate
 * says: a safety net should some allocation go uncounted. */
const CALLS_BETWEEN_COLLECTIONS: u32 = 1 << 17;
let callsSinceCollection: u32 = 0;

/** Call only as the last step of a host callback (see above). */
export function collectIfDue(): void {
  if (pressure < GC_THRESHOLD && ++callsSinceCollection < CALLS_BETWEEN_COLLECTIONS) return;
  collectNow();
}

/** After work that leaves much garbage behind (parsing a configuration or policy set). */
export function collectNow(): void {
  pressure = 0;
  callsSinceCollection = 0;
  __collect();
  regexGarbageCollected();
}
