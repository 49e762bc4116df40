/**
 * Case 7: the cost of a matched request per fault kind, through the host in lean
 * mode (test clock), each next to a plain abort in the same rounds: an abort with headers and
 * a JSON content-type, a reset, a response fault (status + body, one body chunk), a response
 * held 100 ms (schedule + resume; the wait is not counted), and a request a rule matches but
 * spec.exclude spares. 10 non-matching rules in front of each, as in the hot-path cases.
 */
import { compileModule, HeaderMap, responseHeaders } from "../../host/index";
import { Bench, PLUGIN_WASM, readModule, requestMap, round } from "../lib/driver";
import { median, nsPerOp } from "../lib/measure";
import { configuration, ROOT_ID } from "../lib/policies";

const BODY_RESPONSE = new HeaderMap(responseHeaders(200, [["content-type", "application/json"], ["content-length", "2"]]));

function withRule(rule: object, exclude?: object[]): object {
  const base = configuration(10) as { policies: object[] };
  base.policies.push({ metadata: { name: "new-fault" }, spec: { ...(exclude ? { exclude } : {}), rules: [{ match: { path: { prefix: "/f" } }, fault: { percentage: 100, ...rule } }] } });
  return base;
}

export interface NewFaultCase {
  id: string;
  label: string;
  nsPerRequest: number;
  hostCallsPerRequest: number;
}

export async function runNewFaults(options: { rounds: number; roundMs: number; say: (s: string) => void }): Promise<Record<string, NewFaultCase>> {
  const plugin = await compileModule(readModule(PLUGIN_WASM));
  const req = requestMap("GET", "/f/1");
  const excludedReq = requestMap("GET", "/f/healthz");
  const bench = async (rule: object, exclude?: object[]) => Bench.start(plugin, ROOT_ID, withRule(rule, exclude));
  const abort = await bench({ abort: { httpStatus: 503, body: "injected" } });
  const headers = await bench({ abort: { httpStatus: 503, body: '{"e":1}', headers: [{ name: "content-type", value: "application/json" }, { name: "retry-after", value: "2" }] } });
  const reset = await bench({ reset: true });
  const response = await bench({ response: { httpStatus: 503, body: '{"error":"overwritten"}' } });
  const held = await bench({ response: { delay_ms: 100 } });
  const excluded = await bench({ abort: { httpStatus: 503 } }, [{ path: { exact: "/f/healthz" } }]);

  const withBody = (b: Bench) => (): void => {
    const s = b.begin(req);
    s.sendResponseHeaders(BODY_RESPONSE.clone(), false);
    s.sendResponseBody("ok", true);
  };
  const heldOp = (): void => {
    const s = held.begin(req);
    s.sendResponseHeaders(BODY_RESPONSE.clone(), true);
    held.clock.advance(100);
  };
  const cases = [
    { id: "abort", label: "7. abort (as case 3), for comparison", b: abort, op: () => void abort.begin(req) },
    { id: "abortHeaders", label: "7. abort with two headers (JSON content-type)", b: headers, op: () => void headers.begin(req) },
    { id: "reset", label: "7. reset", b: reset, op: () => void reset.begin(req) },
    { id: "response", label: "7. response fault: status + body", b: response, op: withBody(response) },
    { id: "responseDelay", label: "7. response held 100 ms (schedule + resume)", b: held, op: heldOp },
    { id: "excluded", label: "7. rule matches, spec.exclude spares it", b: excluded, op: () => void excluded.pass(excludedReq) },
  ];
  const s0 = response.begin(req).sendResponseHeaders(BODY_RESPONSE.clone(), false).sendResponseBody("ok", true);
  // The status is replaced and content-length goes (the transport frames the new body; a lean
  // stream does not keep bodies to compare).
  if (s0.reply.status !== 503 || s0.reply.headers["x-fault-injected"] !== "response" || "content-length" in s0.reply.headers) {
    throw new Error(`the response fault did not apply: ${JSON.stringify(s0.reply)}`);
  }
  if (reset.begin(req).state !== "reset") throw new Error("the reset fault did not apply");
  if (excluded.pass(excludedReq).reply.status !== 200) throw new Error("the exclusion did not apply");

  const times = new Map<string, number[]>(cases.map((c) => [c.id, []]));
  const sizes = new Map<string, number>();
  for (const c of cases) {
    nsPerOp(c.op, 10_000);
    sizes.set(c.id, Math.max(1_000, Math.round((options.roundMs * 1e6) / nsPerOp(c.op, 2_000))));
  }
  const counts = new Map(cases.map((c) => [c.id, { counting: c.b.startCounting() }]));
  for (let r = 0; r < options.rounds; r++) {
    for (const c of cases) {
      const n = sizes.get(c.id)!;
      times.get(c.id)!.push(nsPerOp(c.op, n));
      counts.get(c.id)!.counting.requests += n;
    }
  }
  const out: Record<string, NewFaultCase> = {};
  for (const c of cases) {
    out[c.id] = {
      id: c.id,
      label: c.label,
      nsPerRequest: round(median(times.get(c.id)!), 1),
      hostCallsPerRequest: c.b.perRequest(counts.get(c.id)!.counting).hostCalls,
    };
  }
  options.say("  new faults: done");
  return out;
}

export function formatNewFaults(r: Record<string, NewFaultCase>): string {
  return ["", "case 7: matched request per new fault kind (ns per request, host calls)"]
    .concat(Object.values(r).map((c) => `${c.label.padEnd(52)} ${String(c.nsPerRequest).padStart(9)} ns  ${c.hostCallsPerRequest}`))
    .join("\n");
}

// Run alone: node --import tsx bench/cases/new-faults.ts
if (require.main === module) {
  runNewFaults({ rounds: Number(process.env.BENCH_ROUNDS ?? 21), roundMs: Number(process.env.BENCH_ROUND_MS ?? 50), say: (s) => console.error(s) })
    .then((r) => console.log(formatNewFaults(r)));
}
