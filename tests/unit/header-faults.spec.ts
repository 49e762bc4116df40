// Header-controlled faults with Envoy's fault filter semantics (fault_config.cc,
// fault_filter.cc), bounded by the rule's percentage and max_delay_ms.
import { HeaderFault, NO_GRPC_STATUS } from "../../assembly/header-faults/index";
import { AllocProbe } from "./alloc-probe";

function hf(abort: string | null, grpc: string | null, delay: string | null, abortPct: string | null, delayPct: string | null,
  rulePercentage: f64 = 100, maxDelayMs: i64 = 5000): HeaderFault {
  const f = new HeaderFault();
  f.compute(abort, grpc, delay, abortPct, delayPct, rulePercentage, maxDelayMs);
  return f;
}

describe("x-envoy-fault-abort-request", () => {
  it("aborts with a status in [200, 600)", () => {
    expect(hf("503", null, null, null, null).abortHttpStatus).toBe(503);
    expect(hf("200", null, null, null, null).abortHttpStatus).toBe(200);
    expect(hf("599", null, null, null, null).abortHttpStatus).toBe(599);
    expect(hf("503", null, null, null, null).abortGrpcStatus).toBe(NO_GRPC_STATUS);
  });
  it("ignores a status outside [200, 600) or a value that is not an unsigned integer", () => {
    expect(hf("199", null, null, null, null).hasAbort).toBe(false);
    expect(hf("600", null, null, null, null).hasAbort).toBe(false);
    expect(hf("abc", null, null, null, null).hasAbort).toBe(false);
    expect(hf("-503", null, null, null, null).hasAbort).toBe(false);
    expect(hf("503abc", null, null, null, null).hasAbort).toBe(false);
    expect(hf("5 03", null, null, null, null).hasAbort).toBe(false);
    expect(hf("503,404", null, null, null, null).hasAbort).toBe(false);
    expect(hf("", null, null, null, null).hasAbort).toBe(false);
    expect(hf("+", null, null, null, null).hasAbort).toBe(false);
    expect(hf("99999999999999999999999", null, null, null, null).hasAbort).toBe(false); // overflows u64
  });
  it("parses like absl::SimpleAtoi: surrounding ASCII whitespace and one + are fine", () => {
    expect(hf(" 503\t", null, null, null, null).abortHttpStatus).toBe(503);
    expect(hf("+503", null, null, null, null).abortHttpStatus).toBe(503);
    expect(hf("000503", null, null, null, null).abortHttpStatus).toBe(503);
    expect(hf("++503", null, null, null, null).hasAbort).toBe(false);
  });
});

describe("x-envoy-fault-abort-grpc-request", () => {
  it("aborts with that gRPC status and HTTP 200, as Envoy replies", () => {
    const f = hf(null, "14", null, null, null);
    expect(f.abortHttpStatus).toBe(200);
    expect(f.abortGrpcStatus).toBe(14);
    expect(hf(null, "99", null, null, null).abortGrpcStatus).toBe(99); // no range check in Envoy
    expect(hf(null, "0", null, null, null).abortGrpcStatus).toBe(0);
  });
  it("loses to a valid HTTP status, and is read when the HTTP status is invalid", () => {
    expect(hf("503", "14", null, null, null).abortGrpcStatus).toBe(NO_GRPC_STATUS);
    expect(hf("700", "14", null, null, null).abortGrpcStatus).toBe(14);
    expect(hf(null, "x", null, null, null).hasAbort).toBe(false);
    expect(hf(null, "4294967296", null, null, null).hasAbort).toBe(false); // HFI: above i32, absent
  });
});

describe("x-envoy-fault-delay-request", () => {
  it("delays by the value in ms, only when above 0, clamped to the rule's max_delay_ms", () => {
    expect(hf(null, null, "250", null, null).delayMs).toBe(250);
    expect(hf(null, null, "0", null, null).hasDelay).toBe(false);
    expect(hf(null, null, "9000", null, null, 100, 5000).delayMs).toBe(5000);
    expect(hf(null, null, "18446744073709551615", null, null, 100, 5000).delayMs).toBe(5000);
    expect(hf(null, null, "1.5", null, null).hasDelay).toBe(false);
  });
  it("takes no delay from headers on a rule without a positive max_delay_ms", () => {
    expect(hf(null, null, "250", null, null, 100, 0).hasDelay).toBe(false);
  });
});

describe("the -percentage headers", () => {
  it("lower the rule's percentage, never raise it", () => {
    const f = hf("503", null, "100", "5", "20", 10);
    expect(f.abortPercentage).toBe(5.0);
    expect(f.delayPercentage).toBe(10.0); // 20 is above the rule's 10
  });
  it("fall back to the rule's percentage when absent or invalid", () => {
    expect(hf("503", null, null, null, null, 12.5).abortPercentage).toBe(12.5);
    expect(hf("503", null, null, "abc", null, 12.5).abortPercentage).toBe(12.5);
    expect(hf("503", null, null, "-1", null, 12.5).abortPercentage).toBe(12.5);
    expect(hf("503", null, null, "4294967296", null, 12.5).abortPercentage).toBe(12.5); // overflows u32
    expect(hf("503", null, null, "0", null, 12.5).abortPercentage).toBe(0.0);
  });
  it("decide with one uniform draw each", () => {
    const f = hf("503", null, "100", "30", "100", 50);
    expect(f.wantsAbort(0.29)).toBe(true);
    expect(f.wantsAbort(0.30)).toBe(false);
    expect(f.wantsDelay(0.49)).toBe(true);
    expect(f.wantsDelay(0.50)).toBe(false);
  });
});

describe("header faults without headers", () => {
  it("ask for nothing, and computing allocates nothing", () => {
    const f = new HeaderFault();
    const probe = new AllocProbe();
    f.compute(null, null, null, null, null, 100, 1000);
    f.compute("503", "14", "250", "5", "5", 100, 1000);
    expect(probe.nothingAllocated()).toBe(true);
    f.compute(null, null, null, null, null, 100, 1000);
    expect(f.hasAbort).toBe(false);
    expect(f.hasDelay).toBe(false);
  });
});
