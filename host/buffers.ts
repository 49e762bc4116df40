/**
 * Buffers the module reads and writes with proxy_get_buffer_status / _bytes and
 * proxy_set_buffer_bytes. Configuration and HTTP-call response bodies are read-only; a body
 * being processed is mutable with Envoy's rules: start 0 and length 0 prepends, start 0 and a
 * length covering the buffer replaces it, start at or past the end appends, anything else is
 * BadArgument. A body type with nothing in it reads as empty (size 0), as in Envoy.
 */
import { WasmResult } from "./abi";

export interface HostBuffer {
  readonly size: number;
  slice(start: number, length: number): Uint8Array;
  copyFrom(start: number, length: number, data: Uint8Array): WasmResult;
}

export class ConstBuffer implements HostBuffer {
  constructor(private readonly data: Uint8Array) {}
  get size(): number {
    return this.data.length;
  }
  slice(start: number, length: number): Uint8Array {
    return this.data.subarray(start, start + length);
  }
  copyFrom(): WasmResult {
    return WasmResult.BadArgument;
  }
}

/** A mutable body held by the stream (get/set through callbacks so the stream owns the bytes). */
export class BodyBuffer implements HostBuffer {
  constructor(
    private readonly get: () => Buffer | undefined,
    private readonly set: (data: Buffer) => void,
  ) {}
  get size(): number {
    return this.get()?.length ?? 0;
  }
  slice(start: number, length: number): Uint8Array {
    const b = this.get();
    return b ? b.subarray(start, start + length) : new Uint8Array(0);
  }
  copyFrom(start: number, length: number, data: Uint8Array): WasmResult {
    const current = this.get();
    if (!current) return WasmResult.BadArgument;
    const incoming = Buffer.from(data);
    if (start === 0) {
      if (length === 0) {
        this.set(Buffer.concat([incoming, current]));
        return WasmResult.Ok;
      }
      if (length >= current.length) {
        this.set(incoming);
        return WasmResult.Ok;
      }
      return WasmResult.BadArgument;
    }
    if (start >= current.length) {
      this.set(Buffer.concat([current, incoming]));
      return WasmResult.Ok;
    }
    return WasmResult.BadArgument;
  }
}

export const EMPTY_BUFFER: HostBuffer = new ConstBuffer(new Uint8Array(0));
