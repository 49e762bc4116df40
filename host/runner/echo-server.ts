/**
 * The embedded upstream of `make run`: answers every request with JSON describing what it
 * received (method, path, headers, body length and sha256, and the body itself when small), so
 * a user sees exactly what the proxy forwarded. A path starting with `/status/<code>` (100-599
 * excluded 1xx) answers with that status, so the guard can be watched tripping on upstream 5xx.
 */
import { createHash } from "node:crypto";
import http from "node:http";
import { closeServer, listen } from "./http-server";

/** Bodies up to this size are echoed back as text; larger ones only by length and hash. */
const ECHO_BODY_LIMIT = 64 * 1024;

export interface EchoReply {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body_length: number;
  body_sha256: string;
  body?: string;
}

/** `/status/503...` -> 503; 200 for any other path. */
export function statusFromPath(path: string): number {
  const m = /^\/status\/([2-5]\d\d)(?:[/?]|$)/.exec(path);
  return m ? Number(m[1]) : 200;
}

export class EchoServer {
  private constructor(
    private readonly server: http.Server,
    readonly port: number,
  ) {}

  /** onRequest runs first on every request (the runner's timer checkpoint). */
  static async start(host: string, port = 0, onRequest?: () => void): Promise<EchoServer> {
    const server = http.createServer((req, res) => {
      onRequest?.();
      const hash = createHash("sha256");
      const kept: Buffer[] = [];
      let length = 0;
      req.on("data", (chunk: Buffer) => {
        hash.update(chunk);
        if (length + chunk.length <= ECHO_BODY_LIMIT) kept.push(chunk);
        length += chunk.length;
      });
      req.on("end", () => {
        const reply: EchoReply = {
          method: req.method ?? "",
          path: req.url ?? "",
          headers: req.headers,
          body_length: length,
          body_sha256: hash.digest("hex"),
        };
        if (length <= ECHO_BODY_LIMIT) reply.body = Buffer.concat(kept).toString("utf8");
        const body = JSON.stringify(reply, null, 2) + "\n";
        res.writeHead(statusFromPath(req.url ?? ""), { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
        res.end(req.method === "HEAD" ? undefined : body);
      });
    });
    // Longer than the proxy's idle upstream connections live, so a reused one is never closed
    // under a request.
    server.keepAliveTimeout = 65_000;
    return new EchoServer(server, await listen(server, port, host, 4096));
  }

  async close(): Promise<void> {
    await closeServer(this.server);
  }
}
