/**
 * The admin server of `make run`, like Envoy's admin port: `/stats` (text, `?filter=<regex>`),
 * `/stats/prometheus`, `/ready` ("LIVE" once the plugin is configured), `/config` (the plugin
 * configuration in force, exactly as handed to proxy_on_configure) and `/policies` (the policy set
 * in force per worker, as the plugin publishes it in shared data).
 */
import http from "node:http";
import type { StatsStore } from "../index";
import { closeServer, listen } from "./http-server";
import { renderPoliciesText, type WorkerView } from "./effective-policies";

export interface AdminSources {
  stats: StatsStore;
  ready: () => boolean;
  /** The configuration in force and where it came from. */
  configuration: () => { text: string; source: string; rootId: string };
  /** The policy set each worker published (host/runner/effective-policies.ts). */
  policies?: () => { workers: WorkerView[] };
}

const INDEX = `HFI local runner admin
  /stats              Envoy text stats (?filter=<regex>)
  /stats/prometheus   Prometheus text format
  /ready              LIVE once the plugin is configured
  /config             the plugin configuration in force
  /policies           the policies in force per worker (JSON; ?format=text for a table)
`;

export class AdminServer {
  private server: http.Server | undefined;

  constructor(private readonly sources: AdminSources) {}

  async listen(port: number, host: string): Promise<number> {
    const server = http.createServer((req, res) => this.handle(req, res));
    this.server = server;
    return listen(server, port, host);
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await closeServer(server);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://admin");
    const send = (status: number, body: string, type = "text/plain; charset=UTF-8"): void => {
      res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body), "cache-control": "no-cache, max-age=0" });
      res.end(req.method === "HEAD" ? undefined : body);
    };
    const stats = this.sources.stats;
    switch (url.pathname) {
      case "/":
        return send(200, INDEX);
      case "/stats": {
        if (url.searchParams.get("format") === "prometheus") return send(200, stats.renderPrometheus(), "text/plain; version=0.0.4");
        const filter = url.searchParams.get("filter");
        let text = stats.renderText();
        if (filter) {
          let re: RegExp;
          try {
            re = new RegExp(filter);
          } catch (e) {
            return send(400, `Invalid re2 regex: ${(e as Error).message}\n`);
          }
          text = text.split("\n").filter((l) => l !== "" && re.test(l.slice(0, l.indexOf(":")))).map((l) => l + "\n").join("");
        }
        return send(200, text);
      }
      case "/stats/prometheus":
        return send(200, stats.renderPrometheus(), "text/plain; version=0.0.4");
      case "/ready":
        return this.sources.ready() ? send(200, "LIVE\n") : send(503, "PRE_INITIALIZING\n");
      case "/config": {
        const c = this.sources.configuration();
        res.setHeader("x-hfi-config-source", c.source);
        res.setHeader("x-hfi-root-id", c.rootId);
        let json = false;
        try {
          JSON.parse(c.text);
          json = true;
        } catch {
          // a bare address or empty configuration: shown as text
        }
        return send(200, c.text.endsWith("\n") ? c.text : c.text + "\n", json ? "application/json" : "text/plain; charset=UTF-8");
      }
      case "/policies": {
        const view = this.sources.policies?.() ?? { workers: [] };
        const accept = req.headers.accept ?? "";
        const text = url.searchParams.get("format") === "text" || (accept.includes("text/plain") && !accept.includes("application/json"));
        return text ? send(200, renderPoliciesText(view)) : send(200, JSON.stringify(view, null, 2) + "\n", "application/json");
      }
      default:
        return send(404, `unknown admin path ${url.pathname}\n${INDEX}`);
    }
  }
}
