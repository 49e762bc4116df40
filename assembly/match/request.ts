// What the matcher may ask of a request: raw bytes, as Envoy holds them (a value need not be
// valid UTF-8, and every matcher must see the same bytes). The plugin reads a request attribute
// from the host only when some rule actually looks at it (and at most once per request); tests
// supply a plain in-memory implementation.

import { ByteBuffer } from "../util/bytes";
import { MAX_HEADER_NAMES } from "../model/limits";

export abstract class RequestAttributes {
  /** The bytes of `:method` (length -1 when absent). */
  abstract methodBytes(): ByteBuffer;
  /** The bytes of `:path` without its query string (length -1 when absent). */
  abstract pathBytes(): ByteBuffer;
  /** The bytes of the header registered under `slot` (see HeaderSlots); length -1 when absent. */
  abstract headerBytes(slot: i32): ByteBuffer;
  /** The traffic direction of the listener the request came through (Envoy's
   * `xds.listener_direction`: 0 unspecified, 1 inbound, 2 outbound; -1 when not known). */
  listenerDirection(): i64 {
    return -1;
  }
  /** The bytes of the upstream cluster's name (`xds.cluster_name`; length -1 when there is
   * none, as when no route matched). */
  clusterBytes(): ByteBuffer {
    return NO_CLUSTER;
  }
}

const NO_CLUSTER = new ByteBuffer(0);

/** Slots of a live (control-plane) document start here; a static document's start at 0. */
export const LIVE_SLOT_BASE: i32 = 1 << 24;

/**
 * Assigns each distinct (lower-cased) header name of one parsed document (plugin configuration
 * or control-plane body) a slot in the per-request cache. The slots belong to the policies
 * parsed from that document and go away with them.
 */
export class HeaderSlots {
  /** Names by slot - base, lower-cased. */
  names: string[] = [];
  /** The same names as UTF-8, for the host call. */
  encoded: ArrayBuffer[] = [];
  private bySlot: Map<string, i32> = new Map();

  constructor(public readonly base: i32 = 0) {}

  /** The slot of `lowerName`, added if new; -1 when the document already has MAX_HEADER_NAMES. */
  slotOf(lowerName: string): i32 {
    const known = this.bySlot;
    if (known.has(lowerName)) return known.get(lowerName);
    const n = this.names.length;
    if (n >= MAX_HEADER_NAMES) return -1;
    this.names.push(lowerName);
    this.encoded.push(String.UTF8.encode(lowerName));
    const slot = this.base + n;
    known.set(lowerName, slot);
    return slot;
  }

  /** Does `slot` belong to this document? */
  @inline owns(slot: i32): bool {
    return slot >= this.base && slot - this.base < this.names.length;
  }

  /** The name registered under `slot` ("" when it is not ours). */
  nameOf(slot: i32): string {
    return this.owns(slot) ? unchecked(this.names[slot - this.base]) : "";
  }

  get count(): i32 {
    return this.names.length;
  }
}
