/**
 * `hfi`: the operator's tools on the plugin's own engine (build/plugin.wasm in the project's
 * host). `npx hfi --help` from the repository; reference in docs/cli.md.
 */
import { all, has, keyValues, one, parseArgs, wholeNumber, type FlagSpec } from "./args";
import { CliError } from "./errors";
import { render, RENDER_TARGETS } from "./render";
import { formatSimulation, simulate } from "./simulate";
import { status } from "./status";
import { formatJson, formatNotes, formatText, validatePaths } from "./validate";

const USAGE = `hfi: HFI's fault-injection policies, judged by the real plugin (build/plugin.wasm)

Usage:
  hfi validate PATH... [--format text|json]
  hfi simulate -f PATH... [--workload NAME] [--namespace NS] [--label k=v]... [--proxy KIND] [--direction D] [--to SVC | --cluster NAME] [-n N] [-H 'name: value']... METHOD PATH
  hfi render -f PATH... --namespace NS [--target T] (--selector k=v | --waypoint N | --service N | --gateway N | --route N) [--image REF] [--api A] [--control-plane URL]
  hfi status (--admin URL | --prometheus URL) [--watch [--interval SECONDS] [--count N]]

Run 'hfi COMMAND --help' for a command's options. Reference: docs/cli.md.`;

const HELP: Record<string, string> = {
  validate: `Usage: hfi validate PATH... [--format text|json]

Checks policy files (YAML/JSON, '---' documents, lists, {"policies": [...]}), plugin
configurations, WasmPlugin manifests (spec.pluginConfig) and Envoy bootstraps with the Wasm
filter (envoy/envoy.yaml). A directory means its *.yaml, *.yml and *.json files.
Every problem is printed at once as FILE:LINE:COLUMN: FIELD.PATH: MESSAGE.
Exit status: 0 when there is no error (warnings allowed), 1 when there are errors.

  --format text|json   output format (default text)`,
  simulate: `Usage: hfi simulate -f PATH... [options] METHOD PATH

Shows, rule by rule, whether the request matches and why not, the fault the first matching
rule injects, and its configured rate against the rate observed over N requests sent through
the plugin (its own sampling).

  -f, --file PATH        policies or configuration (repeatable; directories allowed)
  --workload NAME        the sidecar's WORKLOAD_NAME (default: the bootstrap's node, if any)
  --namespace NS         the sidecar's NAMESPACE
  --label k=v            a pod label (app=..., service.istio.io/canonical-name=...); repeatable
  --proxy KIND           sidecar, gateway, waypoint or envoy: the kind of proxy (its node id);
                         default: the bootstrap's node id, if any
  --direction D          inbound or outbound: the listener the request comes through
                         (default: a sidecar's inbound, or outbound with --to; a gateway's
                         outbound; a waypoint's inbound)
  --to SVC               where the request goes: SERVICE[.NAMESPACE][:PORT][/SUBSET]
  --cluster NAME         where the request goes, as an Envoy cluster name
  -H, --header 'n: v'    a request header (repeatable)
  -n, --requests N       requests to send for the observed rate (default 1000)
  --format text|json     output format (default text)`,
  render: `Usage: hfi render -f PATH... --namespace NS [--target T] ATTACH [--image REF] [--api A] [--control-plane URL]

Prints what installs the plugin with these policies at one attach point, checked against the
CRDs' own schemas (k8s/schemas/) and the pluginConfig against the plugin:
  --target sidecar (default)  --selector k=v: a WasmPlugin whose match covers exactly the
                              directions the policies use, and the stats EnvoyFilter
  --target waypoint           --waypoint NAME (the waypoint Gateway) or --service NAME (a
                              Service bound to a waypoint): targetRefs, mode SERVER
  --target gateway            --gateway NAME: targetRefs to a Gateway API Gateway
  --target envoy-gateway      --gateway NAME or --route NAME: an EnvoyExtensionPolicy
Object names carry the target, so two targets in one namespace never collide.

  -f, --file PATH        policies or configuration (repeatable; directories allowed)
  --namespace NS         the namespace of the objects (and of the workload)
  --selector k=v         sidecar: the workload's pod labels (repeatable or comma-separated)
  --image REF            the plugin image (oci://... or registry/name:tag[@sha256:...]);
                         default: the one make push pinned (build/image.pinned), else an error
  --api A                wasmplugin (default) or trafficextension (Istio 1.30 and later)
  --control-plane URL    http://host:port[/path] of the HFI control plane to poll`,
  status: `Usage: hfi status (--admin URL | --prometheus URL) [--watch] [--interval SECONDS]

A per-policy table (matched, injected, overflow, state) and the plugin's totals, from Envoy's
Prometheus output. --admin takes Envoy's admin address (reads /stats/prometheus there);
--prometheus takes any URL serving that text (e.g. a sidecar's :15090/stats/prometheus).

  --watch                refresh until interrupted
  --interval SECONDS     refresh period for --watch (default 2)
  --count N              with --watch: stop after N refreshes`,
};

