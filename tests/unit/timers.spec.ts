import { TimerHeap } from "../../assembly/faults/timers";
import { Sampler } from "../../assembly/faults/sampling";

describe("TimerHeap", () => {
  it("pops timers in deadline order whatever the push order", () => {
    const heap = new TimerHeap();
    const sampler = new Sampler(42);
    const n = 5000;
    for (let i = 0; i < n; i++) {
      heap.push(<i64>(sampler.next() % 100000), <u32>i, <u32>i);
    }
    expect(heap.size).toBe(n);
    let last: i64 = -1;
    for (let i = 0; i < n; i++) {
      const d = heap.peekDeadline();
      expect(d >= last).toBe(true, "deadline went backwards");
      last = d;
      heap.pop();
    }
    expect(heap.size).toBe(0);
  });

  it("keeps each timer's stream and generation with its deadline", () => {
    const heap = new TimerHeap();
    heap.push(300, 3, 30);
    heap.push(100, 1, 10);
    heap.push(200, 2, 20);
    expect(heap.peekStream()).toBe(1);
    expect(heap.peekGeneration()).toBe(10);
    heap.pop();
    expect(heap.peekDeadline()).toBe(200);
    expect(heap.peekStream()).toBe(2);
    heap.pop();
    expect(heap.peekStream()).toBe(3);
    expect(heap.peekGeneration()).toBe(30);
    heap.pop();
  });

  it("is harmless when empty", () => {
    const heap = new TimerHeap();
    heap.pop();
    expect(heap.size).toBe(0);
    expect(heap.peekDeadline()).toBe(i64.MAX_VALUE);
    expect(heap.peekStream()).toBe(0);
  });

  it("keeps equal deadlines and interleaved pushes and pops ordered", () => {
    const heap = new TimerHeap();
    heap.push(50, 1, 1);
    heap.push(50, 2, 2);
    heap.push(10, 3, 3);
    heap.pop();
    heap.push(20, 4, 4);
    expect(heap.peekDeadline()).toBe(20);
    heap.pop();
    expect(heap.peekDeadline()).toBe(50);
    heap.pop();
    expect(heap.peekDeadline()).toBe(50);
    heap.pop();
    expect(heap.size).toBe(0);
  });
});
