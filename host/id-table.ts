/**
 * Contexts by id: what a Map<number, T> does for the host, for a fraction of its cost on the
 * per-request path (every stream is added and removed twice: in the VM's and its root's table).
 * Open addressing with linear probing over positive 32-bit ids; ids arrive in increasing order,
 * so a multiplicative (Fibonacci) hash spreads them. Deletion shifts later entries back, so
 * lookups never cross tombstones and stay short however many contexts have come and gone.
 */
const GOLDEN = 0x9e3779b1;
const INITIAL_BITS = 4;

export class IdTable<T> {
  private keys = new Int32Array(1 << INITIAL_BITS);
  private vals: Array<T | undefined> = new Array<T | undefined>(1 << INITIAL_BITS).fill(undefined);
  private mask = (1 << INITIAL_BITS) - 1;
  private shift = 32 - INITIAL_BITS;
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(id: number): T | undefined {
    const keys = this.keys;
    if (id <= 0) return undefined;
    for (let i = Math.imul(id, GOLDEN) >>> this.shift; ; i = (i + 1) & this.mask) {
      const k = keys[i];
      if (k === id) return this.vals[i];
      if (k === 0) return undefined;
    }
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  /** Adds or replaces; `id` must be a positive 32-bit integer and `value` defined. */
  set(id: number, value: T): this {
    if ((id | 0) !== id || id <= 0) throw new RangeError(`context id out of range: ${id}`);
    if ((this.count + 1) * 2 > this.keys.length) this.grow();
    const keys = this.keys;
    for (let i = Math.imul(id, GOLDEN) >>> this.shift; ; i = (i + 1) & this.mask) {
      const k = keys[i];
      if (k === id) {
        this.vals[i] = value;
        return this;
      }
      if (k === 0) {
        keys[i] = id;
        this.vals[i] = value;
        this.count++;
        return this;
      }
    }
  }

  delete(id: number): boolean {
    const keys = this.keys;
    const mask = this.mask;
    if (id <= 0) return false;
    let hole = Math.imul(id, GOLDEN) >>> this.shift;
    for (; ; hole = (hole + 1) & mask) {
      const k = keys[hole];
      if (k === 0) return false;
      if (k === id) break;
    }
    // Backward shift: move up every later entry of the run whose home is not after the hole.
    for (let j = (hole + 1) & mask; keys[j] !== 0; j = (j + 1) & mask) {
      const home = Math.imul(keys[j], GOLDEN) >>> this.shift;
      const movable = j > hole ? home <= hole || home > j : home <= hole && home > j;
      if (!movable) continue;
      keys[hole] = keys[j];
      this.vals[hole] = this.vals[j];
      hole = j;
    }
    keys[hole] = 0;
    this.vals[hole] = undefined;
    this.count--;
    return true;
  }

  /** The values in id order (creation order, as ids only grow): a snapshot array. */
  values(): T[] {
    const ids: number[] = [];
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] !== 0) ids.push(this.keys[i]);
    ids.sort((a, b) => a - b);
    return ids.map((id) => this.get(id)!);
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldVals = this.vals;
    const capacity = oldKeys.length * 2;
    this.keys = new Int32Array(capacity);
    this.vals = new Array<T | undefined>(capacity).fill(undefined);
    this.mask = capacity - 1;
    this.shift--;
    this.count = 0;
    for (let i = 0; i < oldKeys.length; i++) if (oldKeys[i] !== 0) this.set(oldKeys[i], oldVals[i] as T);
  }
}
