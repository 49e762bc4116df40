// What a response fault does to one response: a pure decision over the fault and what the
// response headers say, so as-pect can test it and act.ts only turns it into host calls.
import { KEEP_STATUS, ResponseFault } from "./model";

/** What happens to the response body chunks (kept in the stream's state: one byte). */
export const enum BodyPlan {
  Keep = 0,
  /** The first chunk becomes the replacement body, later chunks are emptied. */
  Replace = 1,
  /** Every chunk is emptied (a gRPC error has no messages). */
  Drop = 2,
}

export class ResponsePlan {
  /** New `:status`; "" keeps it. */
  status: string = "";
  /** grpc-status to send; "" none. */
  grpcStatus: string = "";
  /** grpc-message to send (already percent-encoded); "" none. */
  grpcMessage: string = "";
  /** The gRPC status goes into the headers (a trailers-only response) instead of the trailers. */
  grpcInHeaders: bool = false;
  body: BodyPlan = BodyPlan.Keep;
  /** New content-length; "" keeps it, "-" removes it. */
  contentLength: string = "";
}

/**
 * `grpc`: the response is gRPC (content-type application/grpc*). `trailersOnly`: its headers
 * carry grpc-status already. `headersEndStream`: the response has no body and no trailers (a
 * body cannot be added then: the ABI has no call for it).
 */
export function planResponse(r: ResponseFault, grpc: bool, trailersOnly: bool, headersEndStream: bool): ResponsePlan {
  const plan = new ResponsePlan();
  if (grpc) {
    // gRPC carries errors in grpc-status with :status 200, as Envoy's own gRPC local replies do.
    if (r.httpStatus == KEEP_STATUS) return plan;
    plan.grpcStatus = grpcStatusForHttp(r.httpStatus).toString();
    const body = r.body;
    if (body !== null) plan.grpcMessage = percentEncode(body);
    plan.grpcInHeaders = trailersOnly || headersEndStream;
    if (!plan.grpcInHeaders) {
      plan.body = BodyPlan.Drop;
      plan.contentLength = "-";
    }
    return plan;
  }
  if (r.httpStatus != KEEP_STATUS) plan.status = r.httpStatus.toString();
  const body = r.body;
  if (body !== null && !headersEndStream) {
    plan.body = BodyPlan.Replace;
    plan.contentLength = body.byteLength.toString();
  }
  return plan;
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
  let out = "";
  for (let i = 0; i < utf8.byteLength; i++) {
    const b = <i32>load<u8>(base + <usize>i);
    if (b < 0x20 || b > 0x7e || b == 0x25) {
      out += "%" + hexDigit(b >> 4) + hexDigit(b & 15);
    } else {
      out += String.fromCharCode(b);
    }
  }
  return out;
}

function hexDigit(n: i32): string {
  return String.fromCharCode(n < 10 ? 48 + n : 55 + n);
}
