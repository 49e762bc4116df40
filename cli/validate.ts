/**
 * `hfi validate PATH...`: the plugin's own judgement of every document, every problem at once,
 * each at the line and column where the field is written.
 *
 * How "every problem" is found with the real engine: each configuration's settings are judged
 * alone, then each policy alone with those settings (so a message maps to exactly one policy,
 * whatever its name), then the whole set together (problems between policies). The plugin stops
 * at the first problem of a rule; after an error hfi repairs that one field in its copy (deletes
 * an unknown field, translates an Istio habit, or puts a valid placeholder) and asks again, so
 * the next problem of the same rule shows too. Problems at fields hfi repaired are its own
 * artefacts and are not reported.
 *
 * Linear in the input: each judgement is a fresh VM (two, with Envoy's configuration canary),
 * so hfi asks as few as it can. The same question (the settings of many policy documents) is
 * asked once. Policies that would be judged with the same settings (every bare policy document
 * of every file, say) are first judged together, in batches (screen below); only a policy the
 * plugin says something about is then judged alone, with its repairs.
 */
import path from "node:path";
import { istioHint, durationMs } from "./hints";
import { isRefusal, parseLogLine, type PluginMessage, type Severity } from "./messages";
import { startEngine } from "./engine";
import { readFileSync } from "node:fs";
import { CliError } from "./errors";
import { PARALLEL_BYTES, YamlPool } from "./yaml-pool";
import { directionOf } from "./scope";
import { expandPaths, isObject, joinFieldPath, loadTextInWindows, loadTextInWindowsParallel, splitFieldPath, type ConfigurationInput, type Locate, type PathSegment, type PolicyInput, type Position, type SourceProblem } from "./sources";

export interface Problem extends Position {
  severity: Severity;
  /** Field path within the document (or its embedded configuration). */
  field: string;
  message: string;
  /** The plugin's message when a hint replaced it. */
  pluginMessage?: string;
  policy?: string;
}

export interface ValidationReport {
  files: string[];
  problems: Problem[];
  /** What valid policies mean that their authors may not expect (never an error). */
  notes: Problem[];
  errors: number;
  warnings: number;
  /** What judging cost: plugin VMs configured, and the configuration bytes they were given.
   * Both grow with the input, never with its square (tests/cli/validate-scale.test.ts). */
  cost: JudgeCost;
}

export interface JudgeCost {
  vms: number;
  bytes: number;
}

const MAX_REPAIRS = 40;

/** Policies read and judged together: a run holds one window's values at a time, so its
 * memory follows the window, not the input (a 50 MiB file of small documents). */
const WINDOW_POLICIES = 5000;

export async function validatePaths(paths: string[], options: { parallelBytes?: number } = {}): Promise<ValidationReport> {
  const files = expandPaths(paths);
  const problems: Problem[] = [];
  const cost: JudgeCost = { vms: 0, bytes: 0 };
  const judge = rememberingJudge(cost);
  const names = new NameRegister();
  const directions = new DirectionNotes();
  const checkedFiles: string[] = [];
  let pending: { problems: SourceProblem[]; configurations: ConfigurationInput[] } = { problems: [], configurations: [] };
  let pendingPolicies = 0;
  const judgeWindow = async () => {
    const window = pending;
    pending = { problems: [], configurations: [] };
    pendingPolicies = 0;
    problems.push(...window.problems.map((p) => ({ ...p.at, severity: p.severity ?? ("error" as Severity), field: p.field, message: p.message })));
    problems.push(...(await validateConfigurations(window.configurations, judge)));
    problems.push(...names.add(window.configurations));
    directions.add(window.configurations);
  };
  let pool: YamlPool | undefined;
  try {
    for (const file of files) {
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch (e) {
        throw new CliError(`${file}: ${(e as Error).message}`);
      }
      if (text.length >= (options.parallelBytes ?? PARALLEL_BYTES)) pool ??= new YamlPool();
      const windows = pool ? loadTextInWindowsParallel(text, file, WINDOW_POLICIES, pool) : loadTextInWindows(text, file, WINDOW_POLICIES);
      for await (const window of windows) {
        if (window.configurations.length > 0) checkedFiles.push(file);
        // Small files fill one window together: a window is judged in few, large batches.
        pending.problems.push(...window.problems);
        pending.configurations.push(...window.configurations);
        pendingPolicies += window.configurations.reduce((n, c) => n + c.policies.length, 0);
        if (pendingPolicies >= WINDOW_POLICIES) await judgeWindow();
      }
    }
    await judgeWindow();
  } finally {
    await pool?.close();
  }
  // A path that held nothing hfi checks must not read as "ok".
  const checked = withAncestors(checkedFiles);
  const read = withAncestors(files);
  for (const given of paths) {
    const root = path.resolve(given);
    if (checked.has(root)) continue;
    if (!read.has(root)) continue; // reported when it was read
    problems.push({ file: given, line: 1, column: 1, severity: "error", field: "(path)",
      message: "nothing to check: no policy, list of policies, plugin configuration, WasmPlugin or Envoy bootstrap with the Wasm filter" });
  }
  const order = new Map(files.map((f, i) => [f, i]));
  problems.sort((a, b) => (order.get(a.file) ?? 0) - (order.get(b.file) ?? 0) || a.line - b.line || a.column - b.column);
  return {
    files,
    problems,
    notes: directions.notes(),
    errors: problems.filter((p) => p.severity === "error").length,
    warnings: problems.filter((p) => p.severity === "warning").length,
    cost,
  };
}

