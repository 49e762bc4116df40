// Turns a response plan into host calls, from the response callbacks plugin.ts routes here.
// Everything is done while the response headers are in the plugin's hands, so a status change
// can never come after they went out; bodies are rewritten chunk by chunk as they pass (no
// buffering, so no buffer limit: see docs/how-it-works.md, "Response faults").
import { FAULT_HEADER, isGrpcContentType } from "../faults/abort";
import {
  BufferType, getHeader, HeaderMapType, removeHeader, replaceHeader, setBuffer, addHeader,
} from "../glue/host";
import { BodyPlan, planResponse } from "./decide";
import { ResponseFault } from "./model";

const CONTENT_TYPE = String.UTF8.encode("content-type");
const GRPC_STATUS = String.UTF8.encode("grpc-status");
const NOTHING = new ArrayBuffer(0);

/** Per-stream response state, one byte in FaultedStream: the body plan and these flags. */
export const BODY_PLAN_MASK: u8 = 3;
/** The replacement body went out with the first chunk. */
export const BODY_WRITTEN: u8 = 4;
/** grpc-status / grpc-message still to be set in the trailers. */
export const GRPC_IN_TRAILERS: u8 = 8;

/** Rewrites the response headers being processed; returns the stream's response state. */
export function rewriteResponseHeaders(r: ResponseFault, policyName: string, policyHeader: string, endOfStream: bool): u8 {
  const map = HeaderMapType.ResponseHeaders;
  const grpc = isGrpcContentType(getHeader(map, CONTENT_TYPE));
  const trailersOnly = grpc && getHeader(map, GRPC_STATUS) !== null;
  const plan = planResponse(r, grpc, trailersOnly, endOfStream);
  if (plan.status.length > 0) replaceHeader(map, ":status", plan.status);
  if (plan.contentLength == "-") removeHeader(map, "content-length");
  else if (plan.contentLength.length > 0) replaceHeader(map, "content-length", plan.contentLength);
  let state = <u8>plan.body;
  if (plan.grpcStatus.length > 0) {
    if (plan.grpcInHeaders) setGrpcStatus(map, plan.grpcStatus, plan.grpcMessage);
    else state |= GRPC_IN_TRAILERS;
  }
  const remove = r.remove;
  for (let i = 0; i < remove.length; i++) removeHeader(map, unchecked(remove[i]));
  const add = r.add;
  for (let i = 0; i + 1 < add.length; i += 2) addHeader(map, unchecked(add[i]), unchecked(add[i + 1]));
  addHeader(map, FAULT_HEADER, "response");
  if (policyHeader.length > 0) addHeader(map, policyHeader, policyName);
  return state;
}

/** A response body chunk passes: replace or empty it per the plan. Returns the new state. */
export function rewriteResponseBody(r: ResponseFault, state: u8, size: u32, endOfStream: bool): u8 {
  const plan = state & BODY_PLAN_MASK;
  if (plan == BodyPlan.Replace && (state & BODY_WRITTEN) == 0) {
    const body = r.body;
    setBuffer(BufferType.HttpResponseBody, 0, size, body === null ? NOTHING : body);
    state |= BODY_WRITTEN;
  } else if (plan != BodyPlan.Keep && size > 0) {
    setBuffer(BufferType.HttpResponseBody, 0, size, NOTHING);
  }
  // The upstream ended without trailers: Envoy lets the last body callback add them.
  if (endOfStream) state = finishGrpc(r, state);
  return state;
}

/** The response trailers: where a gRPC status goes. */
export function rewriteResponseTrailers(r: ResponseFault, state: u8): u8 {
  return finishGrpc(r, state);
}

function finishGrpc(r: ResponseFault, state: u8): u8 {
  if ((state & GRPC_IN_TRAILERS) == 0) return state;
  const plan = planResponse(r, true, false, false);
  setGrpcStatus(HeaderMapType.ResponseTrailers, plan.grpcStatus, plan.grpcMessage);
  return state & ~GRPC_IN_TRAILERS;
}

function setGrpcStatus(map: HeaderMapType, status: string, message: string): void {
  replaceHeader(map, "grpc-status", status);
  if (message.length > 0) replaceHeader(map, "grpc-message", message);
  else removeHeader(map, "grpc-message");
}
