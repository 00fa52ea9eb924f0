import { describe, expect, it } from "vitest"
import { Fifo } from "../src/internal/Fifo.ts"

describe("Fifo", () => {
  it("hands items out in order as it empties, refills and compacts with items added in between", () => {
    const fifo = new Fifo<number>()
    const out: Array<number> = []
    let next = 0
    let round = 0
    for (const size of [1, 1, 3, 1500, 2, 2600, 1, 700]) {
      for (let i = 0; i < size; i++) fifo.push(next++)
      // Every other round empties the queue; the others leave a third of it for the next round.
      const take = round++ % 2 === 0 ? fifo.size : Math.floor((fifo.size * 2) / 3)
      for (let i = 0; i < take; i++) out.push(fifo.shift()!)
      expect(fifo.size).toBe(next - out.length)
      expect(fifo.peek()).toBe(fifo.size === 0 ? undefined : out.length)
    }
    const seen: Array<number> = []
    fifo.forEach((n) => {
      seen.push(n)
    })
    const rest = fifo.drain()
    expect(rest).toEqual(seen)
    out.push(...rest)
    expect(out).toEqual(Array.from({ length: next }, (_, i) => i))
    expect(fifo.size).toBe(0)
    expect(fifo.shift()).toBeUndefined()
  })
})