/**
 * At most two notes for the whole run: the policies without `spec.direction`, by what that means
 * on a sidecar (only the requests the workload receives; with a destination, only the calls it
 * makes). Written before `direction` existed, such a policy may have been meant for both sides.
 * Fed a window at a time; keeps five names and a count per note.
 */
class DirectionNotes {
  private readonly groups = {
    inbound: { names: [] as string[], count: 0, at: undefined as Position | undefined },
    outbound: { names: [] as string[], count: 0, at: undefined as Position | undefined },
  };

  add(configurations: ConfigurationInput[]): void {
    for (const unit of configurations) {
      for (const p of unit.policies) {
        const spec = isObject(p.value) ? p.value.spec : undefined;
        if (!isObject(spec) || spec.direction !== undefined) continue;
        const group = directionOf(spec, "sidecar") === "outbound" ? this.groups.outbound : this.groups.inbound;
        if (group.names.length < 5) group.names.push(policyName(p.value) ?? "(unnamed)");
        group.count++;
        group.at ??= p.locate(["spec"]);
      }
    }
  }

  notes(): Problem[] {
    const notes: Problem[] = [];
    const say = (group: { names: string[]; count: number; at: Position | undefined }, what: string) => {
      const n = group.count;
      if (n === 0 || group.at === undefined) return;
      const shown = group.names.map((name) => `"${name}"`).join(", ") + (n > 5 ? ` and ${n - 5} more` : "");
      notes.push({
        ...group.at, severity: "note", field: "spec.direction",
        message: `not set in ${n === 1 ? "policy" : `${n} policies`} ${shown}: on a sidecar ${n === 1 ? "it applies" : "they apply"} ${what}; ` +
          "on gateways, waypoints and plain Envoy to every request. Say direction: inbound, outbound or any to make it explicit (docs/policies.md)",
      });
    };
    say(this.groups.inbound, "only to the requests the workload receives (inbound), not to the calls it makes");
    say(this.groups.outbound, "only to the calls the workload makes (outbound), as their destination implies");
    return notes;
  }
}

/** Every file (resolved) and every folder above it: "is anything under this path" in one look-up. */
function withAncestors(files: string[]): Set<string> {
  const out = new Set<string>();
  for (const file of new Set(files)) {
    for (let p = path.resolve(file); !out.has(p); ) {
      out.add(p);
      const up = path.dirname(p);
      if (up === p) break;
      p = up;
    }
  }
  return out;
}

interface Verdict {
  refusal?: string;
  messages: PluginMessage[];
  /** Warnings and errors the plugin wrote in another form: shown as they are. */
  other: Array<{ severity: Severity; line: string }>;
}

/** A judgement of a configuration (as the unit's proxy would see it). */
type Judge = (unit: ConfigurationInput, configuration: string) => Promise<Verdict>;

/** Configurations up to this long are remembered with their verdict (and this much in all). */
const REMEMBERED_CONFIGURATION = 64 * 1024;
const REMEMBERED_IN_ALL = 64 * 1024 * 1024;

/**
 * judgeOnce(), asking the plugin once per distinct question: every bare policy document has the
 * same settings, and a policy judged alone while screening is asked again by validatePolicy.
 * Verdicts are shared: callers only read them.
 */
