import { Command, KeyList } from "@effect-memcache/protocol"
import { describe, expect, it } from "vitest"
import { encoded } from "./commands.ts"

describe("splitKeys", () => {
  const keys = Array.from({ length: 40 }, (_, i) => `${i}`.padStart(3, "0").padEnd(200, "k"))

  it("keeps every gat line within 2048 bytes, in order, losing nothing", () => {
    const groups = KeyList.splitKeys("gat", keys, { exptime: 3600 })
    expect(groups.flat()).toEqual(keys)
    expect(groups.length).toBeGreaterThan(1)
    for (const group of groups) {
      const line = encoded(Command.gat(3600, group))
      expect(line.byteLength).toBeLessThanOrEqual(2048)
    }
    // greedy: each group but the last could not take the next key
    expect(groups[0].length).toBe(10) // "gat 3600" 8 + 10 x 201 + 2 = 2020; one more is 2221
  })

  it("fills a line to exactly the limit", () => {
    const exact = [...Array.from({ length: 8 }, (_, i) => String(i).repeat(250)), "x".repeat(32), "y"]
    const groups = KeyList.splitKeys("gat", exact, { exptime: 0 })
    expect(groups.map((g) => g.length)).toEqual([9, 1])
    expect(encoded(Command.gat(0, groups[0])).byteLength).toBe(2048)
  })

  it("uses 16384 for get by default and honours maxLineBytes", () => {
    expect(KeyList.splitKeys("get", keys)).toEqual([keys])
    const small = KeyList.splitKeys("gets", ["aaaa", "bbbb", "cccc"], { maxLineBytes: 16 })
    expect(small).toEqual([["aaaa", "bbbb"], ["cccc"]]) // "gets aaaa bbbb\r\n" is 16 bytes
    expect(KeyList.splitKeys("get", [])).toEqual([])
    expect(KeyList.splitKeys("get", ["toolong"], { maxLineBytes: 4 })).toEqual([["toolong"]])
  })
})
