/**
 * A small, strict argument parser: flags are declared per command, unknown ones are errors.
 */
import { CliError } from "./errors";

export interface FlagSpec {
  /** Long name without dashes. */
  name: string;
  short?: string;
  /** Takes a value (else a boolean switch). */
  value?: boolean;
  /** May be given several times (values collected). */
  repeat?: boolean;
}

export interface ParsedArgs {
  flags: Map<string, string[]>;
  positional: string[];
}

export function parseArgs(argv: string[], specs: FlagSpec[], command: string): ParsedArgs {
  const flags = new Map<string, string[]>();
  const positional: string[] = [];
  const byLong = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    let spec: FlagSpec | undefined;
    let inline: string | undefined;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      if (eq >= 0) inline = arg.slice(eq + 1);
      spec = byLong.get(name);
      if (!spec) throw new CliError(`hfi ${command}: unknown option --${name} (see hfi ${command} --help)`);
    } else if (arg.startsWith("-") && arg.length > 1 && !/^-\d/.test(arg)) {
      spec = byShort.get(arg.slice(1, 2));
      if (!spec) throw new CliError(`hfi ${command}: unknown option ${arg} (see hfi ${command} --help)`);
      if (arg.length > 2) inline = arg.slice(2);
    } else {
      positional.push(arg);
      continue;
    }
    let value = "true";
    if (spec.value) {
      if (inline !== undefined) value = inline;
      else if (i + 1 < argv.length) value = argv[++i];
      else throw new CliError(`hfi ${command}: --${spec.name} needs a value`);
    } else if (inline !== undefined) {
      throw new CliError(`hfi ${command}: --${spec.name} takes no value`);
    }
    const list = flags.get(spec.name) ?? [];
    if (list.length > 0 && !spec.repeat) throw new CliError(`hfi ${command}: --${spec.name} given twice`);
    list.push(value);
    flags.set(spec.name, list);
  }
  return { flags, positional };
}

export function one(args: ParsedArgs, name: string): string | undefined {
  return args.flags.get(name)?.[0];
}

export function all(args: ParsedArgs, name: string): string[] {
  return args.flags.get(name) ?? [];
}

export function has(args: ParsedArgs, name: string): boolean {
  return args.flags.has(name);
}

/** "k=v" pairs (labels, selectors). */
export function keyValues(values: string[], what: string): Array<[string, string]> {
  return values.flatMap((v) =>
    v.split(",").filter((s) => s !== "").map((pair): [string, string] => {
      const eq = pair.indexOf("=");
      if (eq <= 0) throw new CliError(`${what} must be key=value, got "${pair}"`);
      return [pair.slice(0, eq).trim(), pair.slice(eq + 1).trim()];
    }),
  );
}

export function wholeNumber(text: string | undefined, what: string, fallback: number, min = 1, max = 10_000_000): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new CliError(`${what} must be a whole number from ${min} to ${max}, got "${text}"`);
  return n;
}
