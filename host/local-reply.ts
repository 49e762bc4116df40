/**
 * The reply Envoy builds for sendLocalReply (proxy_send_local_response, or the 503 of a failed
 * VM under fail-closed): `:status`, the module's additional headers, then content-length and
 * text/plain content-type for a body (order as proxy-wasm-cpp-host's reference driver has it). For a gRPC request it is a trailers-only gRPC reply instead:
 * `:status 200`, content-type application/grpc, grpc-status (given, or mapped from the HTTP
 * status) and grpc-message (the body, percent-encoded), no body.
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

/** Headers and body the client receives for a local reply. */
export function buildLocalReply(
  reply: LocalReply,
  requestHeaders: HeaderMap | undefined,
): { headers: HeaderMap; body: Buffer } {
  const headers = new HeaderMap();
  if (isGrpcRequest(requestHeaders)) {
    headers.add(":status", "200");
    headers.add("content-type", "application/grpc");
    headers.add("grpc-status", String(reply.grpcStatus ?? httpToGrpcStatus(reply.status)));
    if (reply.body.length > 0) headers.add("grpc-message", percentEncodeGrpcMessage(reply.body.toString("utf8")));
    for (const [k, v] of reply.additionalHeaders) headers.add(k, v);
    return { headers, body: Buffer.alloc(0) };
  }
  // Envoy's prepareLocalReply: the module's headers first, then content-length and content-type
  // set over them (so a module cannot make them disagree with the body).
  headers.add(":status", String(reply.status));
  for (const [k, v] of reply.additionalHeaders) headers.add(k, v);
  if (reply.body.length > 0) {
    headers.replace("content-length", String(reply.body.length));
    headers.replace("content-type", "text/plain");
  }
  const head = requestHeaders?.get(":method") === "HEAD";
  return { headers, body: head ? Buffer.alloc(0) : reply.body };
}
