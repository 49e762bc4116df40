// Shim for @solo-io/proxy-runtime 0.1.8, whose malloc.ts imports the reference-counting
// runtime's __retain/__release. AssemblyScript 0.27's runtime keeps objects alive with
// __pin/__unpin instead, which is what a buffer handed to the host needs.

export function __retain(ptr: usize): usize {
  return __pin(ptr);
}

export function __release(ptr: usize): void {
  __unpin(ptr);
}
