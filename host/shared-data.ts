/**
 * Shared key-value data (with compare-and-swap) and shared queues, the only state Envoy worker
 * VMs share besides metrics. Both are scoped by vm_id, as in proxy-wasm-cpp-host. Pass one
 * SharedState to several VMs to model several workers of one Envoy.
 */
import { WasmResult } from "./abi";

interface Queue {
  items: Uint8Array[];
  /** Delivers on_queue_ready to the registering VM's root context (asynchronously). */
  notify: (token: number) => void;
}

export class SharedState {
  private readonly data = new Map<string, Map<string, { value: Uint8Array; cas: number }>>();
  private nextCasValue = 1;
  private readonly queueTokens = new Map<string, number>();
  private readonly queues = new Map<number, Queue>();
  private nextToken = 1;

  /** How many keys the VMs of `vmId` share (what a plugin leaves behind). */
  keyCount(vmId: string): number {
    return this.data.get(vmId)?.size ?? 0;
  }

  getData(vmId: string, key: string): { value: Uint8Array; cas: number } | WasmResult {
    const entry = this.data.get(vmId)?.get(key);
    return entry ?? WasmResult.NotFound;
  }

  setData(vmId: string, key: string, value: Uint8Array, cas: number): WasmResult {
    let map = this.data.get(vmId);
    if (!map) this.data.set(vmId, (map = new Map()));
    const existing = map.get(key);
    if (existing && cas !== 0 && cas !== existing.cas) return WasmResult.CasMismatch;
    map.set(key, { value: Uint8Array.from(value), cas: this.nextCas() });
    return WasmResult.Ok;
  }

  registerQueue(vmId: string, name: string, notify: (token: number) => void): number {
    const key = `${vmId}\0${name}`;
    let token = this.queueTokens.get(key);
    if (token === undefined) {
      token = this.nextToken++;
      this.queueTokens.set(key, token);
    }
    const existing = this.queues.get(token);
    this.queues.set(token, { items: existing?.items ?? [], notify });
    return token;
  }

  resolveQueue(vmId: string, name: string): number {
    return this.queueTokens.get(`${vmId}\0${name}`) ?? 0;
  }

  dequeue(token: number): Uint8Array | WasmResult {
    const q = this.queues.get(token);
    if (!q) return WasmResult.NotFound;
    const item = q.items.shift();
    return item ?? WasmResult.Empty;
  }

  enqueue(token: number, value: Uint8Array): WasmResult {
    const q = this.queues.get(token);
    if (!q) return WasmResult.NotFound;
    q.items.push(Uint8Array.from(value));
    q.notify(token);
    return WasmResult.Ok;
  }

  private nextCas(): number {
    const cas = this.nextCasValue;
    this.nextCasValue = (this.nextCasValue + 1) >>> 0 || 1;
    return cas;
  }
}
