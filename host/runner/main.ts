/**
 * `make run`: the plugin in the local runner, configured from the environment.
 *
 *   PORT=10000 ADMIN_PORT=9901 CONFIG=envoy/envoy.yaml UPSTREAM=http://host:port
 *   POLICY_DIR=examples/policies CONTROL_PLANE_PORT=0 WORKERS=2 LOG_LEVEL=info
 *   WASM=build/plugin.wasm BIND=127.0.0.1 ACCESS_LOG=1
 *   TARGET=envoy|sidecar|sidecar-outbound|waypoint|gateway (the proxy played: host/runner/target.ts)
 */
import { DEFAULTS, startRunner, type Runner } from "./runner";
import { parseRunTarget } from "./target";
import type { LogLevelName } from "../index";

function numberFrom(name: string, fallback: number | undefined): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} must be a whole number from 0 to 65535, got "${raw}"`);
  return n;
}

function textFrom(name: string): string | undefined {
  const raw = process.env[name];
  return raw === undefined || raw === "" ? undefined : raw;
}

async function main(): Promise<void> {
  let runner: Runner;
  try {
    runner = await startRunner({
      wasmPath: textFrom("WASM") ?? DEFAULTS.wasmPath,
      configPath: textFrom("CONFIG") ?? DEFAULTS.configPath,
      host: textFrom("BIND") ?? DEFAULTS.host,
      port: numberFrom("PORT", DEFAULTS.port),
      adminPort: numberFrom("ADMIN_PORT", DEFAULTS.adminPort),
      upstream: textFrom("UPSTREAM"),
      policyDir: textFrom("POLICY_DIR"),
      controlPlanePort: numberFrom("CONTROL_PLANE_PORT", 0),
      workers: Math.max(1, numberFrom("WORKERS", DEFAULTS.workers) ?? DEFAULTS.workers),
      logLevel: (textFrom("LOG_LEVEL") ?? DEFAULTS.logLevel) as LogLevelName,
      accessLog: textFrom("ACCESS_LOG") !== "0",
      target: parseRunTarget(textFrom("TARGET")),
    });
  } catch (e) {
    console.error(`make run: ${(e as Error).message}`);
    process.exit(1);
  }
  console.log(runner.banner());
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping`);
    runner.close().then(
      () => process.exit(0),
      (e: unknown) => {
        console.error(`error while stopping: ${String(e)}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

void main();
