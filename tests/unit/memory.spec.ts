import { adoptHostBuffer, free, malloc, releaseHostBuffer } from "../../assembly/glue/memory";

describe("memory glue: buffers the host hands in", () => {
  it("a small buffer comes from the scratch area, and comes back to it when released", () => {
    const first = malloc(16);
    expect(first).not.toBe(0);
    releaseHostBuffer(first);
    const again = malloc(100);
    expect(again).toBe(first, "the scratch area is reused: no allocation per header read");
    free(again);
  });

  it("while the scratch is taken, or for a large value, a pinned ArrayBuffer of the size is allocated", () => {
    const scratch = malloc(8);
    const second = malloc(32);
    expect(second).not.toBe(scratch);
    expect(changetype<ArrayBuffer>(second).byteLength).toBe(32);
    const large = malloc(100000);
    expect(changetype<ArrayBuffer>(large).byteLength).toBe(100000);
    free(second);
    free(large);
    free(scratch);
  });

  it("adopting a scratch buffer copies it out, so the scratch can be reused", () => {
    const ptr = malloc(3);
    store<u8>(ptr, 65);
    store<u8>(ptr + 1, 66);
    store<u8>(ptr + 2, 67);
    const adopted = adoptHostBuffer(ptr, 3);
    expect(changetype<usize>(adopted)).not.toBe(ptr);
    expect(String.UTF8.decode(adopted)).toBe("ABC");
    const next = malloc(3);
    expect(next).toBe(ptr, "released by the adoption");
    free(next);
  });
});
