/**
 * The ways to reach a server: TLS, ASCII authentication (alone and over TLS), a unix socket, and IPv6 loopback.
 */
import * as net from "node:net"
import { describe, expect, it } from "@effect/vitest"
import { Memcache, MemcacheClient } from "@effect-memcache/client"
import { Effect, Option, Redacted } from "effect"
import { rawCommand, useMemcached } from "../../../testing/Memcached.ts"

/** Bytes that show any shift or overwrite: byte i is i mod 251. */
const pattern = (size: number) => new Uint8Array(size).map((_, i) => i % 251)

/** Where `got` first differs from `expected` (-1 when equal), so a failure says where the bytes went wrong. */
const firstDifference = (got: Uint8Array, expected: Uint8Array): number => {
  if (got.length !== expected.length) return Math.min(got.length, expected.length)
  for (let i = 0; i < got.length; i++) if (got[i] !== expected[i]) return i
  return -1
}

/** A value comes back byte for byte. */
const roundTrip = (m: Memcache.MemcacheShape<Memcache.Value>, key: string, value: Uint8Array) =>
  Effect.gen(function* () {
    expect(yield* m.set(key, value, { noreply: false })).toBe(true)
    const got = Option.getOrThrow(yield* m.get(key)) as Uint8Array
    expect(firstDifference(got, value)).toBe(-1)
  })

/** set, get, getMany, incr, 200 concurrent round trips, stats: one round of everything. */
const exercise = (m: Memcache.MemcacheShape<Memcache.Value>) =>
  Effect.gen(function* () {
    expect(yield* m.set("tr:a", "héllo", { noreply: false })).toBe(true)
    yield* m.set("tr:n", 41)
    expect(yield* m.get("tr:a")).toEqual(Option.some("héllo"))
    // Smaller than one TLS record (16 KiB), so it arrives in one read.
    yield* roundTrip(m, "tr:small", pattern(8000))
    expect([...(yield* m.getMany(["tr:n", "tr:none", "tr:a"])).keys()]).toEqual(["tr:n", "tr:a"])
    expect(yield* m.incr("tr:n", 1)).toEqual(Option.some(42n))
    const many = yield* Effect.forEach(
      Array.from({ length: 200 }, (_, i) => i),
      (i) => Effect.andThen(m.set(`tr:${i}`, i), m.get(`tr:${i}`)),
      { concurrency: 50 }
    )
    expect(many.map(Option.getOrNull)).toEqual(Array.from({ length: 200 }, (_, i) => i))
    return yield* m.stats(["settings"])
  })

describe("TLS", () => {
  const server = useMemcached({ tls: true })

  it.live("with the server's CA: every command works over TLS", () =>
    Effect.gen(function* () {
      const m = yield* Memcache.Memcache
      const settings = yield* exercise(m)
      expect(settings.get("ssl_enabled")).toBe("yes")
    }).pipe(Effect.provide(MemcacheClient.layer({ server: server().address, tls: { ca: server().ca! } })))
  )

  it.live("values spread over many TLS records (and socket reads) come back byte for byte", () =>
    Effect.gen(function* () {
      const m = yield* Memcache.Memcache
      yield* roundTrip(m, "tr:20k", pattern(20_000))
      yield* roundTrip(m, "tr:300k", pattern(300_000))
    }).pipe(Effect.provide(MemcacheClient.layer({ server: server().address, tls: { ca: server().ca! } })))
  )

  it.live("without the CA the certificate is refused: MemcacheConnectionError reason tls", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Memcache.Memcache.use((m) => m.get("k")).pipe(
          Effect.provide(MemcacheClient.layer({ server: server().address, tls: true }))
        )
      )
      expect(error).toMatchObject({ _tag: "MemcacheConnectionError", reason: "tls" })
    })
  )
})