function rememberingJudge(cost: JudgeCost): Judge {
  const known = new Map<string, Verdict>();
  let kept = 0;
  const judge = (unit: ConfigurationInput, configuration: string): Promise<Verdict> => {
    cost.vms++;
    cost.bytes += configuration.length;
    return judgeOnce(unit, configuration);
  };
  return async (unit, configuration) => {
    if (configuration.length > REMEMBERED_CONFIGURATION) return judge(unit, configuration);
    const key = `${unit.rootId}\n${unit.node === undefined ? "" : JSON.stringify(unit.node)}\n${configuration}`;
    let verdict = known.get(key);
    if (verdict === undefined) {
      verdict = await judge(unit, configuration);
      if (kept + key.length <= REMEMBERED_IN_ALL) {
        known.set(key, verdict);
        kept += key.length;
      }
    }
    return verdict;
  };
}

async function judgeOnce(unit: ConfigurationInput, configuration: string): Promise<Verdict> {
  const engine = await startEngine(configuration, { rootId: unit.rootId, node: unit.node, canary: false });
  const verdict: Verdict = { messages: [], other: [] };
  for (const l of engine.lines()) {
    if (l.level !== "warn" && l.level !== "error" && l.level !== "critical") continue;
    const parsed = parseLogLine(l.message);
    if (isRefusal(parsed)) verdict.refusal = parsed.refused;
    else if (parsed) verdict.messages.push(parsed);
    else verdict.other.push({ severity: l.level === "warn" ? "warning" : "error", line: l.message.replace(/^hfi: /, "") });
  }
  if (!engine.accepted && verdict.refusal === undefined) verdict.refusal = engine.plugin.result.stage;
  return verdict;
}

const LOG_LEVELS = ["trace", "debug", "info", "warn", "warning", "error", "critical"];

/**
 * The configuration to judge. The plugin writes its problems at warn level, so a valid
 * `log_level` above warn would hide them from hfi: it is lowered to warn here (an invalid one
 * is kept, for the plugin to report).
 */
export function judgedSettings(settings: Record<string, unknown> | undefined): Record<string, unknown> {
  const s = { ...settings };
  if (typeof s.log_level === "string" && LOG_LEVELS.includes(s.log_level)) s.log_level = "warn";
  return s;
}

function withPolicies(unit: ConfigurationInput, policies: unknown): string {
  return JSON.stringify({ ...judgedSettings(unit.settings), policies });
}

export async function validateConfiguration(input: ConfigurationInput): Promise<Problem[]> {
  return validateConfigurations([input], rememberingJudge({ vms: 0, bytes: 0 }));
}

/** A configuration whose settings are judged: what is left to judge of it. */
interface SettingsJudged {
  /** The configuration, without the settings the plugin refused. */
  unit: ConfigurationInput;
  problems: Problem[];
  /** Messages (normalized) and other lines already reported or accounted for. */
  seen: Set<string>;
  /** Nothing more to judge (not an object, or refused as a whole). */
  done: boolean;
}

/** The problems of each configuration, in the order of the configurations. */
async function validateConfigurations(inputs: ConfigurationInput[], judge: Judge): Promise<Problem[]> {
  const judged: SettingsJudged[] = [];
  for (const input of inputs) judged.push(await judgeSettings(input, judge));
  const clean = await screen(judged.flatMap((j) => (j.done ? [] : [j.unit])), judge);
  const problems: Problem[] = [];
  for (const j of judged) {
    problems.push(...j.problems);
    if (!j.done) problems.push(...(await judgePolicies(j, clean, judge)));
  }
  return problems;
}

