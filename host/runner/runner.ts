/**
 * The local runner behind `make run`, as a library: the plugin on N worker VMs with the real
 * clock, an HTTP/1.1 proxy through it, an upstream (embedded echo or a URL), an admin server,
 * optionally a local control plane serving a policy directory, and a watch on the configuration
 * file that re-applies it (Envoy's on_configure again) when it changes.
 *
 *   const runner = await startRunner({ port: 0, adminPort: 0, configPath: "envoy/envoy.yaml" });
 *   await fetch(`http://127.0.0.1:${runner.proxyPort}/checkout`);   // 503, x-fault-injected: abort
 *   await runner.close();
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { LOG_LEVEL_NAMES } from "../log";
import { startStatsFlush, type LogEntry, type LogLevelName, type StatsStore, type TimerHandle } from "../index";
import { AdminServer } from "./admin";
import { effectivePolicies } from "./effective-policies";
import { formatTryLines, policiesInForce, tryLines, type TryLine } from "./banner";
import { watchFile, type FileWatch } from "./config-watch";
import { LocalControlPlane, routeControlPlane } from "./control-plane";
import { EchoServer } from "./echo-server";
import { parsePluginSource, readPluginSource, isObject, type PluginSource } from "./plugin-source";
import { Proxy, type AccessLogEntry } from "./proxy";
import { WorkerPool } from "./workers";
import { nodeFor, trafficFor, type RunTarget } from "./target";

export const DEFAULTS = {
  wasmPath: "build/plugin.wasm",
  configPath: "envoy/envoy.yaml",
  host: "127.0.0.1",
  port: 10000,
  adminPort: 9901,
  workers: 2,
  logLevel: "info" as LogLevelName,
};

export interface RunnerOptions {
  /** The module (default build/plugin.wasm). */
  wasmPath?: string;
  /** Envoy bootstrap (.yaml), WasmPlugin (.yaml) or plugin configuration (.json). */
  configPath?: string;
  /** Address every server binds (default 127.0.0.1). */
  host?: string;
  /** Proxy port (default 10000; 0 = a free port). */
  port?: number;
  /** Admin port (default 9901; 0 = a free port). */
  adminPort?: number;
  /** `http://host:port` of the upstream; default: an embedded echo server on a free port. */
  upstream?: string;
  /** Worker VMs (default 2). */
  workers?: number;
  /** Envoy's log level for the module's messages (default info). */
  logLevel?: LogLevelName;
  /** Serve the plugin's control-plane cluster from this directory of policy files. */
  policyDir?: string;
  /** Port of the local control plane's own HTTP server (default: a free port). */
  controlPlanePort?: number;
  /** Re-apply the configuration file when it changes (default true). */
  watch?: boolean;
  /** Fallback mtime poll of the configuration file (default 1000 ms). */
  watchPollMs?: number;
  /** Envoy's stats flush interval (default 5000 ms). */
  statsFlushIntervalMs?: number;
  /** Route timeout toward the upstream (default 15000 ms, Envoy's; 0 = none). */
  routeTimeoutMs?: number;
  /** Print one line per request (default false). */
  accessLog?: boolean;
  /** The proxy to play (TARGET): its node id, and per request the direction and cluster. */
  target?: RunTarget;
  /** Where console lines go (default console.log). */
  say?: (line: string) => void;
}

export interface ApplyResult {
  /** Whether the plugin accepted it (true too when nothing changed). */
  accepted: boolean;
  /** Whether a new configuration was handed to the plugin. */
  changed: boolean;
  message: string;
}

export interface Runner {
  proxyPort: number;
  adminPort: number;
  upstreamPort: number;
  upstreamUrl: string;
  /** Port of the local control plane (when policyDir is set). */
  controlPlanePort: number | undefined;
  /** The plugin configuration in force (as handed to on_configure). */
  readonly configuration: string;
  readonly source: PluginSource;
  readonly stats: StatsStore;
  readonly workers: WorkerPool;
  /** Re-reads the configuration file, or applies the given configuration, on every worker. */
  applyConfig(configuration?: string | object): Promise<ApplyResult>;
  /** What to curl, for the console. */
  banner(): string;
  close(): Promise<void>;
}

