// Leveled logging. Callers check `enabled(level)` before building a message, so a disabled
// level costs neither a string nor a host call.
import { log as hostLog } from "./glue/host";

/** Envoy's log levels, as proxy_log takes them. */
export const enum LogLevel {
  Trace = 0,
  Debug = 1,
  Info = 2,
  Warn = 3,
  Error = 4,
  Critical = 5,
}

export class Logger {
  level: i32 = LogLevel.Info;

  @inline enabled(level: i32): bool {
    return level >= this.level;
  }

  write(level: i32, message: string): void {
    if (level >= this.level) hostLog(level, "hfi: " + message);
  }
}