async function judgeSettings(input: ConfigurationInput, judge: Judge): Promise<SettingsJudged> {
  let unit = input;
  const problems: Problem[] = [];
  const seen = new Set<string>();
  if (unit.settings === undefined) {
    // Not a JSON object: judged as the proxy would judge the text.
    const v = await judge(unit, unit.raw);
    if (v.refusal !== undefined) problems.push({ ...unit.at, severity: "error", field: "(configuration)", message: `refused: ${v.refusal}` });
    for (const m of v.messages) problems.push({ ...unit.at, severity: m.severity, field: m.field, message: m.message });
    return { unit, problems, seen, done: true };
  }
  // 1. The settings alone (and `policies` when it is not a list). Any problem in them refuses
  // the configuration; each setting is then judged alone, so that every problem shows at the
  // setting it is about.
  const settingsVerdict = await judge(unit, withPolicies(unit, unit.policiesValue ?? []));
  if (settingsVerdict.refusal !== undefined) {
    const found = await settingProblems(unit, settingsVerdict.refusal, judge);
    problems.push(...found.problems);
    if (found.bad.size === 0) return { unit, problems, seen, done: true };
    // The policies are judged with the refused settings left out, so their problems show too.
    unit = { ...unit, settings: Object.fromEntries(Object.entries(unit.settings).filter(([k]) => !found.bad.has(k))) };
  }
  for (const m of settingsVerdict.messages) {
    seen.add(normalized(m));
    problems.push({ ...unit.locate(splitFieldPath(m.field)), severity: m.severity, field: m.field, message: m.message });
  }
  for (const o of settingsVerdict.other) {
    seen.add(o.line);
    problems.push({ ...unit.at, severity: o.severity, field: "(plugin)", message: o.line });
  }
  return { unit, problems, seen, done: false };
}

async function judgePolicies({ unit, seen }: SettingsJudged, clean: Set<PolicyInput>, judge: Judge): Promise<Problem[]> {
  const problems: Problem[] = [];
  // 2. Each policy alone, repairing as it goes; a policy the plugin said nothing about in its
  // batch would get nothing here either.
  for (const policy of unit.policies) if (!clean.has(policy)) problems.push(...(await validatePolicy(unit, policy, seen, judge)));
  // 3. All together: what only shows between policies.
  if (unit.policies.length > 1) {
    const all = await judge(unit, withPolicies(unit, unit.policies.map((p) => p.value)));
    // A set over a count limit (policies, rules in all) is refused whole, though each policy
    // alone is fine: said at the list, in the plugin's words.
    if (all.refusal !== undefined && !seen.has(all.refusal)) {
      seen.add(all.refusal);
      for (const { field, said } of refusalParts(all.refusal)) {
        const at = field === undefined ? unit.at : unit.locate(splitFieldPath(field));
        problems.push({ ...at, severity: "error", field: field ?? "(configuration)", message: `the whole list is refused: ${said}`, pluginMessage: said });
      }
    }
    for (const o of all.other) {
      if (seen.has(o.line)) continue;
      seen.add(o.line);
      problems.push({ ...unit.at, severity: o.severity, field: "(plugin)", message: o.line });
    }
    for (const m of all.messages) {
      if (seen.has(normalized(m))) continue;
      seen.add(normalized(m));
      const target = m.scope.kind === "policy" ? lastNamed(unit.policies, m.scope.name) : m.scope.kind === "position" ? unit.policies[m.scope.index] : undefined;
      if (target) {
        const rel = relativePath(m);
        problems.push({ ...target.locate(rel), severity: m.severity, field: joinFieldPath([...target.prefix, ...rel]), message: m.message, policy: policyName(target.value) });
      } else {
        problems.push({ ...unit.locate(splitFieldPath(m.field)), severity: m.severity, field: m.field, message: m.message });
      }
    }
  }
  return problems;
}

// ---- screening: many policies in one judgement ---------------------------------------------

/** Policies in one screening judgement, and their JSON text in all: each judgement starts a
 * VM (two, with the canary), so fewer, larger batches are most of a large run's speed. Past
 * max_labelled_policies the plugin writes one line about the set, so a screening judgement
 * raises it to the batch's size when the configuration leaves it unset (labels do not change
 * what the plugin says about a policy); a configuration that sets it keeps its own, and its
 * batches are no larger. */
const BATCH_POLICIES = 1000;
const BATCH_BYTES = 2 * 1024 * 1024;
/** Screening rounds at most (a round that clears no policy ends it). */
const SCREENING_ROUNDS = 8;

/**
 * The policies the plugin reports nothing about when judged alone, found by judging many at
 * once: every policy of every configuration judged with the same settings (same root id and
 * node) goes into batches, each one configuration of those settings and up to BATCH_POLICIES
 * policies of distinct names.
 *
 * Why a policy the plugin says nothing about in a batch gets nothing alone either: the plugin
 * judges each policy of a list on its own, and what a set adds (a count over a limit, a budget
 * of regexes or header names spent, a name taken by an earlier policy, policies past
 * max_labelled_policies) only adds messages; names are distinct within a batch. Each message
 * names its policy (by name, or by position for a policy without a valid name). A batch with a
 * message about no one policy (a refusal, a line about the set) is split in two and each half
 * judged again, down to single policies. The policies named are screened again in new
 * batches while that clears some; a policy that remains named is judged alone.
 */
