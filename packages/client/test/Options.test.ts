import { execFileSync } from "node:child_process"
import { describe, expect, it } from "@effect/vitest"
import { Memcache, MemcacheClient, Serializer } from "@effect-memcache/client"
import { Config, ConfigProvider, Effect, Layer, Logger, Option, Redacted, Schedule } from "effect"
import type { FaultProxy } from "../../../testing/FaultProxy.ts"
import { freePort, rawCommand, useMemcached } from "../../../testing/Memcached.ts"
import { acquireProxy as proxyTo, rawGet, silentListener } from "../../../testing/Scoped.ts"

const text = (b: Buffer) => b.toString("latin1")
/** What clients sent through `proxy`, once `done` holds of it (or after 2 s, to fail the test's assertion). */
const arrived = (proxy: FaultProxy, done: (data: string) => boolean) =>
  Effect.promise(async () => {
    for (let i = 0; i < 200 && !done(text(proxy.clientData())); i++) await new Promise((r) => setTimeout(r, 10))
    return text(proxy.clientData())
  })

/** The kernel's view (`ss -tno`) of the established client sockets connected to `port` on loopback. */
const clientSockets = (port: number): ReadonlyArray<string> =>
  execFileSync("ss", ["-tnoH", "state", "established", `( dport = :${port} )`], { encoding: "utf8" })
    .split("\n")
    .filter((line) => line.trim() !== "")

