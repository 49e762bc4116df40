// Request attributes read from Envoy on demand: a value is fetched only when a rule asks for
// it, and at most once per request. One instance per root context is reused for every request,
// so a request that matches nothing allocates only the values it reads.
import { HeaderSlots, RequestAttributes } from "../match/request";
import { getHeader, getHeaderBytes, HeaderMapType } from "./host";
import { ByteBuffer } from "../util/bytes";

const METHOD = String.UTF8.encode(":method");
const PATH = String.UTF8.encode(":path");

export class HostRequest extends RequestAttributes {
  private methodValue: string | null = null;
  private methodRead: bool = false;
  private pathValue: string | null = null;
  private pathRead: bool = false;
  private pathBuffer: ByteBuffer = new ByteBuffer(256);
  private pathBytesRead: bool = false;
  private names: ArrayBuffer[] = [];
  private values: Array<string | null> = [];
  private read: bool[] = [];

  constructor(private slots: HeaderSlots) {
    super();
  }

  /** Forget the previous request. Also picks up header slots added since. */
  reset(): void {
    this.methodRead = false;
    this.pathRead = false;
    this.pathBytesRead = false;
    const n = this.slots.count;
    while (this.names.length < n) {
      this.names.push(String.UTF8.encode(unchecked(this.slots.names[this.names.length])));
      this.values.push(null);
      this.read.push(false);
    }
    for (let i = 0; i < n; i++) unchecked((this.read[i] = false));
  }

  method(): string | null {
    if (!this.methodRead) {
      this.methodValue = getHeader(HeaderMapType.RequestHeaders, METHOD);
      this.methodRead = true;
    }
    return this.methodValue;
  }

  path(): string | null {
    if (!this.pathRead) {
      const bytes = this.pathBytes();
      this.pathValue = bytes.length < 0 ? null : bytes.toString();
      this.pathRead = true;
    }
    return this.pathValue;
  }

  pathBytes(): ByteBuffer {
    if (!this.pathBytesRead) {
      getHeaderBytes(HeaderMapType.RequestHeaders, PATH, 63 /* ? */, this.pathBuffer);
      this.pathBytesRead = true;
    }
    return this.pathBuffer;
  }

  header(slot: i32): string | null {
    if (slot < 0 || slot >= this.names.length) return null;
    if (!unchecked(this.read[slot])) {
      unchecked((this.values[slot] = getHeader(HeaderMapType.RequestHeaders, unchecked(this.names[slot]))));
      unchecked((this.read[slot] = true));
    }
    return unchecked(this.values[slot]);
  }
}