export async function startRunner(options: RunnerOptions = {}): Promise<Runner> {
  const say = options.say ?? ((line: string) => console.log(line));
  const host = options.host ?? DEFAULTS.host;
  const configPath = options.configPath ?? DEFAULTS.configPath;
  const wasmPath = options.wasmPath ?? DEFAULTS.wasmPath;
  const logLevel = options.logLevel ?? DEFAULTS.logLevel;
  const target: RunTarget = options.target ?? "envoy";
  if (!LOG_LEVEL_NAMES.includes(logLevel)) throw new Error(`LOG_LEVEL must be one of ${LOG_LEVEL_NAMES.join(", ")}; got "${logLevel}"`);

  if (!existsSync(wasmPath)) throw new Error(`${wasmPath} not found: build it with \`make build\``);
  if (!existsSync(configPath)) throw new Error(`configuration file ${configPath} not found (CONFIG=<envoy bootstrap .yaml | WasmPlugin .yaml | plugin .json>)`);
  let source = readPluginSource(configPath);
  let fileText = readFileSync(configPath, "utf8");
  const clusters: Record<string, import("../index").ClusterHandler> = {};
  const controlPlane = options.policyDir ? new LocalControlPlane(options.policyDir, say) : undefined;

  let routed = "";
  /** The configuration the plugin gets: with the local control plane routed (and added). */
  const prepare = (configuration: string): string => {
    if (!controlPlane) return configuration;
    const route = routeControlPlane(configuration);
    clusters[route.cluster] = controlPlane.clusterHandler();
    const note = route.added
      ? `control plane: the configuration names none, so the runner adds "control_plane": ${JSON.stringify(JSON.parse(route.configuration).control_plane)}`
      : `control plane: the plugin's cluster "${route.cluster}" is served from ${options.policyDir}`;
    if (note !== routed) say(note);
    routed = note;
    return route.configuration;
  };

  let configuration = prepare(source.configuration);
  let ready = false;
  const { pool, result } = await WorkerPool.start({
    wasmPath,
    workers: options.workers ?? DEFAULTS.workers,
    rootId: source.rootId,
    configuration,
    vmId: source.vmId,
    vmConfiguration: source.vmConfiguration,
    node: nodeFor(target, source.node),
    statsTags: source.statsConfig,
    logLevel,
    clusters,
    onLog: (worker, entry) => say(formatLog(worker, entry)),
  });
  if (!result.ok) {
    pool.shutdown();
    throw new Error(`the plugin refused the configuration from ${configPath} (${result.stage}${result.failure ? `: ${result.failure}` : ""})`);
  }
  const flush: TimerHandle = startStatsFlush(pool.stats, pool.clock, options.statsFlushIntervalMs);

  const closers: Array<() => Promise<void> | void> = [() => flush.cancel(), () => pool.shutdown()];
  const close = async (): Promise<void> => {
    ready = false;
    for (const c of closers.splice(0).reverse()) await c();
  };

  try {
    let upstreamUrl = options.upstream;
    let upstreamPort: number;
    if (upstreamUrl) {
      const u = new URL(upstreamUrl);
      if (u.protocol !== "http:") throw new Error(`UPSTREAM must be an http:// URL, got ${upstreamUrl}`);
      upstreamPort = Number(u.port || 80);
    } else {
      const echo = await EchoServer.start(host, 0, () => pool.clock.runDue());
      closers.push(() => echo.close());
      upstreamPort = echo.port;
      upstreamUrl = `http://${host}:${echo.port}`;
    }

    const proxy = new Proxy({
      workers: pool,
      traffic: trafficFor(target, nodeFor(target, source.node)),
      upstream: new URL(upstreamUrl),
      routeTimeoutMs: options.routeTimeoutMs,
      onAccessLog: options.accessLog ? (e) => say(formatAccess(e)) : undefined,
      onError: (m) => say(`proxy error: ${m}`),
    });
    closers.push(() => proxy.close());
    const proxyPort = await listening("PORT", options.port ?? DEFAULTS.port, () => proxy.listen(options.port ?? DEFAULTS.port, host));

    const admin = new AdminServer({
      stats: pool.stats,
      ready: () => ready,
      configuration: () => ({ text: configuration, source: path.resolve(source.file), rootId: source.rootId }),
      policies: () => effectivePolicies(pool.plugins[0].vm, pool.stats),
    });
    closers.push(() => admin.close());
    const adminPort = await listening("ADMIN_PORT", options.adminPort ?? DEFAULTS.adminPort, () => admin.listen(options.adminPort ?? DEFAULTS.adminPort, host));

    let controlPlanePort: number | undefined;
    if (controlPlane) {
      closers.push(() => controlPlane.close());
      controlPlanePort = await listening("CONTROL_PLANE_PORT", options.controlPlanePort ?? 0, () => controlPlane.listen(options.controlPlanePort ?? 0, host));
    }

    const apply = (next: string, newSource: PluginSource | undefined): ApplyResult => {
      const prepared = prepare(next);
      const r = pool.reconfigure(prepared);
      if (!r.ok) {
        const why = r.logs.map((l) => l.message).join("; ") || r.failure || `refused at ${r.stage}`;
        const message = `configuration refused; the previous one stays in force: ${why}`;
        say(message);
        return { accepted: false, changed: true, message };
      }
      configuration = prepared;
      if (newSource) source = newSource;
      const message = `configuration accepted on ${pool.size} worker${pool.size === 1 ? "" : "s"}`;
      say(message);
      return { accepted: true, changed: true, message };
    };

    const reloadFile = (): ApplyResult => {
      let text: string;
      try {
        text = readFileSync(configPath, "utf8");
      } catch (e) {
        const message = `cannot read ${configPath}: ${(e as Error).message}; the configuration in force stays`;
        say(message);
        return { accepted: false, changed: false, message };
      }
      if (text === fileText) return { accepted: true, changed: false, message: "unchanged" };
      fileText = text;
      let next: PluginSource;
      try {
        next = parsePluginSource(text, configPath);
      } catch (e) {
        const message = `${(e as Error).message}; the configuration in force stays`;
        say(message);
        return { accepted: false, changed: false, message };
      }
      if (next.rootId !== source.rootId) say(`note: root_id changed to "${next.rootId}"; Envoy only reads it at start: restart to apply it`);
      if (JSON.stringify(next.node) !== JSON.stringify(source.node)) say("note: node metadata changed; Envoy only reads it at start: restart to apply it");
      say(`${configPath} changed: applying it (Envoy's on_configure on every worker)`);
      return apply(next.configuration, { ...next, rootId: source.rootId, node: source.node });
    };

    if (options.watch ?? true) {
      const watch: FileWatch = watchFile(configPath, () => reloadFile(), { pollMs: options.watchPollMs });
      closers.push(() => watch.close());
    }

    ready = true;
    const runner: Runner = {
      proxyPort,
      adminPort,
      upstreamPort,
      upstreamUrl,
      controlPlanePort,
      get configuration() {
        return configuration;
      },
      get source() {
        return source;
      },
      stats: pool.stats,
      workers: pool,
      async applyConfig(next?: string | object): Promise<ApplyResult> {
        if (next === undefined) return reloadFile();
        return apply(typeof next === "string" ? next : JSON.stringify(next), undefined);
      },
      banner: () =>
        banner({
          proxyPort,
          adminPort,
          upstreamUrl: upstreamUrl!,
          embedded: !options.upstream,
          controlPlanePort,
          policyDir: options.policyDir,
          configPath,
          source,
          workers: pool.size,
          configuration,
          controlPlane,
          target,
        }),
      close,
    };
    return runner;
  } catch (e) {
    await close();
    throw e;
  }
}

