/**
 * The plugin's verdict on a configuration, read from its log. assembly/config/diagnostics.ts
 * writes every problem as `<where>: <field path>: <problem>` and assembly/root.ts adds
 * ` (in <source>; dropped)` to errors and ` (in <source>)` to warnings; a configuration refused
 * as a whole is one `configuration refused...: <reason>` line. assembly/log.ts prefixes `hfi: `.
 *   where = configuration | policies[<i>] | policy "<name>" | policy "<name>" rule <i>
 */
/** A note is neither: what a valid policy means that its author may not expect. */
export type Severity = "error" | "warning" | "note";

export type Scope =
  | { kind: "configuration" }
  | { kind: "position"; index: number }
  | { kind: "policy"; name: string; rule?: number };

export interface PluginMessage {
  severity: Severity;
  scope: Scope;
  /** The field path as the plugin wrote it (relative to the configuration, policy or rule). */
  field: string;
  message: string;
  /** The log line as written. */
  line: string;
}

export interface Refusal {
  refused: string;
  line: string;
}

const PROBLEM = /^(configuration|policies\[(\d+)\]|policy "(.*?)"(?: rule (\d+))?): (\S(?:.*?\S)?): (.*?)(?: \(in ([^()]*)\))?$/s;
const REFUSED = /^configuration refused(?: \([^)]*\))?: (.*)$/s;

export function parseLogLine(logged: string): PluginMessage | Refusal | undefined {
  // assembly/log.ts starts every line with the plugin's name.
  const line = logged.replace(/^hfi: /, "");
  const refused = REFUSED.exec(line);
  if (refused) return { refused: refused[1], line };
  const m = PROBLEM.exec(line);
  if (!m || m[7] === undefined) return undefined;
  const severity: Severity = /; dropped$/.test(m[7]) ? "error" : "warning";
  let scope: Scope;
  if (m[1] === "configuration") scope = { kind: "configuration" };
  else if (m[2] !== undefined) scope = { kind: "position", index: Number(m[2]) };
  else scope = { kind: "policy", name: m[3], ...(m[4] !== undefined ? { rule: Number(m[4]) } : {}) };
  return { severity, scope, field: m[5], message: m[6], line };
}

export function isRefusal(x: PluginMessage | Refusal | undefined): x is Refusal {
  return x !== undefined && "refused" in x;
}
