/**
 * The Proxy-Wasm ABI as Envoy (proxy-wasm-cpp-host) registers it: version markers, status
 * codes, enums, and the exact import and export signatures the host accepts per ABI version.
 */

export type AbiVersion = "0.1.0" | "0.2.0" | "0.2.1";

/** Exported marker function → ABI version. */
export const ABI_MARKERS: ReadonlyArray<[string, AbiVersion]> = [
  ["proxy_abi_version_0_1_0", "0.1.0"],
  ["proxy_abi_version_0_2_0", "0.2.0"],
  ["proxy_abi_version_0_2_1", "0.2.1"],
];

/** Return codes of host functions (WasmResult). */
export enum WasmResult {
  Ok = 0,
  NotFound = 1,
  BadArgument = 2,
  SerializationFailure = 3,
  ParseFailure = 4,
  BadExpression = 5,
  InvalidMemoryAccess = 6,
  Empty = 7,
  CasMismatch = 8,
  ResultMismatch = 9,
  InternalFailure = 10,
  BrokenConnection = 11,
  Unimplemented = 12,
}

/** What `proxy_on_*_headers` may return. */
export enum HeaderStatus {
  Continue = 0,
  StopIteration = 1,
  ContinueAndEndStream = 2,
  StopAllIterationAndBuffer = 3,
  StopAllIterationAndWatermark = 4,
}

/** What `proxy_on_*_body` may return. */
export enum DataStatus {
  Continue = 0,
  StopIterationAndBuffer = 1,
  StopIterationAndWatermark = 2,
  StopIterationNoBuffer = 3,
}

export enum TrailersStatus {
  Continue = 0,
  StopIteration = 1,
}

export enum LogLevel {
  Trace = 0,
  Debug = 1,
  Info = 2,
  Warn = 3,
  Error = 4,
  Critical = 5,
}

export enum StreamType {
  Request = 0,
  Response = 1,
  Downstream = 2,
  Upstream = 3,
}

export enum MetricType {
  Counter = 0,
  Gauge = 1,
  Histogram = 2,
}

/** Header map types. 0.2.x numbering; 0.1.0 differs (see headerMapTypeFor). */
export enum HeaderMapType {
  RequestHeaders = 0,
  RequestTrailers = 1,
  ResponseHeaders = 2,
  ResponseTrailers = 3,
  GrpcReceiveInitialMetadata = 4,
  GrpcReceiveTrailingMetadata = 5,
  HttpCallResponseHeaders = 6,
  HttpCallResponseTrailers = 7,
}
export const HEADER_MAP_TYPE_MAX = 7;

export enum BufferType {
  HttpRequestBody = 0,
  HttpResponseBody = 1,
  DownstreamData = 2,
  UpstreamData = 3,
  HttpCallResponseBody = 4,
  GrpcReceiveBuffer = 5,
  VmConfiguration = 6,
  PluginConfiguration = 7,
  CallData = 8,
}
export const BUFFER_TYPE_MAX = 8;

/** A wasm function signature, value types as in the binary format. */
export interface Signature {
  params: ValType[];
  results: ValType[];
}
export type ValType = "i32" | "i64" | "f32" | "f64";

const I = "i32" as const;
const L = "i64" as const;
const sig = (params: ValType[], results: ValType[] = [I]): Signature => ({ params, results });
const words = (n: number): Signature => sig(new Array<ValType>(n).fill(I));

