// The fields each object of a policy may have: the one list "unknown field" and "did you mean"
// are judged against, and the text that says what was expected (diagnostics.ts unknownField).

export const SPEC_FIELDS: string[] = ["selector", "direction", "destination", "rules", "mode", "exclude", "guard", "schedule"];
export const DIRECTIONS: string[] = ["inbound", "outbound", "any"];
export const DESTINATION_FIELDS: string[] = ["service", "namespace", "port", "subset", "cluster"];
export const SELECTOR_FIELDS: string[] = ["service", "namespace"];
export const RULE_FIELDS: string[] = ["match", "fault"];
export const MATCH_FIELDS: string[] = ["method", "path", "headers"];
export const STRING_MATCH_FIELDS: string[] = ["exact", "prefix", "suffix", "contains", "regex"];
export const HEADER_MATCH_FIELDS: string[] = ["name", "exact", "prefix", "suffix", "contains", "regex", "present"];
export const FAULT_FIELDS: string[] = [
  "percentage", "abort", "delay", "start_delay_ms", "duration_seconds", "sampling", "reset", "response", "max_injections", "from_headers",
];
export const ABORT_FIELDS: string[] = ["httpStatus", "grpcStatus", "body", "headers", "grpcMessage"];
export const SAMPLING_FIELDS: string[] = ["header"];
export const RESPONSE_FIELDS: string[] = ["delay_ms", "httpStatus", "body", "headers"];
export const RESPONSE_HEADER_FIELDS: string[] = ["add", "remove"];
