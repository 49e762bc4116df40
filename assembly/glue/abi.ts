// Proxy-Wasm ABI 0.2.0 callbacks. The plugin owns its dispatch: proxy-runtime's stock context
// bookkeeping builds log strings on every call and slows down with every request in flight,
// so only its host bindings are used. A request that no policy faults leaves no state here.
import { FaultInjector, HeadersStatus } from "../plugin";
import { BufferType, getBuffer } from "./host";

export function proxy_abi_version_0_2_0(): void {}

/** Root contexts by id. Envoy normally creates one per VM; several are supported. */
const roots = new Map<u32, FaultInjector>();
/** The root when there is exactly one (the usual case): no per-request lookup needed. */
let onlyRoot: FaultInjector | null = null;
/** Stream → root, kept only while several roots exist. */
const streamRoots = new Map<u32, u32>();

function rootOf(contextId: u32): FaultInjector | null {
  if (onlyRoot !== null) return onlyRoot;
  if (!streamRoots.has(contextId)) return null;
  const rootId = streamRoots.get(contextId);
  return roots.has(rootId) ? roots.get(rootId) : null;
}

function rootById(rootId: u32): FaultInjector | null {
  return roots.has(rootId) ? roots.get(rootId) : null;
}

export function proxy_on_context_create(context_id: u32, root_context_id: u32): void {
  if (root_context_id == 0) {
    // Any root id is accepted: Istio's is empty unless WasmPlugin.spec.pluginName is set.
    if (!roots.has(context_id)) roots.set(context_id, new FaultInjector(context_id));
    onlyRoot = roots.size == 1 ? roots.get(context_id) : null;
    return;
  }
  if (onlyRoot === null && roots.has(root_context_id)) streamRoots.set(context_id, root_context_id);
}

export function proxy_on_vm_start(root_context_id: u32, vm_configuration_size: u32): u32 {
  return 1;
}

export function proxy_on_configure(root_context_id: u32, plugin_configuration_size: u32): u32 {
  const root = rootById(root_context_id);
  if (root === null) return 0;
  let bytes = new ArrayBuffer(0);
  if (plugin_configuration_size > 0) {
    const b = getBuffer(BufferType.PluginConfiguration, 0, plugin_configuration_size);
    if (b !== null) bytes = b;
  }
  return root.configure(bytes) ? 1 : 0;
}

export function proxy_on_tick(root_context_id: u32): void {
  const root = rootById(root_context_id);
  if (root !== null) root.onTick();
}

export function proxy_on_request_headers(context_id: u32, headers: u32, end_of_stream: u32): u32 {
  const root = rootOf(context_id);
  return root === null ? HeadersStatus.Continue : root.onRequestHeaders(context_id);
}

export function proxy_on_request_body(context_id: u32, body_size: u32, end_of_stream: u32): u32 {
  const root = rootOf(context_id);
  return root === null ? 0 : root.onRequestBody(context_id);
}

export function proxy_on_request_trailers(context_id: u32, trailers: u32): u32 {
  const root = rootOf(context_id);
  return root === null ? 0 : root.onRequestTrailers(context_id);
}

export function proxy_on_response_headers(context_id: u32, headers: u32, end_of_stream: u32): u32 {
  const root = rootOf(context_id);
  return root === null ? 0 : root.onResponseHeaders(context_id);
}

export function proxy_on_response_body(context_id: u32, body_size: u32, end_of_stream: u32): u32 {
  return 0;
}

export function proxy_on_response_trailers(context_id: u32, trailers: u32): u32 {
  return 0;
}

export function proxy_on_http_call_response(context_id: u32, token: u32, headers: u32, body_size: u32, trailers: u32): void {
  const root = rootById(context_id);
  if (root !== null) root.onHttpCallResponse(token, headers, body_size);
}

export function proxy_on_done(context_id: u32): u32 {
  return 1;
}

export function proxy_on_log(context_id: u32): void {}

export function proxy_on_delete(context_id: u32): void {
  if (roots.has(context_id)) {
    roots.delete(context_id);
    onlyRoot = null;
    if (roots.size == 1) {
      const ids = roots.keys();
      onlyRoot = roots.get(unchecked(ids[0]));
    }
    return;
  }
  const root = rootOf(context_id);
  if (root !== null) root.onDelete(context_id);
  if (streamRoots.size > 0) streamRoots.delete(context_id);
}