const SPECS: Record<string, FlagSpec[]> = {
  validate: [{ name: "format", value: true }, { name: "help", short: "h" }],
  simulate: [
    { name: "file", short: "f", value: true, repeat: true },
    { name: "workload", value: true },
    { name: "namespace", value: true },
    { name: "label", value: true, repeat: true },
    { name: "header", short: "H", value: true, repeat: true },
    { name: "requests", short: "n", value: true },
    { name: "proxy", value: true },
    { name: "direction", value: true },
    { name: "to", value: true },
    { name: "cluster", value: true },
    { name: "format", value: true },
    { name: "help", short: "h" },
  ],
  render: [
    { name: "file", short: "f", value: true, repeat: true },
    { name: "selector", value: true, repeat: true },
    { name: "namespace", value: true },
    { name: "target", value: true },
    { name: "waypoint", value: true },
    { name: "service", value: true },
    { name: "gateway", value: true },
    { name: "route", value: true },
    { name: "api", value: true },
    { name: "image", value: true },
    { name: "control-plane", value: true },
    { name: "help", short: "h" },
  ],
  status: [
    { name: "admin", value: true },
    { name: "prometheus", value: true },
    { name: "watch" },
    { name: "interval", value: true },
    { name: "count", value: true },
    { name: "help", short: "h" },
  ],
};

function format(value: string | undefined, command: string): "text" | "json" {
  if (value === undefined || value === "text") return "text";
  if (value === "json") return "json";
  throw new CliError(`hfi ${command}: --format must be text or json, got "${value}"`);
}

function choice<T extends string>(value: string | undefined, flag: string, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new CliError(`hfi: ${flag} must be ${allowed.join(", ")}, got "${value}"`);
}

function requireFiles(files: string[], command: string): string[] {
  if (files.length === 0) throw new CliError(`hfi ${command}: give the policies with -f PATH (see hfi ${command} --help)`);
  return files;
}

/**
 * `hfi` with no command at all. Unlike other command-line mistakes it carries the whole usage,
 * printed on stderr (run() prints it whole) with exit status 2: a script that calls `hfi` with
 * its arguments lost fails, while `hfi --help` asks for the same text on stdout and exits 0.
 */
export class UsageError extends CliError {}