/** Listens, turning "address in use" into a message that names the setting to change. */
async function listening(setting: string, port: number, listen: () => Promise<number>): Promise<number> {
  try {
    return await listen();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EADDRINUSE") throw new Error(`port ${port} is in use; choose another with ${setting}=<port> (0 = any free port)`);
    throw e;
  }
}

const PLAYS: Record<RunTarget, string> = {
  sidecar: "a sidecar: each request is one its workload receives (inbound)",
  "sidecar-outbound": "a sidecar: each request is a call its workload makes to the service its Host names (outbound)",
  waypoint: "an ambient waypoint: each request goes to the service its Host names",
  gateway: "an ingress gateway: each request is routed to the service its Host names",
  envoy: "plain Envoy: no traffic direction, cluster \"upstream\"",
};

function banner(b: {
  proxyPort: number;
  adminPort: number;
  upstreamUrl: string;
  embedded: boolean;
  controlPlanePort: number | undefined;
  policyDir: string | undefined;
  configPath: string;
  source: PluginSource;
  workers: number;
  configuration: string;
  controlPlane: LocalControlPlane | undefined;
  target: RunTarget;
}): string {
  const proxy = `localhost:${b.proxyPort}`;
  const out: string[] = [];
  const meta = b.source.node?.metadata;
  const identity = meta ? ` as workload ${String(meta.WORKLOAD_NAME ?? "?")} in namespace ${String(meta.NAMESPACE ?? "?")}` : "";
  out.push(`HFI local runner: plugin in ${b.workers} worker VM${b.workers === 1 ? "" : "s"}, root id "${b.source.rootId}"${identity}`);
  out.push(`  configuration  ${b.configPath} (${b.source.kind}; watched: save it to re-apply)`);
  out.push(`  proxy          http://${proxy}  ->  upstream ${b.upstreamUrl}${b.embedded ? " (embedded echo)" : ""}`);
  out.push(`  plays          ${PLAYS[b.target]} (TARGET=${b.target})`);
  if (b.target !== "envoy" && b.target !== "sidecar") {
    out.push(`                 the lines below are for requests a workload receives; which policies apply here and where: curl -s 'localhost:${b.adminPort}/policies?format=text'`);
  }
  out.push(`  admin          http://localhost:${b.adminPort}  /stats  /stats/prometheus  /ready  /config  /policies`);
  if (b.controlPlanePort !== undefined) {
    out.push(`  control plane  http://localhost:${b.controlPlanePort}/v1/policies  (from ${b.policyDir}, re-read on every poll)`);
  }
  const lines: TryLine[] = [];
  let staticPolicies: unknown[] = [];
  try {
    const parsed: unknown = JSON.parse(b.configuration);
    if (isObject(parsed) && Array.isArray(parsed.policies)) staticPolicies = parsed.policies;
  } catch {
    // not JSON: no static policies
  }
  const live = b.controlPlane ? b.controlPlane.read().policies : [];
  lines.push(...tryLines(policiesInForce(staticPolicies, live), proxy, b.source.node));
  lines.push({ curl: `curl -i ${proxy}/anything`, note: "no policy: straight to the upstream" });
  lines.push({ curl: `curl -s localhost:${b.adminPort}/stats | grep hfi_faults`, note: "the plugin's metrics" });
  out.push("", "Try:", formatTryLines(lines), "");
  if (b.policyDir) out.push(`Edit, add or remove a file in ${b.policyDir}: the fault changes at the plugin's next poll, no restart.`);
  out.push(`Edit ${b.configPath} and save: the plugin configuration is re-applied without a restart. Ctrl-C stops.`);
  return out.join("\n");
}

function clockTime(): string {
  return new Date().toISOString().slice(11, 23);
}

/** `[hfi w0]` for worker 0, `[hfi canary]` for Envoy's configuration canary. */
function formatLog(vm: string, entry: LogEntry): string {
  const from = entry.source === "host" ? "host" : "hfi";
  return `${clockTime()} [${entry.levelName}] [${from} ${vm.replace(/^worker/, "w")}] ${entry.message}`;
}

function formatAccess(e: AccessLogEntry): string {
  const status = e.outcome === "reset" ? "reset" : String(e.status ?? "-");
  const mark = `${e.policy ? ` policy=${e.policy}` : ""}${e.fault ? ` fault=${e.fault}` : ""}`;
  return `${clockTime()} "${e.method} ${e.path}" ${status}${mark} ${Math.round(e.durationMs)} ms`;
}
