/**
 * The examples of README.md and every docs/*.md page run: every `npx hfi ...` line of their sh
 * blocks (exit status 0 unless the line ends with `# exit N`), the ```output block after a
 * command compared with what it printed, and every yaml and json block checked with `hfi
 * validate` (no errors; a block whose first line is `# hfi validate: expect errors` must have
 * some). A block hfi skips as "not HFI configuration" must say so on its first line (`# not HFI
 * configuration`, yaml only) or be a Kubernetes object (`apiVersion:`), so a policy example that
 * hfi does not recognise cannot pass unchecked. `hfi status` examples read the local runner
 * (started here) in place of localhost:9901.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { runner, type TestRunner } from "../runner/harness";
import { hfi, ROOT } from "./helpers";

interface Block {
  lang: string;
  body: string;
  line: number;
}

export function codeBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    // Fences may be indented (a block inside a list item); the indent is not part of the body.
    const open = /^( *)```(\S*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const [, indent, lang] = open;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== `${indent}\`\`\``; i++) body.push(lines[i].startsWith(indent) ? lines[i].slice(indent.length) : lines[i]);
    blocks.push({ lang, body: body.join("\n"), line: start + 1 });
  }
  return blocks;
}

/** Splits a command line as sh would for these examples: spaces, single and double quotes. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  const re = /'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line)) !== null) words.push(m[1] ?? m[2] ?? m[3]);
  return words;
}

/** Observed rates depend on the plugin's random draws: numbers on those lines are not compared. */
function comparable(output: string): string[] {
  return output.split("\n").map((l) => (/^(configured:|observed:| {2}\S)/.test(l) ? l.replace(/\d+(\.\d+)?/g, "#") : l));
}

const PAGES = ["README.md", ...readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`)];
const EXPECT_ERRORS = "# hfi validate: expect errors";
const NOT_HFI = "# not HFI configuration";

describe("the examples in README.md and docs/*.md", () => {
  let r: TestRunner;
  const tmp = mkdtempSync(path.join(os.tmpdir(), "hfi-docs-"));
  before(async () => {
    process.chdir(ROOT);
    r = await runner({ workers: 1 });
  });
  after(async () => {
    await r.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  test("docs/cli.md has examples of every kind to run", () => {
    const blocks = codeBlocks(readFileSync(path.join(ROOT, "docs", "cli.md"), "utf8"));
    const commands = blocks.filter((b) => b.lang === "sh").flatMap((b) => b.body.split("\n").filter((l) => l.startsWith("npx hfi ")));
    assert.ok(commands.length >= 6, `${commands.length} commands`);
    for (const c of ["validate", "simulate", "render", "status"]) assert.ok(commands.some((l) => l.startsWith(`npx hfi ${c} `)), c);
    assert.ok(blocks.some((b) => b.lang === "output"));
    assert.ok(blocks.some((b) => b.lang === "yaml"));
  });

  for (const page of PAGES) {
    const blocks = codeBlocks(readFileSync(path.join(ROOT, page), "utf8"));
    for (const [i, block] of blocks.entries()) {
      if (block.lang === "sh") {
        for (const line of block.body.split("\n").filter((l) => l.startsWith("npx hfi "))) {
          test(`${page}:${block.line}: ${line}`, async () => {
            const exit = /#\s*exit (\d+)\s*$/.exec(line);
            const argv = shellWords(line.replace(/#.*$/, "")).slice(2).map((w) => w.replace("http://localhost:9901", `http://127.0.0.1:${r.adminPort}`));
            const run = await hfi(...argv);
            assert.equal(run.code, exit ? Number(exit[1]) : 0, run.stderr);
            const next = blocks[i + 1];
            if (next?.lang === "output") assert.deepEqual(comparable(run.stdout), comparable(next.body), `${page}:${next.line}`);
          });
        }
      }
      if (block.lang === "yaml" || block.lang === "json") {
        test(`${page}:${block.line}: the ${block.lang} block passes hfi validate`, async () => {
          const file = path.join(tmp, `${page.replace(/\W/g, "-")}-${block.line}.${block.lang}`);
          writeFileSync(file, block.body);
          const run = await hfi("validate", "--format", "json", file);
          const report = JSON.parse(run.stdout) as { problems: { severity: string; message: string; line: number }[] };
          if (block.body.startsWith(EXPECT_ERRORS)) {
            assert.equal(run.code, 1, run.stdout);
            return;
          }
          // A block declared as another product's configuration (an Istio VirtualService, an
          // Envoy snippet) is not HFI's to judge; hfi may rightly say so with a hint.
          if (block.body.startsWith(NOT_HFI) && /^kind: (VirtualService|Gateway|DestinationRule)$/m.test(block.body)) return;
          // A declared block with nothing for hfi to check fails only for that reason.
          const nothing = (p: { message: string }) => p.message.startsWith("nothing to check");
          if ((block.body.startsWith(NOT_HFI) || /^apiVersion:/m.test(block.body)) && report.problems.some(nothing)) {
            assert.deepEqual(report.problems.filter((p) => p.severity === "error" && !nothing(p)), [], run.stdout);
            return;
          }
          assert.equal(run.code, 0, run.stdout);
          const skipped = report.problems.filter((p) => p.message.startsWith("skipped: not a policy"));
          const declared = block.body.startsWith(NOT_HFI) || /^apiVersion:/m.test(block.body);
          assert.ok(skipped.length === 0 || declared, `${page}:${block.line}: hfi does not recognise this block as HFI configuration; start it with "${NOT_HFI}" if it is not meant to be one`);
        });
      }
    }
  }
});