describe("ASCII authentication", () => {
  const credentials = { username: "alice", password: "s3cret-pass" }
  const server = useMemcached({ auth: credentials })

  // Authentication is a text `set` in either protocol; in meta, the connection speaks meta once it is accepted.
  for (const protocol of ["text", "meta"] as const) {
    it.live(`with the right credentials: every command works (${protocol} protocol)`, () =>
      Effect.gen(function* () {
        const m = yield* Memcache.Memcache
        yield* exercise(m)
      }).pipe(
        Effect.provide(
          MemcacheClient.layer({
            server: server().address,
            username: credentials.username,
            password: Redacted.make(credentials.password),
            protocol
          })
        )
      )
    )
  }

  it.live("a wrong password: MemcacheConnectionError reason auth, and the password is not in the error", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Memcache.Memcache.use((m) => m.get("k")).pipe(
          Effect.provide(
            MemcacheClient.layer({
              server: server().address,
              username: credentials.username,
              password: Redacted.make("wrong-password")
            })
          )
        )
      )
      expect(error).toMatchObject({ _tag: "MemcacheConnectionError", reason: "auth" })
      expect(JSON.stringify(error)).not.toContain("wrong-password")
      expect(error.message).not.toContain("wrong-password")
    })
  )

  it.live("no credentials: the server refuses every command (CLIENT_ERROR unauthenticated)", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Memcache.Memcache.use((m) => m.version()).pipe(
          Effect.provide(MemcacheClient.layer({ server: server().address }))
        )
      )
      expect(error._tag).toBe("MemcacheClientError")
      expect(error.message).toContain("unauthenticated")
    })
  )
})

describe("ASCII authentication over TLS", () => {
  const credentials = { username: "bob", password: "hunter2" }
  const server = useMemcached({ tls: true, auth: credentials })

  it.live("both at once", () =>
    Effect.gen(function* () {
      const m = yield* Memcache.Memcache
      const settings = yield* exercise(m)
      expect(settings.get("ssl_enabled")).toBe("yes")
    }).pipe(
      Effect.provide(
        MemcacheClient.layer({
          server: server().address,
          tls: { ca: server().ca! },
          username: credentials.username,
          password: Redacted.make(credentials.password)
        })
      )
    )
  )
})

describe("unix socket", () => {
  const server = useMemcached({ unixSocket: true })

  it.live("unix:/path: every command works, and the server sees a unix connection", () =>
    Effect.gen(function* () {
      expect(server().address).toMatch(/^unix:\//)
      const m = yield* Memcache.Memcache
      const settings = yield* exercise(m)
      expect(settings.get("domain_socket")).toBe(server().path)
      // What the client stored is what another unix client reads.
      const raw = yield* Effect.promise(() =>
        rawCommand(server(), "get tr:a\r\n", { until: (b) => b.toString("latin1").endsWith("END\r\n") })
      )
      expect(raw.toString("utf8")).toBe("VALUE tr:a 16 6\r\nhéllo\r\nEND\r\n")
    }).pipe(Effect.provide(MemcacheClient.layer({ server: server().address })))
  )

  it.live("a socket path nobody listens on: MemcacheConnectionError reason refused", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Memcache.Memcache.use((m) => m.get("k")).pipe(
          Effect.provide(MemcacheClient.layer({ server: `${server().address}.missing` }))
        )
      )
      expect(error).toMatchObject({ _tag: "MemcacheConnectionError", reason: "refused" })
    })
  )
})

describe("IPv6 loopback", () => {
  // This machine must have ::1: the probe fails loudly instead of skipping when it does not.
  it("the machine can listen on ::1", async () => {
    const bound = await new Promise<string>((resolve) => {
      const probe = net.createServer()
      probe.once("error", (error) => resolve(`cannot listen on ::1: ${error.message}`))
      probe.listen({ port: 0, host: "::1" }, () => probe.close(() => resolve("ok")))
    })
    expect(bound).toBe("ok")
  })

  const server = useMemcached({ host: "::1" })

  it.live("[::1]:port: every command works", () =>
    Effect.gen(function* () {
      expect(server().address).toBe(`[::1]:${server().port}`)
      const m = yield* Memcache.Memcache
      yield* exercise(m)
    }).pipe(Effect.provide(MemcacheClient.layer({ server: server().address })))
  )
})
