/**
 * `hfi validate` on inputs as they come: a hostile YAML document among good ones (its problem
 * is its own; the others are still checked), a mounted Kubernetes ConfigMap (files behind
 * symlinks), and the reading of long double-quoted strings in pieces (the same values, errors
 * and positions as the YAML library's own reading).
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import { LineCounter, parseDocument, visit, type Document } from "yaml";
import { readYamlDocument } from "../../cli/yaml-read";
import { hfi } from "./helpers";

const tmp = mkdtempSync(path.join(os.tmpdir(), "hfi-inputs-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe("hfi validate on hostile and mounted inputs", () => {
  test("an alias bomb, a document that contains itself, one with too many aliases and one with an alias to nothing are each a problem of their own; the documents around them are still checked", async () => {
    const file = path.join(tmp, "bomb.yaml");
    // Nine lines that expand to 9^9 strings ("billion laughs").
    const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (const [name, prev] of [["b", "a"], ["c", "b"], ["d", "c"], ["e", "d"], ["f", "e"], ["g", "f"], ["h", "g"], ["i", "h"]]) {
      laughs.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(",")}]`);
    }
    const manyAliases = Array.from({ length: 1001 }, (_, i) => `a${i}: &a${i} ${i}`).join("\n") + `\nall: [${Array.from({ length: 1001 }, (_, i) => `*a${i}`).join(", ")}]`;
    const text = [
      "metadata: { name: before }", // 1
      "spec: { rules: [ { match: {}, fault: { percentage: 150, abort: { httpStatus: 503 } } } ] }",
      "---",
      ...laughs, // 4-12
      "---",
      "metadata: { name: itself }", // 14
      "spec: &spec { rules: [ { match: {}, fault: { percentage: 5, abort: { httpStatus: 503 } } } ], again: *spec }",
      "---",
      manyAliases, // 17-1018
      "---",
      "metadata: *nowhere", // 1020
      "---",
      "metadata: { name: after }", // 1022
      "spec: { rules: [ { match: {}, fault: { percentage: 5, abort: { httpStatus: 700 } } } ] }",
      "",
    ].join("\n");
    writeFileSync(file, text);
    const r = await hfi("validate", file);
    assert.equal(r.stderr.split("\n").filter((l) => !l.includes(": note: spec.direction: ")).join("\n"), "", "nothing on stderr but the direction note");
    assert.deepEqual(r.stdout.split("\n"), [
      `${file}:2:40: spec.rules[0].fault.percentage: must be a number from 0 to 100, got 150 (policy "before")`,
      `${file}:4:1: (document): not read: Excessive alias count indicates a resource exhaustion attack (its aliases would copy anchors more than 100 times)`,
      `${file}:14:1: (document): not read: an alias inside its own anchor makes the document contain itself`,
      `${file}:17:1: (document): not read: 1001 aliases, over the limit of 1000 a document`,
      `${file}:1020:1: (document): not read: Unresolved alias (the anchor must be set before the alias): nowhere`,
      `${file}:1023:64: spec.rules[0].fault.abort.httpStatus: must be an HTTP status from 200 to 599, got 700 (policy "after")`,
      "1 file: 6 errors, 0 warnings",
    ]);
    assert.equal(r.code, 1);
  });

  test("a mounted ConfigMap: the files behind its symlinks are read, each once, under the names the keys give them", async () => {
    // As the kubelet mounts one: the files in a timestamped folder, ..data pointing to it, and
    // each key a symlink through ..data.
    const dir = path.join(tmp, "configmap");
    const stamp = "..2024_01_01_00_00_00.123";
    mkdirSync(path.join(dir, stamp), { recursive: true });
    writeFileSync(path.join(dir, stamp, "checkout.yaml"), "metadata: { name: checkout }\nspec: { rules: [ { match: {}, fault: { percentage: 500, abort: { httpStatus: 503 } } } ] }\n");
    writeFileSync(path.join(dir, stamp, "catalog.json"), JSON.stringify([{ metadata: { name: "catalog" }, spec: { rules: [{ match: {}, fault: { percentage: 5, delay: { fixed_delay_ms: 100 } } }] } }]));
    symlinkSync(stamp, path.join(dir, "..data"));
    symlinkSync(path.join("..data", "checkout.yaml"), path.join(dir, "checkout.yaml"));
    symlinkSync(path.join("..data", "catalog.json"), path.join(dir, "catalog.json"));
    // A key being swapped out (its file already gone) is not there to read.
    symlinkSync(path.join("..data", "gone.yaml"), path.join(dir, "gone.yaml"));
    const r = await hfi("validate", dir);
    assert.deepEqual(r.stdout.split("\n"), [
      `${path.join(dir, "checkout.yaml")}:2:40: spec.rules[0].fault.percentage: must be a number from 0 to 100, got 500 (policy "checkout")`,
      "2 files: 1 error, 0 warnings",
    ]);
    const json = JSON.parse((await hfi("validate", "--format", "json", dir)).stdout);
    assert.deepEqual(json.files, [path.join(dir, "catalog.json"), path.join(dir, "checkout.yaml")]);
  });

  test("a long double-quoted string with a bad escape deep inside: the error at the escape's line and column", async () => {
    const file = path.join(tmp, "escape.json");
    const body = "y".repeat(200_000) + "\\q" + "z".repeat(1000);
    writeFileSync(file, `{\n  "policies": [\n    {"metadata": {"name": "p"}, "body": "${body}"}\n  ]\n}\n`);
    const r = await hfi("validate", file);
    assert.deepEqual(r.stdout.split("\n"), [
      `${file}:1:1: (path): nothing to check: no policy, list of policies, plugin configuration, WasmPlugin or Envoy bootstrap with the Wasm filter`,
      `${file}:3:${'    {"metadata": {"name": "p"}, "body": "'.length + 200_000 + 1}: (document): not valid JSON: Invalid escape sequence \\q`,
      "1 file: 2 errors, 0 warnings",
    ]);
  });
});

describe("YAML documents read in linear time", () => {
  /** What hfi uses of a document: its values, its errors (code, place, words), every node's range. */
  function summary(doc: Document.Parsed): string {
    const ranges: string[] = [];
    visit(doc, { Node: (_k, n) => void ranges.push(`${n.constructor.name}${JSON.stringify(n.range)}${"type" in n ? n.type : ""}`) });
    const errors = doc.errors.map((e) => `${e.code}@${e.pos.join("-")}: ${e.message}`);
    doc.options.logLevel = "error"; // no process warnings about keys that are collections
    return JSON.stringify({ value: errors.length === 0 ? doc.toJS() : undefined, errors, ranges });
  }

  test("long double-quoted strings read in pieces: the same values, errors and positions as the library's own reading", () => {
    // Escapes, folded and escaped line breaks, trailing blanks, surrogate pairs, bad escapes and
    // unclosed strings, in block and flow collections, with anchors, aliases and tags; read with
    // every string "long" and pieces of 1 to 5 characters, so that a piece ends everywhere it may.
    const atoms = ["a", " ", "  ", "\t", "\n", "\n\n", "\n  ", "\\n", '\\"', "\\\\", "\\x41", "\\u00e9", "\\U0001F600", "\\\n", "\\\n   ", "\\q", "\\x4", "\r\n", "é", "😀", "\\ ", "'", "x\\", " \n", "\r"];
    let seed = 1;
    const next = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
    for (let n = 0; n < 3000; n++) {
      let body = "";
      for (let k = 1 + next(30); k > 0; k--) body += atoms[next(atoms.length)];
      const s = `"${body}${next(10) === 0 ? "" : '"'}`;
      for (const text of [`key: ${s}\n`, `- ${s}\n- x\n`, s, `{a: ${s}, b: 1}\n`, `k:\n  - ${s} # c\n`, `a: &x ${s}\nb: *x\n`, `a: !!str ${s}\n`]) {
        const expected = summary(parseDocument(text, { lineCounter: new LineCounter(), prettyErrors: false }));
        const actual = summary(readYamlDocument(text, new LineCounter(), { longScalar: 1, piece: 1 + next(5), mapKeys: 256 }).doc);
        assert.equal(actual, expected, JSON.stringify(text));
      }
    }
  });

  test("maps with many keys: duplicate keys found without comparing every pair, the same errors as the library's", () => {
    const keys = ["a", "b", "1", "1.0", "'a'", '"b"', "true", "null", "~", ".nan", "[1]", "{q: 1}", "? x"];
    let seed = 7;
    const next = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
    for (let n = 0; n < 3000; n++) {
      const items = Array.from({ length: 1 + next(6) }, () => `${keys[next(keys.length)]}: ${next(3)}`);
      for (const text of [items.join("\n") + "\n", `{ ${items.join(", ")} }\n`, `top:\n${items.map((l) => `  ${l}`).join("\n")}\n`]) {
        const native = parseDocument(text, { lineCounter: new LineCounter(), prettyErrors: false });
        // Beside other errors, duplicates may be listed in another order: not compared here.
        if (native.errors.some((e) => e.code !== "DUPLICATE_KEY")) continue;
        const read = readYamlDocument(text, new LineCounter(), { longScalar: 16384, piece: 4096, mapKeys: next(3) }).doc;
        assert.equal(summary(read), summary(native), JSON.stringify(text));
      }
    }
  });
});