/** env.proxy_* functions Envoy registers for every ABI version (FOR_ALL_HOST_FUNCTIONS). */
const COMMON_PROXY_IMPORTS: Record<string, Signature> = {
  proxy_log: words(3),
  proxy_get_status: words(3),
  proxy_set_property: words(4),
  proxy_get_property: words(4),
  proxy_send_local_response: words(8),
  proxy_get_shared_data: words(5),
  proxy_set_shared_data: words(5),
  proxy_register_shared_queue: words(3),
  proxy_resolve_shared_queue: words(5),
  proxy_dequeue_shared_queue: words(3),
  proxy_enqueue_shared_queue: words(3),
  proxy_get_header_map_value: words(5),
  proxy_add_header_map_value: words(5),
  proxy_replace_header_map_value: words(5),
  proxy_remove_header_map_value: words(3),
  proxy_get_header_map_pairs: words(3),
  proxy_set_header_map_pairs: words(3),
  proxy_get_header_map_size: words(2),
  proxy_get_buffer_status: words(3),
  proxy_get_buffer_bytes: words(5),
  proxy_set_buffer_bytes: words(5),
  proxy_http_call: words(10),
  proxy_grpc_call: words(12),
  proxy_grpc_stream: words(9),
  proxy_grpc_close: words(1),
  proxy_grpc_cancel: words(1),
  proxy_grpc_send: words(4),
  proxy_set_tick_period_milliseconds: words(1),
  proxy_get_current_time_nanoseconds: words(1),
  proxy_define_metric: words(4),
  proxy_increment_metric: sig([I, L]),
  proxy_record_metric: sig([I, L]),
  proxy_get_metric: words(2),
  proxy_set_effective_context: words(1),
  proxy_done: words(0),
  proxy_call_foreign_function: words(6),
};

/** ABI-specific extras (FOR_ALL_HOST_FUNCTIONS_ABI_SPECIFIC, registered per version). */
const ABI_SPECIFIC_IMPORTS: Record<AbiVersion, Record<string, Signature>> = {
  "0.1.0": {
    proxy_get_configuration: words(2),
    proxy_continue_request: words(0),
    proxy_continue_response: words(0),
    proxy_clear_route_cache: words(0),
  },
  "0.2.0": { proxy_continue_stream: words(1), proxy_close_stream: words(1) },
  "0.2.1": { proxy_continue_stream: words(1), proxy_close_stream: words(1), proxy_get_log_level: words(1) },
};

const EMSCRIPTEN_IMPORTS: Record<string, Signature> = {
  pthread_equal: words(2),
  emscripten_notify_memory_growth: sig([I], []),
};

/** WASI functions, registered under both wasi_unstable and wasi_snapshot_preview1, with the
 * parameter lists proxy-wasm-cpp-host declares (path_link and path_symlink are one short of
 * the WASI spec there; a module importing the spec signature fails to link in Envoy too). */
export const WASI_IMPORTS: Record<string, Signature> = {
  fd_write: words(4),
  fd_read: words(4),
  fd_seek: sig([I, L, I, I]),
  fd_close: words(1),
  fd_fdstat_get: words(2),
  fd_fdstat_set_flags: words(2),
  fd_fdstat_set_rights: sig([I, L, L]),
  environ_get: words(2),
  environ_sizes_get: words(2),
  args_get: words(2),
  args_sizes_get: words(2),
  clock_time_get: sig([I, L, I]),
  clock_res_get: words(2),
  fd_advise: sig([I, L, L, I]),
  fd_allocate: sig([I, L, L]),
  fd_datasync: words(1),
  fd_filestat_set_size: sig([I, L]),
  fd_filestat_set_times: sig([I, L, L, I]),
  fd_pread: sig([I, I, I, L, I]),
  fd_pwrite: sig([I, I, I, L, I]),
  fd_readdir: sig([I, I, I, L, I]),
  fd_renumber: words(2),
  fd_sync: words(1),
  fd_tell: words(2),
  path_create_directory: words(3),
  path_filestat_set_times: sig([I, I, I, I, L, L, I]),
  path_link: words(6),
  path_readlink: words(6),
  path_remove_directory: words(3),
  path_rename: words(6),
  path_symlink: words(4),
  path_unlink_file: words(3),
  sock_accept: words(3),
  sock_recv: words(6),
  sock_send: words(5),
  sock_shutdown: words(2),
  random_get: words(2),
  sched_yield: words(0),
  poll_oneoff: words(4),
  proc_exit: sig([I], []),
  path_open: sig([I, I, I, I, I, L, L, I, I]),
  fd_prestat_get: words(2),
  fd_prestat_dir_name: words(3),
  path_filestat_get: words(5),
  fd_filestat_get: words(2),
};
export const WASI_MODULES = ["wasi_unstable", "wasi_snapshot_preview1"] as const;

