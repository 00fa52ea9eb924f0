/**
 * What only the in-memory layer has (the behaviour it shares with memcached is in Conformance.test.ts): the
 * layer itself, a shared server, exact expiry under TestClock, the memory limit with LRU eviction, faults, and
 * atomicity under concurrency. The meta commands of its server are in MemoryServer.test.ts.
 */
import { describe, expect, it } from "@effect/vitest"
import { Memcache, MemcacheError, MemcacheMemory, Serializer } from "@effect-memcache/client"
import { Effect, Fiber, Option, Schedule } from "effect"
import { TestClock } from "effect/testing"

const filler = (n: number) => new Uint8Array(n).fill(0x78)

describe("MemcacheMemory", () => {
  it.effect("layer: provides the Memcache service", () =>
    Effect.gen(function* () {
      const cache = yield* Memcache.Memcache
      yield* cache.set("k", "v")
      expect(yield* cache.get("k")).toEqual(Option.some("v"))
      expect(yield* cache.version()).toBe("1.6.18-memory")
    }).pipe(Effect.provide(MemcacheMemory.layer()))
  )

  it.effect("each layer has its own server; `server` shares one between clients", () =>
    Effect.gen(function* () {
      const a = yield* MemcacheMemory.make()
      const b = yield* MemcacheMemory.make()
      yield* a.set("k", "a")
      expect(yield* b.get("k")).toEqual(Option.none())
      const server = yield* MemcacheMemory.makeServer({ version: "custom" })
      const c = yield* MemcacheMemory.make({ server, keyPrefix: "c:" })
      const d = yield* MemcacheMemory.make({ server })
      yield* c.set("k", "c")
      expect(yield* d.get("c:k")).toEqual(Option.some("c"))
      expect(server.size).toBe(1)
      expect(yield* d.version()).toBe("custom")
    })
  )

  it.effect("expiry follows Effect's Clock to the second", () =>
    Effect.gen(function* () {
      const cache = yield* MemcacheMemory.make()
      yield* cache.set("k", "v", { ttl: "10 seconds" })
      yield* TestClock.adjust("9 seconds")
      expect(yield* cache.get("k")).toEqual(Option.some("v"))
      yield* TestClock.adjust("1 second")
      expect(yield* cache.get("k")).toEqual(Option.none())
      // More than 30 days is an absolute unix time, computed by the client from the same clock.
      yield* cache.set("month", "v", { ttl: "40 days" })
      yield* TestClock.adjust("39 days")
      expect(yield* cache.get("month")).toEqual(Option.some("v"))
      yield* TestClock.adjust("1 day")
      expect(yield* cache.get("month")).toEqual(Option.none())
      const stats = yield* cache.stats()
      expect(stats.get("get_expired")).toBe(2)
      expect(stats.get("uptime")).toBe(10 + 40 * 86400)
    })
  )

  it.effect("flush_all with a delay: fires delay - 1 seconds later; writes in that second vanish", () =>
    Effect.gen(function* () {
      const cache = yield* MemcacheMemory.make({ defaultNoreply: false })
      yield* cache.set("old", "v")
      yield* cache.flushAll({ delay: "2 seconds" })
      expect(yield* cache.get("old")).toEqual(Option.some("v"))
      yield* TestClock.adjust("1 second")
      expect(yield* cache.get("old")).toEqual(Option.none())
      yield* cache.set("new", "v")
      expect(yield* cache.get("new")).toEqual(Option.none()) // as memcached: oldest_live is this very second
      yield* TestClock.adjust("1 second")
      yield* cache.set("new", "v")
      expect(yield* cache.get("new")).toEqual(Option.some("v"))
      expect((yield* cache.stats()).get("get_flushed")).toBe(2)
    })
  )

  it.effect("memoryLimit: least recently used items are evicted, too large for the limit is refused", () =>
    Effect.gen(function* () {
      const itemSize = 59 + 2 + 10 // as memcached counts: header + key + value
      const cache = (yield* MemcacheMemory.make({ memoryLimit: 3 * itemSize, defaultNoreply: false })).withSerializer(
        Serializer.bytes
      )
      for (const key of ["k1", "k2", "k3"]) yield* cache.set(key, filler(10))
      yield* cache.get("k1") // k2 is now the least recently used
      yield* cache.set("k4", filler(10))
      const left = yield* cache.getMany(["k1", "k2", "k3", "k4"])
      expect([...left.keys()]).toEqual(["k1", "k3", "k4"])
      const stats = yield* cache.stats()
      expect(stats.get("evictions")).toBe(1)
      expect(stats.get("bytes")).toBe(3 * itemSize)
      expect(stats.get("limit_maxbytes")).toBe(3 * itemSize)
      expect(yield* Effect.flip(cache.set("big", filler(4 * itemSize), { noreply: false }))).toMatchObject({
        _tag: "MemcacheServerError",
        text: "out of memory storing object"
      })
      // cache_memlimit moves the limit.
      yield* cache.cacheMemlimit(8)
      expect((yield* cache.stats()).get("limit_maxbytes")).toBe(8 * 1024 * 1024)
      expect(yield* cache.set("big", filler(4 * itemSize), { noreply: false })).toBe(true)
    })
  )

  it.effect("faults by command: fail, answer with an error reply; other commands pass", () =>
    Effect.gen(function* () {
      const refused = new MemcacheError.MemcacheConnectionError({ server: "memory", reason: "refused", detail: "test" })
      const cache = yield* MemcacheMemory.make({
        defaultNoreply: false,
        faults: {
          get: { fail: refused },
          add: { reply: { _tag: "ServerError", text: "out of memory storing object" } }
        }
      })
      expect(yield* cache.set("k", "v", { noreply: false })).toBe(true)
      expect(yield* Effect.flip(cache.get("k"))).toBe(refused)
      expect(yield* Effect.flip(cache.add("x", "v", { noreply: false }))).toMatchObject({
        _tag: "MemcacheServerError",
        text: "out of memory storing object"
      })
      expect(Option.map(yield* cache.gets("k"), (c) => c.value)).toEqual(Option.some("v"))
      expect(yield* cache.get("x").pipe(Effect.catch(() => Effect.succeedNone))).toEqual(Option.none())
      // ignoreErrors turns the failed read into a miss.
      const lenient = yield* MemcacheMemory.make({ ignoreErrors: true, faults: { get: { fail: refused } } })
      expect(yield* lenient.get("k")).toEqual(Option.none())
    })
  )

  it.effect("faults: a delay within the timeout answers late; one past it is a timeout and nothing is applied", () =>
    Effect.gen(function* () {
      const cache = yield* MemcacheMemory.make({
        defaultNoreply: false,
        timeout: "1 second",
        faults: { set: { delay: "500 millis" }, add: { delay: "5 seconds" } }
      })
      const slow = yield* Effect.forkChild(cache.set("k", "v", { noreply: false }))
      yield* TestClock.adjust("499 millis")
      expect(slow.pollUnsafe()).toBeUndefined()
      yield* TestClock.adjust("1 millis")
      expect(yield* Fiber.join(slow)).toBe(true)
      const late = yield* Effect.forkChild(Effect.flip(cache.add("a", "v")))
      yield* TestClock.adjust("1 second")
      expect(yield* Fiber.join(late)).toMatchObject({ _tag: "MemcacheTimeoutError", phase: "operation", millis: 1000 })
      expect(yield* cache.get("a")).toEqual(Option.none())
    })
  )

  it.effect("faults as a function: fail only the next get; retried by the surface's schedule", () =>
    Effect.gen(function* () {
      let failures = 1
      const faults: MemcacheMemory.Faults = (_command, name) => {
        if (name !== "get" || failures === 0) return undefined
        failures--
        return { fail: new MemcacheError.MemcacheTimeoutError({ server: "memory", phase: "operation", millis: 1 }) }
      }
      const cache = yield* MemcacheMemory.make({ faults })
      yield* cache.set("k", "v")
      expect((yield* Effect.flip(cache.get("k")))._tag).toBe("MemcacheTimeoutError")
      expect(yield* cache.get("k")).toEqual(Option.some("v"))
      failures = 2
      const retrying = yield* MemcacheMemory.make({ faults, retry: Schedule.recurs(2) })
      expect(yield* retrying.get("k")).toEqual(Option.none()) // a fresh server: retried into a miss
      expect(failures).toBe(0)
    })
  )

  it.effect("many fibers doing gets/cas loops never lose an update", () =>
    Effect.gen(function* () {
      const cache = yield* MemcacheMemory.make({ defaultNoreply: false })
      yield* cache.set("n", 0)
      const increment: Effect.Effect<void, unknown> = Effect.gen(function* () {
        const current = Option.getOrThrow(yield* cache.gets("n"))
        yield* Effect.yieldNow
        const result = yield* cache.cas("n", Number(current.value) + 1, current.cas)
        if (result !== "Stored") return yield* increment
      })
      yield* Effect.forEach(
        Array.from({ length: 30 }, (_, i) => i),
        () => increment,
        {
          concurrency: "unbounded",
          discard: true
        }
      )
      expect(yield* cache.get("n")).toEqual(Option.some(30))
      expect((yield* cache.stats()).get("cas_badval")).toBeGreaterThan(0)
    })
  )
})
