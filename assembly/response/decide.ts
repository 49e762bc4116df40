// What a response fault does to one response: a pure decision over the fault and what the
// response headers say, so as-pect can test it and act.ts only turns it into host calls.
import { KEEP_STATUS, ResponseFault } from "../model/response";
import { JsonWriter } from "../json/writer";

// The plan for one response, as bits. The low two also stay in the stream's state (BodyPlan).
/** The first body chunk becomes the replacement body, later chunks are emptied. */
export const BODY_REPLACE: u32 = 1;
/** Every body chunk is emptied (a gRPC error has no messages). */
export const BODY_DROP: u32 = 2;
/** Replace `:status` with statusText. */
export const SET_STATUS: u32 = 16;
/** Remove content-length. */
export const REMOVE_LENGTH: u32 = 64;
/** grpc-status (and grpc-message) go into the response headers: a trailers-only answer. */
export const GRPC_IN_HEADERS: u32 = 128;
/** grpc-status (and grpc-message) go into the trailers. */
export const GRPC_IN_TRAILERS: u32 = 8;

/**
 * `grpc`: the response is gRPC (content-type application/grpc*). `trailersOnly`: its headers
 * carry grpc-status already. `headersEndStream`: the response has no body and no trailers (a
 * body cannot be added then: the ABI has no call for it).
 */
export function planResponse(r: ResponseFault, grpc: bool, trailersOnly: bool, headersEndStream: bool): u32 {
  if (grpc) {
    // gRPC carries errors in grpc-status with :status 200, as Envoy's own gRPC local replies do.
    if (r.httpStatus == KEEP_STATUS) return 0;
    if (trailersOnly || headersEndStream) return GRPC_IN_HEADERS;
    return GRPC_IN_TRAILERS | BODY_DROP | REMOVE_LENGTH;
  }
  let plan: u32 = r.httpStatus != KEEP_STATUS ? SET_STATUS : 0;
  // The replacement goes out with the first body chunk; an upstream that sends trailers and no
  // data gives it no chunk (the ABI cannot add a body at trailers). Only framing by the
  // transport is right in both cases: content-length goes, it is never a length not sent.
  if (r.body !== null && !headersEndStream) plan |= BODY_REPLACE | REMOVE_LENGTH;
  return plan;
}

/** Fills in the texts a response needs, once per parsed fault. */
export function prepare(r: ResponseFault): ResponseFault {
  r.statusText = r.httpStatus.toString();
  r.grpcStatusText = grpcStatusForHttp(r.httpStatus).toString();
  const body = r.body;
  if (body !== null) {
    r.grpcMessage = percentEncode(body);
  }
  return r;
}

/** Grpc::Utility::httpToGrpcStatus: what Envoy answers a gRPC client for an HTTP status. */
export function grpcStatusForHttp(status: i32): i32 {
  switch (status) {
    case 400: return 13;
    case 401: return 16;
    case 403: return 7;
    case 404: return 12;
    case 429:
    case 502:
    case 503:
    case 504: return 14;
    default: return 2;
  }
}

/** gRPC's grpc-message encoding (Grpc::Utility::PercentEncoding::encode): UTF-8 bytes outside
 * 0x20..0x7e, and '%', become %XX. */
export function percentEncode(utf8: ArrayBuffer): string {
  const base = changetype<usize>(utf8);
  // One buffer for the whole text: appending to a string would copy it at every byte.
  const out = new JsonWriter();
  for (let i = 0; i < utf8.byteLength; i++) {
    const b = <i32>load<u8>(base + <usize>i);
    if (b < 0x20 || b > 0x7e || b == 0x25) {
      out.writeUnit(0x25);
      out.writeUnit(hexUnit(b >> 4));
      out.writeUnit(hexUnit(b & 15));
    } else {
      out.writeUnit(<u16>b);
    }
  }
  return out.toString();
}

@inline function hexUnit(n: i32): u16 {
  return <u16>(n < 10 ? 48 + n : 55 + n);
}
