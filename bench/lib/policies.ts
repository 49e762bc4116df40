/**
 * Plugin configurations for the bench: realistic, distinct rules (`/svc-0042/` path prefixes,
 * some with a method or a header condition) that the benchmark request never matches, plus the
 * rules that do match (abort, delay, a long hold).
 */
export const ROOT_ID = "hfi-fault-injection";

/** The request every "no match" case sends: its path matches none of the rules. */
export const MISS_PATH = "/api/orders/12345";
export const ABORT_PATH = "/checkout/pay";
export const DELAY_PATH = "/inventory/items";
export const HOLD_PATH = "/hold/forever";

type Policy = Record<string, unknown>;

/** Rule i of the non-matching set: a path prefix, every third with a method, every fifth with a header. */
function missRule(i: number): Policy {
  const id = String(i).padStart(4, "0");
  const match: Record<string, unknown> = { path: { prefix: `/svc-${id}/` } };
  if (i % 3 === 1) match.method = { exact: "POST" };
  if (i % 5 === 2) match.headers = [{ name: "x-tenant", exact: `tenant-${id}` }];
  return { metadata: { name: `svc-${id}-errors` }, spec: { rules: [{ match, fault: { percentage: 100, abort: { httpStatus: 503 } } }] } };
}

function one(name: string, match: object, fault: object): Policy {
  return { metadata: { name }, spec: { rules: [{ match, fault }] } };
}

export interface Extra {
  abort?: boolean;
  delayMs?: number;
  holdMs?: number;
}

/** `n` non-matching rules, then the extra matching rules asked for. */
export function configuration(n: number, extra: Extra = {}): object {
  const policies: Policy[] = [];
  for (let i = 0; i < n; i++) policies.push(missRule(i));
  if (extra.abort) policies.push(one("checkout-fails", { path: { prefix: "/checkout" } }, { percentage: 100, abort: { httpStatus: 503, body: "injected" } }));
  if (extra.delayMs !== undefined) policies.push(one("inventory-slow", { path: { prefix: "/inventory" } }, { percentage: 100, delay: { fixed_delay_ms: extra.delayMs } }));
  if (extra.holdMs !== undefined) policies.push(one("hold", { path: { prefix: "/hold" } }, { percentage: 100, delay: { fixed_delay_ms: extra.holdMs } }));
  // Room for the held requests of the held cases (Envoy's fault filter has the same limit).
  return { max_active_faults: 1_000_000, max_delay_ms: 86_400_000, policies };
}
