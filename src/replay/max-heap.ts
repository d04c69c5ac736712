/**
 * A binary max-heap of (priority, key, version) triples in typed arrays, for Belady's rule over
 * a million requests without an object per entry. Entries are never updated in place: a new
 * one is pushed and the old one recognised as stale by its version when it surfaces (lazy
 * deletion), which keeps every operation O(log n).
 */
export class MaxHeap {
  readonly #priorities: Int32Array
  readonly #keys: Int32Array
  readonly #versions: Int32Array
  #size = 0

  /** `capacity`: most entries ever held at once. */
  constructor(capacity: number) {
    this.#priorities = new Int32Array(capacity)
    this.#keys = new Int32Array(capacity)
    this.#versions = new Int32Array(capacity)
  }

  /** Priority of the top entry; meaningful only when the heap holds one. */
  get topPriority(): number {
    return this.#priorities[0] as number
  }

  get topKey(): number {
    return this.#keys[0] as number
  }

  get topVersion(): number {
    return this.#versions[0] as number
  }

  push(priority: number, key: number, version: number): void {
    if (this.#size === this.#priorities.length) throw new RangeError('MaxHeap is full')
    let i = this.#size++
    while (i > 0) {
      const parent = (i - 1) >> 1
      if ((this.#priorities[parent] as number) >= priority) break
      this.#move(parent, i)
      i = parent
    }
    this.#set(i, priority, key, version)
  }

  /** Removes the top entry. */
  pop(): void {
    const last = --this.#size
    if (last <= 0) return
    const priority = this.#priorities[last] as number
    const key = this.#keys[last] as number
    const version = this.#versions[last] as number
    let i = 0
    for (;;) {
      let child = 2 * i + 1
      if (child >= last) break
      if (
        child + 1 < last &&
        (this.#priorities[child + 1] as number) > (this.#priorities[child] as number)
      ) {
        child++
      }
      if ((this.#priorities[child] as number) <= priority) break
      this.#move(child, i)
      i = child
    }
    this.#set(i, priority, key, version)
  }

  #move(from: number, to: number): void {
    this.#priorities[to] = this.#priorities[from] as number
    this.#keys[to] = this.#keys[from] as number
    this.#versions[to] = this.#versions[from] as number
  }

  #set(i: number, priority: number, key: number, version: number): void {
    this.#priorities[i] = priority
    this.#keys[i] = key
    this.#versions[i] = version
  }
}
