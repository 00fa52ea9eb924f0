/**
 * Audit of issue 3 against a real memcached: the points the other suites left unproven. ignoreErrors logs each
 * failure it hides; `retry` covers touch/delete/cas and leaves incr/decr/append alone; keepAlive reaches the
 * socket (seen by `ss`); a name that cannot resolve is reason "dns"; closing the layer closes every socket; the
 * documented timeout and connectTimeout defaults are the ones in force.
 */
import { execFileSync } from "node:child_process"
import { describe, expect, it } from "@effect/vitest"
import { Memcache, MemcacheClient } from "@effect-memcache/client"
import { Context, Effect, Exit, Layer, Logger, Option, Schedule, Scope } from "effect"
import { freePort, useMemcached } from "../../../testing/Memcached.ts"
import { silentListener as listener, acquireProxy as proxyTo } from "../../../testing/Scoped.ts"

/** The address of a listener that accepts and never answers. */
const silentListener = Effect.map(listener, (l) => l.address)

/** Polls `f` until it holds (at most ~2 s). */
const eventually = (f: () => boolean) =>
  Effect.promise(async () => {
    for (let i = 0; i < 200 && !f(); i++) await new Promise((r) => setTimeout(r, 10))
  })

/** The kernel's view (`ss -tno`) of the established client sockets connected to `port` on loopback. */
const clientSockets = (port: number): ReadonlyArray<string> =>
  execFileSync("ss", ["-tnoH", "state", "established", `( dport = :${port} )`], { encoding: "utf8" })
    .split("\n")
    .filter((line) => line.trim() !== "")

