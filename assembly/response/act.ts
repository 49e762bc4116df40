// Turns a response plan into host calls, from the response callbacks request/path.ts routes here.
// Everything is done while the response headers are in the plugin's hands, so a status change
// can never come after they went out; bodies are rewritten chunk by chunk as they pass (no
// buffering, so no buffer limit: see docs/how-it-works.md, "Response faults").
import { FAULT_HEADER, isGrpcContentType } from "../faults/abort";
import {
  addHeader, BufferType, getHeader, HeaderMapType, removeHeader, replaceHeader, setBuffer,
} from "../glue/host";
import {
  BODY_DROP, BODY_REPLACE, GRPC_IN_HEADERS, GRPC_IN_TRAILERS, planResponse, REMOVE_LENGTH, SET_STATUS,
} from "./decide";
import { ResponseFault } from "../model/response";

const CONTENT_TYPE = String.UTF8.encode("content-type");
const GRPC_STATUS = String.UTF8.encode("grpc-status");
const NOTHING = new ArrayBuffer(0);

/** What is left to do to this response's body and trailers (one byte in FaultedStream). */
const LATER: u8 = <u8>(BODY_REPLACE | BODY_DROP | GRPC_IN_TRAILERS);
/** The replacement body went out with the first chunk. */
const BODY_WRITTEN: u8 = 4;

/** Rewrites the response headers being processed; returns the stream's response state. */
export function rewriteResponseHeaders(r: ResponseFault, policyName: string, policyHeader: string, endOfStream: bool): u8 {
  const map = HeaderMapType.ResponseHeaders;
  const grpc = isGrpcContentType(getHeader(map, CONTENT_TYPE));
  const plan = planResponse(r, grpc, grpc && getHeader(map, GRPC_STATUS) !== null, endOfStream);
  if (plan & SET_STATUS) replaceHeader(map, ":status", r.statusText);
  if (plan & REMOVE_LENGTH) removeHeader(map, "content-length");
  if (plan & GRPC_IN_HEADERS) setGrpcStatus(map, r);
  const remove = r.remove;
  for (let i = 0; i < remove.length; i++) removeHeader(map, unchecked(remove[i]));
  const add = r.add;
  for (let i = 0; i + 1 < add.length; i += 2) addHeader(map, unchecked(add[i]), unchecked(add[i + 1]));
  addHeader(map, FAULT_HEADER, "response");
  if (policyHeader.length > 0) addHeader(map, policyHeader, policyName);
  return <u8>plan & LATER;
}

/**
 * A response body callback: replace or empty the chunk per the plan. `buffered`: the response
 * is held and the callback sees the whole body buffered so far (Envoy with
 * allow_on_headers_stop_iteration): it becomes the replacement body again, whole. Returns the
 * new state.
 */
export function rewriteResponseBody(r: ResponseFault, state: u8, size: u32, endOfStream: bool, buffered: bool): u8 {
  if ((state & <u8>BODY_REPLACE) != 0 && (buffered || (state & BODY_WRITTEN) == 0)) {
    const body = r.body;
    setBuffer(BufferType.HttpResponseBody, 0, size, body === null ? NOTHING : body);
    state |= BODY_WRITTEN;
  } else if ((state & <u8>(BODY_REPLACE | BODY_DROP)) != 0 && size > 0) {
    setBuffer(BufferType.HttpResponseBody, 0, size, NOTHING);
  }
  // The upstream ended without trailers: Envoy lets the last body callback add them.
  return endOfStream ? rewriteResponseTrailers(r, state) : state;
}

/** The response trailers: where a gRPC status goes. */
export function rewriteResponseTrailers(r: ResponseFault, state: u8): u8 {
  if ((state & <u8>GRPC_IN_TRAILERS) == 0) return state;
  setGrpcStatus(HeaderMapType.ResponseTrailers, r);
  return state & ~<u8>GRPC_IN_TRAILERS;
}

function setGrpcStatus(map: HeaderMapType, r: ResponseFault): void {
  replaceHeader(map, "grpc-status", r.grpcStatusText);
  if (r.grpcMessage.length > 0) replaceHeader(map, "grpc-message", r.grpcMessage);
  else removeHeader(map, "grpc-message");
}
