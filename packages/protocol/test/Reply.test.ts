import { Command, Reply } from "@effect-memcache/protocol"
import { describe, expect, it } from "vitest"
import { bytes } from "./commands.ts"

const abc = bytes("abc")

describe("expectation", () => {
  it("maps each command to its reply form", () => {
    expect(Reply.expectation(Command.set("k", abc))).toBe(Reply.expect.Storage)
    expect(Reply.expectation(Command.cas("k", abc, 1n))).toBe(Reply.expect.Storage)
    expect(Reply.expectation(Command.set("k", abc, { noreply: true }))).toBeUndefined()
    expect(Reply.expectation(Command.get(["a", "b"]))).toEqual({ _tag: "Retrieval", keys: ["a", "b"], cas: false })
    expect(Reply.expectation(Command.gets("a"))).toEqual({ _tag: "Retrieval", keys: ["a"], cas: true })
    expect(Reply.expectation(Command.gat(1, "a"))).toEqual({ _tag: "Retrieval", keys: ["a"], cas: false })
    expect(Reply.expectation(Command.gats(1, "a"))).toEqual({ _tag: "Retrieval", keys: ["a"], cas: true })
    expect(Reply.expectation(Command.delete("k"))).toBe(Reply.expect.Delete)
    expect(Reply.expectation(Command.delete("k", { noreply: true }))).toBeUndefined()
    expect(Reply.expectation(Command.incr("k", 1n))).toBe(Reply.expect.Arithmetic)
    expect(Reply.expectation(Command.decr("k", 1n, { noreply: true }))).toBeUndefined()
    expect(Reply.expectation(Command.touch("k", 1))).toBe(Reply.expect.Touch)
    expect(Reply.expectation(Command.touch("k", 1, { noreply: true }))).toBeUndefined()
    expect(Reply.expectation(Command.stats())).toBe(Reply.expect.Stats)
    expect(Reply.expectation(Command.version)).toBe(Reply.expect.Version)
    expect(Reply.expectation(Command.verbosity(1))).toBe(Reply.expect.Ok)
    expect(Reply.expectation(Command.flushAll({ noreply: true }))).toBeUndefined()
    expect(Reply.expectation(Command.flushAll())).toBe(Reply.expect.Ok)
    expect(Reply.expectation(Command.cacheMemlimit(64))).toBe(Reply.expect.Ok)
    expect(Reply.expectation(Command.quit)).toBeUndefined()
    expect(Reply.expectation(Command.shutdown())).toBe(Reply.expect.Shutdown)
    expect(Reply.expectation(Command.sync)).toBe(Reply.expect.Sync)
  })
})