async function screen(units: ConfigurationInput[], judge: Judge): Promise<Set<PolicyInput>> {
  const clean = new Set<PolicyInput>();
  const groups = new Map<string, { unit: ConfigurationInput; settings: string; size: number; policies: PolicyInput[] }>();
  for (const unit of units) {
    if (unit.policies.length === 0) continue;
    const settings = judgedSettings(unit.settings);
    const key = `${unit.rootId}\n${unit.node === undefined ? "" : JSON.stringify(unit.node)}\n${JSON.stringify(settings)}`;
    let group = groups.get(key);
    if (group === undefined) {
      const labelled = settings.max_labelled_policies;
      const set = typeof labelled === "number" && Number.isInteger(labelled) && labelled >= 0;
      const size = set ? Math.max(1, Math.min(BATCH_POLICIES, labelled)) : BATCH_POLICIES;
      const screening = set || "max_labelled_policies" in settings ? settings : { ...settings, max_labelled_policies: BATCH_POLICIES };
      groups.set(key, (group = { unit, settings: JSON.stringify(screening), size, policies: [] }));
    }
    group.policies.push(...unit.policies);
  }
  for (const group of groups.values()) {
    // A policy named in one batch may be named only because of the others (a budget spent by
    // them): the named ones are batched again, as long as that clears any.
    let pending = group.policies;
    for (let round = 0; round < SCREENING_ROUNDS && pending.length > 0; round++) {
      const named: PolicyInput[] = [];
      let batch: Batch = [];
      let names = new Set<string>();
      let bytes = 0;
      const flush = async () => {
        if (batch.length > 0) await screenBatch(group.unit, group.settings, batch, clean, named, judge);
        batch = [];
        names = new Set();
        bytes = 0;
      };
      for (const policy of pending) {
        // A large policy is judged alone, once (and not turned into text here just to see that).
        if (jsonLongerThan(policy.value, BATCH_BYTES)) continue;
        const json = JSON.stringify(policy.value) as string | undefined;
        if (json === undefined || json.length > BATCH_BYTES) continue;
        const name = policyName(policy.value);
        if ((name !== undefined && names.has(name)) || batch.length >= group.size || bytes + json.length > BATCH_BYTES) await flush();
        batch.push({ policy, json });
        bytes += json.length + 1;
        if (name !== undefined) names.add(name);
      }
      await flush();
      if (named.length === pending.length) break;
      pending = named;
    }
  }
  return clean;
}

type Batch = Array<{ policy: PolicyInput; json: string }>;

/** Whether JSON.stringify(value) is surely longer than `limit`: a lower bound of its length,
 * counted only until it passes the limit. */
function jsonLongerThan(value: unknown, limit: number): boolean {
  let size = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === "string") size += v.length + 2;
    else if (Array.isArray(v)) {
      size += 1 + v.length;
      for (const item of v) stack.push(item);
    } else if (isObject(v)) {
      size += 1;
      for (const key in v) {
        size += key.length + 4;
        stack.push(v[key]);
      }
    } else size += 1;
    if (size > limit) return true;
  }
  return false;
}

async function screenBatch(unit: ConfigurationInput, settingsJson: string, batch: Batch, clean: Set<PolicyInput>, named: PolicyInput[], judge: Judge): Promise<void> {
  // Exactly withPolicies(unit, [values...]): a batch of one is the question validatePolicy asks.
  const list = `[${batch.map((b) => b.json).join(",")}]`;
  const configuration = settingsJson === "{}" ? `{"policies":${list}}` : `${settingsJson.slice(0, -1)},"policies":${list}}`;
  const v = await judge(unit, configuration);
  const about = new Set<number>();
  let split = v.refusal !== undefined || v.other.length > 0;
  if (!split) {
    const byName = new Map<string, number>();
    batch.forEach((b, i) => {
      const name = policyName(b.policy.value);
      if (name !== undefined) byName.set(name, i);
    });
    for (const m of v.messages) {
      const i = m.scope.kind === "position" ? m.scope.index : m.scope.kind === "policy" ? byName.get(m.scope.name) : undefined;
      if (i === undefined || i >= batch.length) {
        split = true;
        break;
      }
      about.add(i);
    }
  }
  if (split) {
    if (batch.length === 1) {
      named.push(batch[0].policy);
      return;
    }
    const half = Math.ceil(batch.length / 2);
    await screenBatch(unit, settingsJson, batch.slice(0, half), clean, named, judge);
    await screenBatch(unit, settingsJson, batch.slice(half), clean, named, judge);
    return;
  }
  batch.forEach((b, i) => {
    if (about.has(i)) named.push(b.policy);
    else clean.add(b.policy);
  });
}

