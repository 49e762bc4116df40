/**
 * The HTTP client of the delay-precision case, in its own process so that issuing 1,000
 * concurrent requests does not compete with the proxy for its event loop.
 * Parent sends { port, paths }; the child answers with one { status, fault, ms } per path.
 */
import http from "node:http";

export interface LoadRequest {
  port: number;
  paths: string[];
}

export interface LoadReply {
  status: number;
  fault: string;
  ms: number;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

function get(port: number, path: string): Promise<LoadReply> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path, agent }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, fault: String(res.headers["x-fault-injected"] ?? ""), ms: performance.now() - t0 }));
    });
    req.on("error", () => resolve({ status: 0, fault: "", ms: performance.now() - t0 }));
  });
}

process.on("message", (m: LoadRequest | "exit") => {
  if (m === "exit") {
    agent.destroy();
    process.exit(0);
  }
  void Promise.all(m.paths.map((p) => get(m.port, p))).then((replies) => process.send!(replies));
});
