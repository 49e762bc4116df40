// Proxy-Wasm ABI 0.2.0 callbacks. The plugin owns its dispatch (proxy-runtime's stock context
// bookkeeping logs on every call and slows down with every request in flight), and keeps only
// proxy-runtime's host bindings.

export function proxy_abi_version_0_2_0(): void {}

export function proxy_on_context_create(context_id: u32, root_context_id: u32): void {}
export function proxy_on_vm_start(root_context_id: u32, vm_configuration_size: u32): u32 { return 1; }
export function proxy_on_configure(root_context_id: u32, plugin_configuration_size: u32): u32 { return 1; }
export function proxy_on_tick(root_context_id: u32): void {}
export function proxy_on_request_headers(context_id: u32, headers: u32, end_of_stream: u32): u32 { return 0; }
export function proxy_on_request_body(context_id: u32, body_size: u32, end_of_stream: u32): u32 { return 0; }
export function proxy_on_request_trailers(context_id: u32, trailers: u32): u32 { return 0; }
export function proxy_on_response_headers(context_id: u32, headers: u32, end_of_stream: u32): u32 { return 0; }
export function proxy_on_response_body(context_id: u32, body_size: u32, end_of_stream: u32): u32 { return 0; }
export function proxy_on_response_trailers(context_id: u32, trailers: u32): u32 { return 0; }
export function proxy_on_http_call_response(context_id: u32, token: u32, headers: u32, body_size: u32, trailers: u32): void {}
export function proxy_on_done(context_id: u32): u32 { return 1; }
export function proxy_on_log(context_id: u32): void {}
export function proxy_on_delete(context_id: u32): void {}
