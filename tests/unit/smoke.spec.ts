import { malloc, free } from "../../assembly/glue/memory";

describe("memory glue", () => {
  it("hands the host a pinned buffer of the requested size", () => {
    const ptr = malloc(16);
    expect(ptr).not.toBe(0);
    expect(changetype<ArrayBuffer>(ptr).byteLength).toBe(16);
    free(ptr);
  });
});
