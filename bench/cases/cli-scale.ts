/**
 * hfi validate on large inputs: 1, 10 and 50 MiB of small policy documents (five lines each, as
 * such sets are written), each run in a process of its own; wall time and peak resident memory
 * (parse workers included). Targets: 1 MiB in <= 2 s; 50 MiB in <= 60 s with peak memory <= 10x
 * the input; each further MiB at most 10 MiB more memory. The fixed part (Node, the compiled
 * module, the parse workers' heaps from 4 MiB up) is what smaller inputs mostly measure.
 * Alone: `node --import tsx bench/main.ts cli-scale`.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { smallPolicies } from "../../tests/helpers/policy-documents";

const MiB = 1 << 20;
const ROOT = path.resolve(__dirname, "..", "..");

export interface CliScaleRow {
  mib: number;
  documents: number;
  seconds: number;
  peakMiB: number;
  verdict: string;
}

function documents(bytes: number): { text: string; count: number } {
  const docs = smallPolicies(bytes);
  return { text: docs.join("---\n"), count: docs.length };
}

export async function runCliScale(say: (s: string) => void, sizes = [1, 10, 50]): Promise<CliScaleRow[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "hfi-bench-cli-"));
  const rows: CliScaleRow[] = [];
  try {
    for (const mib of sizes) {
      const file = path.join(dir, `docs-${mib}.yaml`);
      const { text, count } = documents(mib * MiB);
      writeFileSync(file, text);
      say(`cli-scale: hfi validate on ${mib} MiB (${count} documents)`);
      const probe = `
        const t0 = performance.now();
        require(${JSON.stringify(path.join(ROOT, "cli", "main.ts"))})
          .main(["validate", process.argv[1]], () => {}, () => {})
          .then((code) => console.log(JSON.stringify({ code, seconds: (performance.now() - t0) / 1000, maxRss: process.resourceUsage().maxRSS * 1024 })));`;
      const r = spawnSync(process.execPath, ["--import", "tsx", "-e", probe, file], { cwd: ROOT, encoding: "utf8", timeout: 600_000 });
      if (r.status !== 0) throw new Error(`hfi validate on ${mib} MiB failed: ${r.stderr}`);
      const out = JSON.parse(r.stdout) as { code: number; seconds: number; maxRss: number };
      const peakMiB = out.maxRss / MiB;
      const timeOk = mib <= 1 ? out.seconds <= 2 : mib >= 50 ? out.seconds <= 60 : true;
      const memoryOk = mib < 50 || peakMiB <= 10 * mib;
      rows.push({ mib, documents: count, seconds: Math.round(out.seconds * 10) / 10, peakMiB: Math.round(peakMiB), verdict: out.code === 0 && timeOk && memoryOk ? "PASS" : "FAIL" });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

export function renderCliScale(rows: CliScaleRow[]): string {
  const lines = ["hfi validate on small policy documents (targets: 1 MiB <= 2 s; 50 MiB <= 60 s and peak memory <= 10x input; each further MiB <= 10 MiB)",
    "input     documents  seconds  peak memory  memory / input  verdict"];
  for (const r of rows) {
    lines.push(`${`${r.mib} MiB`.padEnd(9)} ${String(r.documents).padStart(9)}  ${String(r.seconds).padStart(7)}  ${`${r.peakMiB} MiB`.padStart(11)}  ${`${(r.peakMiB / r.mib).toFixed(1)}x`.padStart(14)}  ${r.verdict}`);
  }
  const [a, b] = [rows[rows.length - 2], rows[rows.length - 1]];
  if (a && b && b.mib > a.mib) {
    const slope = (b.peakMiB - a.peakMiB) / (b.mib - a.mib);
    lines.push(`each further MiB from ${a.mib} to ${b.mib} MiB: ${slope.toFixed(1)} MiB more peak memory, ${((b.seconds - a.seconds) / (b.mib - a.mib)).toFixed(2)} s more  ${slope <= 10 ? "PASS" : "FAIL"}`);
  }
  return lines.join("\n");
}
