/**
 * The in-memory server (internal/MemoryServer.ts) answering meta commands directly, as memcached 1.6.18 does:
 * no surface, no connection, one fixed clock.
 */
import { describe, expect, it } from "@effect/vitest"
import { Meta, type Reply } from "@effect-memcache/protocol"
import { MemoryServer } from "../src/internal/MemoryServer.ts"

const bytes = (text: string) => new TextEncoder().encode(text)

describe("MemoryServer: meta commands", () => {
  const make = () =>
    new MemoryServer({ itemSizeMax: 1048576, memoryLimit: undefined, version: "1.6.18-memory" }, 1_700_000_000)
  const now = 1_700_000_000_000
  const run = (server: MemoryServer, command: Parameters<MemoryServer["execute"]>[0]) =>
    server.execute(command, { _tag: "Meta", opaque: undefined, quiet: false, suppressed: "HD" }, now)

  it("ms, mg with flags, ma, md, me and mn answer as memcached 1.6.18 does", () => {
    const server = make()
    const stored = run(server, Meta.set("m", bytes("10"), { clientFlags: 5, returnCas: true }))
    expect(stored).toMatchObject({ _tag: "Meta", code: "HD", flags: { cas: 1n } })
    expect(
      run(server, Meta.get("m", { value: true, size: true, clientFlags: true, ttl: true, cas: true, returnKey: true }))
    ).toEqual({
      _tag: "Meta",
      code: "VA",
      flags: { size: 2, flags: 5, ttl: -1, cas: 1n, key: "m" },
      value: bytes("10")
    })
    expect(run(server, Meta.get("m"))).toMatchObject({ code: "HD", flags: {} })
    expect(run(server, Meta.arithmetic("m", { returnValue: true, returnCas: true }))).toEqual({
      _tag: "Meta",
      code: "VA",
      flags: { cas: 2n },
      value: bytes("11")
    })
    expect(run(server, Meta.arithmetic("n", { vivify: 0, initial: 5n, returnValue: true }))).toMatchObject({
      code: "VA",
      value: bytes("5")
    })
    expect(run(server, Meta.arithmetic("missing"))).toMatchObject({ code: "NF" })
    expect(run(server, Meta.set("m", bytes("x"), { compareCas: 1n }))).toMatchObject({ code: "EX" })
    expect(run(server, Meta.set("m", bytes("!"), { mode: "append" }))).toMatchObject({ code: "HD" })
    expect(run(server, Meta.set("gone", bytes("!"), { mode: "append" }))).toMatchObject({ code: "NS" })
    expect(run(server, Meta.debug("m"))).toMatchObject({
      _tag: "MetaDebug",
      key: "m",
      fields: { exp: "-1", la: "0", fetch: "no", size: String(59 + 1 + 3 + 4) } // append made a new item
    })
    expect(run(server, Meta.delete("m", { compareCas: 99n }))).toMatchObject({ code: "EX" })
    expect(run(server, Meta.delete("m"))).toMatchObject({ code: "HD" })
    expect(run(server, Meta.get("m", { value: true, returnKey: true, opaque: "x1" }))).toEqual({
      _tag: "Meta",
      code: "EN",
      flags: { key: "m", opaque: "x1" },
      value: undefined
    })
    expect(run(server, Meta.noop)).toMatchObject({ code: "MN" })
    expect(run(server, Meta.set("t", bytes("x"), { ttl: 60 }))).toMatchObject({ code: "HD" })
    expect(run(server, Meta.get("t", { ttl: true, touch: 100 }))).toMatchObject({ flags: { ttl: 60 } })
    expect(run(server, Meta.get("t", { ttl: true }))).toMatchObject({ flags: { ttl: 100 } })
    // me prints the remaining TTL negated, as memcached 1.6.18 does (current_time - exptime).
    expect(run(server, Meta.debug("t"))).toMatchObject({ fields: { exp: "-100" } })
    // A binary key is the same item as the text key with those bytes.
    expect(run(server, Meta.get(bytes("t"), { value: true }))).toMatchObject({ code: "VA", value: bytes("x") })
    expect(run(server, Meta.arithmetic("t"))).toEqual({
      _tag: "ClientError",
      text: "cannot increment or decrement non-numeric value"
    })
  })

  it("q: a success (or an mg miss) stands in as the suppressed reply; other outcomes still come back", () => {
    const server = make()
    const quiet = (suppressed: "EN" | "HD"): Reply.Expectation => ({
      _tag: "Meta",
      opaque: "o",
      quiet: true,
      suppressed
    })
    expect(server.execute(Meta.get("k", { quiet: true, opaque: "o" }), quiet("EN"), now)).toEqual({
      _tag: "Meta",
      code: "EN",
      flags: { opaque: "o" },
      value: undefined
    })
    expect(server.execute(Meta.set("k", bytes("1"), { quiet: true, opaque: "o" }), quiet("HD"), now)).toMatchObject({
      code: "HD",
      flags: { opaque: "o" }
    })
    expect(server.execute(Meta.get("k", { value: true, quiet: true, opaque: "o" }), quiet("EN"), now)).toMatchObject({
      code: "VA",
      value: bytes("1")
    })
    expect(
      server.execute(Meta.set("k", bytes("1"), { mode: "add", quiet: true, opaque: "o" }), quiet("HD"), now)
    ).toMatchObject({ code: "NS" })
    expect(
      server.execute(Meta.arithmetic("k", { returnValue: true, quiet: true, opaque: "o" }), quiet("HD"), now)
    ).toMatchObject({ code: "HD" })
    expect(server.execute(Meta.delete("nope", { quiet: true, opaque: "o" }), quiet("HD"), now)).toMatchObject({
      code: "NF"
    })
  })
})
