/**
 * The worst-case generator's cases (tests/helpers/worst-cases.ts) on the real module, with
 * Envoy's canary and every selector applying: no trap, every VM at most 64 MiB, configuring, the
 * tick that publishes the set and each request within their work budgets (tests/helpers/work.ts;
 * make bench times the same cases). The budget holds for every request, the first after
 * configuring included.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startHfi } from "../helpers/hfi";
import { CONFIGURE_WORK, REQUEST_WORK, TICK_WORK } from "../helpers/work";
import { NODE, random, WORST_CASES } from "../helpers/worst-cases";

const MiB = 1024 * 1024;

for (const [i, c] of WORST_CASES.entries()) {
  test(`worst case ${i + 1}: ${c.name}`, async () => {
    const configuration = c.configuration();
    const bytes = Buffer.byteLength(JSON.stringify(configuration));
    assert.ok(bytes <= 4 * MiB, `the case stays within the 4 MiB limit (${bytes} bytes)`);
    const hfi = await startHfi(configuration, { node: NODE, logLevel: "warn", countWork: true });
    assert.equal(hfi.vm.failed, false, "no trap");
    const configureWork = hfi.work();
    assert.ok(configureWork <= CONFIGURE_WORK, `configuring took ${configureWork.toLocaleString("en-US")} units (budget ${CONFIGURE_WORK.toLocaleString("en-US")})`);
    // The first request comes before the tick that publishes the set, the others after it.
    let tickWork = 0;
    const requests = c.requests(random(1000 + i));
    const work = requests.map((r, k) => {
      if (k === 1) {
        const before = hfi.work();
        hfi.clock.advance(1);
        tickWork = hfi.work() - before;
      }
      const before = hfi.work();
      hfi.request("GET", r.path, r.headers).reset();
      return hfi.work() - before;
    });
    assert.ok(tickWork <= TICK_WORK, `publishing the set took ${tickWork.toLocaleString("en-US")} units (budget ${TICK_WORK.toLocaleString("en-US")})`);
    assert.equal(hfi.vm.failed, false, "no trap under its traffic");
    const worst = Math.max(...work);
    assert.ok(worst <= REQUEST_WORK, `request ${work.indexOf(worst) + 1} of ${work.length} took ${worst.toLocaleString("en-US")} units (budget ${REQUEST_WORK.toLocaleString("en-US")})`);
    assert.ok(hfi.vm.module.memory.buffer.byteLength <= 64 * MiB, `VM at ${(hfi.vm.module.memory.buffer.byteLength / MiB).toFixed(0)} MiB`);
  });
}
