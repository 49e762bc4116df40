/**
 * The env.* host functions, one per ABI import, with Envoy's argument checks and return codes.
 * Everything handed back to the module is allocated with the module's malloc. gRPC and foreign
 * functions are not provided by this host: they return Unimplemented / NotFound and say so in
 * the log, never pretend to succeed.
 */
import {
  BUFFER_TYPE_MAX,
  HEADER_MAP_TYPE_MAX,
  HeaderMapType,
  LogLevel,
  MetricType,
  START_ALLOWED_IMPORTS,
  WasmResult,
  registeredImports,
  type AbiVersion,
} from "./abi";
import type { Context } from "./context";
import { decodePairs, encodePairs, type HeaderMap } from "./headers";
import { Counter, Gauge, Histogram } from "./metrics";
import { resolveProperty, serializeProperty, splitPath } from "./properties";
import type { RootContext } from "./root";
import type { HttpStream } from "./stream";
import { ModuleTrap, type WasmVm } from "./vm";

type HostFn = (...args: never[]) => number | void;

/** 0.1.0 numbers its header maps differently (it has GrpcCreateInitialMetadata at 4). */
function mapType(abi: AbiVersion, type: number): HeaderMapType | undefined {
  type >>>= 0;
  if (abi !== "0.1.0") return type > HEADER_MAP_TYPE_MAX ? undefined : (type as HeaderMapType);
  if (type <= 3) return type as HeaderMapType;
  if (type === 4 || type > 8) return undefined;
  return (type - 1) as HeaderMapType;
}

