// The thin host layer: every call the plugin makes into Envoy goes through here. Each wrapper
// reports failure as a value (never throws) so a host error can only make the plugin fail
// open, never kill the VM.
import * as abi from "@solo-io/proxy-runtime/assembly/imports";
import { adoptHostBuffer, notePressure, releaseHostBuffer } from "./memory";
import { ByteBuffer } from "../util/bytes";

export const enum WasmResult {
  Ok = 0,
  NotFound = 1,
  BadArgument = 2,
  CasMismatch = 8,
}

export const enum HeaderMapType {
  RequestHeaders = 0,
  RequestTrailers = 1,
  ResponseHeaders = 2,
  ResponseTrailers = 3,
  HttpCallResponseHeaders = 6,
  HttpCallResponseTrailers = 7,
}

export const enum BufferType {
  HttpRequestBody = 0,
  HttpResponseBody = 1,
  VmConfiguration = 6,
  PluginConfiguration = 7,
  HttpCallResponseBody = 4,
}

export const enum StreamType {
  Request = 0,
  Response = 1,
}

export const enum MetricType {
  Counter = 0,
  Gauge = 1,
  Histogram = 2,
}

// Out-parameters for host calls, allocated once.
const outPtr = memory.data(8);
const outSize = memory.data(8);
const outU64 = memory.data(8);

/** Clears the out-parameters before a host call that hands back a buffer. */
@inline function resetOut(): void {
  store<usize>(outPtr, 0);
  store<usize>(outSize, 0);
}

/** Asks for a header value; the buffer (if any) is left in outPtr/outSize. */
@inline function requestHeaderValue(map: HeaderMapType, name: ArrayBuffer): WasmResult {
  resetOut();
  return abi.proxy_get_header_map_value(map, changetype<usize>(name), <usize>name.byteLength, outPtr, outSize);
}

/** The buffer a host call left in outPtr/outSize as an ArrayBuffer, or null if it failed. */
function takeBuffer(result: WasmResult): ArrayBuffer | null {
  const ptr = load<usize>(outPtr);
  if (result != WasmResult.Ok) {
    releaseHostBuffer(ptr);
    return null;
  }
  return adoptHostBuffer(ptr, load<usize>(outSize));
}

/** A header value of the given map, or null when absent. `name` is UTF-8 bytes. */
export function getHeader(map: HeaderMapType, name: ArrayBuffer): string | null {
  const r = requestHeaderValue(map, name);
  const ptr = load<usize>(outPtr);
  const size = load<usize>(outSize);
  if (r != WasmResult.Ok) {
    releaseHostBuffer(ptr);
    return null;
  }
  if (ptr == 0) return "";
  const value = String.UTF8.decodeUnsafe(ptr, size);
  notePressure(size * 2 + 32);
  releaseHostBuffer(ptr);
  return value;
}

/**
 * Puts a header value's bytes into `into` without allocating a string, cut before the first
 * `stopAt` byte (-1: none). False, with `into.length` -1, when the header is absent.
 */
export function getHeaderBytes(map: HeaderMapType, name: ArrayBuffer, stopAt: i32, into: ByteBuffer): bool {
  return takeInto(requestHeaderValue(map, name), stopAt, into);
}

/** The buffer a host call left in outPtr/outSize, copied into `into` (cut before the first
 * `stopAt` byte, -1: none) and released; false, with `into.length` -1, if the call failed. */
function takeInto(result: WasmResult, stopAt: i32, into: ByteBuffer): bool {
  const ptr = load<usize>(outPtr);
  let size = load<usize>(outSize);
  if (result != WasmResult.Ok) {
    releaseHostBuffer(ptr);
    into.length = -1;
    return false;
  }
  if (stopAt >= 0) {
    for (let i: usize = 0; i < size; i++) {
      if (<i32>load<u8>(ptr + i) == stopAt) {
        size = i;
        break;
      }
    }
  }
  into.set(ptr, <i32>size);
  releaseHostBuffer(ptr);
  return true;
}

// proxy-runtime's own set-buffer binding points at proxy_get_buffer_status (toolchain.md): bind
// the real import here.
// @ts-ignore: decorator
@external("env", "proxy_set_buffer_bytes")
declare function proxy_set_buffer_bytes(type: u32, start: u32, length: u32, data: usize, size: usize): u32;

/** Replaces `length` bytes from `start` of a body buffer (Envoy: start 0 and length >= size
 * replaces it all; length 0 prepends). */
export function setBuffer(type: BufferType, start: u32, length: u32, data: ArrayBuffer): WasmResult {
  return proxy_set_buffer_bytes(type, start, length, changetype<usize>(data), <usize>data.byteLength);
}

/** Sets a header (replacing every value it had, or adding it). */
export function replaceHeader(map: HeaderMapType, name: string, value: string): WasmResult {
  const k = String.UTF8.encode(name);
  const v = String.UTF8.encode(value);
  notePressure(<usize>(k.byteLength + v.byteLength) + 64);
  return abi.proxy_replace_header_map_value(map, changetype<usize>(k), k.byteLength, changetype<usize>(v), v.byteLength);
}

