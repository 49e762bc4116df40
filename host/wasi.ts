/**
 * WASI functions under wasi_unstable and wasi_snapshot_preview1, as proxy-wasm-cpp-host provides
 * them: stdout/stderr go to the log (info/error), clocks and random work, environ carries
 * vm_config env vars, args are empty, proc_exit ends the VM, and the file and socket functions
 * return the same errno as Envoy's stubs.
 */
import { LogLevel } from "./abi";
import { START_ALLOWED_IMPORTS, WASI_IMPORTS, WASI_MODULES } from "./abi";
import { randomFillSync } from "node:crypto";
import { ModuleTrap, type WasmVm } from "./vm";
import { nanosFromMs } from "./host-calls";

const ESUCCESS = 0;
const EBADF = 8;
const EFAULT = 21;
const EINVAL = 28;
const ENOENT = 44;
const ENOSYS = 52;
const ENOTSUP = 58;
const ENOTDIR = 20;

type WasiFn = (...args: never[]) => number | void;

export function buildWasiImports(vm: WasmVm): Record<string, Record<string, WasiFn>> {
  const env = Object.entries(vm.options.env ?? {}).map(([k, v]) => Buffer.from(`${k}=${v}\0`));
  const stdio = (fd: number): boolean => fd === 1 || fd === 2;

  const writev = (fd: number, iovs: number, iovsLen: number, nwrittenPtr: number): number => {
    if (!stdio(fd)) return EBADF;
    const parts: Buffer[] = [];
    for (let i = 0; i < iovsLen; i++) {
      const iov = vm.read(iovs + i * 8, 8);
      if (!iov) return EFAULT;
      const dv = new DataView(iov.buffer, iov.byteOffset, 8);
      const ptr = dv.getUint32(0, true);
      const len = dv.getUint32(4, true);
      if (len === 0) continue;
      const data = vm.read(ptr, len);
      if (!data) return EFAULT;
      parts.push(Buffer.from(data));
    }
    const text = Buffer.concat(parts);
    if (text.length > 0) {
      const message = text.toString("utf8").replace(/\n$/, "");
      vm.log.write(fd === 1 ? LogLevel.Info : LogLevel.Error, () => message, "module", vm.currentContextId(), vm.clock.now(), vm.label);
    }
    return vm.writeU32(nwrittenPtr, text.length) ? ESUCCESS : EFAULT;
  };

  const impl: Record<string, WasiFn> = {
    fd_write: writev,
    fd_pwrite: (fd: number, iovs: number, len: number, _off: bigint, nw: number) => writev(fd, iovs, len, nw),
    fd_read: () => ENOSYS,
    fd_seek: () => ESUCCESS,
    fd_close: () => ESUCCESS,
    fd_fdstat_get(fd: number, out: number): number {
      if (!stdio(fd)) return EBADF;
      const b = Buffer.alloc(24);
      b.writeBigUInt64LE(64n, 8);
      vm.writeBytes(out, b);
      return ESUCCESS;
    },
    fd_fdstat_set_flags: () => ENOSYS,
    fd_fdstat_set_rights: (fd: number) => (stdio(fd) ? ESUCCESS : EBADF),
    environ_get(arrayPtr: number, bufPtr: number): number {
      for (const e of env) {
        if (!vm.writeU32(arrayPtr, bufPtr) || !vm.writeBytes(bufPtr, e)) return EFAULT;
        bufPtr += e.length;
        arrayPtr += 4;
      }
      return ESUCCESS;
    },
    environ_sizes_get(countPtr: number, sizePtr: number): number {
      const size = env.reduce((n, e) => n + e.length, 0);
      return vm.writeU32(countPtr, env.length) && vm.writeU32(sizePtr, size) ? ESUCCESS : EFAULT;
    },
    args_get: () => ESUCCESS,
    args_sizes_get: (argc: number, bufSize: number) => (vm.writeU32(argc, 0) && vm.writeU32(bufSize, 0) ? ESUCCESS : EFAULT),
    clock_time_get(id: number, _precision: bigint, out: number): number {
      let ns: bigint;
      if (id === 0) ns = nanosFromMs(vm.clock.now());
      else if (id === 1) ns = nanosFromMs(vm.clock.monotonic());
      else return ENOTSUP;
      return vm.writeU64(out, ns) ? ESUCCESS : EFAULT;
    },
    clock_res_get: (id: number, out: number) => (id > 1 ? ENOTSUP : vm.writeU64(out, 1n) ? ESUCCESS : EFAULT),
    fd_advise: () => ESUCCESS,
    fd_allocate: (fd: number) => (stdio(fd) ? ESUCCESS : EBADF),
    fd_datasync: (fd: number) => (stdio(fd) ? ESUCCESS : EBADF),
    fd_filestat_set_size: (fd: number) => (stdio(fd) ? ESUCCESS : EBADF),
    fd_filestat_set_times: (fd: number) => (stdio(fd) ? ESUCCESS : EBADF),
    fd_pread: () => ENOSYS,
    fd_readdir: (_fd: number, _b: number, _l: number, _c: bigint, nread: number) => (vm.writeU32(nread, 0), ENOTDIR),
    fd_renumber: (fd: number, to: number) => (stdio(fd) && stdio(to) ? ENOTSUP : EBADF),
    fd_sync: (fd: number) => (stdio(fd) ? ESUCCESS : EBADF),
    fd_tell: (fd: number, out: number) => (!stdio(fd) ? EBADF : vm.writeU64(out, 0n) ? ESUCCESS : EFAULT),
    path_create_directory: () => ENOTSUP,
    path_filestat_set_times: () => ENOTSUP,
    path_link: () => ENOTSUP,
    path_readlink: (_a: number, _b: number, _c: number, _d: number, _e: number, out: number) => (vm.writeU32(out, 0), ENOTSUP),
    path_remove_directory: () => ENOTSUP,
    path_rename: () => ENOTSUP,
    path_symlink: () => ENOTSUP,
    path_unlink_file: () => ENOTSUP,
    sock_accept: (_fd: number, _f: number, out: number) => (vm.writeU32(out, 0), ENOTSUP),
    sock_recv: (_a: number, _b: number, _c: number, _d: number, out0: number, out1: number) => (vm.writeU32(out0, 0), vm.writeBytes(out1, new Uint8Array(2)), ENOTSUP),
    sock_send: (_a: number, _b: number, _c: number, _d: number, out: number) => (vm.writeU32(out, 0), ENOTSUP),
    sock_shutdown: () => ENOTSUP,
    random_get(ptr: number, len: number): number {
      if (len > 64 * 1024) return EINVAL;
      if (len === 0) return ESUCCESS;
      return vm.writeBytes(ptr, randomFillSync(new Uint8Array(len))) ? ESUCCESS : EFAULT;
    },
    sched_yield: () => ESUCCESS,
    poll_oneoff: (_in: number, _out: number, _n: number, nevents: number) => (vm.writeU32(nevents, 0) ? ESUCCESS : EFAULT),
    proc_exit(code: number): void {
      throw new ModuleTrap(`proc_exit(${code})`);
    },
    path_open: () => ENOENT,
    fd_prestat_get: () => EBADF,
    fd_prestat_dir_name: () => ENOSYS,
    path_filestat_get: () => ENOTSUP,
    fd_filestat_get: () => EBADF,
  };

  const out: Record<string, Record<string, WasiFn>> = {};
  for (const mod of WASI_MODULES) {
    out[mod] = {};
    for (const name of Object.keys(WASI_IMPORTS)) {
      const fn = impl[name] as (...args: unknown[]) => number | void;
      const counter = vm.counterFor(`${mod}.${name}`);
      const allowedAtStart = START_ALLOWED_IMPORTS.has(`${mod}.${name}`);
      out[mod][name] = ((...args: unknown[]) => {
        counter.n++;
        if (vm.restricted && !allowedAtStart) throw new ModuleTrap("restricted_callback");
        return fn(...args);
      }) as WasiFn;
    }
  }
  return out;
}
