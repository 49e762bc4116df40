/**
 * A local HFI control plane for `make run POLICY_DIR=dir` and the tests: `GET /v1/policies`
 * answered from a directory of policy files (see policy-files.ts) as `{"policies": [...]}`,
 * with an ETag and 304 on a matching If-None-Match, as the real control plane does. The
 * directory is re-read on every request, so editing a file changes the fault at the plugin's
 * next poll. The same answer is served to the plugin's cluster (in process) and over real HTTP.
 */
import { createHash } from "node:crypto";
import http from "node:http";
import type { ClusterHandler, ClusterReply } from "../index";
import { readPolicyDir, type PolicySet } from "./policy-files";
import { isObject } from "./plugin-source";
import { closeServer, listen } from "./http-server";

export const POLICIES_PATH = "/v1/policies";

/** What `control_plane` the runner adds when the configuration names none. */
export const LOCAL_CONTROL_PLANE = {
  cluster: "hfi-control-plane",
  authority: "hfi-control-plane:8080",
  poll_interval_ms: 2000,
  timeout_ms: 1000,
} as const;

export interface ControlPlaneAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export class LocalControlPlane {
  private server: http.Server | undefined;
  /** Last reported state per file ("" = loaded), so each change is reported once. */
  private reported = new Map<string, string>();
  private lastEtag = "";

  constructor(
    readonly dir: string,
    private readonly say: (line: string) => void = (line) => console.log(line),
  ) {}

  /** The current policy set (re-read now). */
  read(): PolicySet {
    const set = readPolicyDir(this.dir);
    this.report(set);
    return set;
  }

  /** Answers one HTTP request. */
  answer(method: string, pathWithQuery: string, ifNoneMatch: string | undefined): ControlPlaneAnswer {
    const pathOnly = pathWithQuery.split("?")[0];
    if (pathOnly !== POLICIES_PATH) return text(404, `not found; the policies are at ${POLICIES_PATH}\n`);
    if (method !== "GET" && method !== "HEAD") return { ...text(405, "only GET\n"), headers: { ...text(405, "").headers, allow: "GET, HEAD" } };
    const set = this.read();
    const body = JSON.stringify({ policies: set.policies });
    const etag = `"${createHash("sha256").update(body).digest("hex").slice(0, 32)}"`;
    if (etag !== this.lastEtag) {
      this.lastEtag = etag;
      const files = set.files.map((f) => `${f.file} (${f.policies})`).join(", ") || "no files";
      this.say(`control plane: serving ${set.policies.length} policies from ${this.dir}: ${files}; ETag ${etag}`);
    }
    if (ifNoneMatch !== undefined && etagMatches(ifNoneMatch, etag)) return { status: 304, headers: { etag }, body: "" };
    return { status: 200, headers: { "content-type": "application/json", etag }, body };
  }

  /** The plugin's control-plane cluster, answered in process (proxy_http_call). */
  clusterHandler(): ClusterHandler {
    return (request): ClusterReply => {
      const a = this.answer(request.headers.get(":method") ?? "GET", request.headers.get(":path") ?? "/", request.headers.get("if-none-match"));
      return { status: a.status, headers: a.headers, body: a.body };
    };
  }

  /** Serves the same answers over HTTP so a user can curl them. */
  async listen(port: number, host: string): Promise<number> {
    const server = http.createServer((req, res) => {
      const ifNoneMatch = req.headers["if-none-match"];
      const a = this.answer(req.method ?? "GET", req.url ?? "/", Array.isArray(ifNoneMatch) ? ifNoneMatch.join(",") : ifNoneMatch);
      res.writeHead(a.status, { ...a.headers, "content-length": Buffer.byteLength(a.body) });
      res.end(req.method === "HEAD" ? undefined : a.body);
    });
    this.server = server;
    return listen(server, port, host);
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await closeServer(server);
  }

  /** Prints a file's problem when it appears or changes, and when the file loads again. */
  private report(set: PolicySet): void {
    const now = new Map<string, string>();
    for (const f of set.files) now.set(f.file, "");
    for (const p of set.problems) now.set(p.file, p.error);
    for (const [file, error] of now) {
      const before = this.reported.get(file);
      if (error !== "" && error !== before) this.say(`control plane: skipping ${file}: ${error}`);
      if (error === "" && before !== undefined && before !== "") this.say(`control plane: ${file} loads again`);
    }
    this.reported = now;
  }
}

function text(status: number, body: string): ControlPlaneAnswer {
  return { status, headers: { "content-type": "text/plain" }, body };
}

/** If-None-Match: a list of entity tags (weak ones compare weakly) or `*`. */
export function etagMatches(header: string, etag: string): boolean {
  return header.split(",").some((t) => {
    const tag = t.trim();
    return tag === "*" || tag === etag || tag === `W/${etag}`;
  });
}

/**
 * Which cluster the plugin calls for its policies, with the plugin's own rules: an explicit
 * `control_plane.cluster`; else Istio's `outbound|<port>||<host>` from `control_plane.address`
 * or `.authority`, from `control_plane_address`, or from a bare "host:port" configuration; an
 * empty configuration means `control-plane:8080`. When the configuration has no control plane
 * at all, `configuration` comes back with LOCAL_CONTROL_PLANE added and `added` set.
 */
export function routeControlPlane(configuration: string): { cluster: string; configuration: string; added: boolean } {
  const trimmed = configuration.trim();
  if (trimmed === "") return { cluster: clusterFromAddress("control-plane:8080")!, configuration, added: false };
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    const cluster = trimmed.startsWith("{") ? undefined : clusterFromAddress(trimmed);
    if (cluster) return { cluster, configuration, added: false };
    // Not something the plugin accepts either; it will say why.
    return { cluster: LOCAL_CONTROL_PLANE.cluster, configuration, added: false };
  }
  if (typeof parsed === "string") {
    return { cluster: clusterFromAddress(parsed) ?? LOCAL_CONTROL_PLANE.cluster, configuration, added: false };
  }
  if (!isObject(parsed)) return { cluster: LOCAL_CONTROL_PLANE.cluster, configuration, added: false };
  const cp = parsed.control_plane;
  if (isObject(cp)) {
    if (typeof cp.cluster === "string" && cp.cluster !== "") return { cluster: cp.cluster, configuration, added: false };
    for (const key of ["address", "authority"]) {
      const v = cp[key];
      const cluster = typeof v === "string" ? clusterFromAddress(v) : undefined;
      if (cluster) return { cluster, configuration, added: false };
    }
  }
  if (typeof parsed.control_plane_address === "string") {
    const cluster = clusterFromAddress(parsed.control_plane_address);
    if (cluster) return { cluster, configuration, added: false };
  }
  if (cp !== undefined || parsed.control_plane_address !== undefined) {
    // A control plane the plugin will refuse (and say why); route its default name anyway.
    return { cluster: LOCAL_CONTROL_PLANE.cluster, configuration, added: false };
  }
  const withCp = { ...parsed, control_plane: { ...LOCAL_CONTROL_PLANE } };
  return { cluster: LOCAL_CONTROL_PLANE.cluster, configuration: JSON.stringify(withCp, null, 2), added: true };
}

/** Istio's outbound cluster for "host[:port]" (port 8080 when absent). */
export function clusterFromAddress(address: string): string | undefined {
  const m = /^([A-Za-z0-9._-]+)(?::(\d{1,5}))?$/.exec(address.trim());
  if (!m) return undefined;
  const port = m[2] === undefined ? 8080 : Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return `outbound|${port}||${m[1]}`;
}
