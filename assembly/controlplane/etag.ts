// Which control-plane ETag may be sent back as If-None-Match. Only a well-formed entity-tag
// (RFC 9110 section 8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, etagc = "!" / %x23-7E /
// obs-text) of bounded length: anything else (NUL, CR LF, an unquoted token) would be echoed
// into a request header verbatim. obs-text (bytes 0x80-0xFF) is refused too: the value reaches
// the plugin as decoded text, and re-encoding it could change its bytes. Pure.

/** Longer tags are refused; real ones are a quoted hash or version. */
export const MAX_ETAG_LENGTH: i32 = 256;

export function isEntityTag(value: string): bool {
  const n = value.length;
  if (n > MAX_ETAG_LENGTH) return false;
  let start = 0;
  if (n >= 2 && value.charCodeAt(0) == 0x57 /* W */ && value.charCodeAt(1) == 0x2f /* / */) start = 2;
  if (n - start < 2 || value.charCodeAt(start) != 0x22 || value.charCodeAt(n - 1) != 0x22) return false;
  for (let i = start + 1; i < n - 1; i++) {
    const c = value.charCodeAt(i);
    if (c != 0x21 && (c < 0x23 || c > 0x7e)) return false;
  }
  return true;
}
