// Every size limit on what a configuration or control-plane body may ask of a VM, in one
// place. Each is checked before anything of that size is built, so a VM's memory is bounded
// by what a valid configuration can need, not by the size of what it was sent. A value over a
// limit is refused with a message naming the limit, the field and the value's size
// (docs/limits.md lists them all; config/limits.ts words the refusals).

/** Plugin configuration, in bytes (the same as a control-plane body). */
export const MAX_CONFIGURATION_BYTES: i32 = 4 * 1024 * 1024;
/** Policies in one document (plugin configuration or control-plane body). */
export const MAX_POLICIES: i32 = 5000;
/** Rules in one policy. */
export const MAX_RULES_PER_POLICY: i32 = 100;
/** Rules in one document, all policies together. */
export const MAX_RULES: i32 = 10000;
/** Header conditions in one rule. */
export const MAX_CONDITIONS_PER_RULE: i32 = 32;
/** Distinct header names in one document (conditions and sampling headers). */
export const MAX_HEADER_NAMES: i32 = 4096;
/** A policy name: a Kubernetes object name (DNS subdomain) is at most 253 characters. */
export const MAX_POLICY_NAME_BYTES: i32 = 253;
/** A header name (Envoy's default header table sizes keep real names far shorter). */
export const MAX_HEADER_NAME_BYTES: i32 = 256;
/** An exact/prefix/suffix/contains literal: a header value Envoy accepts is at most 60 KiB,
 * but a literal this long already names a value no client sends by accident. */
export const MAX_LITERAL_BYTES: i32 = 8192;
/** A regex pattern, before compileRegex looks at it (it has its own program-size limits). */
export const MAX_PATTERN_BYTES: i32 = 8192;
/** Regex conditions in one document: each compiled pattern keeps its own matcher state. */
export const MAX_REGEXES: i32 = 1000;
/** Regex conditions on one input (one header, the path, the method) in one document: a request
 * that matches no rule may scan that input once per pattern, and a client chooses a header's
 * size (up to 60 KiB in Envoy). An ordinary pattern scans 60 KiB in under 30 µs (make bench), so
 * this bounds the regex work of one request to about 1 ms. */
export const MAX_REGEXES_PER_INPUT: i32 = 32;
/** Regex pattern bytes in one document, all patterns together, counted before each compiles:
 * compiling builds a syntax tree first, and a pattern refused at its end (an unmatched ')')
 * leaves that tree behind until the callback ends. */
export const MAX_REGEX_BYTES: i32 = 65536;
/** A selector's service or namespace (Kubernetes names). */
export const MAX_SELECTOR_BYTES: i32 = 253;
/** A destination's service, namespace or subset (Kubernetes and DNS names). */
export const MAX_DESTINATION_NAME_BYTES: i32 = 253;
/** A destination's plain Envoy cluster name. */
export const MAX_CLUSTER_NAME_BYTES: i32 = 1024;
/** An abort's body, sent with every abort. */
export const MAX_ABORT_BODY_BYTES: i32 = 65536;
/** metric_prefix: part of every metric name (and Envoy keeps every name it was given). */
export const MAX_METRIC_PREFIX_BYTES: i32 = 128;
/** control_plane cluster, authority and path. */
export const MAX_CONTROL_PLANE_FIELD_BYTES: i32 = 1024;
