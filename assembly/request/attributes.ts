// Request attributes read from Envoy on demand, as raw bytes: a value is fetched only when a
// rule asks for it, and at most once per request. One instance per root context is reused for
// every request, with one reusable buffer per attribute and header slot, so once a slot has
// held a value of that size reading it again allocates nothing.
import { HeaderSlots, LIVE_SLOT_BASE, RequestAttributes } from "../match/request";
import { getHeaderBytes, getPropertyBytes, getPropertyI64, HeaderMapType } from "../glue/host";
import { notePressure } from "../glue/memory";
import { ByteBuffer } from "../util/bytes";

const METHOD = String.UTF8.encode(":method");
const PATH = String.UTF8.encode(":path");
const LISTENER_DIRECTION = String.UTF8.encode("xds\0listener_direction");
const CLUSTER_NAME = String.UTF8.encode("xds\0cluster_name");
const NOT_READ: u32 = 0;
/** A slot keeps a buffer of at most about this size between requests: clients choose header
 * sizes (Envoy allows 60 KiB), and 4,096 slots each keeping their largest value ever would
 * hold hundreds of MiB. A larger value is read into a buffer dropped at the next request. */
const KEEP_BYTES: i32 = 2048;

/** The header values of one document's slots. Read marks are request numbers, so forgetting
 * the previous request costs nothing however many slots there are. */
class SlotValues {
  values: Array<ByteBuffer | null>;
  readIn: StaticArray<u32>;

  constructor(public slots: HeaderSlots) {
    const n = slots.count;
    this.values = new Array<ByteBuffer | null>(n);
    this.readIn = new StaticArray<u32>(n);
  }
}

const NONE = new SlotValues(new HeaderSlots());

export class HostRequest extends RequestAttributes {
  private methodBuffer: ByteBuffer = new ByteBuffer(16);
  private methodIn: u32 = NOT_READ;
  private pathBuffer: ByteBuffer = new ByteBuffer(256);
  private pathIn: u32 = NOT_READ;
  private absent: ByteBuffer = new ByteBuffer(0);
  private direction: i64 = -1;
  private directionIn: u32 = NOT_READ;
  private clusterBuffer: ByteBuffer = new ByteBuffer(128);
  private clusterIn: u32 = NOT_READ;
  /** Slots of the plugin configuration's policies, and of the control plane's. */
  private staticValues: SlotValues = NONE;
  private liveValues: SlotValues = NONE;
  private requestNumber: u32 = 1;
  /** Slots whose buffer grew past KEEP_BYTES in this request. */
  private oversized: i32[] = [];

  /**
   * Forget the previous request, and use the header slots of the policy set now in force
   * (slots belong to the documents the policies came from, and go away with them).
   */
  reset(staticSlots: HeaderSlots | null, liveSlots: HeaderSlots | null): void {
    if (this.oversized.length > 0) this.dropOversized();
    if (++this.requestNumber == NOT_READ) this.restartNumbers();
    if (staticSlots === null) this.staticValues = NONE;
    else if (this.staticValues.slots !== staticSlots) this.staticValues = new SlotValues(staticSlots);
    if (liveSlots === null) this.liveValues = NONE;
    else if (this.liveValues.slots !== liveSlots) this.liveValues = new SlotValues(liveSlots);
  }

  private dropOversized(): void {
    const oversized = this.oversized;
    for (let k = 0; k < oversized.length; k++) {
      const slot = unchecked(oversized[k]);
      const bank = slot >= LIVE_SLOT_BASE ? this.liveValues : this.staticValues;
      if (bank.slots.owns(slot)) unchecked((bank.values[slot - bank.slots.base] = null));
    }
    oversized.length = 0;
  }

  /** After 2^32 requests: clear every mark once, then count again from 1. */
  private restartNumbers(): void {
    this.requestNumber = 1;
    this.methodIn = NOT_READ;
    this.pathIn = NOT_READ;
    this.directionIn = NOT_READ;
    this.clusterIn = NOT_READ;
    const banks: SlotValues[] = [this.staticValues, this.liveValues];
    for (let b = 0; b < 2; b++) {
      const marks = unchecked(banks[b]).readIn;
      for (let i = 0; i < marks.length; i++) unchecked((marks[i] = NOT_READ));
    }
  }

  methodBytes(): ByteBuffer {
    if (this.methodIn != this.requestNumber) {
      getHeaderBytes(HeaderMapType.RequestHeaders, METHOD, -1, this.methodBuffer);
      this.methodIn = this.requestNumber;
    }
    return this.methodBuffer;
  }

  pathBytes(): ByteBuffer {
    if (this.pathIn != this.requestNumber) {
      getHeaderBytes(HeaderMapType.RequestHeaders, PATH, 63 /* ? */, this.pathBuffer);
      this.pathIn = this.requestNumber;
    }
    return this.pathBuffer;
  }

  listenerDirection(): i64 {
    if (this.directionIn != this.requestNumber) {
      this.direction = getPropertyI64(LISTENER_DIRECTION);
      this.directionIn = this.requestNumber;
    }
    return this.direction;
  }

  clusterBytes(): ByteBuffer {
    if (this.clusterIn != this.requestNumber) {
      getPropertyBytes(CLUSTER_NAME, this.clusterBuffer);
      this.clusterIn = this.requestNumber;
    }
    return this.clusterBuffer;
  }

  headerBytes(slot: i32): ByteBuffer {
    const bank = slot >= LIVE_SLOT_BASE ? this.liveValues : this.staticValues;
    const slots = bank.slots;
    if (!slots.owns(slot)) return this.absent;
    const i = slot - slots.base;
    let value = unchecked(bank.values[i]);
    if (value === null) {
      value = new ByteBuffer(64);
      unchecked((bank.values[i] = value));
    }
    if (unchecked(bank.readIn[i]) != this.requestNumber) {
      getHeaderBytes(HeaderMapType.RequestHeaders, unchecked(slots.encoded[i]), -1, value);
      unchecked((bank.readIn[i] = this.requestNumber));
      if (value.data.byteLength > KEEP_BYTES) {
        notePressure(<usize>value.data.byteLength);
        this.oversized.push(slot);
      }
    }
    return value;
  }
}
