/**
 * Server addresses: every form a layer accepts (`host:port`, `host`, `[ipv6]:port`, `unix:/path`,
 * `memcache://` and `memcaches://` URLs), the refusals (whitespace, other schemes, paths, bad ports), each of
 * which says what to write instead, and `memcaches://` reaching a TLS memcached.
 */
import { describe, expect, it } from "@effect/vitest"
import { Memcache, MemcacheClient } from "@effect-memcache/client"
import { Effect } from "effect"
import { useMemcached } from "../../../testing/Memcached.ts"
import * as Address from "../src/internal/Address.ts"

describe("Address.parse: the accepted forms", () => {
  it("host:port, host, [ipv6]:port, [ipv6] and unix:/path, as before", () => {
    expect(Address.parse("10.0.0.1:11212")).toEqual({
      _tag: "Tcp",
      host: "10.0.0.1",
      port: 11212,
      name: "10.0.0.1:11212",
      tls: false
    })
    expect(Address.parse("cache.internal")).toMatchObject({ host: "cache.internal", port: 11211 })
    expect(Address.parse("[::1]:11300")).toMatchObject({ host: "::1", port: 11300, name: "[::1]:11300" })
    expect(Address.parse("[::1]")).toMatchObject({ host: "::1", port: 11211, name: "[::1]:11211" })
    expect(Address.parse("unix:/run/memcached.sock")).toEqual({
      _tag: "Unix",
      path: "/run/memcached.sock",
      name: "unix:/run/memcached.sock"
    })
    expect(Address.parse("  10.0.0.1:11212\n")).toMatchObject({ name: "10.0.0.1:11212" })
  })

  it("memcache://host:port is host:port; memcaches:// asks for TLS; the name has no scheme", () => {
    expect(Address.parse("memcache://127.0.0.1:11211")).toEqual({
      _tag: "Tcp",
      host: "127.0.0.1",
      port: 11211,
      name: "127.0.0.1:11211",
      tls: false
    })
    expect(Address.parse("MEMCACHE://cache.internal")).toMatchObject({ name: "cache.internal:11211", tls: false })
    expect(Address.parse("memcache://[::1]:11300")).toMatchObject({ host: "::1", name: "[::1]:11300" })
    expect(Address.parse("memcaches://cache.internal:11443")).toEqual({
      _tag: "Tcp",
      host: "cache.internal",
      port: 11443,
      name: "cache.internal:11443",
      tls: true
    })
  })
})

describe("Address.parse: refusals say what to write instead", () => {
  const refusal = (input: string): string => {
    const parsed = Address.parse(input)
    expect(typeof parsed).toBe("string")
    return typeof parsed === "string" ? parsed : ""
  }

  it("whitespace inside an address is refused instead of reaching DNS", () => {
    expect(refusal("127.0.0.1 11211")).toBe(
      '"127.0.0.1 11211": whitespace in an address: write 127.0.0.1:11211 (host:port, with a colon)'
    )
    expect(refusal("memcache://cache  11212")).toContain("write cache:11212")
    expect(refusal("cache .internal:11211")).toContain("whitespace in an address: write host:port")
    expect(refusal("cache\t:11211")).toContain("whitespace in an address")
  })

  it("another scheme, a path, a user or a query is refused", () => {
    expect(refusal("http://127.0.0.1:11211")).toBe(
      '"http://127.0.0.1:11211": "http://" is not a memcached scheme: write memcache://127.0.0.1:11211 (or 127.0.0.1:11211)'
    )
    expect(refusal("memcache://127.0.0.1:11211/")).toContain("no path, user or query")
    expect(refusal("memcache://user:pw@127.0.0.1:11211")).toContain("no path, user or query")
    expect(refusal("memcache://127.0.0.1:11211?timeout=1")).toContain("no path, user or query")
    expect(refusal("memcache://unix:/run/memcached.sock")).toContain("write unix:/run/memcached.sock")
  })

  it("a bare IPv6 address, a missing bracket, a bad port, an empty host or path", () => {
    expect(refusal("::1")).toContain("an IPv6 address goes in brackets: write [addr]:port, e.g. [::1]:11211")
    expect(refusal("[::1")).toContain('missing "]": write [addr]:port')
    expect(refusal("[::1]11211")).toContain("write [::1]:port, e.g. [::1]:11211")
    for (const input of ["cache:0", "cache:65536", "cache:http", "cache:", "cache:1.5"]) {
      expect(refusal(input)).toContain("the port must be a number in 1..65535: write cache:11211")
    }
    expect(refusal(":11211")).toContain("empty host: write host:port, e.g. 127.0.0.1:11211")
    expect(refusal("memcache://")).toContain("empty host")
    expect(refusal("unix:")).toContain("write unix:/path/to/memcached.sock")
  })

  it("every refusal names the input and says what to write", () => {
    for (const input of ["a b", "ftp://x", "x:y", "::1", "[::1", "[::1]x", "", "unix:", "memcache://x/y"]) {
      const reason = refusal(input)
      expect(reason.startsWith(`"${input}": `)).toBe(true)
      expect(reason).toContain("write ")
    }
  })
})

describe("memcaches:// on a layer", () => {
  const server = useMemcached({ tls: true })

  it.live("connects over TLS with the layer's tls options, without tls: true", () =>
    Effect.gen(function* () {
      const settings = yield* Memcache.Memcache.use((m) => m.stats(["settings"]))
      expect(settings.get("ssl_enabled")).toBe("yes")
      expect(yield* Memcache.Memcache.use((m) => m.version({ server: server().address }))).toBe("1.6.18")
    }).pipe(
      Effect.provide(MemcacheClient.layer({ server: `memcaches://${server().address}`, tls: { ca: server().ca! } }))
    )
  )

  it.live("without tls options it uses the system's CAs, which refuse the test certificate: TLS was used", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Memcache.Memcache.use((m) => m.get("k")).pipe(
          Effect.provide(MemcacheClient.layer({ server: `memcaches://${server().address}` }))
        )
      )
      expect(error).toMatchObject({ _tag: "MemcacheConnectionError", reason: "tls" })
    })
  )

  it.live("with tls: false it is refused, saying what to write", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Memcache.Memcache.use((m) => m.version()).pipe(
          Effect.provide(MemcacheClient.layer({ server: `memcaches://${server().address}`, tls: false }))
        )
      )
      expect(error).toMatchObject({ _tag: "MemcacheIllegalInputError", field: "tls" })
      expect(error.message).toContain(`drop tls: false, or write ${server().address}`)
    })
  )

  it.live("a malformed address fails the layer with a MemcacheIllegalInputError on server", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Memcache.Memcache.use((m) => m.version()).pipe(Effect.provide(MemcacheClient.layer({ server: "127.0.0.1 1" })))
      )
      expect(error).toMatchObject({ _tag: "MemcacheIllegalInputError", field: "server" })
      expect(error.message).toContain("write 127.0.0.1:1")
    })
  )
})
