/** Aborts: status, body, headers, gRPC, metrics — on the real module. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { policy, respond, startHfi } from "../helpers/hfi";

test("an abort answers with the status, the body, text/plain and x-fault-injected: abort", async () => {
  const hfi = await startHfi({ policies: [policy("checkout-down", { path: { prefix: "/checkout" } }, { percentage: 100, abort: { httpStatus: 503, body: "checkout is down" } })] });
  const s = hfi.request("POST", "/checkout/pay", [], "card=1");
  assert.equal(s.localReply?.status, 503);
  assert.equal(s.localReply?.body, "checkout is down");
  assert.equal(s.reply.headers["content-type"], "text/plain");
  assert.equal(s.reply.headers["x-fault-injected"], "abort");
  assert.equal(s.reply.headers["x-hfi-policy"], "checkout-down");
  assert.ok(s.upstream.headers === undefined, "nothing may reach the upstream");
  assert.equal(s.upstream.body.length, 0);
  assert.equal(hfi.metric("hfi_faults_aborts_total"), 1);
});

test("without a body the abort says which policy injected it", async () => {
  const hfi = await startHfi({ policies: [policy("no-body", {}, { percentage: 100, abort: { httpStatus: 500 } })] });
  const s = hfi.request("GET", "/");
  assert.equal(s.localReply?.status, 500);
  assert.equal(s.localReply?.body, "fault injected by HFI policy no-body\n");
});

test("the policy header can be renamed or turned off", async () => {
  const fault = { percentage: 100, abort: { httpStatus: 502 } };
  const renamed = await startHfi({ policy_header: "X-Chaos-Policy", policies: [policy("p1", {}, fault)] });
  assert.equal(renamed.request("GET", "/").reply.headers["x-chaos-policy"], "p1");
  const off = await startHfi({ policy_header: "", policies: [policy("p1", {}, fault)] });
  const headers = off.request("GET", "/").reply.headers;
  assert.ok(headers["x-hfi-policy"] === undefined);
  assert.equal(headers["x-fault-injected"], "abort");
});

test("the contract's api-abort example: prefix and anchored header regex", async () => {
  const hfi = await startHfi({
    policies: [{
      metadata: { name: "api-abort" },
      spec: { rules: [{ match: { path: { prefix: "/api/" }, headers: [{ name: "x-user-id", regex: "^test-[0-9]+$" }] }, fault: { percentage: 100, abort: { httpStatus: 503, body: "injected" } } }] },
    }],
  });
  assert.equal(hfi.request("GET", "/api/orders", [["x-user-id", "test-42"]]).localReply?.body, "injected");
  for (const [path, user] of [["/api/orders", "test-42x"], ["/api/orders", "prod-42"], ["/web", "test-42"]]) {
    const s = respond(hfi.request("GET", path, [["x-user-id", user]]));
    assert.ok(s.localReply === undefined, `${path} ${user} must pass`);
    assert.equal(s.reply.status, 200);
  }
  assert.equal(respond(hfi.request("GET", "/api/orders")).reply.status, 200, "absent header does not match a regex");
});

test("path matching ignores the query string, like Envoy's routes", async () => {
  const hfi = await startHfi({ policies: [policy("exact", { path: { exact: "/checkout" } }, { percentage: 100, abort: { httpStatus: 503 } })] });
  assert.equal(hfi.request("GET", "/checkout?cart=42&x=1").localReply?.status, 503);
  assert.equal(respond(hfi.request("GET", "/checkout/x?y")).localReply, undefined);
});

test("headers outside any fixed list, case-insensitive names; suffix, contains, present, absent", async () => {
  const abort = { percentage: 100, abort: { httpStatus: 418 } };
  const hfi = await startHfi({
    policies: [
      policy("suffix", { headers: [{ name: "X-Tenant-Region", suffix: "-eu" }] }, abort),
      policy("contains", { headers: [{ name: "user-agent", contains: "chaos-bot" }] }, abort),
      policy("present-absent", { headers: [{ name: "x-canary", present: true }, { name: "x-exempt", present: false }] }, abort),
    ],
  });
  const hit = (headers: [string, string][]) => hfi.request("GET", "/", headers).localReply?.status === 418;
  assert.ok(hit([["x-tenant-region", "shop-eu"]]));
  assert.ok(!hit([["x-tenant-region", "shop-us"]]));
  assert.ok(hit([["user-agent", "curl chaos-bot/1.0"]]));
  assert.ok(hit([["x-canary", ""]]));
  assert.ok(!hit([["x-canary", "1"], ["x-exempt", "1"]]));
  assert.ok(!hit([]));
});

test("method conditions, and the first matching rule decides", async () => {
  const hfi = await startHfi({
    policies: [
      policy("posts", { method: { exact: "POST" }, path: { prefix: "/orders" } }, { percentage: 100, abort: { httpStatus: 409 } }),
      policy("orders", { path: { prefix: "/orders" } }, { percentage: 100, abort: { httpStatus: 503 } }),
    ],
  });
  assert.equal(hfi.request("POST", "/orders", [], "x").localReply?.status, 409);
  assert.equal(hfi.request("GET", "/orders").localReply?.status, 503);
});

test("a gRPC request gets the gRPC status of abort.grpcStatus, as Envoy's fault filter answers", async () => {
  const hfi = await startHfi({ policies: [policy("grpc", { path: { prefix: "/shop.Cart/" } }, { percentage: 100, abort: { httpStatus: 503, grpcStatus: 14 } })] });
  const s = hfi.request("POST", "/shop.Cart/Checkout", [["content-type", "application/grpc+proto"], ["te", "trailers"]], "\0\0\0\0\0");
  assert.equal(s.localReply?.grpcStatus, 14);
  assert.equal(s.reply.status, 200, "gRPC replies are trailers-only with :status 200");
  assert.equal(s.reply.headers["grpc-status"], "14");
  assert.equal(s.reply.headers["content-type"], "application/grpc");
  assert.equal(s.reply.headers["x-fault-injected"], "abort");
  // The same policy answers a plain HTTP client with the HTTP status.
  const plain = hfi.request("POST", "/shop.Cart/Checkout", [["content-type", "application/json"]], "{}");
  assert.equal(plain.localReply?.status, 503);
  assert.ok(plain.localReply?.grpcStatus === undefined);
});

test("a gRPC-only abort maps to the matching HTTP status for non-gRPC clients", async () => {
  const hfi = await startHfi({ policies: [policy("grpc-only", {}, { percentage: 100, abort: { grpcStatus: 7 } })] });
  assert.equal(hfi.request("GET", "/").localReply?.status, 403);
});

test("enabled: false turns every fault off at once", async () => {
  const hfi = await startHfi({ enabled: false, policies: [policy("all", {}, { percentage: 100, abort: { httpStatus: 500 } })] });
  const s = respond(hfi.request("GET", "/"));
  assert.ok(s.localReply === undefined);
  assert.equal(s.reply.status, 200);
  assert.equal(hfi.metric("hfi_faults_aborts_total"), 0);
});

test("percentage 0 disables a rule; later rules still apply", async () => {
  const hfi = await startHfi({
    policies: [
      policy("off", {}, { percentage: 0, abort: { httpStatus: 500 } }),
      policy("on", {}, { percentage: 100, abort: { httpStatus: 502 } }),
    ],
  });
  assert.equal(hfi.request("GET", "/").localReply?.status, 502);
});
