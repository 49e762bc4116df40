/**
 * Header maps as Envoy keeps them (ordered entries, lower-cased keys, duplicates allowed) and
 * the Proxy-Wasm pairs encoding used for every map that crosses the ABI:
 * u32 count, then (u32 key length, u32 value length) per pair, then each `key\0value\0`.
 * Header bytes are carried as latin1 strings, as Node's HTTP parser delivers them.
 */

export type HeaderPairs = Array<[string, string]>;
/** What callers may pass: pairs, or a plain object (array values become repeated headers). */
export type HeadersInit = HeaderPairs | Record<string, string | number | string[]>;

export class HeaderMap {
  private entries: HeaderPairs = [];
  /** True while `entries` is shared with the map this one was cloned from (copy on write). */
  private shared = false;

  constructor(init?: HeadersInit) {
    if (!init) return;
    if (Array.isArray(init)) {
      for (let i = 0; i < init.length; i++) this.entries.push([init[i][0].toLowerCase(), String(init[i][1])]);
    } else {
      for (const [k, v] of toPairs(init)) this.add(k, v);
    }
  }

  get size(): number {
    return this.entries.length;
  }

  /** Envoy's HeaderMap::byteSize(): total key and value bytes (proxy_get_header_map_size). */
  get byteSize(): number {
    let n = 0;
    for (const [k, v] of this.entries) n += k.length + v.length;
    return n;
  }

  /** First value of a header (Envoy returns only the first through the ABI). */
  get(key: string): string | undefined {
    const k = key.toLowerCase();
    const entries = this.entries;
    for (let i = 0; i < entries.length; i++) if (entries[i][0] === k) return entries[i][1];
    return undefined;
  }

  getAll(key: string): string[] {
    const k = key.toLowerCase();
    return this.entries.filter(([ek]) => ek === k).map(([, v]) => v);
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  add(key: string, value: string): void {
    this.own();
    this.entries.push([key.toLowerCase(), value]);
  }

  /** setCopy: replaces every value of the header with one value (added when absent). */
  replace(key: string, value: string): void {
    const k = key.toLowerCase();
    this.own();
    const at = this.entries.findIndex(([ek]) => ek === k);
    if (at < 0) {
      this.entries.push([k, value]);
      return;
    }
    this.entries[at] = [k, value];
    this.entries = this.entries.filter(([ek], i) => ek !== k || i === at);
  }

  remove(key: string): void {
    const k = key.toLowerCase();
    this.entries = this.entries.filter(([ek]) => ek !== k);
    this.shared = false;
  }

  setPairs(pairs: HeaderPairs): void {
    this.entries = [];
    this.shared = false;
    for (const [k, v] of pairs) this.add(k, v);
  }

  pairs(): HeaderPairs {
    return this.entries.map(([k, v]) => [k, v]);
  }

  /** Plain object view (repeated headers joined with ","), handy in assertions. */
  toObject(): Record<string, string> {
    const o: Record<string, string> = {};
    for (const [k, v] of this.entries) o[k] = k in o ? `${o[k]},${v}` : v;
    return o;
  }

  /** An independent copy. O(1): both maps share the entries until either is changed. */
  clone(): HeaderMap {
    const m = new HeaderMap();
    m.entries = this.entries;
    m.shared = true;
    this.shared = true;
    return m;
  }

  /** Before a change: stop sharing entries with a clone. Entries ([k, v] pairs) are never
   * changed in place, so copying the outer array is enough. */
  private own(): void {
    if (!this.shared) return;
    this.entries = this.entries.slice();
    this.shared = false;
  }
}

export function toPairs(init: HeadersInit): HeaderPairs {
  if (Array.isArray(init)) return init.map(([k, v]) => [k, String(v)]);
  const out: HeaderPairs = [];
  for (const [k, v] of Object.entries(init)) {
    if (Array.isArray(v)) for (const item of v) out.push([k, item]);
    else out.push([k, String(v)]);
  }
  return out;
}

/** Encodes pairs in the Proxy-Wasm pairs format. */
export function encodePairs(pairs: HeaderPairs): Uint8Array {
  const keys = pairs.map(([k]) => Buffer.from(k, "latin1"));
  const values = pairs.map(([, v]) => Buffer.from(v, "latin1"));
  let size = 4 + pairs.length * 8;
  for (let i = 0; i < pairs.length; i++) size += keys[i].length + values[i].length + 2;
  const out = Buffer.alloc(size);
  out.writeUInt32LE(pairs.length, 0);
  let p = 4;
  for (let i = 0; i < pairs.length; i++) {
    out.writeUInt32LE(keys[i].length, p);
    out.writeUInt32LE(values[i].length, p + 4);
    p += 8;
  }
  for (let i = 0; i < pairs.length; i++) {
    keys[i].copy(out, p);
    p += keys[i].length + 1;
    values[i].copy(out, p);
    p += values[i].length + 1;
  }
  return out;
}

/** Decodes the pairs format; malformed input yields no pairs (PairsUtil::toPairs). */
export function decodePairs(data: Uint8Array): HeaderPairs {
  if (data.length < 4) return [];
  const view = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const n = view.readUInt32LE(0);
  if (n === 0 || 4 + n * 8 > view.length) return [];
  const sizes: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) sizes.push([view.readUInt32LE(4 + i * 8), view.readUInt32LE(8 + i * 8)]);
  let p = 4 + n * 8;
  const out: HeaderPairs = [];
  for (const [kl, vl] of sizes) {
    if (p + kl + 1 + vl + 1 > view.length) return [];
    const k = view.toString("latin1", p, p + kl);
    p += kl + 1;
    const v = view.toString("latin1", p, p + vl);
    p += vl + 1;
    out.push([k, v]);
  }
  return out;
}

/** Request headers as Envoy's codec presents them: pseudo-headers first, keys lower-cased. */
export function requestHeaders(
  method: string,
  path: string,
  extra: HeadersInit = [],
  authority = "example.com",
  scheme = "http",
): HeaderPairs {
  // A request has one :authority and one :scheme: one given in `extra` replaces the default.
  const given = toPairs(extra);
  const has = (name: string) => given.some(([k]) => k === name);
  return [
    [":method", method], [":path", path],
    ...(has(":authority") ? [] : [[":authority", authority] as [string, string]]),
    ...(has(":scheme") ? [] : [[":scheme", scheme] as [string, string]]),
    ...given,
  ];
}

/** Response headers: `:status` first. */
export function responseHeaders(status: number, extra: HeadersInit = []): HeaderPairs {
  return [[":status", String(status)], ...toPairs(extra)];
}
