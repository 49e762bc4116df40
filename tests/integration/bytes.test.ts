/**
 * Byte-exact matching on the real module: header and path values are compared as the bytes
 * Envoy holds, valid UTF-8 or not, so the same bytes give the same answer in every matcher.
 * Header values cross the ABI as latin1 strings here: "\xff" is the single byte 0xff.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { policy, respond, startHfi, type Hfi } from "../helpers/hfi";

const abort = { percentage: 100, abort: { httpStatus: 503 } };

/** The bytes of `text` in UTF-8, as a latin1 string the host sends byte for byte. */
const utf8 = (text: string): string => Buffer.from(text, "utf8").toString("latin1");

function status(hfi: Hfi, path: string, headers: Array<[string, string]> = []): number {
  const s = hfi.request("GET", path, headers);
  if (s.localReply) return s.localReply.status;
  respond(s);
  return s.reply.status ?? 0;
}

test("an invalid byte after a literal is part of the value: exact no longer matches, prefix does", async () => {
  const hfi = await startHfi({
    policies: [
      policy("exact", { headers: [{ name: "x-user", exact: "test-1" }] }, abort),
      policy("prefix", { headers: [{ name: "x-env", prefix: "prod" }] }, { percentage: 100, abort: { httpStatus: 502 } }),
    ],
  });
  assert.equal(status(hfi, "/", [["x-user", "test-1\xff"]]), 200, "test-1\\xff is not test-1");
  assert.equal(status(hfi, "/", [["x-user", "test-1"]]), 503);
  assert.equal(status(hfi, "/", [["x-env", "prod\xff"]]), 502, "prod\\xff starts with prod");
});

test("contains finds a literal right after an invalid byte", async () => {
  const hfi = await startHfi({ policies: [policy("admin", { headers: [{ name: "x-role", contains: "admin" }] }, abort)] });
  assert.equal(status(hfi, "/", [["x-role", "\xffadmin"]]), 503);
  assert.equal(status(hfi, "/", [["x-role", "\xc3admin"]]), 503, "a truncated two-byte sequence does not swallow the literal");
  assert.equal(status(hfi, "/", [["x-role", "adm\xffin"]]), 200);
});

test("an overlong encoding of '/' is not '/', for path suffix as for exact", async () => {
  const hfi = await startHfi({
    policies: [
      policy("exact", { path: { exact: "/" } }, abort),
      policy("suffix", { path: { suffix: "/" } }, { percentage: 100, abort: { httpStatus: 502 } }),
    ],
  });
  assert.equal(status(hfi, "\xc0\xaf"), 200, "the overlong bytes C0 AF match neither");
  assert.equal(status(hfi, "/"), 503);
  assert.equal(status(hfi, "/a/"), 502);
});

test("path prefix (rule index) and path contains/suffix agree on the same bytes", async () => {
  const hfi = await startHfi({
    policies: [
      policy("prefix", { path: { prefix: "/\xe9" } }, { percentage: 100, abort: { httpStatus: 501 } }),
      policy("contains", { path: { contains: "\xe9" } }, { percentage: 100, abort: { httpStatus: 502 } }),
    ],
  });
  // The literal "/\u00e9" is UTF-8 C3 A9; a path with the single byte E9 matches neither.
  assert.equal(status(hfi, "/\xe9x"), 200);
  assert.equal(status(hfi, utf8("/\u00e9x")), 501);
  assert.equal(status(hfi, utf8("/a\u00e9")), 502);
});

test("UTF-8 literals match their UTF-8 bytes in headers", async () => {
  const hfi = await startHfi({ policies: [policy("cafe", { headers: [{ name: "x-shop", exact: "caf\u00e9" }] }, abort)] });
  assert.equal(status(hfi, "/", [["x-shop", utf8("caf\u00e9")]]), 503);
  assert.equal(status(hfi, "/", [["x-shop", "caf\xe9"]]), 200, "latin1 E9 is not the UTF-8 of \u00e9");
});

test("sampling by header hashes the bytes: values that differ only in an invalid byte decide independently", async () => {
  const hfi = await startHfi({ policies: [policy("half", {}, { percentage: 50, abort: { httpStatus: 503 }, sampling: { header: "x-request-id" } })] });
  // With a hash of decoded text every value below would decode alike (the invalid byte lost)
  // and all get one answer; on bytes roughly half are faulted.
  let faulted = 0;
  for (let i = 0; i < 64; i++) {
    const id = `req-\xff${String.fromCharCode(0x80 + i)}`;
    const first = status(hfi, "/", [["x-request-id", id]]);
    assert.equal(status(hfi, "/", [["x-request-id", id]]), first, "the same bytes decide the same");
    if (first === 503) faulted++;
  }
  assert.ok(faulted > 10 && faulted < 54, `about half faulted, got ${faulted} of 64`);
});

