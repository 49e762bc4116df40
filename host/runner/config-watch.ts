/**
 * Watches one file for changes: fs.watch on its directory (editors often save by writing a new
 * file and renaming it over the old one, which a watch on the file itself would miss), debounced,
 * plus a periodic stat of mtime and size as a fallback where fs.watch is unreliable (network and
 * container mounts). The callback may fire for a save that changed nothing; callers compare.
 */
import { statSync, watch, type FSWatcher } from "node:fs";
import path from "node:path";

export interface FileWatch {
  close(): void;
}

export function watchFile(file: string, onChange: () => void, options: { debounceMs?: number; pollMs?: number } = {}): FileWatch {
  const debounceMs = options.debounceMs ?? 100;
  const pollMs = options.pollMs ?? 1000;
  const base = path.basename(file);
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const fire = (): void => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (!closed) onChange();
    }, debounceMs);
    timer.unref();
  };

  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(path.dirname(path.resolve(file)), { persistent: false }, (_event, name) => {
      if (name === null || name === base) fire();
    });
    watcher.on("error", () => watcher?.close());
  } catch {
    watcher = undefined; // polling alone still works
  }

  const signature = (): string => {
    try {
      const s = statSync(file);
      return `${s.mtimeMs}:${s.size}:${s.ino}`;
    } catch {
      return "missing";
    }
  };
  let last = signature();
  const poll = setInterval(() => {
    const now = signature();
    if (now !== last) {
      last = now;
      fire();
    }
  }, pollMs);
  poll.unref();

  return {
    close(): void {
      closed = true;
      clearTimeout(timer);
      clearInterval(poll);
      watcher?.close();
    },
  };
}
