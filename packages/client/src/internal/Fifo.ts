/**
 * A FIFO over an array with a moving head: push and shift without `Array#shift`'s O(n) moves. The connection's
 * queues of requests to write and requests waiting for their replies.
 *
 * @internal
 */
export class Fifo<A> {
  private items: Array<A | undefined> = []
  private head = 0

  get size(): number {
    return this.items.length - this.head
  }

  push(a: A): void {
    this.items.push(a)
  }

  peek(): A | undefined {
    return this.items[this.head]
  }

  shift(): A | undefined {
    if (this.head >= this.items.length) return undefined
    const a = this.items[this.head]
    this.items[this.head++] = undefined
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return a
  }

  /** Empties the FIFO, returning what it held in order. */
  drain(): Array<A> {
    const out: Array<A> = []
    for (let i = this.head; i < this.items.length; i++) out.push(this.items[i] as A)
    this.items = []
    this.head = 0
    return out
  }

  forEach(f: (a: A) => void): void {
    for (let i = this.head; i < this.items.length; i++) f(this.items[i] as A)
  }
}