/**
 * Policy documents (bare policies and lists, in every file given) are one set when they are
 * applied together (a policy directory, a ConfigMap, the control plane), where the plugin keeps
 * the first policy of a name and drops the later ones: each later one is an error here too.
 * A configuration's own list is judged by the plugin itself (step 3 above). Fed a window at a
 * time; keeps, per name, only the way to the first policy's position.
 */
class NameRegister {
  /** Where each name was first written (found as its document was read; else looked up when a
   * duplicate asks, which reads that document's nodes again). */
  private readonly first = new Map<string, Position | Locate>();

  add(units: ConfigurationInput[]): Problem[] {
    const problems: Problem[] = [];
    for (const unit of units) {
      if (unit.kind !== "policies") continue;
      for (const policy of unit.policies) {
        const name = policyName(policy.value);
        if (name === undefined) continue;
        const firstOfName = this.first.get(name);
        if (firstOfName === undefined) {
          this.first.set(name, policy.nameAt ?? policy.locate);
          continue;
        }
        let earlier: Position;
        if (typeof firstOfName === "function") this.first.set(name, (earlier = firstOfName(["metadata", "name"])));
        else earlier = firstOfName;
        const at = policy.nameAt ?? policy.locate(["metadata", "name"]);
        problems.push({
          ...at, severity: "error", field: joinFieldPath([...policy.prefix, "metadata", "name"]), policy: name,
          message: `has the name of the policy at ${earlier.file}:${earlier.line}:${earlier.column}; applied together, the later one is dropped`,
        });
      }
    }
    return problems;
  }
}

/** Every problem of a refused configuration's settings, each at its own setting. */
async function settingProblems(unit: ConfigurationInput, refusal: string, judge: Judge): Promise<{ problems: Problem[]; bad: Set<string> }> {
  const problems: Problem[] = [];
  const bad = new Set<string>();
  for (const [key, value] of Object.entries(judgedSettings(unit.settings))) {
    const v = await judge(unit, JSON.stringify({ [key]: value, policies: [] }));
    if (v.refusal === undefined) continue;
    bad.add(key);
    for (const part of refusalParts(v.refusal)) {
      const field = part.field ?? key;
      problems.push({ ...unit.locate(splitFieldPath(field)), severity: "error", field, message: part.said });
    }
  }
  // Settings that are wrong only together: the plugin's own words, at the configuration.
  if (problems.length === 0) problems.push({ ...unit.at, severity: "error", field: "(configuration)", message: `refused: ${refusal}` });
  return { problems, bad };
}

/** `configuration: <setting>: <problem>`, as assembly/config/configuration.ts words each one. */
const SETTING_PROBLEM = /^configuration: (\S+): (.*)$/s;

/** The problems of one refusal (joined with "; configuration: "), each with the setting or list
 * it names (`configuration: <field>: <problem>`), if it names one. */
function refusalParts(refusal: string): Array<{ field?: string; said: string }> {
  return refusal.split(/; (?=configuration: \S+: )/).map((part) => {
    const m = SETTING_PROBLEM.exec(part);
    return m ? { field: m[1], said: m[2] } : { said: part };
  });
}

