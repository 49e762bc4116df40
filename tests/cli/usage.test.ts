/**
 * `hfi` with no command is a mistake of the command line: the usage on stderr and exit status 2,
 * where `hfi --help` prints the same usage on stdout and exits 0, and an unknown command is one
 * line on stderr with exit status 2.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { hfi, hfiProcess } from "./helpers";

describe("hfi with no command", () => {
  test("as a process: the usage on stderr, nothing on stdout, exit 2", () => {
    const bare = hfiProcess([]);
    const help = hfiProcess(["--help"]);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage:\n {2}hfi validate PATH\.\.\./m);
    assert.equal(bare.code, 2);
    assert.equal(bare.stdout, "");
    assert.equal(bare.stderr, help.stdout, "the whole usage, as --help prints it");
  });

  test("in process: main() refuses with the usage and exit status 2", async () => {
    const bare = await hfi();
    assert.equal(bare.code, 2);
    assert.equal(bare.stdout, "");
    assert.equal(bare.stderr, (await hfi("--help")).stdout);
  });

  test("asking for help is not a mistake: --help, -h and help exit 0 on stdout", async () => {
    for (const argv of [["--help"], ["-h"], ["help"]]) {
      const r = await hfi(...argv);
      assert.deepEqual([r.code, r.stderr], [0, ""], argv.join(" "));
      assert.match(r.stdout, /^Usage:$/m, argv.join(" "));
    }
  });

  test("an unknown command stays one line on stderr with exit 2", () => {
    const r = hfiProcess(["frob"]);
    assert.deepEqual([r.code, r.stdout, r.stderr], [2, "", 'hfi: unknown command "frob" (commands: validate, simulate, render, status; see hfi --help)\n']);
  });
});
