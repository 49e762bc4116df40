// Errors are values: parsing collects what is wrong (and what was adjusted) as messages that
// name the policy, the rule, the field and the bad value, and drops only what is broken.
import { JsonValue } from "../json/index";
import { didYouMean } from "../suggest/index";

const MAX_SHOWN_VALUE = 80;

export class Diagnostics {
  errors: string[] = [];
  warnings: string[] = [];
  /** Set when the document as a whole is over a limit: it is refused, not partly applied. */
  refused: string = "";

  refuse(where: string, field: string, problem: string): void {
    if (this.refused.length == 0) this.refused = where + ": " + field + ": " + problem;
  }

  error(where: string, field: string, problem: string): void {
    this.errors.push(where + ": " + field + ": " + problem);
  }
  warn(where: string, field: string, problem: string): void {
    this.warnings.push(where + ": " + field + ": " + problem);
  }
  get ok(): bool {
    return this.errors.length == 0;
  }
}

/** A JSON value as shown in a message, shortened so one bad field cannot flood the log. */
export function show(v: JsonValue | null): string {
  if (v === null) return "nothing";
  const text = v.toJsonPrefix(MAX_SHOWN_VALUE + 1);
  if (text.length <= MAX_SHOWN_VALUE) return text;
  return text.substring(0, MAX_SHOWN_VALUE) + "...";
}

export function policyWhere(policyName: string): string {
  return 'policy "' + policyName + '"';
}

export function ruleWhere(policyName: string, ruleIndex: i32): string {
  return 'policy "' + policyName + '" rule ' + ruleIndex.toString();
}

/** Is `v` true or false? If not, says so at `field`. */
export function isBool(v: JsonValue, where: string, field: string, diag: Diagnostics): bool {
  if (v.isBool()) return true;
  diag.error(where, field, "must be true or false, got " + show(v));
  return false;
}

/** "a, b or c": fields of which an object has some, or one. */
export function anyOf(fields: string[]): string {
  return listed(fields, " or ");
}

/** "a and b": fields an object has every one of. */
export function allOf(fields: string[]): string {
  return listed(fields, " and ");
}

function listed(fields: string[], last: string): string {
  const n = fields.length;
  if (n < 2) return n == 0 ? "" : unchecked(fields[0]);
  return fields.slice(0, n - 1).join(", ") + last + unchecked(fields[n - 1]);
}

/** An unknown field is an error, never ignored: a misspelled condition or selector would widen
 * what the policy does. `known` are the object's fields (for "did you mean"); `expected` says
 * them for a person, built from the same list with anyOf/allOf. */
export function unknownField(diag: Diagnostics, where: string, field: string, key: string, known: string[], expected: string): void {
  diag.error(where, field, "unknown field" + didYouMean(key, known) + " (expected " + expected + ")");
}
