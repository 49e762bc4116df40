// Which upstream outcomes count as failures for the SLO guard.
//
// Failed = the upstream answered with a 5xx status (Envoy's router answers an upstream reset,
// connection failure or timeout with its own 503 or 504), or with a gRPC status UNAVAILABLE (14),
// DEADLINE_EXCEEDED (4) or INTERNAL (13) in the response headers (a trailers-only response) or
// in the trailers. A stream that ends with no response headers was left by its client (Envoy
// flags it DC or DR and records no response code: ActiveStream::completeRequest): it is not an
// outcome of the service, unless its response flags name an upstream failure.
//
// Wiring: the stream keeps `httpStatus` (from `:status` in on_response_headers, 0 until then),
// `grpcInHeaders` and `grpcInTrailers` (`parseGrpcStatus` of `grpc-status`, NO_GRPC_STATUS when
// absent) and calls `isFailedOutcome` once, in on_log/on_done. A reset shows in Proxy-Wasm as a
// stream that reaches on_log without response headers: `sawResponseHeaders` false. Requests the
// plugin answered itself (its own aborts) never reach this function; the caller skips them.

export const NO_GRPC_STATUS: i32 = -1;

/** Envoy's CoreResponseFlag bits (envoy/stream_info/stream_info.h) that say the upstream
 * failed: UH, UT, UR, UF, UC, UO, URX, UPE. */
const UPSTREAM_FAILURE_FLAGS: i64 = 0x2 | 0x4 | 0x10 | 0x20 | 0x40 | 0x80 | 0x8000 | 0x800000;
/** DC and DR: the client went away. */
const DOWNSTREAM_GONE_FLAGS: i64 = 0x4000 | 0x10000000;

/** Do `response.flags` (-1: unknown) say the upstream failed, and not that the client left? */
export function upstreamFailureFlagged(flags: i64): bool {
  return flags > 0 && (flags & DOWNSTREAM_GONE_FLAGS) == 0 && (flags & UPSTREAM_FAILURE_FLAGS) != 0;
}
export const GRPC_DEADLINE_EXCEEDED: i32 = 4;
export const GRPC_INTERNAL: i32 = 13;
export const GRPC_UNAVAILABLE: i32 = 14;

/** A `grpc-status` value: ASCII digits only (at most 10), else NO_GRPC_STATUS. */
export function parseGrpcStatus(value: string | null): i32 {
  if (value === null) return NO_GRPC_STATUS;
  const s = changetype<string>(value);
  const n = s.length;
  if (n == 0 || n > 10) return NO_GRPC_STATUS;
  let v: i64 = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return NO_GRPC_STATUS;
    v = v * 10 + <i64>(c - 48);
  }
  return v > <i64>i32.MAX_VALUE ? NO_GRPC_STATUS : <i32>v;
}

@inline export function isFailedGrpcStatus(code: i32): bool {
  return code == GRPC_UNAVAILABLE || code == GRPC_DEADLINE_EXCEEDED || code == GRPC_INTERNAL;
}

@inline export function isFailedHttpStatus(status: i32): bool {
  return status >= 500 && status <= 599;
}

/**
 * The guard's verdict on one finished request. The trailers' grpc-status wins over the
 * headers' (a normal gRPC response carries it only in the trailers).
 */
export function isFailedOutcome(sawResponseHeaders: bool, httpStatus: i32, grpcInHeaders: i32, grpcInTrailers: i32): bool {
  if (!sawResponseHeaders) return true;
  if (isFailedHttpStatus(httpStatus)) return true;
  const grpc = grpcInTrailers != NO_GRPC_STATUS ? grpcInTrailers : grpcInHeaders;
  return isFailedGrpcStatus(grpc);
}
