import { describe, expect, it } from "@effect/vitest"
import { Memcache, MemcacheClient, type MemcacheError, Serializer } from "@effect-memcache/client"
import { Context, type Duration, Effect, Exit, Fiber, Layer, Option, Schedule, Scope } from "effect"
import { freePort, useMemcached } from "../../../testing/Memcached.ts"
import { acquireServer, silentListener as listener, acquireProxy as proxyTo } from "../../../testing/Scoped.ts"

/** The address of a listener that accepts and never answers. */
const silentListener = Effect.map(listener, (l) => l.address)

/** Polls `f` until it holds (at most ~2 s). */
const eventually = (f: () => boolean) =>
  Effect.promise(async () => {
    for (let i = 0; i < 200 && !f(); i++) await new Promise((r) => setTimeout(r, 10))
  })

describe("every error, for real, caught by tag", () => {
  const server = useMemcached()
  const provide = (options: MemcacheClient.Options = {}) =>
    Effect.provide(MemcacheClient.layer({ server: server().address, ...options }))

  it.live("MemcacheUnknownCommandError: shutdown without -A", () =>
    Effect.gen(function* () {
      const m = yield* Memcache.Memcache
      const caught = yield* m.shutdown().pipe(
        Effect.as("no error"),
        Effect.catchTag("MemcacheUnknownCommandError", (e) => Effect.succeed(`${e.command}|${e.server}|${e.text}`))
      )
      expect(caught).toBe(`shutdown|${server().address}|shutdown not enabled`)
      // An unknown stats sub-command is a bare ERROR.
      const stats = yield* m.stats(["bogus"]).pipe(
        Effect.as("no error"),
        Effect.catchTag("MemcacheUnknownCommandError", (e) => Effect.succeed(`[${e.text}]`))
      )
      expect(stats).toBe("[]")
    }).pipe(provide())
  )

  it.live("MemcacheClientError: incr on a non-numeric value; the connection stays usable", () =>
    Effect.gen(function* () {
      const m = yield* Memcache.Memcache
      yield* m.set("ce:abc", "abc", { noreply: false })
      const caught = yield* m.incr("ce:abc", 1).pipe(
        Effect.map((n) => `value ${n}`),
        Effect.catchTag("MemcacheClientError", (e) => Effect.succeed(`${e.command}: ${e.text}`))
      )
      expect(caught).toBe("incr: cannot increment or decrement non-numeric value")
      const decr = yield* m.decr("ce:abc", 1).pipe(
        Effect.as("no error"),
        Effect.catchTag("MemcacheClientError", (e) => Effect.succeed(e.command))
      )
      expect(decr).toBe("decr")
      expect(yield* m.get("ce:abc")).toEqual(Option.some("abc"))
    }).pipe(provide())
  )

  it.live("MemcacheServerError: a value over the server's -I (while the client's itemSizeMax allows it)", () =>
    Effect.gen(function* () {
      const small = yield* acquireServer({ args: ["-I", "1k", "-o", "slab_chunk_max=1024"] })
      yield* Effect.gen(function* () {
        const m = yield* Memcache.Memcache
        yield* m.set("se:a", "old", { noreply: false })
        const caught = yield* m.set("se:a", new Uint8Array(2000), { noreply: false }).pipe(
          Effect.as("stored"),
          Effect.catchTag("MemcacheServerError", (e) => Effect.succeed(`${e.command}: ${e.text}`))
        )
        expect(caught).toBe("set: object too large for cache")
        // The server swallowed the data block: the connection is in step (and the old value is gone, as memcached does).
        expect(yield* m.get("se:a")).toEqual(Option.none())
        expect(yield* m.set("se:b", new Uint8Array(900), { noreply: false })).toBe(true)
        expect(Option.map(yield* m.get("se:b"), (v) => (v as Uint8Array).length)).toEqual(Option.some(900))
      }).pipe(Effect.provide(MemcacheClient.layer({ server: small.address })))
    })
  )

  it.live("MemcacheProtocolError: a garbled reply; the next call uses a new connection and works", () =>
    Effect.gen(function* () {
      const proxy = yield* proxyTo(server())
      yield* Effect.gen(function* () {
        const m = yield* Memcache.Memcache
        yield* m.set("pe:a", "a", { noreply: false })
        proxy.setMode({ _tag: "Garble" })
        const caught = yield* m.get("pe:a").pipe(
          Effect.as("no error"),
          Effect.catchTag("MemcacheProtocolError", (e) => Effect.succeed(`line ${e.line ?? "?"}`))
        )
        expect(caught).toBe("line XYZZY")
        proxy.setMode({ _tag: "Pass" })
        expect(yield* m.get("pe:a")).toEqual(Option.some("a"))
        expect(proxy.acceptedConnections).toBe(2)
      }).pipe(provide({ server: proxy.address }))
    })
  )

  it.live("MemcacheUnexpectedCloseError: the reply cut anywhere in a value is an error, never a short value", () =>
    Effect.gen(function* () {
      const proxy = yield* proxyTo(server())
      const value = new Uint8Array(1000).fill(0x61)
      // "VALUE ue:a 0 1000\r\n" + 1000 bytes + "\r\nEND\r\n"
      const header = "VALUE ue:a 0 1000\r\n".length
      const total = header + 1000 + 7
      yield* Effect.gen(function* () {
        const m = yield* Memcache.Memcache
        yield* m.set("ue:a", value, { noreply: false })
        for (const cut of [
          1,
          6,
          header - 1,
          header,
          header + 1,
          header + 500,
          header + 999,
          header + 1000,
          header + 1001
        ]) {
          proxy.setMode({ _tag: "CutAfter", bytes: cut })
          const caught = yield* m.get("ue:a").pipe(
            Effect.map((v) => `value of ${Option.map(v, (b) => (b as Uint8Array).length).pipe(Option.getOrNull)}`),
            Effect.catchTag("MemcacheUnexpectedCloseError", (e) => Effect.succeed(`closed ${e.server}`))
          )
          expect([cut, caught]).toEqual([cut, `closed ${proxy.address}`])
        }
        // Cut inside END, after the value and its \r\n: a get is answered as its value arrives, whole.
        proxy.setMode({ _tag: "CutAfter", bytes: total - 1 })
        expect(Option.map(yield* m.get("ue:a"), (b) => (b as Uint8Array).length)).toEqual(Option.some(1000))
        // The whole reply gets through: the value, whole. (The connection cut just above may still be closing
        // when the next call is sent: that call fails with the close, and the one after it goes through.)
        proxy.setMode({ _tag: "CutAfter", bytes: total })
        const whole = m
          .get("ue:a")
          .pipe(Effect.retry({ times: 3, while: (e) => e._tag === "MemcacheUnexpectedCloseError" }))
        expect(Option.map(yield* whole, (b) => (b as Uint8Array).length)).toEqual(Option.some(1000))
      }).pipe(provide({ server: proxy.address, reconnect: Schedule.spaced("1 millis") }))
    })
  )

  it.live("MemcacheIllegalInputError: each refused input names its field, and nothing is sent", () =>
    Effect.gen(function* () {
      const proxy = yield* proxyTo(server())
      yield* Effect.gen(function* () {
        const m = yield* Memcache.Memcache
        const field = (effect: Effect.Effect<unknown, MemcacheError.MemcacheError>) =>
          effect.pipe(
            Effect.as("accepted"),
            Effect.catchTag("MemcacheIllegalInputError", (e) => Effect.succeed(e.field))
          )
        expect(yield* field(m.get("a b"))).toBe("key")
        expect(yield* field(m.get(""))).toBe("key")
        expect(yield* field(m.get("k".repeat(251)))).toBe("key")
        expect(yield* field(m.set("bad\r\nkey", "v"))).toBe("key")
        expect(yield* field(m.set("k", "v", { flags: 2 ** 32 }))).toBe("flags")
        expect(yield* field(m.set("k", "v", { exptime: 2 ** 31 }))).toBe("exptime")
        expect(yield* field(m.cas("k", "v", -1n))).toBe("cas")
        expect(yield* field(m.cas("k", "v", 2n ** 64n))).toBe("cas")
        expect(yield* field(m.incr("k", -1n))).toBe("delta")
        expect(yield* field(m.incr("k", 2n ** 64n))).toBe("delta")
        expect(yield* field(m.decr("k", 1.5))).toBe("delta")
        expect(yield* field(m.stats(["a b"]))).toBe("argument")
        expect(yield* field(m.verbosity(-1))).toBe("argument")
        expect(yield* field(m.cacheMemlimit(1.5))).toBe("argument")
        // A flush_all delay that is not a finite duration: memcached reads 0 as now, so "never" cannot be sent.
        expect(yield* field(m.flushAll({ delay: Number.NaN }))).toBe("delay")
        expect(yield* field(m.flushAll({ delay: Number.POSITIVE_INFINITY }))).toBe("delay")
        expect(yield* field(m.flushAll({ delay: "banana" as Duration.Input }))).toBe("delay")
        expect(yield* field(m.version({ server: "127.0.0.1:1" }))).toBe("server")
        expect(yield* field(m.stats([], { server: "127.0.0.1:1" }))).toBe("server")
        expect(yield* field(m.deleteMany(["ok", "not ok"]))).toBe("key")
        expect(
          yield* field(
            m.setMany([
              ["ok", "v"],
              ["", "v"]
            ])
          )
        ).toBe("key")
        expect(proxy.bytesFromClient).toBe(0)
      }).pipe(provide({ server: proxy.address }))

      // A bad server address or half of the credentials fail the layer itself.
      const address = yield* Effect.flip(
        Memcache.Memcache.use((m) => m.version()).pipe(provide({ server: "127.0.0.1:99999" }))
      )
      expect(address).toMatchObject({ _tag: "MemcacheIllegalInputError", field: "server" })
      const credentials = yield* Effect.flip(Memcache.Memcache.use((m) => m.version()).pipe(provide({ username: "u" })))
      expect(credentials).toMatchObject({ _tag: "MemcacheIllegalInputError", field: "username" })
    })
  )

  it.live("MemcacheTimeoutError, phase operation: replies dropped (Blackhole)", () =>
    Effect.gen(function* () {
      const proxy = yield* proxyTo(server())
      yield* Effect.gen(function* () {
        const m = yield* Memcache.Memcache
        yield* m.version()
        proxy.setMode({ _tag: "Blackhole" })
        const caught = yield* m.get("te:a").pipe(
          Effect.as("no error"),
          Effect.catchTag("MemcacheTimeoutError", (e) => Effect.succeed(`${e.phase} ${e.millis}`))
        )
        expect(caught).toBe("operation 200")
      }).pipe(provide({ server: proxy.address, timeout: "200 millis" }))
    })
  )

  it.live("MemcacheTimeoutError, phase connect: a TLS client to a listener that never answers", () =>
    Effect.gen(function* () {
      const silent = yield* silentListener
      const caught = yield* Memcache.Memcache.use((m) => m.get("k")).pipe(
        provide({ server: silent, tls: true, connectTimeout: "200 millis", timeout: "30 seconds" }),
        Effect.as("no error"),
        Effect.catchTag("MemcacheTimeoutError", (e) => Effect.succeed(`${e.phase} ${e.millis} ${e.server}`))
      )
      expect(caught).toBe(`connect 200 ${silent}`)
    })
  )

  it.live("MemcacheConnectionError: refused (nothing listening), then backoff right after", () =>
    Effect.gen(function* () {
      const port = yield* Effect.promise(() => freePort())
      yield* Effect.gen(function* () {
        const m = yield* Memcache.Memcache
        const reason = (effect: Effect.Effect<unknown, MemcacheError.MemcacheError>) =>
          effect.pipe(
            Effect.as("no error"),
            Effect.catchTag("MemcacheConnectionError", (e) => Effect.succeed(e.reason))
          )
        expect(yield* reason(m.get("k"))).toBe("refused")
        expect(yield* reason(m.get("k"))).toBe("backoff")
        expect(yield* reason(m.set("k", "v"))).toBe("backoff")
      }).pipe(provide({ server: `127.0.0.1:${port}`, reconnect: Schedule.spaced("1 minute") }))
    })
  )

  it.live("MemcacheConnectionError: a host name that cannot resolve is reason dns", () =>
    Effect.gen(function* () {
      // An empty label is refused by the resolver itself, and .invalid never resolves (RFC 6761).
      const error = yield* Effect.flip(
        Memcache.Memcache.use((m) => m.get("k")).pipe(provide({ server: "memcache..invalid:11211" }))
      )
      expect(error).toMatchObject({ _tag: "MemcacheConnectionError", reason: "dns" })
    })
  )

  it.live(
    "MemcacheSerializationError: text stored, read through a bytes view; and a value the serializer refuses",
    () =>
      Effect.gen(function* () {
        const m = yield* Memcache.Memcache
        yield* m.withSerializer(Serializer.string).set("sz:a", "text", { noreply: false })
        const bytes = m.withSerializer(Serializer.bytes)
        const caught = yield* bytes.get("sz:a").pipe(
          Effect.as("no error"),
          Effect.catchTag("MemcacheSerializationError", (e) => Effect.succeed(`${e.key} ${e.flags}`))
        )
        expect(caught).toBe("sz:a 16")
        const many = yield* bytes.getMany(["sz:a"]).pipe(
          Effect.as("no error"),
          Effect.catchTag("MemcacheSerializationError", (e) => Effect.succeed(e.key))
        )
        expect(many).toBe("sz:a")
        // A float cannot be stored by the pymemcache serializer (Python would pickle it).
        const refused = yield* m.set("sz:b", 1.5, { noreply: false }).pipe(
          Effect.as("stored"),
          Effect.catchTag("MemcacheSerializationError", (e) => Effect.succeed(e.key))
        )
        expect(refused).toBe("sz:b")
        expect(yield* m.get("sz:b")).toEqual(Option.none())
      }).pipe(provide())
  )
})

