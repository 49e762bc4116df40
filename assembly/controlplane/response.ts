// What a control-plane answer means for the policy set: unchanged, a new set, or a failure
// that leaves the last good set in force. Pure, so every case is unit-testable.
import { parseJson } from "../json/index";
import { HeaderSlots, LIVE_SLOT_BASE } from "../match/request";
import { Policy } from "../model/policy";
import { Diagnostics, show } from "../config/diagnostics";
import { ParseLimits } from "../config/limits";
import { parsePolicies } from "../config/policies";

/** Bodies above this are refused unread. */
export const MAX_POLICY_BODY_BYTES: u32 = 4 * 1024 * 1024;

export const enum FetchOutcome {
  /** 304, or the same bytes as the last applied body: nothing to do. */
  Unchanged = 0,
  /** A new set to apply (possibly with some invalid policies dropped: see diagnostics). */
  Updated = 1,
  /** Nothing usable: keep the last good set. */
  Failed = 2,
}

export class FetchResult {
  policies: Policy[] = [];
  /** Header slots of `policies` (their own: they go away with them). */
  slots: HeaderSlots = new HeaderSlots(LIVE_SLOT_BASE);
  diagnostics: Diagnostics = new Diagnostics();
  constructor(
    public outcome: FetchOutcome,
    /** Short failure class ("HTTP 503", "not JSON", ...) for logging once per change. */
    public reason: string,
    public detail: string,
  ) {}
}

export function failed(reason: string, detail: string): FetchResult {
  return new FetchResult(FetchOutcome.Failed, reason, detail);
}

/**
 * Interprets a response. `body` is null when it was not read (too large); `lastBody` is the
 * last body that was applied, for the byte-identical check.
 */
export function interpretResponse(status: i32, body: ArrayBuffer | null, bodySize: u32, lastBody: ArrayBuffer | null,
  limits: ParseLimits): FetchResult {
  if (status == 304) return new FetchResult(FetchOutcome.Unchanged, "", "not modified");
  if (status < 200 || status > 299) {
    return failed("HTTP " + status.toString(), "control plane answered HTTP " + status.toString());
  }
  if (bodySize > MAX_POLICY_BODY_BYTES || body === null) {
    return failed("body too large", "body of " + bodySize.toString() + " bytes is over the " + MAX_POLICY_BODY_BYTES.toString() + "-byte limit");
  }
  if (lastBody !== null && sameBytes(body, lastBody)) {
    return new FetchResult(FetchOutcome.Unchanged, "", "same body as last applied");
  }
  const parsed = parseJson(body);
  const doc = parsed.value;
  if (doc === null) return failed("not JSON", "body is not valid JSON: " + parsed.error);
  if (!doc.isObject()) return failed("not a policy list", 'body must be {"policies": [...]}, got ' + show(doc));
  const list = doc.get("policies");
  if (list === null || !list.isArray()) {
    return failed("not a policy list", 'body must be {"policies": [...]}, got "policies": ' + show(list));
  }
  const result = new FetchResult(FetchOutcome.Updated, "", "");
  const policies = parsePolicies(list, result.slots, limits, result.diagnostics);
  const refused = result.diagnostics.refused;
  if (refused.length > 0) return failed("over a limit", "body refused: " + refused);
  result.policies = policies;
  return result;
}

/** The `:status` of an answer as a number; 0 when it is not three digits. */
export function parseStatus(text: string): i32 {
  if (text.length != 3) return 0;
  let v = 0;
  for (let i = 0; i < 3; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return 0;
    v = v * 10 + (c - 48);
  }
  return v;
}

export function sameBytes(a: ArrayBuffer, b: ArrayBuffer): bool {
  const n = a.byteLength;
  if (n != b.byteLength) return false;
  return memory.compare(changetype<usize>(a), changetype<usize>(b), <usize>n) == 0;
}