describe("options", () => {
  const server = useMemcached()
  const provide = (options: MemcacheClient.Options = {}) =>
    Effect.provide(MemcacheClient.layer({ server: server().address, ...options }))

  it.live("maxGetLineBytes: a big getMany and a tick's batched gets go out in get lines no longer than the cap", () =>
    Effect.gen(function* () {
      const proxy = yield* proxyTo(server())
      const keys = Array.from({ length: 400 }, (_, i) => `cap:key-number-${i}`)
      yield* Effect.gen(function* () {
        const m = yield* Memcache.Memcache
        yield* m.setMany(
          keys.filter((_, i) => i % 2 === 0).map((k) => [k, k] as const),
          { noreply: false }
        )
        const getLines = () =>
          proxy
            .clientData()
            .toString("latin1")
            .split("\r\n")
            .filter((line) => line.startsWith("get "))
        proxy.resetCounters()
        const many = yield* m.getMany(keys)
        expect([...many.keys()]).toEqual(keys.filter((_, i) => i % 2 === 0))
        const manyLines = getLines()
        expect(manyLines.length).toBeGreaterThanOrEqual(8) // 400 keys of about 20 bytes, lines of at most 1000
        for (const line of manyLines) expect(line.length + 2).toBeLessThanOrEqual(1000)
        expect(manyLines.flatMap((l) => l.split(" ").slice(1))).toEqual(keys) // each key once, in order
        proxy.resetCounters()
        const single = yield* Effect.forEach(keys, (k) => m.get(k), { concurrency: "unbounded" })
        expect(single.filter(Option.isSome).length).toBe(200)
        const batchedLines = getLines()
        expect(batchedLines.length).toBeGreaterThanOrEqual(8)
        for (const line of batchedLines) expect(line.length + 2).toBeLessThanOrEqual(1000)
        expect(batchedLines.flatMap((l) => l.split(" ").slice(1)).sort()).toEqual([...keys].sort())
      }).pipe(provide({ server: proxy.address, maxGetLineBytes: 1000 }))
    })
  )

  it.live("keyPrefix: stored under the prefixed key, stripped from getMany's keys, counted in 250 bytes", () =>
    Effect.gen(function* () {
      const proxy = yield* proxyTo(server())
      yield* Effect.gen(function* () {
        const m = yield* Memcache.Memcache
        yield* m.set("k1", "v1", { noreply: false })
        yield* m.set("k2", "v2")
        expect(yield* rawGet(server(), "app:k1")).toBe("VALUE app:k1 16 2\r\nv1\r\nEND\r\n")
        expect(yield* rawGet(server(), "k1")).toBe("END\r\n")
        expect(yield* m.get("k1")).toEqual(Option.some("v1"))
        expect([...(yield* m.getMany(["k2", "none", "k1"])).entries()]).toEqual([
          ["k2", "v2"],
          ["k1", "v1"]
        ])
        const withCas = yield* m.getsMany(["k1"])
        expect([...withCas.keys()]).toEqual(["k1"])
        expect(yield* m.incr("none", 1)).toEqual(Option.none())
        yield* m.set("n", 5, { noreply: false })
        expect(yield* m.incr("n", 1)).toEqual(Option.some(6n))
        expect(yield* rawGet(server(), "app:n")).toBe("VALUE app:n 2 1\r\n6\r\nEND\r\n")
        expect(yield* m.delete("k2", { noreply: false })).toBe(true)
        expect(yield* rawGet(server(), "app:k2")).toBe("END\r\n")

        // "app:" + 246 bytes = 250: accepted. 247: refused before anything is sent.
        expect(yield* m.set("a".repeat(246), "x", { noreply: false })).toBe(true)
        expect(yield* rawGet(server(), `app:${"a".repeat(246)}`)).toContain("VALUE")
        proxy.resetCounters()
        const error = yield* Effect.flip(m.get("a".repeat(247)))
        expect(error._tag).toBe("MemcacheIllegalInputError")
        const manyError = yield* Effect.flip(m.getMany(["ok", "b".repeat(247)]))
        expect(manyError._tag).toBe("MemcacheIllegalInputError")
        const setError = yield* Effect.flip(m.set("c".repeat(247), "x"))
        expect(setError._tag).toBe("MemcacheIllegalInputError")
        expect(proxy.bytesFromClient).toBe(0)
      }).pipe(provide({ server: proxy.address, keyPrefix: "app:" }))
    })
  )

  it.live("allowUnicodeKeys: true (default) sends UTF-8 keys, bytes counted; false refuses them unsent", () =>
    Effect.gen(function* () {
      const unicode = yield* Effect.gen(function* () {
        const m = yield* Memcache.Memcache
        expect(yield* m.set("clé", "v", { noreply: false })).toBe(true)
        expect(yield* m.get("clé")).toEqual(Option.some("v"))
        expect([...(yield* m.getMany(["x", "clé"])).entries()]).toEqual([["clé", "v"]])
        expect(Option.map(yield* m.gets("clé"), (c) => c.value)).toEqual(Option.some("v"))
        expect([...(yield* m.getsMany(["clé"])).keys()]).toEqual(["clé"])
        // 125 × "é" is 250 bytes: accepted; 126 is 252 bytes: refused.
        expect(yield* m.set("é".repeat(125), "v", { noreply: false })).toBe(true)
        return yield* Effect.flip(m.set("é".repeat(126), "v"))
      }).pipe(provide())
      expect(unicode._tag).toBe("MemcacheIllegalInputError")
      // The server holds the UTF-8 bytes of the key.
      expect(yield* rawGet(server(), "clé")).toBe("VALUE cl\xc3\xa9 16 1\r\nv\r\nEND\r\n")

      const proxy = yield* proxyTo(server())
      yield* Effect.gen(function* () {
        const m = yield* Memcache.Memcache
        const error = yield* Effect.flip(m.get("clé"))
        expect(error._tag).toBe("MemcacheIllegalInputError")
        expect((yield* Effect.flip(m.set("naïve", "v")))._tag).toBe("MemcacheIllegalInputError")
        expect(proxy.bytesFromClient).toBe(0)
        expect(yield* m.get("ascii")).toEqual(Option.none())
      }).pipe(provide({ server: proxy.address, allowUnicodeKeys: false }))
    })
  )

  it.live("defaultNoreply: on the wire, noreply on set/add/delete/touch by default, never on cas/incr/decr", () =>
    Effect.gen(function* () {
      const proxy = yield* proxyTo(server())
      /**
       * Runs `effect` and checks its result and the exact bytes it sent. A noreply call completes once written,
       * so the bytes are awaited at the proxy before they are compared.
       */
      const sends = <A, E, R>(effect: Effect.Effect<A, E, R>, result: A, bytes: string) =>
        Effect.gen(function* () {
          proxy.resetCounters()
          expect(yield* effect).toEqual(result)
          expect(yield* arrived(proxy, (d) => d.length >= bytes.length)).toBe(bytes)
        })
      yield* Effect.gen(function* () {
        const m = yield* Memcache.Memcache
        // Each noreply batch is closed by `mn`, in the same write.
        yield* sends(m.set("nr:a", "x"), undefined, "set nr:a 16 0 1 noreply\r\nx\r\nmn\r\n")
        yield* sends(m.add("nr:b", "y"), undefined, "add nr:b 16 0 1 noreply\r\ny\r\nmn\r\n")
        yield* sends(m.replace("nr:b", "z"), undefined, "replace nr:b 16 0 1 noreply\r\nz\r\nmn\r\n")
        yield* sends(m.append("nr:b", "1"), undefined, "append nr:b 16 0 1 noreply\r\n1\r\nmn\r\n")
        yield* sends(m.prepend("nr:b", "0"), undefined, "prepend nr:b 16 0 1 noreply\r\n0\r\nmn\r\n")
        yield* sends(m.touch("nr:b", "10 seconds"), undefined, "touch nr:b 10 noreply\r\nmn\r\n")
        yield* sends(m.delete("nr:b"), undefined, "delete nr:b noreply\r\nmn\r\n")
        yield* sends(m.verbosity(0), undefined, "verbosity 0 noreply\r\nmn\r\n")
        yield* sends(m.flushAll(), undefined, "flush_all noreply\r\nmn\r\n")
        // cas/incr/decr wait for their reply.
        yield* m.set("nr:n", 1, { noreply: false })
        yield* sends(m.incr("nr:n", 2), Option.some(3n), "incr nr:n 2\r\n")
        yield* sends(m.decr("nr:n", 1), Option.some(2n), "decr nr:n 1\r\n")
        const cas = Option.getOrThrow(yield* m.gets("nr:n")).cas
        yield* sends(m.cas("nr:n", 7, cas), "Stored", `cas nr:n 2 0 1 ${cas}\r\n7\r\n`)
        // Per-call overrides, both ways.
        yield* sends(m.set("nr:c", "x", { noreply: false }), true, "set nr:c 16 0 1\r\nx\r\n")
        yield* sends(m.delete("nr:c", { noreply: false }), true, "delete nr:c\r\n")
        yield* sends(m.incr("nr:n", 1, { noreply: true }), undefined, "incr nr:n 1 noreply\r\nmn\r\n")
        // The quiet incr was still done.
        expect(yield* m.get("nr:n")).toEqual(Option.some(8))
        // setMany and deleteMany follow the default too, with one `mn` after each batch.
        proxy.resetCounters()
        yield* m.setMany([
          ["nr:m1", "1"],
          ["nr:m2", "2"]
        ])
        const many = yield* arrived(proxy, (d) => d.endsWith("mn\r\n"))
        expect(many).toContain("set nr:m1 16 0 1 noreply\r\n1\r\n")
        expect(many).toContain("set nr:m2 16 0 1 noreply\r\n2\r\n")
        expect(many.endsWith("mn\r\n")).toBe(true)
        proxy.resetCounters()
        yield* m.deleteMany(["nr:m1", "nr:m2"])
        const dels = yield* arrived(proxy, (d) => d.endsWith("mn\r\n"))
        expect(dels).toContain("delete nr:m1 noreply\r\n")
        expect(dels).toContain("delete nr:m2 noreply\r\n")
        expect((yield* m.getMany(["nr:m1", "nr:m2"])).size).toBe(0)
      }).pipe(provide({ server: proxy.address }))

      // The layer default turned off: the calls wait (no noreply on the wire) but, not having asked for the
      // outcome, answer nothing; a per-call noreply still wins.
      yield* Effect.gen(function* () {
        const m = yield* Memcache.Memcache
        yield* sends(m.set("nr:d", "x"), undefined, "set nr:d 16 0 1\r\nx\r\n")
        yield* sends(m.add("nr:d", "x"), undefined, "add nr:d 16 0 1\r\nx\r\n")
        yield* sends(m.add("nr:d", "x", { noreply: false }), false, "add nr:d 16 0 1\r\nx\r\n")
        yield* sends(m.delete("nr:d"), undefined, "delete nr:d\r\n")
        yield* sends(m.delete("nr:d"), undefined, "delete nr:d\r\n")
        // A bare number is milliseconds (as everywhere in Effect), rounded up to a whole second.
        yield* sends(m.touch("nr:d", 5), undefined, "touch nr:d 1\r\n")
        yield* sends(m.touch("nr:d", "5 seconds"), undefined, "touch nr:d 5\r\n")
        yield* sends(m.set("nr:e", "x", { noreply: true }), undefined, "set nr:e 16 0 1 noreply\r\nx\r\nmn\r\n")
      }).pipe(provide({ server: proxy.address, defaultNoreply: false }))
    })
  )

  it.live("noreply batches: many quiet writes in one tick share one trailing mn, and later replies stay in step", () =>
    Effect.gen(function* () {
      const proxy = yield* proxyTo(server())
      yield* Effect.gen(function* () {
        const m = yield* Memcache.Memcache
        yield* m.version()
        proxy.resetCounters()
        yield* Effect.forEach(
          Array.from({ length: 100 }, (_, i) => i),
          (i) => m.set(`batch:${i}`, i),
          { concurrency: "unbounded", discard: true }
        )
        const data = yield* arrived(proxy, (d) => d.split(" noreply\r\n").length > 100 && d.endsWith("mn\r\n"))
        const mns = data.split("mn\r\n").length - 1
        expect(data.split(" noreply\r\n").length - 1).toBe(100)
        expect(mns).toBeGreaterThanOrEqual(1)
        expect(mns).toBeLessThan(100)
        expect(data.endsWith("mn\r\n")).toBe(true)
        // A quiet incr on a non-numeric value fails silently on the server; the next replies are still right.
        yield* m.set("batch:text", "abc")
        yield* m.incr("batch:text", 1, { noreply: true })
        const got = yield* m.getMany(["batch:0", "batch:99", "batch:text"])
        expect([...got.entries()]).toEqual([
          ["batch:0", 0],
          ["batch:99", 99],
          ["batch:text", "abc"]
        ])
      }).pipe(provide({ server: proxy.address }))
    })
  )

  it.live("ignoreErrors: reads against a dead server are misses; a bad key still fails typed; writes still fail", () =>
    Effect.gen(function* () {
      const port = yield* Effect.promise(() => freePort())
      yield* Effect.gen(function* () {
        const m = yield* Memcache.Memcache
        expect(yield* m.get("k")).toEqual(Option.none())
        expect((yield* m.getMany(["a", "b"])).size).toBe(0)
        expect(yield* m.gets("k")).toEqual(Option.none())
        expect((yield* m.getsMany(["a"])).size).toBe(0)
        expect(yield* m.gat("k", 10)).toEqual(Option.none())
        expect(yield* m.gats("k", 10)).toEqual(Option.none())
        const bad = yield* Effect.flip(m.get("a b"))
        expect(bad._tag).toBe("MemcacheIllegalInputError")
        const badMany = yield* Effect.flip(m.getMany(["ok", "a\nb"]))
        expect(badMany._tag).toBe("MemcacheIllegalInputError")
        const write = yield* Effect.flip(m.set("k", "v", { noreply: false }))
        expect(write._tag).toBe("MemcacheConnectionError")
      }).pipe(provide({ server: `127.0.0.1:${port}`, ignoreErrors: true }))

      // Without it, the same read fails.
      const error = yield* Effect.flip(
        Memcache.Memcache.use((m) => m.get("k")).pipe(provide({ server: `127.0.0.1:${port}` }))
      )
      expect(error._tag).toBe("MemcacheConnectionError")

      // A value the serializer cannot read is a miss too.
      yield* Effect.gen(function* () {
        const m = yield* Memcache.Memcache
        yield* Effect.promise(() => rawCommand(server(), "set ie:pickle 1 0 1\r\nx\r\n"))
        expect(yield* m.get("ie:pickle")).toEqual(Option.none())
      }).pipe(provide({ ignoreErrors: true }))
    })
  )

  it.live("ignoreErrors: a warning logged per hidden failure, naming the call; a call that succeeds logs none", () =>
    Effect.gen(function* () {
      const port = yield* Effect.promise(() => freePort())
      const warnings: Array<string> = []
      const collector = Logger.make((options) => {
        const message = [options.message].flat().map(String).join(" ")
        // The server's own "connect failed" warnings are not what this test counts.
        if (options.logLevel === "Warn" && message.includes("ignoreErrors")) warnings.push(message)
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
      yield* Memcache.Memcache.use((m) => m.get("ie:nothing")).pipe(
        provide({ ignoreErrors: true }),
        Effect.provideService(Logger.CurrentLoggers, new Set([collector]))
      )
      expect(warnings).toEqual([])
    })
  )

  it.live(
    "serializer at layer level: compressed(pymemcache) stores large values deflated (flag 8), reads them back",
    () =>
      Effect.gen(function* () {
        const m = yield* Memcache.Memcache
        const big = "memcache ".repeat(1000)
        yield* m.set("cz:big", big, { noreply: false })
        yield* m.set("cz:small", "tiny", { noreply: false })
        yield* m.set("cz:n", 12345, { noreply: false })
        const raw = yield* rawGet(server(), "cz:big")
        const header = /^VALUE cz:big (\d+) (\d+)\r\n/.exec(raw)!
        expect(Number(header[1])).toBe(16 | 8)
        expect(Number(header[2])).toBeLessThan(big.length / 10)
        expect(yield* rawGet(server(), "cz:small")).toBe("VALUE cz:small 16 4\r\ntiny\r\nEND\r\n")
        expect(yield* m.get("cz:big")).toEqual(Option.some(big))
        expect(yield* m.get("cz:small")).toEqual(Option.some("tiny"))
        expect(yield* m.get("cz:n")).toEqual(Option.some(12345))
        expect([...(yield* m.getMany(["cz:small", "cz:big"])).values()]).toEqual(["tiny", big])
      }).pipe(provide({ serializer: Serializer.compressed(Serializer.pymemcache) }))
  )

  it.live("itemSizeMax: a value one byte over fails typed with zero bytes sent; at the limit it is stored", () =>
    Effect.gen(function* () {
      const proxy = yield* proxyTo(server())
      yield* Effect.gen(function* () {
        const m = yield* Memcache.Memcache
        // itemSizeMax bounds the whole item: 59 bytes and the 4-byte key "is:a" besides a value of at most 1000.
        const error = yield* Effect.flip(m.set("is:a", new Uint8Array(1001)))
        expect(error._tag).toBe("MemcacheIllegalInputError")
        expect(error.message).toContain("1001")
        // A batch with one value too large sends nothing at all.
        const batch = yield* Effect.flip(
          m.setMany([
            ["is:ok", new Uint8Array(10)],
            ["is:big", "x".repeat(1001)]
          ])
        )
        expect(batch._tag).toBe("MemcacheIllegalInputError")
        expect(proxy.bytesFromClient).toBe(0)
        expect(proxy.acceptedConnections).toBe(0)
        expect(yield* m.set("is:a", new Uint8Array(1000), { noreply: false })).toBe(true)
        expect(yield* rawGet(server(), "is:ok")).toBe("END\r\n")
      }).pipe(provide({ server: proxy.address, itemSizeMax: 1000 + 59 + 4 }))
    })
  )

  it.live(
    "timeout per call: a short override fails alone; a connection silent for the layer's timeout is replaced",
    () =>
      Effect.gen(function* () {
        const proxy = yield* proxyTo(server())
        yield* Effect.gen(function* () {
          const m = yield* Memcache.Memcache
          yield* m.set("to:a", "a", { noreply: false })
          proxy.setMode({ _tag: "Blackhole" }) // replies are lost: the connection goes silent
          const error = yield* Effect.flip(m.get("to:a", { timeout: "150 millis" }))
          expect(error._tag).toBe("MemcacheTimeoutError")
          if (error._tag === "MemcacheTimeoutError") {
            expect(error.phase).toBe("operation")
            expect(error.millis).toBe(150)
          }
          const admin = yield* Effect.flip(m.version({ timeout: 100 }))
          expect(admin).toMatchObject({ _tag: "MemcacheTimeoutError", phase: "operation", millis: 100 })
          // Silent past the layer's timeout while replies are due: retired, and the next call reconnects.
          yield* Effect.sleep("600 millis")
          proxy.setMode({ _tag: "Pass" })
          expect(yield* m.get("to:a")).toEqual(Option.some("a"))
          expect(proxy.acceptedConnections).toBe(2)
        }).pipe(provide({ server: proxy.address, timeout: "400 millis" }))
      })
  )

  it.live("retry: a read retries through a reset and succeeds; a set does not retry unless retryUnsafe", () =>
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
      yield* Memcache.Memcache.use((m) => m.set("rt:a", "a", { noreply: false })).pipe(provide())

      yield* Effect.gen(function* () {
        const m = yield* Memcache.Memcache
        proxy.setMode({ _tag: "Reset" })
        proxy.resetCounters()
        expect(yield* m.get("rt:a")).toEqual(Option.some("a"))
        expect(seen.length).toBe(1)
        expect(["MemcacheConnectionError", "MemcacheUnexpectedCloseError"]).toContain(seen[0])
        expect(proxy.acceptedConnections).toBe(2)

        // A set is not retried: it fails, once.
        seen.length = 0
        proxy.setMode({ _tag: "Reset" })
        proxy.resetCounters()
        const error = yield* Effect.flip(m.set("rt:b", "b", { noreply: false }))
        expect(["MemcacheConnectionError", "MemcacheUnexpectedCloseError"]).toContain(error._tag)
        expect(seen.length).toBe(0)
        // Sent at most once (the old connection may still have been in use when the proxy reset it).
        expect(text(proxy.clientData()).split("set rt:b ").length - 1).toBeLessThanOrEqual(1)
        proxy.setMode({ _tag: "Pass" })
        expect(yield* m.get("rt:b")).toEqual(Option.none())
      }).pipe(provide({ server: proxy.address, retry }))

      yield* Effect.gen(function* () {
        const m = yield* Memcache.Memcache
        seen.length = 0
        proxy.setMode({ _tag: "Reset" })
        proxy.resetCounters()
        expect(yield* m.set("rt:c", "c", { noreply: false })).toBe(true)
        expect(seen.length).toBe(1)
        expect(yield* m.get("rt:c")).toEqual(Option.some("c"))
      }).pipe(provide({ server: proxy.address, retry, retryUnsafe: true }))

      // With ignoreErrors too, a read is still retried before it turns into a miss.
      yield* Effect.gen(function* () {
        const m = yield* Memcache.Memcache
        seen.length = 0
        proxy.setMode({ _tag: "Reset" })
        expect(yield* m.get("rt:a")).toEqual(Option.some("a"))
        expect(seen.length).toBe(1)
      }).pipe(provide({ server: proxy.address, retry, ignoreErrors: true }))

      // Reply errors are not retried, even for reads.
      yield* Effect.gen(function* () {
        const m = yield* Memcache.Memcache
        seen.length = 0
        const error = yield* Effect.flip(m.stats(["nonsense"]))
        expect(error._tag).toBe("MemcacheUnknownCommandError")
        expect(seen.length).toBe(0)
      }).pipe(provide({ server: proxy.address, retry }))
    })
  )

  it.live("retry with ignoreErrors: getMany is retried before a failure becomes misses", () =>
    Effect.gen(function* () {
      const proxy = yield* proxyTo(server())
      const seen: Array<string> = []
      const retry = Schedule.recurs(3).pipe(
        Schedule.tap(({ input }) =>
          Effect.sync(() => {
            seen.push((input as { _tag: string })._tag)
            proxy.setMode({ _tag: "Pass" })
          })
        )
      )
      yield* Memcache.Memcache.use((m) => m.set("rti:a", "a", { noreply: false })).pipe(provide())
      yield* Effect.gen(function* () {
        const m = yield* Memcache.Memcache
        proxy.setMode({ _tag: "Reset" })
        expect([...(yield* m.getMany(["rti:a", "rti:none"])).entries()]).toEqual([["rti:a", "a"]])
        expect(seen.length).toBe(1)
      }).pipe(provide({ server: proxy.address, retry, ignoreErrors: true }))
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

  it.live("connectTimeout: bounds authentication against a server that never answers", () =>
    Effect.gen(function* () {
      const silent = yield* silentListener
      const error = yield* Effect.flip(
        Memcache.Memcache.use((m) => m.get("k")).pipe(
          provide({
            server: silent.address,
            username: "u",
            password: Redacted.make("p"),
            connectTimeout: "200 millis",
            timeout: "30 seconds"
          })
        )
      )
      expect(error).toMatchObject({ _tag: "MemcacheTimeoutError", phase: "connect", millis: 200 })
      expect(silent.accepted()).toBe(1)
    })
  )

  it.live("timeout and connectTimeout defaults: 2 seconds and 1 second, as documented", () =>
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
        Memcache.Memcache.use((m) => m.get("k")).pipe(
          provide({ server: silent.address, tls: true, timeout: "30 seconds" })
        )
      )
      expect(connect).toMatchObject({ _tag: "MemcacheTimeoutError", phase: "connect", millis: 1000 })
    })
  )

  it.live("maxInFlight 2 behind a slow link: 50 concurrent gets all get their own value", () =>
    Effect.gen(function* () {
      const proxy = yield* proxyTo(server())
      yield* Memcache.Memcache.use((m) =>
        m.setMany(
          Array.from({ length: 50 }, (_, i) => [`mif:${i}`, `value-${i}`] as const),
          { noreply: false }
        )
      ).pipe(provide())
      proxy.setMode({ _tag: "Delay", millis: 20 })
      yield* Effect.gen(function* () {
        const m = yield* Memcache.Memcache
        const got = yield* Effect.forEach(
          Array.from({ length: 50 }, (_, i) => i),
          (i) => m.get(`mif:${i}`),
          { concurrency: "unbounded" }
        )
        expect(got.map(Option.getOrNull)).toEqual(Array.from({ length: 50 }, (_, i) => `value-${i}`))
        expect(proxy.acceptedConnections).toBe(1)
      }).pipe(provide({ server: proxy.address, maxInFlight: 2, timeout: "10 seconds" }))
    })
  )

  it.live("connections: 3 opens more than one connection under concurrent load, never more than 3", () =>
    Effect.gen(function* () {
      const proxy = yield* proxyTo(server(), { _tag: "Delay", millis: 20 })
      yield* Effect.gen(function* () {
        const m = yield* Memcache.Memcache
        yield* m.set("conn:a", "a", { noreply: false })
        for (let round = 0; round < 5; round++) {
          const got = yield* Effect.forEach(
            Array.from({ length: 50 }, (_, i) => i),
            () => m.get("conn:a"),
            { concurrency: "unbounded" }
          )
          expect(got.every((o) => Option.getOrNull(o) === "a")).toBe(true)
        }
        expect(proxy.acceptedConnections).toBeGreaterThan(1)
        expect(proxy.acceptedConnections).toBeLessThanOrEqual(3)
        // Unbatched: batching would coalesce the 50 gets of a round into one request on one connection.
      }).pipe(provide({ server: proxy.address, connections: 3, batching: false }))
    })
  )

  it.live("keepAlive: SO_KEEPALIVE on the socket by default and with true, off with false", () =>
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

  it.live("layerConfig: options from a ConfigProvider", () =>
    Effect.gen(function* () {
      const configured = MemcacheClient.layerConfig({
        server: Config.String("address"),
        keyPrefix: Config.String("prefix"),
        defaultNoreply: Config.Boolean("noreply")
      })
      yield* Effect.gen(function* () {
        const m = yield* Memcache.Memcache
        yield* m.set("k", "v")
        // noreply off: add reports the NOT_STORED.
        expect(yield* m.add("k", "w", { noreply: false })).toBe(false)
        expect(yield* rawGet(server(), "cfg:k")).toBe("VALUE cfg:k 16 1\r\nv\r\nEND\r\n")
      }).pipe(
        Effect.provide(
          configured.pipe(
            Layer.provide(
              ConfigProvider.layer(
                ConfigProvider.fromUnknown({ address: server().address, prefix: "cfg:", noreply: false })
              )
            )
          )
        )
      )

      // A whole Config of the options works too; a missing value fails the layer with a ConfigError.
      const whole = MemcacheClient.layerConfig(
        Config.all({ server: Config.String("address") }) as Config.Config<MemcacheClient.Options>
      )
      const missing = yield* Effect.flip(
        Memcache.Memcache.use((m) => m.version()).pipe(
          Effect.provide(whole.pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromUnknown({})))))
        )
      )
      expect(missing._tag).toBe("ConfigError")
    })
  )

  it.live("layerEnv: MEMCACHE_* variables, the environment winning over the options", () =>
    Effect.gen(function* () {
      const proxy = yield* proxyTo(server())
      const env = (vars: Record<string, string>) => ConfigProvider.layer(ConfigProvider.fromEnv({ env: vars }))
      yield* Effect.gen(function* () {
        const m = yield* Memcache.Memcache
        yield* m.set("k", "v")
        expect(yield* m.add("k", "w", { noreply: false })).toBe(false)
        expect(yield* rawGet(server(), "env:k")).toBe("VALUE env:k 16 1\r\nv\r\nEND\r\n")
        // MEMCACHE_PROTOCOL=meta: the set went in its meta form (acknowledged: MEMCACHE_NOREPLY=false).
        expect(proxy.clientData().toString("latin1")).toMatch(/^ms env:k 1 F16 O\d+\r\n/)
        proxy.setMode({ _tag: "Blackhole" })
        const error = yield* Effect.flip(m.get("k"))
        expect(error).toMatchObject({ _tag: "MemcacheTimeoutError", phase: "operation", millis: 300 })
        proxy.setMode({ _tag: "Pass" })
      }).pipe(
        Effect.provide(
          MemcacheClient.layerEnv({ server: "127.0.0.1:1", keyPrefix: "opt:", timeout: "20 seconds" }).pipe(
            Layer.provide(
              env({
                MEMCACHE_SERVERS: ` ${proxy.address} `,
                MEMCACHE_KEY_PREFIX: "env:",
                MEMCACHE_NOREPLY: "false",
                MEMCACHE_TIMEOUT: "300 millis",
                MEMCACHE_CONNECTIONS: "2",
                MEMCACHE_PROTOCOL: "meta"
              })
            )
          )
        )
      )

      // An empty environment leaves the options as given.
      yield* Effect.gen(function* () {
        const m = yield* Memcache.Memcache
        yield* m.set("k", "o", { noreply: false })
        expect(yield* rawGet(server(), "opt:k")).toBe("VALUE opt:k 16 1\r\no\r\nEND\r\n")
      }).pipe(
        Effect.provide(
          MemcacheClient.layerEnv({ server: server().address, keyPrefix: "opt:" }).pipe(Layer.provide(env({})))
        )
      )

      // Several servers are refused by the single-server layer (MemcacheCluster.layerEnv takes them).
      const several = yield* Effect.flip(
        Memcache.Memcache.use((m) => m.version()).pipe(
          Effect.provide(
            MemcacheClient.layerEnv().pipe(Layer.provide(env({ MEMCACHE_SERVERS: `${server().address},127.0.0.1:1` })))
          )
        )
      )
      expect(several).toMatchObject({ _tag: "MemcacheIllegalInputError", field: "server" })

      // A malformed variable is a ConfigError.
      const bad = yield* Effect.flip(
        Memcache.Memcache.use((m) => m.version()).pipe(
          Effect.provide(MemcacheClient.layerEnv().pipe(Layer.provide(env({ MEMCACHE_CONNECTIONS: "many" }))))
        )
      )
      expect(bad._tag).toBe("ConfigError")
      const unknownProtocol = yield* Effect.flip(
        Memcache.Memcache.use((m) => m.version()).pipe(
          Effect.provide(MemcacheClient.layerEnv().pipe(Layer.provide(env({ MEMCACHE_PROTOCOL: "binary" }))))
        )
      )
      expect(unknownProtocol._tag).toBe("ConfigError")
    })
  )
})
