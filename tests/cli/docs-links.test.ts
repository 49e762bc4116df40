/**
 * The README and the docs pages link to each other by relative paths: every such link must
 * point to a file or folder of the repository, and a `#anchor` to a heading of the page it
 * names (GitHub's slugs: lower case, punctuation dropped, spaces to `-`). Links inside code
 * blocks and inline code are not links.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { ROOT } from "./helpers";

const PAGES = ["README.md", ...readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`)];

/** The page's prose: fenced blocks and inline code removed, line numbers kept. */
function prose(markdown: string): string[] {
  let fenced = false;
  return markdown.split("\n").map((line) => {
    if (/^ *```/.test(line)) {
      fenced = !fenced;
      return "";
    }
    return fenced ? "" : line.replace(/`[^`]*`/g, "");
  });
}

/** GitHub's heading anchors: lower case, everything but letters, digits, spaces, `-` and `_` dropped, spaces to `-`. */
export function slug(heading: string): string {
  return heading
    .replace(/`/g, "")
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");
}

/** The anchors of a page's headings (outside fenced blocks; a repeated heading gets `-1`, `-2`, ...). */
function headingAnchors(file: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fenced = false;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (/^ *```/.test(line)) fenced = !fenced;
    const h = fenced ? null : /^#{1,6} (.+?)\s*#*\s*$/.exec(line);
    if (!h) continue;
    const base = slug(h[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

interface Link {
  target: string;
  line: number;
}

function links(page: string): Link[] {
  const out: Link[] = [];
  prose(readFileSync(path.join(ROOT, page), "utf8")).forEach((line, i) => {
    for (const m of line.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = m[1];
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
      out.push({ target, line: i + 1 });
    }
  });
  return out;
}

describe("relative links in README.md and docs/*.md", () => {
  test("slugs follow GitHub's rules", () => {
    assert.equal(slug("Identity: `xds.node` first, `node` second"), "identity-xdsnode-first-node-second");
    assert.equal(slug("4. Apply: the base and its overlays"), "4-apply-the-base-and-its-overlays");
    assert.equal(slug("The combined scheme: WasmPlugin + defensive EnvoyFilter"), "the-combined-scheme-wasmplugin--defensive-envoyfilter");
    assert.equal(slug("`max_active_faults`: one count per proxy"), "max_active_faults-one-count-per-proxy");
  });

  for (const page of PAGES) {
    const found = links(page);
    test(`${page}: ${found.length} relative links resolve`, () => {
      const broken: string[] = [];
      for (const { target, line } of found) {
        const [file, anchor] = target.split("#", 2);
        const resolved = file === "" ? path.join(ROOT, page) : path.resolve(path.dirname(path.join(ROOT, page)), decodeURIComponent(file));
        if (!resolved.startsWith(ROOT) || !existsSync(resolved)) {
          broken.push(`${page}:${line}: ${target}: no such file`);
          continue;
        }
        if (anchor !== undefined && resolved.endsWith(".md") && !headingAnchors(resolved).has(anchor)) {
          broken.push(`${page}:${line}: ${target}: no heading with anchor #${anchor} in ${path.relative(ROOT, resolved)}`);
        }
      }
      assert.deepEqual(broken, []);
    });
  }
});
