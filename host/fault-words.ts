/**
 * A rule's fault in words, as `hfi simulate` and `make run`'s banner say it: every kind (start
 * delay, delay or its distribution, abort, reset, response fault), header-controlled faults,
 * budgets and durations.
 */
type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function describeFault(f: Json): string {
  const steps: string[] = [];
  if (typeof f.start_delay_ms === "number" && f.start_delay_ms > 0) steps.push(`start delay ${f.start_delay_ms} ms`);
  const delay = isObject(f.delay) ? f.delay.fixed_delay_ms : undefined;
  if (typeof delay === "number") steps.push(`delay ${delay} ms`);
  else if (isObject(f.delay)) steps.push(`delay drawn from ${Object.keys(f.delay).join(", ")}`);
  if (isObject(f.abort)) {
    const a = f.abort;
    const status = typeof a.httpStatus === "number" ? `abort ${a.httpStatus}` : "abort";
    steps.push(typeof a.grpcStatus === "number" ? `${status} (gRPC status ${a.grpcStatus} for gRPC requests)` : status);
  }
  if (f.reset === true) steps.push("reset the stream");
  if (isObject(f.response)) {
    const r = f.response;
    const parts: string[] = [];
    if (typeof r.delay_ms === "number") parts.push(`hold ${r.delay_ms} ms`);
    if (typeof r.httpStatus === "number") parts.push(`status ${r.httpStatus}`);
    if (typeof r.body === "string") parts.push("body replaced");
    if (isObject(r.headers)) parts.push("headers changed");
    steps.push(`on the response: ${parts.join(", ") || "no change"}`);
  }
  if (f.from_headers === true) steps.push("or what x-envoy-fault-* request headers ask for");
  if (typeof f.max_injections === "number") steps.push(`at most ${f.max_injections} times per proxy`);
  const text = steps.join(", then ") || "no fault";
  return typeof f.duration_seconds === "number" && f.duration_seconds > 0 ? `${text}, for ${f.duration_seconds} s after the policy is first seen` : text;
}