export async function main(
  argv: string[],
  out: (s: string) => void = (s) => process.stdout.write(s + "\n"),
  note: (s: string) => void = (s) => process.stderr.write(s + "\n"),
): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) throw new UsageError(USAGE);
  if (command === "--help" || command === "-h" || command === "help") {
    out(rest[0] && HELP[rest[0]] ? HELP[rest[0]] : USAGE);
    return 0;
  }
  const specs = SPECS[command];
  if (!specs) throw new CliError(`hfi: unknown command "${command}" (commands: validate, simulate, render, status; see hfi --help)`);
  const args = parseArgs(rest, specs, command);
  if (has(args, "help")) {
    out(HELP[command]);
    return 0;
  }
  switch (command) {
    case "validate": {
      if (args.positional.length === 0) throw new CliError("hfi validate: give at least one PATH (see hfi validate --help)");
      const report = await validatePaths(args.positional);
      if (format(one(args, "format"), command) === "json") out(formatJson(report));
      else {
        // Notes explain valid policies: on stderr, so the problem list stays what scripts read.
        if (report.notes.length > 0) note(formatNotes(report));
        out(formatText(report));
      }
      return report.errors > 0 ? 1 : 0;
    }
    case "simulate": {
      if (args.positional.length !== 2) throw new CliError("hfi simulate: give the request as METHOD PATH, e.g. GET /api/x (see hfi simulate --help)");
      const result = await simulate({
        files: requireFiles(all(args, "file"), command),
        workload: one(args, "workload"),
        namespace: one(args, "namespace"),
        labels: keyValues(all(args, "label"), "--label"),
        headers: all(args, "header").map(parseHeader),
        requests: wholeNumber(one(args, "requests"), "-n", 1000, 1, 1_000_000),
        method: args.positional[0],
        path: args.positional[1],
        proxy: choice(one(args, "proxy"), "--proxy", ["sidecar", "gateway", "waypoint", "envoy"] as const),
        direction: choice(one(args, "direction"), "--direction", ["inbound", "outbound"] as const),
        to: one(args, "to"),
        cluster: one(args, "cluster"),
      });
      out(format(one(args, "format"), command) === "json" ? JSON.stringify(result, null, 2) : formatSimulation(result));
      return 0;
    }
    case "render": {
      const namespace = one(args, "namespace");
      if (!namespace) throw new CliError("hfi render: --namespace is required");
      out(await render({
        files: requireFiles(all(args, "file"), command),
        namespace,
        target: choice(one(args, "target"), "--target", RENDER_TARGETS),
        selector: keyValues(all(args, "selector"), "--selector"),
        waypoint: one(args, "waypoint"),
        service: one(args, "service"),
        gateway: one(args, "gateway"),
        route: one(args, "route"),
        api: choice(one(args, "api"), "--api", ["wasmplugin", "trafficextension"] as const),
        image: one(args, "image"),
        controlPlane: one(args, "control-plane"),
      }));
      return 0;
    }
    case "status": {
      const admin = one(args, "admin");
      const prometheus = one(args, "prometheus");
      if ((admin === undefined) === (prometheus === undefined)) throw new CliError("hfi status: give exactly one of --admin URL or --prometheus URL");
      return status({ admin, prometheus, watch: has(args, "watch"), intervalMs: wholeNumber(one(args, "interval"), "--interval", 2, 1, 3600) * 1000, count: one(args, "count") === undefined ? undefined : wholeNumber(one(args, "count"), "--count", 1), out });
    }
  }
  return 0;
}

function parseHeader(text: string): [string, string] {
  const colon = text.indexOf(":", text.startsWith(":") ? 1 : 0);
  if (colon <= 0) throw new CliError(`-H must be 'name: value', got "${text}"`);
  return [text.slice(0, colon).trim().toLowerCase(), text.slice(colon + 1).trim()];
}

/**
 * Runs the CLI as a process: one line on stderr for any failure (the usage for a missing
 * command), never a stack trace.
 */
export function run(argv: string[]): void {
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      const message = e instanceof Error ? e.message : String(e);
      process.stderr.write(`${e instanceof UsageError ? message : message.split("\n")[0]}\n`);
      if (process.env.HFI_DEBUG && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
      process.exitCode = e instanceof CliError ? e.exitCode : 1;
    },
  );
}

if (require.main === module) run(process.argv.slice(2));
