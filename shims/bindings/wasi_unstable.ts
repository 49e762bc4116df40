// Shim for @solo-io/proxy-runtime 0.1.8, which imports `proc_exit` from a std module that
// AssemblyScript 0.27 no longer ships. Resolved through `asc --lib shims`.
// Envoy registers proc_exit under both WASI module names; we bind the current one.

// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "proc_exit")
export declare function proc_exit(rval: u32): void;