export function buildEnvImports(vm: WasmVm): Record<string, HostFn> {
  const abi = vm.abi;
  const ctx = (): Context => vm.context();
  const root = (): RootContext => vm.context().root;
  const str = (p: number, n: number): string | undefined => vm.readString(p, n);

  // The last clock reading as nanoseconds: the conversion is exact but not free, and the
  // clock often reads the same between calls.
  let lastMs = Number.NaN;
  let lastNanos = 0n;

  /** add/replace a header in a writable map: the checks Envoy makes, then `write`. */
  const setHeader = (type: number, kp: number, ks: number, vp: number, vs: number, write: (map: HeaderMap, key: string, value: string) => void): number => {
    const t = mapType(abi, type);
    if (t === undefined) return WasmResult.BadArgument;
    const key = str(kp, ks);
    const value = str(vp, vs);
    if (key === undefined || value === undefined) return WasmResult.InvalidMemoryAccess;
    const map = ctx().writableMap(t);
    if (!map) return WasmResult.BadArgument;
    write(map, key, value);
    return WasmResult.Ok;
  };

  const unimplemented = (name: string) => (): number => {
    vm.hostLog(LogLevel.Warn, `${name} is not implemented by this host (Envoy would perform it)`);
    return WasmResult.Unimplemented;
  };

  const impl: Record<string, HostFn> = {
    proxy_log(level: number, ptr: number, size: number): number {
      if (level > LogLevel.Critical) return WasmResult.BadArgument;
      if (!vm.inBounds(ptr, size)) return WasmResult.InvalidMemoryAccess;
      // Below the level: counted, and no text built (no closure either).
      if (vm.log.drop(level, "module")) return WasmResult.Ok;
      vm.log.write(level, () => vm.readUtf8(ptr, size)!, "module", vm.currentContextId(), vm.clock.now(), vm.label);
      return WasmResult.Ok;
    },
    proxy_get_log_level(ptr: number): number {
      return vm.writeU32(ptr, vm.log.threshold) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_get_status(codePtr: number, ptrPtr: number, sizePtr: number): number {
      const status = root().status;
      if (!vm.writeU32(codePtr, status.code)) return WasmResult.InvalidMemoryAccess;
      return vm.copyOut(Buffer.from(status.message), ptrPtr, sizePtr) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_set_property(kp: number, ks: number, vp: number, vs: number): number {
      const key = vm.read(kp, ks);
      const value = vm.read(vp, vs);
      if (!key || !value) return WasmResult.InvalidMemoryAccess;
      const c = ctx();
      const state = c.filterState;
      if (!state) return WasmResult.NotFound;
      const name = Buffer.from(key).toString("latin1");
      state.set(name, Uint8Array.from(value));
      // Only a stream has filter state (a root context answered NotFound above).
      vm.observer?.filterState?.(c as HttpStream, name, Uint8Array.from(value));
      return WasmResult.Ok;
    },
    proxy_get_property(pp: number, ps: number, ptrPtr: number, sizePtr: number): number {
      const path = vm.read(pp, ps);
      if (!path) return WasmResult.InvalidMemoryAccess;
      const c = ctx();
      const value = resolveProperty(splitPath(path), (n) => c.propertyTop(n), c.filterState);
      if (value === undefined) return WasmResult.NotFound;
      const bytes = serializeProperty(value);
      if (typeof bytes === "number") return bytes;
      return vm.copyOut(bytes, ptrPtr, sizePtr) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_send_local_response(code: number, dp: number, ds: number, bp: number, bs: number, hp: number, hs: number, grpc: number): number {
      const details = str(dp, ds);
      const body = vm.read(bp, bs);
      const headers = vm.read(hp, hs);
      if (details === undefined || !body || !headers) return WasmResult.InvalidMemoryAccess;
      const grpcStatus = grpc >>> 0 <= 16 ? grpc >>> 0 : undefined;
      ctx().sendLocalResponse({ status: code >>> 0, body: Buffer.from(body), details, grpcStatus, additionalHeaders: decodePairs(headers) });
      vm.stopNextIteration = true;
      return WasmResult.Ok;
    },
    proxy_get_shared_data(kp: number, ks: number, ptrPtr: number, sizePtr: number, casPtr: number): number {
      const key = str(kp, ks);
      if (key === undefined) return WasmResult.InvalidMemoryAccess;
      const r = vm.shared.getData(vm.vmId, key);
      if (typeof r === "number") return r;
      if (!vm.copyOut(r.value, ptrPtr, sizePtr)) return WasmResult.InvalidMemoryAccess;
      return vm.writeU32(casPtr, r.cas) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_set_shared_data(kp: number, ks: number, vp: number, vs: number, cas: number): number {
      const key = str(kp, ks);
      const value = vm.read(vp, vs);
      if (key === undefined || !value) return WasmResult.InvalidMemoryAccess;
      return vm.shared.setData(vm.vmId, key, value, cas >>> 0);
    },
    proxy_register_shared_queue(np: number, ns: number, tokenPtr: number): number {
      const name = str(np, ns);
      if (name === undefined) return WasmResult.InvalidMemoryAccess;
      const r = root();
      const token = vm.shared.registerQueue(vm.vmId, name, (t) =>
        vm.clock.schedule(0, () => {
          if (r.deleted) return;
          vm.call(r, "proxy_on_queue_ready", r.id, t);
          vm.runAfterCallActions();
        }),
      );
      return vm.writeU32(tokenPtr, token) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_resolve_shared_queue(vp: number, vs: number, np: number, ns: number, tokenPtr: number): number {
      const vmId = str(vp, vs);
      const name = str(np, ns);
      if (vmId === undefined || name === undefined) return WasmResult.InvalidMemoryAccess;
      const token = vm.shared.resolveQueue(vmId === "" ? vm.vmId : vmId, name);
      if (token === 0) return WasmResult.NotFound;
      return vm.writeU32(tokenPtr, token) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_dequeue_shared_queue(token: number, ptrPtr: number, sizePtr: number): number {
      const r = vm.shared.dequeue(token >>> 0);
      if (typeof r === "number") return r;
      return vm.copyOut(r, ptrPtr, sizePtr) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_enqueue_shared_queue(token: number, dp: number, ds: number): number {
      const data = vm.read(dp, ds);
      if (!data) return WasmResult.InvalidMemoryAccess;
      return vm.shared.enqueue(token >>> 0, data);
    },
    proxy_get_header_map_value(type: number, kp: number, ks: number, ptrPtr: number, sizePtr: number): number {
      const t = mapType(abi, type);
      if (t === undefined) return WasmResult.BadArgument;
      const key = str(kp, ks);
      if (key === undefined) return WasmResult.InvalidMemoryAccess;
      const c = ctx();
      const map = c.readableMap(t);
      if (!map) {
        if (c.accessLogPhase) return abi === "0.1.0" ? (vm.copyOut(new Uint8Array(0), ptrPtr, sizePtr), WasmResult.Ok) : WasmResult.NotFound;
        return WasmResult.BadArgument;
      }
      const value = map.get(key);
      if (value === undefined) {
        if (abi !== "0.1.0") return WasmResult.NotFound;
        return vm.copyOut(new Uint8Array(0), ptrPtr, sizePtr) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
      }
      return vm.copyOutString(value, ptrPtr, sizePtr) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_add_header_map_value(type: number, kp: number, ks: number, vp: number, vs: number): number {
      return setHeader(type, kp, ks, vp, vs, (map, key, value) => map.add(key, value));
    },
    proxy_replace_header_map_value(type: number, kp: number, ks: number, vp: number, vs: number): number {
      return setHeader(type, kp, ks, vp, vs, (map, key, value) => map.replace(key, value));
    },
    proxy_remove_header_map_value(type: number, kp: number, ks: number): number {
      const t = mapType(abi, type);
      if (t === undefined) return WasmResult.BadArgument;
      const key = str(kp, ks);
      if (key === undefined) return WasmResult.InvalidMemoryAccess;
      const map = ctx().writableMap(t);
      if (!map) return WasmResult.BadArgument;
      map.remove(key);
      return WasmResult.Ok;
    },
    proxy_get_header_map_pairs(type: number, ptrPtr: number, sizePtr: number): number {
      const t = mapType(abi, type);
      if (t === undefined) return WasmResult.BadArgument;
      const map = ctx().readableMap(t);
      const pairs = map ? map.pairs() : [];
      const data = pairs.length === 0 ? new Uint8Array(0) : encodePairs(pairs);
      return vm.copyOut(data, ptrPtr, sizePtr) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_set_header_map_pairs(type: number, ptr: number, size: number): number {
      const t = mapType(abi, type);
      if (t === undefined) return WasmResult.BadArgument;
      const data = vm.read(ptr, size);
      if (!data) return WasmResult.InvalidMemoryAccess;
      const map = ctx().writableMap(t);
      if (!map) return WasmResult.BadArgument;
      map.setPairs(decodePairs(data));
      return WasmResult.Ok;
    },
    proxy_get_header_map_size(type: number, sizePtr: number): number {
      const t = mapType(abi, type);
      if (t === undefined) return WasmResult.BadArgument;
      const map = ctx().writableMap(t);
      if (!map) return WasmResult.BadArgument;
      return vm.writeU32(sizePtr, map.byteSize) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_get_buffer_status(type: number, lengthPtr: number, flagsPtr: number): number {
      if (type >>> 0 > BUFFER_TYPE_MAX) return WasmResult.BadArgument;
      const buffer = ctx().buffer(type);
      if (!buffer) return WasmResult.NotFound;
      if (!vm.writeU32(lengthPtr, buffer.size)) return WasmResult.InvalidMemoryAccess;
      return vm.writeU32(flagsPtr, 0) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_get_buffer_bytes(type: number, start: number, length: number, ptrPtr: number, sizePtr: number): number {
      if (type >>> 0 > BUFFER_TYPE_MAX) return WasmResult.BadArgument;
      const buffer = ctx().buffer(type);
      if (!buffer) return WasmResult.NotFound;
      start >>>= 0;
      length >>>= 0;
      if (start + length > 0xffffffff) return WasmResult.BadArgument;
      if (start > buffer.size) length = 0;
      else if (start + length > buffer.size) length = buffer.size - start;
      if (length === 0) return vm.writeU32(ptrPtr, 0) && vm.writeU32(sizePtr, 0) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
      return vm.copyOut(Uint8Array.from(buffer.slice(start, length)), ptrPtr, sizePtr) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_set_buffer_bytes(type: number, start: number, length: number, dp: number, ds: number): number {
      if (type >>> 0 > BUFFER_TYPE_MAX) return WasmResult.BadArgument;
      const buffer = ctx().buffer(type);
      if (!buffer) return WasmResult.NotFound;
      const data = vm.read(dp, ds);
      if (!data) return WasmResult.InvalidMemoryAccess;
      return buffer.copyFrom(start >>> 0, length >>> 0, Uint8Array.from(data));
    },
    proxy_http_call(up: number, us: number, hp: number, hs: number, bp: number, bs: number, tp: number, ts: number, timeout: number, tokenPtr: number): number {
      const cluster = str(up, us);
      const body = vm.read(bp, bs);
      const headers = vm.read(hp, hs);
      const trailers = vm.read(tp, ts);
      if (cluster === undefined || !body || !headers || !trailers) return WasmResult.InvalidMemoryAccess;
      if (!vm.writeU32(tokenPtr, 0)) return WasmResult.InvalidMemoryAccess;
      const r = root().httpCall(cluster, decodePairs(headers), Uint8Array.from(body), decodePairs(trailers), timeout);
      if ("error" in r) return r.error;
      vm.writeU32(tokenPtr, r.token);
      return WasmResult.Ok;
    },
    proxy_grpc_call: unimplemented("proxy_grpc_call"),
    proxy_grpc_stream: unimplemented("proxy_grpc_stream"),
    proxy_grpc_close: unimplemented("proxy_grpc_close"),
    proxy_grpc_cancel: unimplemented("proxy_grpc_cancel"),
    proxy_grpc_send: unimplemented("proxy_grpc_send"),
    proxy_set_tick_period_milliseconds(period: number): number {
      root().setTickPeriod(period >>> 0);
      return WasmResult.Ok;
    },
    proxy_get_current_time_nanoseconds(ptr: number): number {
      const ms = vm.clock.now();
      if (ms !== lastMs) {
        lastMs = ms;
        lastNanos = nanosFromMs(ms);
      }
      return vm.writeU64(ptr, lastNanos) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_define_metric(type: number, np: number, ns: number, idPtr: number): number {
      const name = vm.readUtf8(np, ns);
      if (name === undefined) return WasmResult.InvalidMemoryAccess;
      if (type >>> 0 > MetricType.Histogram) return WasmResult.BadArgument;
      const id = vm.defineMetric(type, name);
      return vm.writeU32(idPtr, id) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_increment_metric(id: number, offset: bigint): number {
      const type = id & 3;
      const stat = vm.metricsById.get(id >>> 0);
      if (type === MetricType.Counter) {
        if (!(stat instanceof Counter)) return WasmResult.NotFound;
        if (offset <= 0n) return WasmResult.BadArgument;
        stat.add(offset);
        return WasmResult.Ok;
      }
      if (type === MetricType.Gauge) {
        if (!(stat instanceof Gauge)) return WasmResult.NotFound;
        stat.add(offset);
        return WasmResult.Ok;
      }
      return WasmResult.BadArgument;
    },
    proxy_record_metric(id: number, value: bigint): number {
      const stat = vm.metricsById.get(id >>> 0);
      const v = BigInt.asUintN(64, value);
      if (stat instanceof Counter) stat.add(v);
      else if (stat instanceof Gauge) stat.set(v);
      else if (stat instanceof Histogram) stat.record(Number(v));
      else return WasmResult.NotFound;
      return WasmResult.Ok;
    },
    proxy_get_metric(id: number, resultPtr: number): number {
      const type = id & 3;
      if (type !== MetricType.Counter && type !== MetricType.Gauge) return WasmResult.BadArgument;
      const stat = vm.metricsById.get(id >>> 0);
      if (!(stat instanceof Counter) && !(stat instanceof Gauge)) return WasmResult.NotFound;
      return vm.writeU64(resultPtr, stat.value) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_set_effective_context(id: number): number {
      return vm.setEffectiveContext(id >>> 0) ? WasmResult.Ok : WasmResult.BadArgument;
    },
    proxy_done(): number {
      return root().done();
    },
    proxy_call_foreign_function(np: number, ns: number, ap: number, as: number): number {
      const name = str(np, ns);
      if (name === undefined || !vm.read(ap, as)) return WasmResult.InvalidMemoryAccess;
      vm.hostLog(LogLevel.Warn, `foreign function "${name}" is not provided by this host: NotFound`);
      return WasmResult.NotFound;
    },
    proxy_continue_stream(type: number): number {
      if (type >>> 0 > 3) return WasmResult.BadArgument;
      return ctx().continueStream(type);
    },
    proxy_close_stream(type: number): number {
      if (type >>> 0 > 3) return WasmResult.BadArgument;
      return ctx().closeStream(type);
    },
    proxy_continue_request(): number {
      return ctx().continueStream(0);
    },
    proxy_continue_response(): number {
      return ctx().continueStream(1);
    },
    proxy_clear_route_cache(): number {
      return WasmResult.Ok;
    },
    proxy_get_configuration(ptrPtr: number, sizePtr: number): number {
      return vm.copyOut(root().configurationForAbi01, ptrPtr, sizePtr) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    pthread_equal(a: number, b: number): number {
      return a === b ? 1 : 0;
    },
    emscripten_notify_memory_growth(): void {},
  };

  // Only what Envoy registers for this ABI version, each counted and restricted during start.
  const out: Record<string, HostFn> = {};
  for (const key of registeredImports(abi).keys()) {
    if (!key.startsWith("env.")) continue;
    const name = key.slice(4);
    const fn = impl[name] as (...args: unknown[]) => number | void;
    if (!fn) throw new Error(`host function ${name} missing`);
    const counter = vm.counterFor(name);
    const allowedAtStart = START_ALLOWED_IMPORTS.has(key);
    out[name] = ((a: unknown, b: unknown, c: unknown, d: unknown, e: unknown, f: unknown, g: unknown, h: unknown, i: unknown, j: unknown) => {
      counter.n++;
      if (vm.restricted && !allowedAtStart) throw new ModuleTrap("restricted_callback");
      return fn(a, b, c, d, e, f, g, h, i, j);
    }) as HostFn;
  }
  return out;
}

/** Epoch ms (possibly fractional) as exact integer nanoseconds: ms * 1e6 in a double would
 * lose precision (epoch nanoseconds need 61 bits), making a timer look early by a few ns. */
export function nanosFromMs(ms: number): bigint {
  const whole = Math.floor(ms);
  return BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6));
}