export function removeHeader(map: HeaderMapType, name: string): WasmResult {
  const k = String.UTF8.encode(name);
  notePressure(<usize>k.byteLength + 32);
  return abi.proxy_remove_header_map_value(map, changetype<usize>(k), k.byteLength);
}

export function addHeader(map: HeaderMapType, name: string, value: string): WasmResult {
  const k = String.UTF8.encode(name);
  const v = String.UTF8.encode(value);
  notePressure(<usize>(k.byteLength + v.byteLength) + 64);
  return abi.proxy_add_header_map_value(map, changetype<usize>(k), k.byteLength, changetype<usize>(v), v.byteLength);
}

/** Bytes of a host buffer (configuration, body, HTTP-call response), or null on failure. */
export function getBuffer(type: BufferType, start: u32, length: u32): ArrayBuffer | null {
  resetOut();
  return takeBuffer(abi.proxy_get_buffer_bytes(type, start, length, outPtr, outSize));
}

/** A property by its path segments (sent joined with NUL), or null when absent. */
export function getProperty(segments: string[]): ArrayBuffer | null {
  const p = String.UTF8.encode(segments.join("\0"));
  resetOut();
  return takeBuffer(abi.proxy_get_property(changetype<usize>(p), p.byteLength, outPtr, outSize));
}

/** A property's bytes (by its NUL-joined path) into `into`, without allocating once `into` is
 * large enough; false, with `into.length` -1, when absent. */
export function getPropertyBytes(path: ArrayBuffer, into: ByteBuffer): bool {
  resetOut();
  return takeInto(abi.proxy_get_property(changetype<usize>(path), path.byteLength, outPtr, outSize), -1, into);
}

/** Where getPropertyI64 reads its 8 bytes: no allocation per call. */
const propertyI64 = new ByteBuffer(8);

/** An integer property (8 bytes, little-endian) by its NUL-joined path; -1 when absent or not
 * an integer. */
export function getPropertyI64(path: ArrayBuffer): i64 {
  return getPropertyBytes(path, propertyI64) && propertyI64.length == 8 ? load<i64>(propertyI64.ptr) : -1;
}

/** A string property, or "" when absent. */
export function getStringProperty(segments: string[]): string {
  const b = getProperty(segments);
  return b === null ? "" : String.UTF8.decode(b);
}

/** A cas no key has yet: a set with it creates a missing key and fails on an existing one
 * (cpp-host's one process-wide cas counter starts at 1 and reaches it only after 2^32 - 1 sets). */
export const CAS_CREATE_ONLY: u32 = 0xffffffff;
/** The cas to set with after getSharedI64: the key's, CAS_CREATE_ONLY when it was missing,
 * 0 when the host failed. */
export let sharedCas: u32 = 0;
/** Whether the key read by getSharedI64 exists. */
export let sharedFound: bool = false;

/** An 8-byte little-endian value in the VMs' shared data; a missing key reads as 0. */
export function getSharedI64(key: ArrayBuffer): i64 {
  resetOut();
  store<u32>(outU64, 0);
  const r = abi.proxy_get_shared_data(changetype<usize>(key), key.byteLength, outPtr, outSize, outU64);
  const ptr = load<usize>(outPtr);
  let value: i64 = 0;
  sharedFound = r == WasmResult.Ok;
  if (r == WasmResult.Ok) {
    if (load<usize>(outSize) >= 8) value = load<i64>(ptr);
    sharedCas = load<u32>(outU64);
  } else {
    sharedCas = r == WasmResult.NotFound ? CAS_CREATE_ONLY : 0;
  }
  releaseHostBuffer(ptr);
  return value;
}

/** Sets an 8-byte shared value if its cas is still `cas` (Ok, CasMismatch, or a host error). */
export function setSharedI64(key: ArrayBuffer, value: i64, cas: u32): u32 {
  store<i64>(outU64, value);
  return abi.proxy_set_shared_data(changetype<usize>(key), key.byteLength, outU64, 8, cas);
}

/** A shared value's bytes (null when missing or on failure); its cas goes to `sharedCas` as
 * with getSharedI64. */
export function getSharedBytes(key: ArrayBuffer): ArrayBuffer | null {
  resetOut();
  store<u32>(outU64, 0);
  const r = abi.proxy_get_shared_data(changetype<usize>(key), key.byteLength, outPtr, outSize, outU64);
  sharedCas = r == WasmResult.Ok ? load<u32>(outU64) : r == WasmResult.NotFound ? CAS_CREATE_ONLY : 0;
  return takeBuffer(r);
}

/** Sets a shared value: `value`'s first `size` bytes (all of them by default). */
export function setSharedBytes(key: ArrayBuffer, value: ArrayBuffer, cas: u32, size: i32 = -1): u32 {
  const n = size < 0 ? value.byteLength : size;
  return abi.proxy_set_shared_data(changetype<usize>(key), key.byteLength, changetype<usize>(value), n, cas);
}

