// The timers of held requests: a binary min-heap of (deadline, stream, generation).
// One root-context tick serves all of them; push and pop cost O(log n) in the number held.
// Cancelled timers are not removed (that would need a search); the stream's generation
// number tells a stale entry from a live one when it comes due.

/** Says which timer entries are still wanted (TimerHeap.keepOnly). */
export abstract class TimerFilter {
  abstract keep(stream: u32, generation: u32): bool;
}

export class TimerHeap {
  private deadlines: i64[] = [];
  private streams: u32[] = [];
  private generations: u32[] = [];

  get size(): i32 {
    return this.deadlines.length;
  }

  /** Deadline of the earliest timer; only meaningful when size > 0. */
  peekDeadline(): i64 {
    return this.deadlines.length > 0 ? unchecked(this.deadlines[0]) : i64.MAX_VALUE;
  }
  peekStream(): u32 {
    return this.streams.length > 0 ? unchecked(this.streams[0]) : 0;
  }
  peekGeneration(): u32 {
    return this.generations.length > 0 ? unchecked(this.generations[0]) : 0;
  }

  push(deadline: i64, stream: u32, generation: u32): void {
    this.deadlines.push(deadline);
    this.streams.push(stream);
    this.generations.push(generation);
    this.siftUp(this.deadlines.length - 1);
  }

  /** Removes the earliest timer. No-op when empty. */
  pop(): void {
    const n = this.deadlines.length;
    if (n == 0) return;
    const last = n - 1;
    if (last > 0) this.move(last, 0);
    this.deadlines.pop();
    this.streams.pop();
    this.generations.pop();
    if (last > 1) this.siftDown(0);
  }

  /**
   * Keeps only the entries `filter` keeps, in new arrays of their size (so a heap that held a
   * million entries gives their memory back), and restores the heap order: O(n).
   */
  keepOnly(filter: TimerFilter): void {
    const deadlines: i64[] = [];
    const streams: u32[] = [];
    const generations: u32[] = [];
    for (let i = 0; i < this.deadlines.length; i++) {
      const s = unchecked(this.streams[i]);
      const g = unchecked(this.generations[i]);
      if (!filter.keep(s, g)) continue;
      deadlines.push(unchecked(this.deadlines[i]));
      streams.push(s);
      generations.push(g);
    }
    this.deadlines = deadlines;
    this.streams = streams;
    this.generations = generations;
    for (let i = (deadlines.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  clear(): void {
    this.deadlines.length = 0;
    this.streams.length = 0;
    this.generations.length = 0;
  }

  private siftUp(i: i32): void {
    const d = unchecked(this.deadlines[i]);
    const s = unchecked(this.streams[i]);
    const g = unchecked(this.generations[i]);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (unchecked(this.deadlines[parent]) <= d) break;
      this.move(parent, i);
      i = parent;
    }
    this.put(i, d, s, g);
  }

  private siftDown(i: i32): void {
    const n = this.deadlines.length;
    const d = unchecked(this.deadlines[i]);
    const s = unchecked(this.streams[i]);
    const g = unchecked(this.generations[i]);
    while (true) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && unchecked(this.deadlines[child + 1]) < unchecked(this.deadlines[child])) child++;
      if (unchecked(this.deadlines[child]) >= d) break;
      this.move(child, i);
      i = child;
    }
    this.put(i, d, s, g);
  }

  @inline private move(from: i32, to: i32): void {
    unchecked((this.deadlines[to] = this.deadlines[from]));
    unchecked((this.streams[to] = this.streams[from]));
    unchecked((this.generations[to] = this.generations[from]));
  }

  @inline private put(i: i32, d: i64, s: u32, g: u32): void {
    unchecked((this.deadlines[i] = d));
    unchecked((this.streams[i] = s));
    unchecked((this.generations[i] = g));
  }
}
