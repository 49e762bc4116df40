// A minimal reader for the ustar/pax archives image layers are made of: enough to find a file
// by name, as Istio's agent does when it extracts plugin.wasm from a "compat" image layer.

export interface TarEntry {
  name: string;
  type: string; // "0" regular file, "5" directory, ...
  data: Buffer;
}

function field(block: Buffer, offset: number, length: number): string {
  const raw = block.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? raw.length : end).toString("utf8");
}

function octal(block: Buffer, offset: number, length: number): number {
  const text = field(block, offset, length).trim();
  return text === "" ? 0 : parseInt(text, 8);
}

function paxPath(data: Buffer): string | undefined {
  // Records are "<len> key=value\n".
  for (const line of data.toString("utf8").split("\n")) {
    const m = /^\d+ path=(.*)$/.exec(line);
    if (m) return m[1];
  }
  return undefined;
}

export function readTar(archive: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  let offset = 0;
  let longName: string | undefined;
  while (offset + 512 <= archive.length) {
    const header = archive.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break; // end-of-archive marker
    const checksum = octal(header, 148, 8);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i];
    if (sum !== checksum) throw new Error(`tar: bad header checksum at offset ${offset}`);
    const size = octal(header, 124, 12);
    const type = field(header, 156, 1) || "0";
    const prefix = field(header, 345, 155);
    const baseName = field(header, 0, 100);
    const data = archive.subarray(offset + 512, offset + 512 + size);
    if (data.length !== size) throw new Error(`tar: entry ${baseName} truncated`);
    offset += 512 + Math.ceil(size / 512) * 512;
    if (type === "x" || type === "L") {
      longName = type === "x" ? paxPath(data) : field(data, 0, data.length);
      continue;
    }
    if (type === "g") continue; // global pax header
    const name = longName ?? (prefix ? `${prefix}/${baseName}` : baseName);
    longName = undefined;
    entries.push({ name, type, data: Buffer.from(data) });
  }
  return entries;
}
