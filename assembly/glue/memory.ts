// The host hands every returned buffer (header values, properties, bodies) to the module
// through `malloc`; Envoy refuses a module that does not export it. Buffers are pinned so the
// garbage collector leaves them alone until the module has copied what it needs and frees them.

export function malloc(size: usize): usize {
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
