// as-pect: unit tests of the plugin's pure parts (parsing, matching, regex, sampling, timers).
// They need no host; host imports that glue code references are stubbed to answer Ok (0).
const HOST_FUNCTIONS = [
  "proxy_log", "proxy_get_status", "proxy_set_property", "proxy_get_property",
  "proxy_send_local_response", "proxy_get_shared_data", "proxy_set_shared_data",
  "proxy_register_shared_queue", "proxy_resolve_shared_queue", "proxy_dequeue_shared_queue",
  "proxy_enqueue_shared_queue", "proxy_get_header_map_value", "proxy_add_header_map_value",
  "proxy_replace_header_map_value", "proxy_remove_header_map_value", "proxy_get_header_map_pairs",
  "proxy_set_header_map_pairs", "proxy_get_header_map_size", "proxy_get_buffer_status",
  "proxy_get_buffer_bytes", "proxy_set_buffer_bytes", "proxy_http_call", "proxy_grpc_call",
  "proxy_grpc_stream", "proxy_grpc_close", "proxy_grpc_cancel", "proxy_grpc_send",
  "proxy_set_tick_period_milliseconds", "proxy_get_current_time_nanoseconds",
  "proxy_define_metric", "proxy_increment_metric", "proxy_record_metric", "proxy_get_metric",
  "proxy_set_effective_context", "proxy_done", "proxy_call_foreign_function",
  "proxy_continue_stream", "proxy_close_stream",
];

module.exports = {
  entries: ["tests/unit/**/*.spec.ts"],
  include: ["tests/unit/**/*.include.ts"],
  disclude: [/node_modules/],
  async instantiate(memory, createImports, instantiate, binary) {
    const env = { memory };
    for (const name of HOST_FUNCTIONS) env[name] = () => 0;
    // The plugin's clock and entropy (glue/clock.ts); ENOSYS exercises its fallbacks.
    const wasi_snapshot_preview1 = { clock_time_get: () => 52, random_get: () => 52 };
    return instantiate(binary, createImports({ env, wasi_snapshot_preview1 }));
  },
  outputBinary: false,
};
