// What a rule does to the upstream's answer (`fault.response`). Parsed once
// (policy/parse-faults.ts, which also fills in the texts below), never mutated; decide.ts says
// what to do to one response, act.ts does it.

export const KEEP_STATUS: i32 = 0;

export class ResponseFault {
  /** Milliseconds the response headers are held (monotonic clock, like request holds). */
  delayMs: i64 = 0;
  /** Replaces `:status` (HTTP), or becomes the grpc-status Envoy maps it to (gRPC);
   * KEEP_STATUS keeps the upstream's. */
  httpStatus: i32 = KEEP_STATUS;
  /** Replacement body as UTF-8 (gRPC: the grpc-message); null keeps the upstream's. */
  body: ArrayBuffer | null = null;
  /** Headers to add: alternating lower-cased names and values. */
  add: string[] = [];
  /** Lower-cased names of headers to remove. */
  remove: string[] = [];
  // Texts computed once at parse time (see prepare), not per response.
  statusText: string = "";
  grpcStatusText: string = "";
  /** The body percent-encoded for grpc-message ("" = none). */
  grpcMessage: string = "";
}