async function validatePolicy(unit: ConfigurationInput, policy: PolicyInput, seenOverall: Set<string>, judge: Judge): Promise<Problem[]> {
  const problems: Problem[] = [];
  const name = policyName(policy.value);
  let current = policy.value; // repair() changes a copy
  const seen = new Set<string>();
  const repaired: PathSegment[][] = [];
  for (let round = 0; round < MAX_REPAIRS; round++) {
    const v = await judge(unit, withPolicies(unit, [current]));
    if (v.refusal !== undefined) {
      problems.push({ ...policy.locate([]), severity: "error", field: joinFieldPath(policy.prefix) || "(policy)", message: `refused: ${v.refusal}`, policy: name });
      break;
    }
    let progress = false;
    for (const o of v.other) {
      if (seenOverall.has(o.line)) continue;
      seenOverall.add(o.line);
      problems.push({ ...policy.locate([]), severity: o.severity, field: "(plugin)", message: o.line, policy: name });
    }
    for (const m of v.messages) {
      seenOverall.add(normalized(m));
      if (m.scope.kind === "configuration") continue; // a setting: reported with the settings
      const rel = relativePath(m);
      const key = `${m.severity} ${joinFieldPath(rel)} ${m.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (repaired.some((r) => isWithin(rel, r))) continue;
      const hint = m.severity === "error" || /unknown field/.test(m.message) ? istioHint(policy.value, rel) : undefined;
      problems.push({
        ...policy.locate(rel),
        severity: m.severity,
        field: joinFieldPath([...policy.prefix, ...rel]) || "(policy)",
        message: hint ?? m.message,
        ...(hint ? { pluginMessage: m.message } : {}),
        policy: name,
      });
      if (m.severity === "error") {
        const next = repair(current, rel, m.message);
        if (next !== undefined) {
          current = next.value;
          repaired.push(next.at);
          progress = true;
        }
      }
    }
    if (!progress) break;
  }
  return problems;
}

/** The plugin's field path relative to the policy the message is about. */
function relativePath(m: PluginMessage): PathSegment[] {
  const field = m.field === "policy" || m.field === "rule" ? [] : splitFieldPath(m.field);
  if (m.scope.kind === "policy" && m.scope.rule !== undefined) return ["spec", "rules", m.scope.rule, ...field];
  return field;
}

/** A message with list positions blanked: the same problem whether judged alone or in the set. */
function normalized(m: PluginMessage): string {
  return m.line.replace(/^policies\[\d+\]/, "policies[]");
}

function isWithin(p: PathSegment[], base: PathSegment[]): boolean {
  return base.length <= p.length && base.every((s, i) => p[i] === s);
}

function lastNamed(policies: PolicyInput[], name: string): PolicyInput | undefined {
  for (let i = policies.length - 1; i >= 0; i--) if (policyName(policies[i].value) === name) return policies[i];
  return undefined;
}

export function policyName(p: unknown): string | undefined {
  return isObject(p) && isObject(p.metadata) && typeof p.metadata.name === "string" ? p.metadata.name : undefined;
}

// ---- repairs: the smallest change that lets the plugin look past one problem ----------------

const PLACEHOLDERS: Record<string, unknown> = {
  percentage: 0,
  fixed_delay_ms: 0,
  start_delay_ms: 0,
  duration_seconds: 0,
  httpStatus: 500,
  grpcStatus: 14,
  body: "",
  exact: "",
  prefix: "",
  suffix: "",
  contains: "",
  regex: "a",
  present: true,
  name: "x-hfi-placeholder",
  header: "x-request-id",
  service: "",
  namespace: "",
  method: { prefix: "" },
  path: { prefix: "" },
  headers: [],
  match: {},
  abort: { httpStatus: 500 },
  delay: { fixed_delay_ms: 0 },
  fault: { percentage: 0, abort: { httpStatus: 500 } },
  metadata: { name: "unnamed" },
};

function repair(policy: unknown, rel: PathSegment[], message: string): { value: unknown; at: PathSegment[] } | undefined {
  const copy = structuredClone(policy);
  if (rel.length === 0) return undefined;
  const parentPath = rel.slice(0, -1);
  const key = rel[rel.length - 1];
  const parent = getAt(copy, parentPath);
  const value = isObject(parent) && typeof key === "string" ? parent[key] : Array.isArray(parent) && typeof key === "number" ? parent[key] : undefined;
  const done = (at: PathSegment[] = rel) => ({ value: copy, at });

  // Rule as a whole, or a header condition as a whole.
  if (typeof key === "number" && Array.isArray(parent)) {
    const listKey = parentPath[parentPath.length - 1];
    if (listKey === "rules") parent[key] = { match: {}, fault: PLACEHOLDERS.fault };
    else if (listKey === "headers") parent[key] = { name: PLACEHOLDERS.name, present: true };
    else return undefined;
    return done();
  }
  if (!isObject(parent) || typeof key !== "string") return undefined;
  // Istio habits: translate, so the same mistake is not reported twice.
  if (key === "fixedDelay") {
    delete parent.fixedDelay;
    parent.fixed_delay_ms = durationMs(value) ?? 0;
    return done(parentPath);
  }
  if ((key === "abort" || key === "delay") && typeof parentPath[parentPath.length - 1] === "number" && /^unknown field/.test(message)) {
    // A fault written beside match instead of inside fault: moved in (the hint says so).
    delete parent[key];
    const fault = isObject(parent.fault) ? parent.fault : (parent.fault = { percentage: 0 });
    if (isObject(fault) && fault[key] === undefined) fault[key] = value;
    return done([...parentPath, "fault"]);
  }
  const rename = renameFor(parentPath[parentPath.length - 1], key, value);
  if (rename) {
    delete parent[key];
    parent[rename.to] = rename.value;
    return done([...parentPath, rename.to]);
  }
  if (key === "uri") {
    delete parent.uri;
    parent.path = isObject(value) ? value : PLACEHOLDERS.path;
    return done([...parentPath, "path"]);
  }
  if (key === "percentage" && isObject(value) && typeof value.value === "number") {
    parent.percentage = value.value;
    return done();
  }
  if ((key === "percentage" || key === "percent") && (parentPath[parentPath.length - 1] === "abort" || parentPath[parentPath.length - 1] === "delay")) {
    delete parent[key];
    const fault = getAt(copy, parentPath.slice(0, -1));
    if (isObject(fault) && fault.percentage === undefined) fault.percentage = isObject(value) ? value.value : value;
    return done(parentPath.slice(0, -1));
  }
  if (key === "headers" && isObject(value)) {
    parent.headers = Object.entries(value).map(([name, cond]) => ({ ...(isObject(cond) ? cond : { present: true }), name }));
    return done();
  }
  if (/^unknown (field|setting)/.test(message)) {
    delete parent[key];
    // A destination must name something: an emptied one would be a second, artefact, problem.
    if (parentPath[parentPath.length - 1] === "destination" && Object.keys(parent).length === 0) parent.service = "*";
    return done();
  }
  if (key === "fault" && /^needs an abort, a delay/.test(message)) {
    if (!isObject(value)) return undefined;
    value.abort = PLACEHOLDERS.abort;
    return done();
  }
  if (key === "spec" || key === "rules") return undefined; // nothing left to look at
  if (key in PLACEHOLDERS) {
    if (JSON.stringify(parent[key]) === JSON.stringify(PLACEHOLDERS[key])) return undefined;
    parent[key] = structuredClone(PLACEHOLDERS[key]);
    return done();
  }
  return undefined;
}

/** Near misses whose meaning is clear: repaired by renaming, so the mistake shows once. */
function renameFor(parentKey: PathSegment | undefined, key: string, value: unknown): { to: string; value: unknown } | undefined {
  if (parentKey === "abort" && key !== "httpStatus" && /^http_?status$/i.test(key)) return { to: "httpStatus", value };
  if (parentKey === "delay" && key !== "fixed_delay_ms" && /^fixed_?delay(_?ms)?$/i.test(key)) {
    return { to: "fixed_delay_ms", value: typeof value === "number" ? value : durationMs(value) ?? 0 };
  }
  if (parentKey === "fault" && key === "percent") return { to: "percentage", value };
  return undefined;
}

function getAt(v: unknown, p: PathSegment[]): unknown {
  let cur = v;
  for (const s of p) {
    if (Array.isArray(cur) && typeof s === "number") cur = cur[s];
    else if (isObject(cur) && typeof s === "string") cur = cur[s];
    else return undefined;
  }
  return cur;
}

// ---- output ---------------------------------------------------------------------------------

export function formatText(report: ValidationReport): string {
  const lines = report.problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.severity === "error" ? "" : `${p.severity}: `}${p.field}: ${p.message}${p.policy !== undefined && !p.field.startsWith("(") ? ` (policy "${p.policy}")` : ""}`);
  const files = `${report.files.length} file${report.files.length === 1 ? "" : "s"}`;
  lines.push(report.errors === 0 && report.warnings === 0 ? `${files}: ok` : `${files}: ${report.errors} error${report.errors === 1 ? "" : "s"}, ${report.warnings} warning${report.warnings === 1 ? "" : "s"}`);
  return lines.join("\n");
}

export function formatNotes(report: ValidationReport): string {
  return report.notes.map((p) => `${p.file}:${p.line}:${p.column}: note: ${p.field}: ${p.message}`).join("\n");
}

export function formatJson(report: ValidationReport): string {
  return JSON.stringify({
    ok: report.errors === 0, errors: report.errors, warnings: report.warnings, files: report.files, problems: report.problems, notes: report.notes,
  }, null, 2);
}
