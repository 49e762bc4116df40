/**
 * Case 6: module size; parsing and compiling 1,000 policies; module bytes to a configured root.
 *   - policies: on_context_create + on_vm_start + on_configure of a new root context in a fresh
 *     VM with a 1,000-policy configuration, minus the same with 0 policies (median of each).
 *   - bytes to root: compileModule (Envoy's checks + WebAssembly.compile) + instantiate (start
 *     functions) + the root context configured with 10 policies. Each run compiles distinct
 *     bytes (a custom section with a counter is appended) so V8's module cache cannot answer.
 */
import { statSync } from "node:fs";
import { compileModule, instantiate, RootContext, startPlugin, TestClock, type CompiledModule } from "../../host/index";
import { PLUGIN_WASM, readModule, round } from "../lib/driver";
import { median, nowNs } from "../lib/measure";
import { configuration, ROOT_ID } from "../lib/policies";

export interface StartupResult {
  moduleBytes: number;
  configure: { policies1000Ms: number; policies0Ms: number; parseAndCompile1000Ms: number; runs: number };
  bytesToConfiguredRootMs: number;
  bytesToConfiguredRootRuns: number[];
}

function configureMs(compiled: CompiledModule, config: string): number {
  const vm = instantiate(compiled, { clock: new TestClock(), lean: true, logLevel: "info" });
  const root = new RootContext(vm, { rootId: ROOT_ID, configuration: config });
  const t0 = nowNs();
  const r = root.start();
  const ms = Number(nowNs() - t0) / 1e6;
  if (!r.ok) throw new Error(`startup: configuration refused (${r.stage})`);
  return ms;
}

/** The module bytes plus a custom section "bench" holding `n`: same code, distinct bytes. */
function distinct(bytes: Uint8Array, n: number): Uint8Array {
  const payload = Buffer.from(`\u0005bench${String(n).padStart(8, "0")}`, "latin1"); // name length 5, "bench", 8 digits
  const section = Buffer.concat([Buffer.from([0, payload.length]), payload]);
  return new Uint8Array(Buffer.concat([bytes, section]));
}

export async function runStartup(options: { runs: number }): Promise<StartupResult> {
  const bytes = readModule(PLUGIN_WASM);
  const compiled = await compileModule(bytes);
  const c1000 = JSON.stringify(configuration(1000));
  const c0 = JSON.stringify(configuration(0));
  const c10 = configuration(10);
  for (let i = 0; i < 3; i++) {
    configureMs(compiled, c1000);
    configureMs(compiled, c0);
  }
  const t1000: number[] = [];
  const t0: number[] = [];
  for (let i = 0; i < options.runs; i++) {
    t1000.push(configureMs(compiled, c1000));
    t0.push(configureMs(compiled, c0));
  }

  const toRoot: number[] = [];
  for (let i = 0; i < options.runs + 3; i++) {
    const b = distinct(bytes, i);
    const start = nowNs();
    const vm = instantiate(await compileModule(b), { clock: new TestClock(), lean: true, logLevel: "info" });
    const plugin = startPlugin(vm, { rootId: ROOT_ID, configuration: c10 });
    const ms = Number(nowNs() - start) / 1e6;
    if (!plugin.ok) throw new Error("startup: 10-policy configuration refused");
    if (i >= 3) toRoot.push(ms);
  }
  return {
    moduleBytes: statSync(PLUGIN_WASM).size,
    configure: {
      policies1000Ms: round(median(t1000), 3),
      policies0Ms: round(median(t0), 3),
      parseAndCompile1000Ms: round(median(t1000.map((t, i) => t - t0[i])), 3),
      runs: options.runs,
    },
    bytesToConfiguredRootMs: round(median(toRoot), 3),
    bytesToConfiguredRootRuns: toRoot.map((x) => round(x, 3)),
  };
}
