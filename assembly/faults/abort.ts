// What an abort answers: decided here as plain data, sent by the host layer.
import { Abort, NO_GRPC_STATUS } from "../model/policy";

export const FAULT_HEADER = "x-fault-injected";

export class LocalReply {
  constructor(
    public status: u32,
    public body: string,
    /** Alternating names and values. */
    public headers: string[],
    public grpcStatus: i32,
  ) {}
}

/** gRPC status → HTTP status, as gRPC's own mapping for a client that is not gRPC. */
export function httpStatusForGrpc(code: i32): u32 {
  switch (code) {
    case 0: return 200;
    case 1: return 499;
    case 3: return 400;
    case 4: return 504;
    case 5: return 404;
    case 6: return 409;
    case 7: return 403;
    case 8: return 429;
    case 9: return 400;
    case 10: return 409;
    case 11: return 400;
    case 12: return 501;
    case 14: return 503;
    case 16: return 401;
    default: return 500;
  }
}

export function isGrpcContentType(contentType: string | null): bool {
  return contentType !== null && changetype<string>(contentType).startsWith("application/grpc");
}

/**
 * The reply for an abort. A gRPC request with a grpcStatus gets a gRPC status (Envoy turns it
 * into a trailers-only gRPC response, with the reply body percent-encoded as grpc-message:
 * Http::Utility::prepareLocalReply); anything else gets the HTTP status and a text body.
 * The abort's own headers come last; a content-type among them replaces Envoy's text/plain
 * (a gRPC reply's content-type is always application/grpc).
 */
export function abortReply(abort: Abort, policyName: string, policyHeader: string, grpcRequest: bool): LocalReply {
  const headers: string[] = [];
  const asGrpc = grpcRequest && abort.grpcStatus != NO_GRPC_STATUS;
  let status: u32 = abort.httpStatus > 0 ? <u32>abort.httpStatus : httpStatusForGrpc(abort.grpcStatus);
  let body = abort.body;
  if (asGrpc) {
    if (abort.grpcMessage.length > 0) body = abort.grpcMessage;
  } else {
    // Envoy's local reply already says content-type: text/plain for a body; adding it here
    // would send the header twice.
    if (body.length == 0) body = "fault injected by HFI policy " + policyName + "\n";
  }
  headers.push(FAULT_HEADER);
  headers.push("abort");
  if (policyHeader.length > 0) {
    headers.push(policyHeader);
    headers.push(policyName);
  }
  const extra = abort.headers;
  for (let i = 0; i < extra.length; i++) headers.push(unchecked(extra[i]));
  return new LocalReply(status, body, headers, asGrpc ? abort.grpcStatus : NO_GRPC_STATUS);
}
