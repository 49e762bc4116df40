/**
 * The module's log as Envoy would print it: proxy_log and WASI stdout/stderr, filtered by the
 * configured level (messages below it are dropped, but every call is counted), plus the host's
 * own notes (source "host") such as "proxy_grpc_call is not implemented by this host".
 */
import { LogLevel } from "./abi";

export type LogLevelName = "trace" | "debug" | "info" | "warn" | "error" | "critical";

export const LOG_LEVEL_NAMES: readonly LogLevelName[] = ["trace", "debug", "info", "warn", "error", "critical"];

export function parseLogLevel(level: LogLevelName | LogLevel): LogLevel {
  if (typeof level === "number") return level;
  const i = LOG_LEVEL_NAMES.indexOf(level);
  if (i < 0) throw new Error(`unknown log level "${level}"`);
  return i as LogLevel;
}

export interface LogEntry {
  level: LogLevel;
  levelName: LogLevelName;
  message: string;
  /** "module" for proxy_log / fd_write, "host" for notes from the host itself. */
  source: "module" | "host";
  /** The context the module was running in (0 while starting). */
  contextId: number;
  /** Host clock time in ms. */
  time: number;
  /** Which VM wrote it ("canary", "worker0", ...) when the VM has a label (several VMs share one
   * log, as in Envoy). */
  vm?: string;
}

export type LogListener = (entry: LogEntry) => void;

export class Log {
  /** Entries at or above the threshold, oldest first (empty in lean mode). */
  readonly entries: LogEntry[] = [];
  /** proxy_log calls per level, including dropped ones. */
  readonly callsByLevel = [0, 0, 0, 0, 0, 0];
  dropped = 0;
  private readonly listeners: LogListener[] = [];

  constructor(
    public threshold: LogLevel,
    private readonly collect: boolean,
  ) {}

  enabled(level: LogLevel): boolean {
    return level >= this.threshold;
  }

  /** For a message below the level: counts it as write() would and returns true; otherwise
   * returns false and counts nothing (call write() then). */
  drop(level: LogLevel, source: LogEntry["source"]): boolean {
    if (level >= this.threshold) return false;
    if (source === "module") this.callsByLevel[level]++;
    this.dropped++;
    return true;
  }

  /** Records one message; `text` is only built when the level is enabled. */
  write(level: LogLevel, text: () => string, source: LogEntry["source"], contextId: number, time: number, vm?: string): void {
    if (source === "module") this.callsByLevel[level]++;
    if (level < this.threshold) {
      this.dropped++;
      return;
    }
    if (!this.collect && this.listeners.length === 0) return;
    const entry: LogEntry = { level, levelName: LOG_LEVEL_NAMES[level], message: text(), source, contextId, time };
    if (vm !== undefined) entry.vm = vm;
    if (this.collect) this.entries.push(entry);
    for (const l of this.listeners) l(entry);
  }

  onEntry(listener: LogListener): void {
    this.listeners.push(listener);
  }

  /** Messages (text only) at or above a level, for assertions; `vm` keeps one VM's lines. */
  messages(minLevel: LogLevelName = "trace", vm?: string): string[] {
    const min = parseLogLevel(minLevel);
    return this.entries.filter((e) => e.level >= min && (vm === undefined || e.vm === vm)).map((e) => e.message);
  }

  clear(): void {
    this.entries.length = 0;
  }
}
