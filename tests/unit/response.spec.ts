import {
  BODY_DROP, BODY_REPLACE, GRPC_IN_HEADERS, GRPC_IN_TRAILERS, grpcStatusForHttp, percentEncode, planResponse, prepare,
  REMOVE_LENGTH, SET_STATUS,
} from "../../assembly/response/decide";
import { ResponseFault } from "../../assembly/model/response";

function fault(status: i32, body: string | null): ResponseFault {
  const r = new ResponseFault();
  r.httpStatus = status;
  if (body !== null) r.body = String.UTF8.encode(body);
  return prepare(r);
}

describe("planResponse (HTTP)", () => {
  it("replaces status and body, with the body's byte length", () => {
    const r = fault(503, "é!");
    expect(planResponse(r, false, false, false)).toBe(SET_STATUS | BODY_REPLACE | REMOVE_LENGTH);
    expect(r.statusText).toBe("503");
  });

  it("keeps body and length when only the status changes", () => {
    expect(planResponse(fault(500, null), false, false, false)).toBe(SET_STATUS);
  });

  it("cannot add a body to a response whose headers end the stream", () => {
    expect(planResponse(fault(503, "x"), false, false, true)).toBe(SET_STATUS);
  });
});

describe("planResponse (gRPC)", () => {
  it("puts the mapped status in the trailers and drops the messages", () => {
    const r = fault(503, "50% off");
    expect(planResponse(r, true, false, false)).toBe(GRPC_IN_TRAILERS | BODY_DROP | REMOVE_LENGTH);
    expect(r.grpcStatusText).toBe("14");
    expect(r.grpcMessage).toBe("50%25 off");
  });

  it("answers trailers-only responses in the headers", () => {
    expect(planResponse(fault(404, null), true, true, false)).toBe(GRPC_IN_HEADERS);
    expect(planResponse(fault(404, null), true, false, true)).toBe(GRPC_IN_HEADERS);
  });

  it("leaves a gRPC response alone without a status (a text body would break its framing)", () => {
    expect(planResponse(fault(0, "x"), true, false, false)).toBe(0);
  });
});

describe("gRPC helpers", () => {
  it("maps HTTP to gRPC as Envoy's Grpc::Utility::httpToGrpcStatus", () => {
    expect(grpcStatusForHttp(400)).toBe(13);
    expect(grpcStatusForHttp(401)).toBe(16);
    expect(grpcStatusForHttp(403)).toBe(7);
    expect(grpcStatusForHttp(404)).toBe(12);
    expect(grpcStatusForHttp(429)).toBe(14);
    expect(grpcStatusForHttp(503)).toBe(14);
    expect(grpcStatusForHttp(500)).toBe(2);
  });

  it("percent-encodes UTF-8 bytes outside 0x20-0x7e and %", () => {
    expect(percentEncode(String.UTF8.encode("a b%\n é"))).toBe("a b%25%0A %C3%A9");
  });
});
