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

/** Collect once this many (estimated) bytes were allocated since the last collection. */
const GC_THRESHOLD: usize = 512 * 1024;
let pressure: usize = 0;

export function malloc(size: usize): usize {
  pressure += size * 3 + 48; // the buffer, and the string usually decoded from it
  return __pin(changetype<usize>(new ArrayBuffer(<i32>size)));
}

export function free(ptr: usize): void {
  if (ptr != 0) __unpin(ptr);
}

/** Takes ownership of a host-allocated buffer: unpins it so the GC reclaims it once unused. */
export function adoptHostBuffer(ptr: usize, size: usize): ArrayBuffer {
  if (ptr == 0 || size == 0) {
    if (ptr != 0) __unpin(ptr);
    return new ArrayBuffer(0);
  }
  const buffer = changetype<ArrayBuffer>(ptr);
  __unpin(ptr);
  return buffer;
}

/** Counts an allocation the plugin makes itself (e.g. per faulted request). */
export function notePressure(bytes: usize): void {
  pressure += bytes;
}

/** Call only as the last step of a host callback (see above). */
export function collectIfDue(): void {
  if (pressure < GC_THRESHOLD) return;
  pressure = 0;
  __collect();
}

/** After work that leaves much garbage behind (parsing a configuration or policy set). */
export function collectNow(): void {
  pressure = 0;
  __collect();
}