describe("audit: issue 3", () => {
  const server = useMemcached()
  const provide = (options: MemcacheClient.Options = {}) =>
    Effect.provide(MemcacheClient.layer({ server: server().address, ...options }))

  it.live("ignoreErrors logs one warning per hidden failure, naming the call; a call that succeeds logs none", () =>
    Effect.gen(function* () {
      const port = yield* Effect.promise(() => freePort())
      const warnings: Array<string> = []
      const collector = Logger.make((options) => {
        const text = [options.message].flat().map(String).join(" ")
        // The server's own "connect failed" warnings are not what is audited here.
        if (options.logLevel === "Warn" && text.includes("ignoreErrors")) warnings.push(text)
      })
      yield* Effect.gen(function* () {
        const m = yield* Memcache.Memcache
        expect(yield* m.get("k")).toEqual(Option.none())
        expect((yield* m.getMany(["a", "b"])).size).toBe(0)
        expect(yield* m.gets("k")).toEqual(Option.none())
        expect((yield* m.getsMany(["a"])).size).toBe(0)
        expect(yield* m.gat("k", "1 minute")).toEqual(Option.none())
        expect(yield* m.gats("k", "1 minute")).toEqual(Option.none())
      }).pipe(
        provide({ server: `127.0.0.1:${port}`, ignoreErrors: true, reconnect: Schedule.spaced("1 minute") }),
        Effect.provideService(Logger.CurrentLoggers, new Set([collector]))
      )
      expect(warnings.length).toBe(6)
      // A multi-get's warning names the wire command and the server ("get failed on 127.0.0.1:port").
      for (const [i, name] of [
        "get failed,",
        "get failed on",
        "gets failed,",
        "gets failed on",
        "gat ",
        "gats "
      ].entries()) {
        expect(warnings[i]).toContain(`memcache ${name}`)
        expect(warnings[i]).toContain("MemcacheConnectionError")
      }

      // Against the live server, nothing is hidden and nothing is logged.
      warnings.length = 0
      yield* Memcache.Memcache.use((m) => m.get("audit:nothing")).pipe(
        provide({ ignoreErrors: true }),
        Effect.provideService(Logger.CurrentLoggers, new Set([collector]))
      )
      expect(warnings).toEqual([])
    })
  )

  it.live("retry: touch, delete and cas are retried through a reset; incr, decr and append are not", () =>
    Effect.gen(function* () {
      const proxy = yield* proxyTo(server())
      const seen: Array<string> = []
      // After the first failure the proxy heals, so the first retry goes through.
      const retry = Schedule.recurs(3).pipe(
        Schedule.tap(({ input }) =>
          Effect.sync(() => {
            seen.push((input as { _tag: string })._tag)
            proxy.setMode({ _tag: "Pass" })
          })
        )
      )
      yield* Effect.gen(function* () {
        const m = yield* Memcache.Memcache
        const retried = <A, E>(call: Effect.Effect<A, E>, expected: A) =>
          Effect.gen(function* () {
            seen.length = 0
            proxy.setMode({ _tag: "Reset" })
            expect(yield* call).toEqual(expected)
            expect(seen.length).toBe(1)
          })
        const notRetried = <A, E extends { readonly _tag: string }>(call: Effect.Effect<A, E>) =>
          Effect.gen(function* () {
            seen.length = 0
            proxy.setMode({ _tag: "Reset" })
            const error = yield* Effect.flip(call)
            expect(["MemcacheConnectionError", "MemcacheUnexpectedCloseError"]).toContain(error._tag)
            expect(seen.length).toBe(0)
            proxy.setMode({ _tag: "Pass" })
          })

        yield* m.set("ar:a", "a", { noreply: false })
        yield* m.set("ar:n", 5, { noreply: false })
        yield* retried(m.touch("ar:a", "1 minute", { noreply: false }), true)
        const unique = Option.getOrThrow(yield* m.gets("ar:a")).cas
        yield* retried(m.cas("ar:a", "b", unique), "Stored")
        expect(yield* m.get("ar:a")).toEqual(Option.some("b"))
        yield* retried(m.delete("ar:a", { noreply: false }), true)
        expect(yield* m.get("ar:a")).toEqual(Option.none())

        yield* notRetried(m.incr("ar:n", 1))
        yield* notRetried(m.decr("ar:n", 1))
        yield* notRetried(m.append("ar:n", "0", { noreply: false }))
        // Nothing reached the server: the counter is as set.
        expect(yield* m.get("ar:n")).toEqual(Option.some(5))
      }).pipe(provide({ server: proxy.address, retry }))
    })
  )

  it.live("keepAlive reaches the socket: SO_KEEPALIVE on by default and with true, off with false", () =>
    Effect.gen(function* () {
      const keepAliveOf = (keepAlive: boolean | undefined) =>
        Effect.gen(function* () {
          const proxy = yield* proxyTo(server())
          return yield* Effect.gen(function* () {
            const m = yield* Memcache.Memcache
            yield* m.version()
            const sockets = clientSockets(proxy.port)
            expect(sockets.length).toBe(1)
            return sockets[0]!.includes("timer:(keepalive")
          }).pipe(provide({ server: proxy.address, ...(keepAlive === undefined ? {} : { keepAlive }) }))
        })
      expect(yield* keepAliveOf(undefined)).toBe(true)
      expect(yield* keepAliveOf(true)).toBe(true)
      expect(yield* keepAliveOf(false)).toBe(false)
    })
  )

  it.live("a host name that cannot resolve: MemcacheConnectionError reason dns", () =>
    Effect.gen(function* () {
      // An empty label is refused by the resolver itself, and .invalid never resolves (RFC 6761).
      const error = yield* Effect.flip(
        Memcache.Memcache.use((m) => m.get("k")).pipe(provide({ server: "memcache..invalid:11211" }))
      )
      expect(error).toMatchObject({ _tag: "MemcacheConnectionError", reason: "dns" })
    })
  )

  it.live("closing the layer's scope closes every socket it opened (connections: 3)", () =>
    Effect.gen(function* () {
      const proxy = yield* proxyTo(server())
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

  it.live("the documented defaults are in force: timeout 2 seconds, connectTimeout 1 second", () =>
    Effect.gen(function* () {
      const proxy = yield* proxyTo(server())
      yield* Effect.gen(function* () {
        const m = yield* Memcache.Memcache
        yield* m.version()
        proxy.setMode({ _tag: "Blackhole" })
        const error = yield* Effect.flip(m.get("df:a"))
        expect(error).toMatchObject({ _tag: "MemcacheTimeoutError", phase: "operation", millis: 2000 })
      }).pipe(provide({ server: proxy.address }))

      // A TLS handshake to a listener that never answers: only connectTimeout can end it.
      const silent = yield* silentListener
      const connect = yield* Effect.flip(
        Memcache.Memcache.use((m) => m.get("k")).pipe(provide({ server: silent, tls: true, timeout: "30 seconds" }))
      )
      expect(connect).toMatchObject({ _tag: "MemcacheTimeoutError", phase: "connect", millis: 1000 })
    })
  )
})
