/**
 * The reply Envoy builds for sendLocalReply (proxy_send_local_response, or the 503 of a failed
 * VM under fail-closed); see buildLocalReply.
 */
import { HeaderMap, type HeaderPairs } from "./headers";

export interface LocalReply {
  status: number;
  body: Buffer;
  details: string;
  /** gRPC status the module asked for, if any (0..16). */
  grpcStatus?: number;
  additionalHeaders: HeaderPairs;
}

/** Grpc::Utility::httpToGrpcStatus. */
export function httpToGrpcStatus(status: number): number {
  switch (status) {
    case 400:
      return 13; // Internal
    case 401:
      return 16; // Unauthenticated
    case 403:
      return 7; // PermissionDenied
    case 404:
      return 12; // Unimplemented
    case 429:
    case 502:
    case 503:
    case 504:
      return 14; // Unavailable
    default:
      return 2; // Unknown
  }
}

export function isGrpcRequest(requestHeaders: HeaderMap | undefined): boolean {
  const ct = requestHeaders?.get("content-type");
  if (!ct) return false;
  return ct === "application/grpc" || ct.startsWith("application/grpc+") || ct.startsWith("application/grpc;");
}

/** Grpc::Utility::PercentEncoding::encode for grpc-message. */
export function percentEncodeGrpcMessage(text: string): string {
  const bytes = Buffer.from(text, "utf8");
  let out = "";
  for (const b of bytes) {
    if (b < 0x20 || b > 0x7e || b === 0x25) out += "%" + b.toString(16).toUpperCase().padStart(2, "0");
    else out += String.fromCharCode(b);
  }
  return out;
}

/**
 * Headers and body the client receives for a local reply, as Envoy's Http::Utility::
 * prepareLocalReply / encodeLocalReply build them (source/common/http/utility.cc): `:status`,
 * then the module's headers; for a gRPC request `:status` becomes 200, content-type
 * application/grpc, grpc-status (the module's header wins, then the given status, then the
 * mapping of the HTTP status), grpc-message (the percent-encoded body, not for HEAD), no
 * content-length, no body; otherwise content-length and (unless the module set one)
 * `content-type: text/plain` for a body, neither without one, and no body for HEAD.
 */
export function buildLocalReply(
  reply: LocalReply,
  requestHeaders: HeaderMap | undefined,
): { headers: HeaderMap; body: Buffer } {
  const headers = new HeaderMap();
  headers.add(":status", String(reply.status));
  for (const [k, v] of reply.additionalHeaders) headers.add(k, v);
  const head = requestHeaders?.get(":method") === "HEAD";
  if (isGrpcRequest(requestHeaders)) {
    headers.replace(":status", "200");
    headers.replace("content-type", "application/grpc");
    if (!headers.has("grpc-status")) headers.add("grpc-status", String(reply.grpcStatus ?? httpToGrpcStatus(reply.status)));
    if (reply.body.length > 0 && !head) headers.replace("grpc-message", percentEncodeGrpcMessage(reply.body.toString("utf8")));
    headers.remove("content-length");
    return { headers, body: Buffer.alloc(0) };
  }
  if (reply.body.length > 0) {
    headers.replace("content-length", String(reply.body.length));
    if (!headers.has("content-type")) headers.add("content-type", "text/plain");
  } else {
    headers.remove("content-length");
    headers.remove("content-type");
  }
  return { headers, body: head ? Buffer.alloc(0) : reply.body };
}
