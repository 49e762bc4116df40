/** Percentages decided per request on the real module: honest shares, header-hash consistency. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { policy, startHfi } from "../helpers/hfi";

test("over 100,000 requests at 10 % the observed share is within ±0.5 %", async () => {
  const hfi = await startHfi({ policies: [policy("tenth", {}, { percentage: 10, abort: { httpStatus: 503 } })] });
  const n = 100_000;
  let faulted = 0;
  for (let i = 0; i < n; i++) {
    const s = hfi.request("GET", "/");
    if (s.localReply) faulted++;
    else s.reset();
  }
  const share = (faulted / n) * 100;
  assert.ok(share > 9.5 && share < 10.5, `observed ${share.toFixed(3)} %`);
  assert.equal(hfi.metric("hfi_faults_aborts_total"), faulted);
});

test("fractional percentages: 0.5 % of 100,000 requests", async () => {
  const hfi = await startHfi({ policies: [policy("rare", {}, { percentage: 0.5, abort: { httpStatus: 503 } })] });
  let faulted = 0;
  for (let i = 0; i < 100_000; i++) {
    const s = hfi.request("GET", "/");
    if (s.localReply) faulted++;
    else s.reset();
  }
  assert.ok(faulted > 400 && faulted < 600, `faulted ${faulted}`);
});

test("sampling by x-request-id faults the same requests in every service they cross", async () => {
  const config = { policies: [policy("consistent", {}, { percentage: 30, abort: { httpStatus: 503 }, sampling: { header: "x-request-id" } })] };
  const frontend = await startHfi(config);
  const backend = await startHfi(config);
  let faulted = 0;
  for (let i = 0; i < 2000; i++) {
    const id = `4bf92f35-77b3-4da6-a3ce-${String(i).padStart(12, "0")}`;
    const a = frontend.request("GET", "/", [["x-request-id", id]]);
    const b = backend.request("GET", "/api", [["x-request-id", id]]);
    assert.equal(a.localReply !== undefined, b.localReply !== undefined, `request ${id} decided differently`);
    if (a.localReply) faulted++;
    else { a.reset(); b.reset(); }
  }
  assert.ok(faulted > 500 && faulted < 700, `faulted ${faulted} of 2000 at 30 %`);
});

test("without the sampling header a request falls back to the per-VM random draw", async () => {
  const hfi = await startHfi({ policies: [policy("consistent", {}, { percentage: 50, abort: { httpStatus: 503 }, sampling: { header: "x-request-id" } })] });
  let faulted = 0;
  for (let i = 0; i < 2000; i++) {
    const s = hfi.request("GET", "/");
    if (s.localReply) faulted++;
    else s.reset();
  }
  assert.ok(faulted > 850 && faulted < 1150, `faulted ${faulted}`);
});