/** The full import table Envoy registers for one ABI version: "module.field" → signature. */
export function registeredImports(abi: AbiVersion): Map<string, Signature> {
  const table = new Map<string, Signature>();
  for (const [name, s] of Object.entries(EMSCRIPTEN_IMPORTS)) table.set(`env.${name}`, s);
  for (const mod of WASI_MODULES) {
    for (const [name, s] of Object.entries(WASI_IMPORTS)) table.set(`${mod}.${name}`, s);
  }
  for (const [name, s] of Object.entries(COMMON_PROXY_IMPORTS)) table.set(`env.${name}`, s);
  for (const [name, s] of Object.entries(ABI_SPECIFIC_IMPORTS[abi])) table.set(`env.${name}`, s);
  return table;
}

/** Host calls allowed while the VM starts (`_initialize`/`main`/`_start`); any other host call
 * traps with "restricted_callback" (WasmBase::startVm). */
const START_FORBIDDEN_WASI = new Set(["fd_read", "fd_seek", "fd_close", "sched_yield", "proc_exit", "path_open"]);

export const START_ALLOWED_IMPORTS: ReadonlySet<string> = new Set([
  "env.emscripten_notify_memory_growth",
  "env.proxy_log",
  ...WASI_MODULES.flatMap((m) =>
    Object.keys(WASI_IMPORTS)
      .filter((f) => !START_FORBIDDEN_WASI.has(f))
      .map((f) => `${m}.${f}`),
  ),
]);

/** Module exports the host looks up, with the signature it requires (getFunctions). A wrong
 * signature fails the load ("Bad function signature for: ..."). */
export function moduleFunctionSignatures(abi: AbiVersion): Map<string, Signature> {
  const v = (n: number): Signature => sig(new Array<ValType>(n).fill(I), []);
  const headers = abi === "0.1.0" ? words(2) : words(3);
  const m = new Map<string, Signature>([
    ["_initialize", v(0)],
    ["_start", v(0)],
    ["main", words(2)],
    ["__main_void", words(0)],
    ["malloc", words(1)],
    ["proxy_on_memory_allocate", words(1)],
    ["proxy_on_vm_start", words(2)],
    ["proxy_validate_configuration", words(2)],
    ["proxy_on_configure", words(2)],
    ["proxy_on_tick", v(1)],
    ["proxy_on_context_create", v(2)],
    ["proxy_on_new_connection", words(1)],
    ["proxy_on_downstream_data", words(3)],
    ["proxy_on_upstream_data", words(3)],
    ["proxy_on_downstream_connection_close", v(2)],
    ["proxy_on_upstream_connection_close", v(2)],
    ["proxy_on_request_headers", headers],
    ["proxy_on_request_body", words(3)],
    ["proxy_on_request_trailers", words(2)],
    ["proxy_on_request_metadata", words(2)],
    ["proxy_on_response_headers", headers],
    ["proxy_on_response_body", words(3)],
    ["proxy_on_response_trailers", words(2)],
    ["proxy_on_response_metadata", words(2)],
    ["proxy_on_http_call_response", v(5)],
    ["proxy_on_grpc_receive_initial_metadata", v(3)],
    ["proxy_on_grpc_receive_trailing_metadata", v(3)],
    ["proxy_on_grpc_receive", v(3)],
    ["proxy_on_grpc_close", v(3)],
    ["proxy_on_queue_ready", v(2)],
    ["proxy_on_done", words(1)],
    ["proxy_on_log", v(1)],
    ["proxy_on_delete", v(1)],
  ]);
  if (abi !== "0.1.0") m.set("proxy_on_foreign_function", v(3));
  return m;
}

export function signatureText(s: Signature): string {
  return `(${s.params.join(", ")}) -> (${s.results.join(", ")})`;
}

export function sameSignature(a: Signature, b: Signature): boolean {
  return (
    a.params.length === b.params.length &&
    a.results.length === b.results.length &&
    a.params.every((p, i) => p === b.params[i]) &&
    a.results.every((r, i) => r === b.results[i])
  );
}
