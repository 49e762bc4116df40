// Leveled logging. Callers check `enabled(level)` before building a message, so a disabled
// level costs neither a string nor a host call.
import { LogLevel } from "./config/settings";
import { log as hostLog } from "./glue/host";

export class Logger {
  level: i32 = LogLevel.Info;

  @inline enabled(level: i32): bool {
    return level >= this.level;
  }

  write(level: i32, message: string): void {
    if (level >= this.level) hostLog(level, "hfi: " + message);
  }
}
