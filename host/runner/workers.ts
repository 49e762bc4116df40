/**
 * The plugin on N worker VMs, as Envoy runs one VM per worker thread: each VM has its own
 * memory, root context and tick timer; all share one stats store (so counters add up and the
 * active gauge is kept right by signed increments across workers), one shared-data space and one
 * log. Every configuration, the first included, goes through Envoy's configuration canary first
 * (one throwaway VM sharing all of that); one the canary refuses is applied nowhere.
 * Requests are handed to workers round-robin, as connections spread over Envoy's workers.
 */
import {
  Canary,
  compileModule,
  instantiate,
  Plugin,
  SharedState,
  startPlugin,
  StatsStore,
  type ClusterHandler,
  type HttpStream,
  type LogEntry,
  type LogLevelName,
  Log,
  parseLogLevel,
  type NodeInfo,
  type PluginResult,
  type StreamOptions,
  type StatsTagConfig,
} from "../index";
import { RunnerClock } from "./clock";

export interface WorkerPoolOptions {
  wasmPath: string;
  workers: number;
  rootId: string;
  configuration: string;
  vmId?: string;
  vmConfiguration?: string;
  node?: NodeInfo;
  /** Envoy's stats_config tag settings (stats_tags), as the bootstrap gives them. */
  statsTags?: StatsTagConfig;
  logLevel: LogLevelName;
  /** Cluster handlers by name; the object is kept, so clusters added later are seen. */
  clusters: Record<string, ClusterHandler>;
  /** Receives every log line of every VM, with the VM's name ("canary", "worker0", ...). */
  onLog: (vm: string, entry: LogEntry) => void;
}

export class WorkerPool {
  private next = 0;

  private constructor(
    readonly plugins: Plugin[],
    readonly stats: StatsStore,
    readonly clock: RunnerClock,
  ) {}

  /** Loads the module into N VMs and starts the plugin in each. Throws if a VM refuses it. */
  static async start(options: WorkerPoolOptions): Promise<{ pool: WorkerPool; result: PluginResult }> {
    const compiled = await compileModule(options.wasmPath);
    const stats = new StatsStore({ tags: options.statsTags });
    const shared = new SharedState();
    const clock = new RunnerClock();
    const plugins: Plugin[] = [];
    // Long-running: the log collects nothing, it only feeds the live listener.
    const log = new Log(parseLogLevel(options.logLevel), false);
    log.onEntry((entry) => options.onLog(entry.vm ?? "worker0", entry));
    const vmOptions = {
      clock,
      stats,
      shared,
      log,
      lean: true, // no body collection or callback trace either
      logLevel: options.logLevel,
      vmId: options.vmId,
      vmConfiguration: options.vmConfiguration,
      node: options.node,
      clusters: options.clusters,
    };
    const canary = new Canary(compiled, vmOptions);
    let result: PluginResult = { ok: true, logs: [] };
    for (let i = 0; i < Math.max(1, options.workers); i++) {
      const vm = instantiate(compiled, { ...vmOptions, label: `worker${i}` });
      const plugin = startPlugin(vm, { rootId: options.rootId, name: options.rootId, configuration: options.configuration, canary });
      plugins.push(plugin);
      if (!plugin.ok && result.ok) result = plugin.result;
    }
    return { pool: new WorkerPool(plugins, stats, clock), result };
  }

  get size(): number {
    return this.plugins.length;
  }

  /** A new stream on the next worker. */
  newStream(options?: StreamOptions): HttpStream {
    const plugin = this.plugins[this.next];
    this.next = (this.next + 1) % this.plugins.length;
    return plugin.newStream(options);
  }

  /** A new configuration: the canary (once), then on_configure in a new root on every worker;
   * the first refusal is returned. */
  reconfigure(configuration: string): PluginResult {
    let first: PluginResult | undefined;
    for (const plugin of this.plugins) {
      const r = plugin.reconfigure(configuration);
      if (!r.ok && !first) first = r;
      if (!r.ok) break; // the same module refuses the same text on every worker
      first ??= r;
    }
    return first!;
  }

  /** Streams not yet ended, on all workers (including those of replaced configurations). */
  get activeStreams(): HttpStream[] {
    return this.plugins.flatMap((p) => p.vm.roots.flatMap((r) => [...r.streams.values()]));
  }

  shutdown(): void {
    for (const s of this.activeStreams) s.reset();
    for (const p of this.plugins) p.shutdown();
  }
}
