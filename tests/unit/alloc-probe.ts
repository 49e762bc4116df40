// Counts nothing, proves nothing was allocated: two raw heap blocks taken back to back are
// a fixed distance apart; if the code under test allocated in between, the next block lands
// further away.
export class AllocProbe {
  private last: usize;
  private step: usize;
  constructor() {
    const a = heap.alloc(16);
    this.last = heap.alloc(16);
    this.step = this.last - a;
  }
  /** True when nothing was allocated since the constructor or the previous call. */
  nothingAllocated(): bool {
    const next = heap.alloc(16);
    const ok = next - this.last == this.step;
    this.last = next;
    return ok;
  }
}
