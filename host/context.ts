/**
 * What every context (root or HTTP stream) offers the host functions. Subclasses answer for the
 * maps, buffers and properties that exist at the moment of the call.
 */
import { HeaderMapType, WasmResult, type BufferType, type StreamType } from "./abi";
import type { HostBuffer } from "./buffers";
import type { HeaderMap } from "./headers";
import type { LocalReply } from "./local-reply";
import type { PropertyValue } from "./properties";
import type { RootContext } from "./root";
import type { WasmVm } from "./vm";

export abstract class Context {
  readonly id: number;
  /** Whether proxy_on_context_create has run for this context. */
  createdInVm = false;

  constructor(readonly vm: WasmVm) {
    this.id = vm.allocContextId();
    vm.contexts.set(this.id, this);
  }

  abstract get root(): RootContext;
  abstract get isRoot(): boolean;

  /** A header map for reading; null when this map does not exist now. */
  readableMap(type: HeaderMapType): HeaderMap | null {
    if (type === HeaderMapType.HttpCallResponseHeaders) return this.root.httpCallResponse?.headers ?? null;
    if (type === HeaderMapType.HttpCallResponseTrailers) return this.root.httpCallResponse?.trailers ?? null;
    return null;
  }

  /** A header map for writing (request/response maps only); null when unavailable. */
  writableMap(_type: HeaderMapType): HeaderMap | null {
    return null;
  }

  /** True during proxy_on_log, when missing maps read as NotFound rather than BadArgument. */
  get accessLogPhase(): boolean {
    return false;
  }

  abstract buffer(type: BufferType): HostBuffer | null;

  /** Value of a top-level property (node, plugin_root_id, request, ...). */
  abstract propertyTop(name: string): PropertyValue | undefined;

  /** Filter state written by proxy_set_property (streams only). */
  get filterState(): Map<string, Uint8Array> | undefined {
    return undefined;
  }

  continueStream(_type: StreamType): WasmResult {
    return WasmResult.Ok;
  }

  closeStream(_type: StreamType): WasmResult {
    return WasmResult.Ok;
  }

  /** proxy_send_local_response; streams send it after the callback returns. */
  sendLocalResponse(_reply: LocalReply): void {}
}
