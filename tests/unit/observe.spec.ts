import { policyLabel } from "../../assembly/observe/label";
import { TraceLimiter, TRACE_LINES_PER_SECOND } from "../../assembly/observe/trace";

describe("policyLabel", () => {
  it("keeps letters, digits, _, - and inner single dots", () => {
    expect(policyLabel("team.a.v1.2-beta_x")).toBe("team.a.v1.2-beta_x");
  });
  it("escapes other ASCII as %XX and other characters as %uXXXX (JavaScript's escape())", () => {
    expect(policyLabel("a b/c")).toBe("a%20b%2Fc");
    expect(policyLabel("100%")).toBe("100%25");
    expect(policyLabel("ü")).toBe("%FC");
    expect(policyLabel("λ")).toBe("%u03BB");
    expect(policyLabel('q"\\')).toBe("q%22%5C");
  });
  it("escapes leading, trailing and doubled dots", () => {
    expect(policyLabel(".a..b.")).toBe("%2Ea.%2Eb%2E");
  });
  it("escapes the _ before a response-code ending that Envoy's built-in extractors would cut", () => {
    expect(policyLabel("db_rq_503")).toBe("db_rq%5F503");
    expect(policyLabel("db_rq_5xx")).toBe("db_rq%5F5xx");
    expect(policyLabel("db_rq_50")).toBe("db_rq_50");
    expect(policyLabel("db_rq_5x1")).toBe("db_rq_5x1");
    expect(policyLabel("_rq_503")).toBe("_rq%5F503");
  });
});

describe("TraceLimiter", () => {
  it("admits LINES_PER_SECOND lines a second and then reports how many it dropped", () => {
    const l = new TraceLimiter();
    for (let i = 0; i < TRACE_LINES_PER_SECOND; i++) expect(l.admit(1000)).toBe(0);
    expect(l.admit(2000)).toBe(-1);
    expect(l.admit(999999999)).toBe(-1);
    expect(l.admit(1000001000)).toBe(2);
    expect(l.admit(1000001001)).toBe(0);
  });
});
