// Header-controlled faults: a trusted caller asks for a fault with Envoy's
// `x-envoy-fault-*` request headers, on rules with `from_headers: true`, within what the rule
// allows (its percentage and max_delay_ms are upper bounds).
//
// Envoy's semantics, read in its source:
//   source/extensions/filters/common/fault/fault_config.cc
//     - HeaderAbortProvider::httpStatusCode: `x-envoy-fault-abort-request` parsed with
//       absl::SimpleAtoi into a uint64; valid only in [200, 600); otherwise no abort.
//     - HeaderAbortProvider::grpcStatusCode: `x-envoy-fault-abort-grpc-request` parsed the same
//       way; any value is cast to a gRPC status (no range check).
//     - HeaderDelayProvider::duration: `x-envoy-fault-delay-request`, uint64 milliseconds.
//     - HeaderPercentageProvider::percentage: `x-envoy-fault-{abort,delay}-request-percentage`
//       parsed into a uint32 numerator; unparsable or absent -> the configured percentage;
//       otherwise numerator = min(header, configured numerator) over the configured
//       denominator. Only the first value of a repeated header is used.
//   source/extensions/filters/http/fault/fault_filter.cc
//     - abortStatus: the HTTP status header wins; only without a valid one is the gRPC header
//       read, and then the reply's HTTP status is 200 with that grpc-status.
//     - delayDuration: a delay happens only when the parsed duration is > 0.
//     - decodeHeaders: the delay is decided first (its own percentage draw); the abort is
//       decided after the delay ends (postDelayInjection -> maybeDoAbort, a second draw).
//   absl::SimpleAtoi (absl/strings/numbers.cc, safe_uint_internal): leading and trailing ASCII
//   whitespace is skipped, one "+" is accepted, a "-" makes an unsigned parse fail, only
//   decimal digits follow, overflow fails.
//
// How HFI maps it: the rule's `percentage` (0..100, fractions allowed) plays Envoy's configured
// FractionalPercent with denominator HUNDRED, so a percentage header is a whole number of
// percent and the effective percentage is min(header, rule percentage). A header delay above
// the rule's max_delay_ms is clamped to it; a rule without a positive max_delay_ms takes no
// delay from headers (fail safe: a header must not hold requests for an unbounded time).
// Deviation: a gRPC status above 2^31 - 1 (meaningless; real codes are 0..16) is treated as
// absent, where Envoy would pass the number through.
//
// How the act layer uses it (one `HeaderFault` per VM, reused; nothing allocates):
//   on_request_headers, rule matched and rule.fault.fromHeaders:
//     hf.compute(get("x-envoy-fault-abort-request"), get("x-envoy-fault-abort-grpc-request"),
//                get("x-envoy-fault-delay-request"),
//                get("x-envoy-fault-abort-request-percentage"),
//                get("x-envoy-fault-delay-request-percentage"),
//                rule.fault.percentage, rule.fault.maxDelayMs)
//     if hf.hasDelay && hf.wantsDelay(u1): hold hf.delayMs, then (after the delay)
//     if hf.hasAbort && hf.wantsAbort(u2): abort with hf.abortHttpStatus / hf.abortGrpcStatus.
//   `get` returns the header's value or null (five header reads: only on from_headers rules).

export const NO_GRPC_STATUS: i32 = -1;

export class HeaderFault {
  /** 0 when the headers ask for no abort; 200 when the abort is a gRPC status (as Envoy). */
  abortHttpStatus: i32 = 0;
  abortGrpcStatus: i32 = NO_GRPC_STATUS;
  /** The share (0..100) of requests that get the abort. */
  abortPercentage: f64 = 0;
  /** 0 when the headers ask for no delay. */
  delayMs: i64 = 0;
  delayPercentage: f64 = 0;
  private parsed: u64 = 0;

  get hasAbort(): bool { return this.abortHttpStatus != 0; }
  get hasDelay(): bool { return this.delayMs > 0; }

  /** `u` uniform in [0, 1): true with probability delayPercentage / 100. */
  wantsDelay(u: f64): bool { return u * 100.0 < this.delayPercentage; }
  wantsAbort(u: f64): bool { return u * 100.0 < this.abortPercentage; }

  compute(
    abortRequest: string | null,
    abortGrpcRequest: string | null,
    delayRequest: string | null,
    abortPercentage: string | null,
    delayPercentage: string | null,
    rulePercentage: f64,
    maxDelayMs: i64,
  ): void {
    const rule = rulePercentage >= 0 ? (rulePercentage <= 100 ? rulePercentage : 100) : 0;
    this.abortPercentage = this.percentage(abortPercentage, rule);
    this.delayPercentage = this.percentage(delayPercentage, rule);

    this.abortHttpStatus = 0;
    this.abortGrpcStatus = NO_GRPC_STATUS;
    if (this.atoi(abortRequest, u64.MAX_VALUE) && this.parsed >= 200 && this.parsed < 600) {
      this.abortHttpStatus = <i32>this.parsed;
    } else if (this.atoi(abortGrpcRequest, u64.MAX_VALUE) && this.parsed <= <u64>i32.MAX_VALUE) {
      this.abortHttpStatus = 200;
      this.abortGrpcStatus = <i32>this.parsed;
    }

    this.delayMs = 0;
    if (maxDelayMs > 0 && this.atoi(delayRequest, u64.MAX_VALUE) && this.parsed > 0) {
      this.delayMs = this.parsed > <u64>maxDelayMs ? maxDelayMs : <i64>this.parsed;
    }
  }

  /** HeaderPercentageProvider: min(header numerator, rule) over 100, or the rule's. */
  private percentage(header: string | null, rule: f64): f64 {
    if (!this.atoi(header, <u64>u32.MAX_VALUE)) return rule;
    const h = <f64>this.parsed;
    return h < rule ? h : rule;
  }

  /** absl::SimpleAtoi into an unsigned integer no larger than `max`; the value in `parsed`. */
  private atoi(value: string | null, max: u64): bool {
    this.parsed = 0;
    if (value === null) return false;
    const s = changetype<string>(value);
    let start = 0;
    let end = s.length;
    while (start < end && isAsciiSpace(s.charCodeAt(start))) start++;
    while (end > start && isAsciiSpace(s.charCodeAt(end - 1))) end--;
    if (start >= end) return false;
    const sign = s.charCodeAt(start);
    if (sign == 45) return false; // "-": an unsigned parse fails
    if (sign == 43) {
      start++;
      if (start >= end) return false;
    }
    let v: u64 = 0;
    for (let i = start; i < end; i++) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) return false;
      const d = <u64>(c - 48);
      if (v > (max - d) / 10) return false; // v * 10 + d would exceed max
      v = v * 10 + d;
    }
    this.parsed = v;
    return true;
  }
}

/** absl::ascii_isspace: space, \t, \n, \v, \f, \r. */
@inline function isAsciiSpace(c: i32): bool {
  return c == 32 || (c >= 9 && c <= 13);
}

/** The five request headers, in the order `compute` takes them (built from shared parts: each
 * literal character costs the module two bytes). */
const PREFIX = "x-envoy-fault-";
const PERCENTAGE = "-percentage";
export const ABORT_REQUEST_HEADER = PREFIX + "abort-request";
export const ABORT_GRPC_REQUEST_HEADER = PREFIX + "abort-grpc-request";
export const DELAY_REQUEST_HEADER = PREFIX + "delay-request";
export const ABORT_PERCENTAGE_HEADER = ABORT_REQUEST_HEADER + PERCENTAGE;
export const DELAY_PERCENTAGE_HEADER = DELAY_REQUEST_HEADER + PERCENTAGE;