describe("layer life cycle", () => {
  it.live("built while the server is down: neither fails nor hangs; works once the server is up, unrebuilt", () =>
    Effect.gen(function* () {
      const server = yield* acquireServer()
      yield* Effect.promise(() => server.kill9())
      const scope = yield* Scope.make()
      yield* Effect.addFinalizer(() => Scope.close(scope, Exit.void))
      const context = yield* Layer.buildWithScope(
        MemcacheClient.layer({ server: server.address, reconnect: Schedule.spaced("20 millis") }),
        scope
      ).pipe(Effect.timeout("5 seconds"))
      const m = Context.get(context, Memcache.Memcache)
      const down = yield* Effect.flip(m.get("k"))
      expect(down).toMatchObject({ _tag: "MemcacheConnectionError", reason: "refused" })

      yield* Effect.promise(() => server.restart())
      let result: Option.Option<unknown> | string = "never succeeded"
      for (let i = 0; i < 100 && typeof result === "string"; i++) {
        const exit = yield* Effect.exit(m.set("k", "v", { noreply: false }))
        if (Exit.isSuccess(exit)) result = yield* m.get("k")
        else yield* Effect.sleep("20 millis")
      }
      expect(result).toEqual(Option.some("v"))
    })
  )

  it.live("closing the layer's scope fails a pending request with reason closed, and every later call", () =>
    Effect.gen(function* () {
      const server = yield* acquireServer()
      const proxy = yield* proxyTo(server)
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(
        MemcacheClient.layer({ server: proxy.address, timeout: "30 seconds" }),
        scope
      )
      const m = Context.get(context, Memcache.Memcache)
      yield* m.set("k", "v", { noreply: false })
      proxy.setMode({ _tag: "Blackhole" })
      proxy.resetCounters()
      const pending = yield* Effect.forkChild(m.get("k"))
      yield* eventually(() => proxy.bytesFromClient > 0)
      expect(proxy.bytesFromClient).toBeGreaterThan(0)
      yield* Scope.close(scope, Exit.void)
      const error = yield* Effect.flip(Fiber.join(pending))
      expect(error).toMatchObject({ _tag: "MemcacheConnectionError", reason: "closed" })
      const later = yield* Effect.flip(m.get("k"))
      expect(later).toMatchObject({ _tag: "MemcacheConnectionError", reason: "closed" })
    })
  )

  it.live("closing the layer's scope closes every socket it opened (connections: 3)", () =>
    Effect.gen(function* () {
      const server = yield* acquireServer()
      const proxy = yield* proxyTo(server)
      proxy.setMode({ _tag: "Delay", millis: 20 })
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(
        MemcacheClient.layer({ server: proxy.address, connections: 3, batching: false }),
        scope
      )
      const m = Context.get(context, Memcache.Memcache)
      for (let round = 0; round < 5; round++) {
        yield* Effect.forEach(
          Array.from({ length: 50 }, (_, i) => i),
          (i) => m.get(`cl:${i}`),
          {
            concurrency: "unbounded",
            discard: true
          }
        )
      }
      expect(proxy.connections).toBeGreaterThan(1)
      yield* Scope.close(scope, Exit.void)
      yield* eventually(() => proxy.connections === 0)
      expect(proxy.connections).toBe(0)
    })
  )
})