test("a request that matches nothing makes one host call and no allocation", async () => {
  const hfi = await startHfi({ policies: Array.from({ length: 10 }, (_, i) => policy(`p${i}`, { path: { prefix: `/p${i}/` } }, abort)) });
  for (let i = 0; i < 100; i++) respond(hfi.request("GET", "/nothing"));
  hfi.vm.resetHostCallCounts();
  const memory = hfi.vm.module.memory.buffer.byteLength;
  const plugin = hfi.plugin;
  for (let i = 0; i < 1000; i++) plugin.newStream().sendRequestHeaders([[":method", "GET"], [":path", "/nothing"]], true);
  assert.deepEqual(hfi.vm.hostCallCounts(), { proxy_get_header_map_value: 1000 });
  assert.equal(hfi.vm.mallocBytes / 1000, "/nothing".length, "the only buffer is the :path value, in the module's scratch area");
  assert.equal(hfi.vm.module.memory.buffer.byteLength, memory);
});

test("requests checked against header rules allocate nothing once warm (values up to 1.5 KB, a typical token)", async () => {
  const hfi = await startHfi({
    policies: [
      policy("h", { headers: [{ name: "x-big", exact: "no" }, { name: "x-other", contains: "never" }] }, abort),
      policy("s", { headers: [{ name: "x-big", suffix: "zzz" }] }, abort),
    ],
  });
  const big = "a".repeat(1500);
  const send = () => hfi.plugin.newStream().sendRequestHeaders([[":method", "GET"], [":path", "/"], ["x-big", big], ["x-other", big]], true);
  for (let i = 0; i < 100; i++) send();
  const memory = hfi.vm.module.memory.buffer.byteLength;
  // Decoding each 1,500-byte value into a string would allocate 6 KB a request: 20,000
  // requests would need about 120 MB of garbage before the first collection.
  for (let i = 0; i < 20000; i++) send();
  assert.equal(hfi.vm.module.memory.buffer.byteLength, memory);
});

test("large header values do not stay behind in the request cache", async () => {
  const names = Array.from({ length: 2048 }, (_, i) => `x-${i}`);
  const policies = names.map((name, p) => policy(`p${p}`, { headers: [{ name, exact: "never" }] }, abort));
  const hfi = await startHfi({ policies });
  const value = "v".repeat(50000);
  // Each request carries one 50 KB header the rules read; kept per slot, 2,048 of them would
  // hold about 100 MB.
  for (let i = 0; i < names.length; i++) respond(hfi.request("GET", "/", [[names[i], value]]));
  assert.ok(hfi.vm.module.memory.buffer.byteLength <= 32 * 1024 * 1024, `${hfi.vm.module.memory.buffer.byteLength} bytes`);
});

test("header regexes match bytes as RE2 does: an invalid byte is matched by nothing, and no matcher disagrees", async () => {
  const hfi = await startHfi({
    policies: [
      policy("user", { headers: [{ name: "x-user", regex: "^test-[0-9]+$" }] }, abort),
      policy("env", { headers: [{ name: "x-env", regex: "^prod$" }] }, { percentage: 100, abort: { httpStatus: 502 } }),
      policy("role", { headers: [{ name: "x-role", regex: "admin" }] }, { percentage: 100, abort: { httpStatus: 501 } }),
      policy("any", { headers: [{ name: "x-any", regex: "^.$" }] }, { percentage: 100, abort: { httpStatus: 504 } }),
    ],
  });
  assert.equal(status(hfi, "/", [["x-user", "test-1\xff"]]), 200, "test-1\\xff does not match ^test-[0-9]+$");
  assert.equal(status(hfi, "/", [["x-user", "test-12"]]), 503);
  assert.equal(status(hfi, "/", [["x-env", "prod\xff"]]), 200, "prod\\xff does not match ^prod$");
  assert.equal(status(hfi, "/", [["x-env", "prod"]]), 502);
  assert.equal(status(hfi, "/", [["x-role", "\xffadmin"]]), 501, "admin is found after an invalid byte");
  assert.equal(status(hfi, "/", [["x-any", "\xff"]]), 200, "an invalid byte is not a character for .");
  assert.equal(status(hfi, "/", [["x-any", utf8("é")]]), 504, "a valid two-byte character is one character for .");
});
