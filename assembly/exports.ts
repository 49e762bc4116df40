// Proxy-Wasm ABI 0.2.0 callbacks. The plugin owns its dispatch: proxy-runtime's stock context
// bookkeeping builds log strings on every call and slows down with every request in flight,
// so only its host bindings are used. A request that no policy faults leaves no state here.
import { BufferType, getBuffer } from "./glue/host";
import { MAX_CONFIGURATION_BYTES } from "./model/limits";
import { collectIfDue, collectNow } from "./glue/memory";
import { HeadersStatus } from "./request/path";
import { FaultInjector } from "./root";

export function proxy_abi_version_0_2_0(): void {}

/** Root contexts by id. Envoy creates one per plugin configuration: a configuration change
 * adds a new root context to the running VM and retires the old one once its requests end. */
const roots = new Map<u32, FaultInjector>();
/** The root when there is exactly one (the usual case): no per-request bookkeeping needed. */
let onlyRoot: FaultInjector | null = null;
/** Stream → root, kept only for streams created while several roots exist. */
const streamRoots = new Map<u32, u32>();
/** Streams created while one root existed belong to it: Envoy's context ids only increase,
 * so those are the ids up to `singleRootLastStream` when a second root appeared. */
let singleRootId: u32 = 0;
let singleRootLastStream: u32 = 0;
let lastStreamId: u32 = 0;

function rootOf(contextId: u32): FaultInjector | null {
  if (onlyRoot !== null) return onlyRoot;
  if (streamRoots.size > 0 && streamRoots.has(contextId)) return rootById(streamRoots.get(contextId));
  if (contextId <= singleRootLastStream) return rootById(singleRootId);
  return null;
}

function rootById(rootId: u32): FaultInjector | null {
  return roots.has(rootId) ? roots.get(rootId) : null;
}

export function proxy_on_context_create(context_id: u32, root_context_id: u32): void {
  if (root_context_id == 0) {
    // Any root id is accepted: Istio's is empty unless WasmPlugin.spec.pluginName is set.
    if (roots.has(context_id)) return;
    const previous = onlyRoot;
    roots.set(context_id, new FaultInjector(context_id));
    if (roots.size == 1) {
      onlyRoot = roots.get(context_id);
    } else {
      if (previous !== null) {
        singleRootId = previous.contextId;
        singleRootLastStream = lastStreamId;
      }
      onlyRoot = null;
    }
    return;
  }
  if (context_id > lastStreamId) lastStreamId = context_id;
  if (onlyRoot === null) streamRoots.set(context_id, root_context_id);
}

export function proxy_on_vm_start(root_context_id: u32, vm_configuration_size: u32): u32 {
  return 1;
}

/** What is read of a configuration over MAX_CONFIGURATION_BYTES. */
const OVERSIZED_READ_BYTES: u32 = 4096;

export function proxy_on_configure(root_context_id: u32, plugin_configuration_size: u32): u32 {
  const root = rootById(root_context_id);
  if (root === null) return 0;
  // A configuration over the size limit is refused on its size alone: only its start is read
  // (what tells one refused document from another when it is reported), never megabytes into
  // this VM's memory, which would not shrink again.
  const read = plugin_configuration_size <= <u32>MAX_CONFIGURATION_BYTES ? plugin_configuration_size : OVERSIZED_READ_BYTES;
  let bytes = new ArrayBuffer(0);
  if (read > 0) {
    const b = getBuffer(BufferType.PluginConfiguration, 0, read);
    if (b !== null) bytes = b;
  }
  const accepted = root.configure(bytes, plugin_configuration_size);
  // Envoy sends new streams to the newest root context of a plugin; older ones of the same
  // root id only finish the streams they hold, and need none of their policy set for that.
  if (accepted) retireOlderRoots(root);
  collectNow();
  return accepted ? 1 : 0;
}

function retireOlderRoots(current: FaultInjector): void {
  if (roots.size < 2) return;
  const ids = roots.keys();
  for (let i = 0; i < ids.length; i++) {
    const other = roots.get(unchecked(ids[i]));
    if (other !== current && other.contextId < current.contextId && other.rootId == current.rootId) other.retire();
  }
}

export function proxy_on_tick(root_context_id: u32): void {
  const root = rootById(root_context_id);
  if (root !== null) root.onTick();
  collectIfDue();
}

export function proxy_on_request_headers(context_id: u32, headers: u32, end_of_stream: u32): u32 {
  const root = rootOf(context_id);
  return root === null ? HeadersStatus.Continue : root.onRequestHeaders(context_id);
}

export function proxy_on_request_body(context_id: u32, body_size: u32, end_of_stream: u32): u32 {
  const root = rootOf(context_id);
  return root === null ? 0 : root.path.onRequestBody(context_id);
}

export function proxy_on_request_trailers(context_id: u32, trailers: u32): u32 {
  const root = rootOf(context_id);
  return root === null ? 0 : root.path.onRequestTrailers(context_id);
}

export function proxy_on_response_headers(context_id: u32, headers: u32, end_of_stream: u32): u32 {
  const root = rootOf(context_id);
  return root === null ? 0 : root.path.onResponseHeaders(context_id, end_of_stream != 0);
}

export function proxy_on_response_body(context_id: u32, body_size: u32, end_of_stream: u32): u32 {
  const root = rootOf(context_id);
  return root === null ? 0 : root.path.onResponseBody(context_id, body_size, end_of_stream != 0);
}

export function proxy_on_response_trailers(context_id: u32, trailers: u32): u32 {
  const root = rootOf(context_id);
  return root === null ? 0 : root.path.onResponseTrailers(context_id);
}

export function proxy_on_http_call_response(context_id: u32, token: u32, headers: u32, body_size: u32, trailers: u32): void {
  const root = rootById(context_id);
  if (root !== null) root.onHttpCallResponse(token, headers, body_size);
  collectNow();
}

export function proxy_on_done(context_id: u32): u32 {
  return 1;
}

export function proxy_on_log(context_id: u32): void {
  const root = rootOf(context_id);
  if (root !== null) root.path.onLog(context_id);
}

export function proxy_on_delete(context_id: u32): void {
  if (roots.has(context_id)) {
    roots.get(context_id).release();
    roots.delete(context_id);
    if (roots.size == 1) {
      const ids = roots.keys();
      onlyRoot = roots.get(unchecked(ids[0]));
    } else {
      onlyRoot = null;
    }
    return;
  }
  const root = rootOf(context_id);
  if (root !== null) root.path.onDelete(context_id);
  if (streamRoots.size > 0) streamRoots.delete(context_id);
  collectIfDue();
}
