/**
 * A FIFO over an array with a moving head: push and shift without `Array#shift`'s O(n) moves. The connection's
 * queues of requests to write and requests waiting for their replies.
 *
 * The items are `items[head..tail)`; every other slot holds `undefined`. A queue that empties starts over at slot 0
 * of the same array, so a connection that sends one request at a time never grows, shrinks or copies it.
 *
 * @internal
 */
export class Fifo<A> {
  private items: Array<A | undefined> = []
  private head = 0
  private tail = 0

  get size(): number {
    return this.tail - this.head
  }

  push(a: A): void {
    this.items[this.tail++] = a
  }

  peek(): A | undefined {
    return this.items[this.head]
  }

  shift(): A | undefined {
    if (this.head >= this.tail) return undefined
    const a = this.items[this.head]
    this.items[this.head++] = undefined
    if (this.head === this.tail) {
      this.head = 0
      this.tail = 0
    } else if (this.head > 1024 && this.head * 2 > this.tail) {
      this.items = this.items.slice(this.head, this.tail)
      this.tail -= this.head
      this.head = 0
    }
    return a
  }

  /** Empties the FIFO, returning what it held in order. */
  drain(): Array<A> {
    const out = this.items.slice(this.head, this.tail) as Array<A>
    this.items = []
    this.head = 0
    this.tail = 0
    return out
  }

  forEach(f: (a: A) => void): void {
    for (let i = this.head; i < this.tail; i++) f(this.items[i] as A)
  }
}