/** Stream filter state (Envoy: `wasm.<key>`, read by access logs as %FILTER_STATE(wasm.<key>:PLAIN)%). */
export function setProperty(key: ArrayBuffer, value: ArrayBuffer): WasmResult {
  return abi.proxy_set_property(changetype<usize>(key), key.byteLength, changetype<usize>(value), value.byteLength);
}

export function setTickPeriodMs(ms: u32): WasmResult {
  return abi.proxy_set_tick_period_milliseconds(ms);
}

export function log(level: i32, message: string): void {
  const m = String.UTF8.encode(message);
  notePressure(<usize>m.byteLength * 3 + 64); // the message string and its UTF-8 copy
  abi.proxy_log(level, changetype<usize>(m), m.byteLength);
}

/**
 * Answers the client from the proxy. `headers` are alternating names and values.
 * grpcStatus -1 means none.
 */
export function sendLocalResponse(status: u32, details: string, body: string, headers: string[], grpcStatus: i32): WasmResult {
  const d = String.UTF8.encode(details);
  const b = String.UTF8.encode(body);
  const pairs = serializePairs(headers);
  // The reply's strings, their UTF-8 copies and the header list.
  notePressure(<usize>(d.byteLength + b.byteLength + pairs.byteLength) * 3 + 256);
  return abi.proxy_send_local_response(status, changetype<usize>(d), d.byteLength, changetype<usize>(b), b.byteLength,
    changetype<usize>(pairs), pairs.byteLength, <u32>grpcStatus);
}

/** Makes `contextId` the target of the following host calls (e.g. resuming from a timer). */
export function setEffectiveContext(contextId: u32): WasmResult {
  return abi.proxy_set_effective_context(contextId);
}

export function continueStream(stream: StreamType): WasmResult {
  return abi.proxy_continue_stream(stream);
}

/** Resets the stream (Envoy: after the current callback returns; see docs/how-it-works.md). */
export function closeStream(stream: StreamType): WasmResult {
  return abi.proxy_close_stream(stream);
}

/** Defines a metric; returns its id, or -1 if the host refused. */
export function defineMetric(type: MetricType, name: string): i64 {
  const n = String.UTF8.encode(name);
  return defineMetricBytes(type, changetype<usize>(n), n.byteLength);
}

/** The same with the name's UTF-8 bytes at `ptr`. */
export function defineMetricBytes(type: MetricType, ptr: usize, size: i32): i64 {
  store<u32>(outU64, 0);
  const r = abi.proxy_define_metric(type, ptr, size, outU64);
  return r == WasmResult.Ok ? <i64>load<u32>(outU64) : -1;
}

export function incrementMetric(id: u32, delta: i64): WasmResult {
  return abi.proxy_increment_metric(id, delta);
}

export function recordMetric(id: u32, value: u64): WasmResult {
  return abi.proxy_record_metric(id, value);
}

/** The metric's value, or -1 on failure. */
export function getMetric(id: u32): i64 {
  store<u64>(outU64, 0);
  const r = abi.proxy_get_metric(id, outU64);
  return r == WasmResult.Ok ? load<i64>(outU64) : -1;
}

/**
 * Sends an HTTP request to an Envoy cluster. Returns the call's token, or -1 with the host's
 * result code in `lastHttpCallResult` (BadArgument: unknown cluster or missing pseudo-header).
 */
export let lastHttpCallResult: u32 = 0;
export function httpCall(cluster: string, headers: string[], body: string, timeoutMs: u32): i64 {
  const c = String.UTF8.encode(cluster);
  const h = serializePairs(headers);
  notePressure(<usize>(c.byteLength + h.byteLength) * 3 + 256);
  const b = String.UTF8.encode(body);
  const t = serializePairs([]);
  store<u32>(outU64, 0);
  const r = abi.proxy_http_call(changetype<usize>(c), c.byteLength, changetype<usize>(h), h.byteLength,
    changetype<usize>(b), b.byteLength, changetype<usize>(t), t.byteLength, timeoutMs, outU64);
  lastHttpCallResult = r;
  return r == WasmResult.Ok ? <i64>load<u32>(outU64) : -1;
}

/** proxy-wasm pairs: u32 count, count × (u32 name length, u32 value length), then name\0value\0 each. */
export function serializePairs(headers: string[]): ArrayBuffer {
  const n = headers.length >> 1;
  const encoded: ArrayBuffer[] = [];
  let size = 4 + n * 8;
  for (let i = 0; i < n * 2; i++) {
    const e = String.UTF8.encode(unchecked(headers[i]));
    encoded.push(e);
    size += e.byteLength + 1;
  }
  const buf = new ArrayBuffer(size);
  const base = changetype<usize>(buf);
  store<u32>(base, <u32>n);
  let lens = base + 4;
  let data = base + 4 + <usize>n * 8;
  for (let i = 0; i < n * 2; i++) {
    const e = unchecked(encoded[i]);
    store<u32>(lens, <u32>e.byteLength);
    lens += 4;
    memory.copy(data, changetype<usize>(e), e.byteLength);
    data += e.byteLength;
    store<u8>(data, 0);
    data += 1;
  }
  return buf;
}
