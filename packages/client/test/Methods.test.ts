/**
 * Every method of `MemcacheShape` against a real memcached 1.6.18, with the server inspected directly
 * (`rawCommand`) wherever the client's own answer could hide a mistake.
 */
import { describe, expect, it } from "@effect/vitest"
import { Memcache, MemcacheClient, Serializer } from "@effect-memcache/client"
import { Effect, Option, Schema } from "effect"
import { startFaultProxy } from "../../../testing/FaultProxy.ts"
import { type MemcachedServer, rawCommand, startMemcached, useMemcached } from "../../../testing/Memcached.ts"
import { rawGet } from "../../../testing/Scoped.ts"

const text = (b: Buffer) => b.toString("latin1")
const raw = (server: MemcachedServer, line: string) => Effect.promise(() => rawCommand(server, line).then(text))
/** The remaining ttl of `key` as the server reports it (`mg <key> t`): -1 for never, undefined for a miss. */
const ttlOf = (server: MemcachedServer, key: string) =>
  Effect.map(raw(server, `mg ${key} t\r\n`), (line) => {
    if (line.startsWith("EN")) return undefined
    const match = /^HD t(-?\d+)\r\n$/.exec(line)
    if (match === null) throw new Error(`unexpected mg reply ${JSON.stringify(line)}`)
    return Number(match[1])
  })

const U64_MAX = 18446744073709551615n

describe("MemcacheShape against memcached", () => {
  const server = useMemcached()
  const provide = (options: MemcacheClient.Options = {}) =>
    Effect.provide(MemcacheClient.layer({ server: server().address, ...options }))

  it.live("get / set: each value type round-trips, a miss is None, noreply and acknowledged sets both store", () =>
    Effect.gen(function* () {
      const m = yield* Memcache.Memcache
      expect(yield* m.set("m:str", "héllo", { noreply: false })).toBe(true)
      expect(yield* m.set("m:int", 42, { noreply: false })).toBe(true)
      expect(yield* m.set("m:big", 2n ** 70n, { noreply: true })).toBeUndefined()
      expect(yield* m.set("m:bytes", Uint8Array.of(0, 13, 10, 255), { noreply: false })).toBe(true)
      expect(yield* m.get("m:str")).toEqual(Option.some("héllo"))
      expect(yield* m.get("m:int")).toEqual(Option.some(42))
      expect(yield* m.get("m:big")).toEqual(Option.some(2n ** 70n))
      const bytes = Option.getOrThrow(yield* m.get("m:bytes"))
      expect(bytes).toBeInstanceOf(Uint8Array)
      expect(Array.from(bytes as Uint8Array)).toEqual([0, 13, 10, 255])
      expect(yield* m.get("m:missing")).toEqual(Option.none())
      // What the server holds: pymemcache flags (text 16, integer 2) and the raw bytes.
      expect(yield* rawGet(server(), "m:str")).toBe("VALUE m:str 16 6\r\nhéllo\r\nEND\r\n".replace("é", "\xc3\xa9"))
      expect(yield* rawGet(server(), "m:int")).toBe("VALUE m:int 2 2\r\n42\r\nEND\r\n")
      // A ttl really reaches the server; no ttl means never expires.
      yield* m.set("m:ttl", "x", { ttl: "100 seconds", noreply: false })
      const ttl = yield* ttlOf(server(), "m:ttl")
      expect(ttl).toBeGreaterThan(90)
      expect(ttl).toBeLessThanOrEqual(100)
      expect(yield* ttlOf(server(), "m:str")).toBe(-1)
      // Over 30 days: sent as an absolute unix time from the Clock, which the server shows as remaining seconds.
      yield* m.set("m:month", "x", { ttl: "40 days", noreply: false })
      const month = yield* ttlOf(server(), "m:month")
      expect(month).toBeGreaterThan(40 * 86400 - 60)
      // The server's clock ticks once a second, so its count of what remains can be one second over (seen).
      expect(month).toBeLessThanOrEqual(40 * 86400 + 1)
      // Explicit flags override the serializer's.
      yield* m.set("m:flags", Uint8Array.of(0x61), { flags: 0, noreply: false })
      expect(yield* rawGet(server(), "m:flags")).toBe("VALUE m:flags 0 1\r\na\r\nEND\r\n")
    }).pipe(provide())
  )

  it.live("values larger than one socket read come back byte for byte (get, gets, getMany)", () =>
    Effect.gen(function* () {
      const m = yield* Memcache.Memcache
      // Byte i is i mod 251: any shift or overwrite of a part shows.
      const pattern = (size: number) => new Uint8Array(size).map((_, i) => i % 251)
      const same = (got: Option.Option<unknown>, expected: Uint8Array) => {
        const bytes = Option.getOrThrow(got) as Uint8Array
        expect(bytes.length).toBe(expected.length)
        expect(Buffer.compare(Buffer.from(bytes), Buffer.from(expected))).toBe(0)
      }
      for (const size of [65_536, 70_000, 300_000, 1_000_000]) {
        const value = pattern(size)
        yield* m.set(`big:${size}`, value, { noreply: false })
        same(yield* m.get(`big:${size}`), value)
        same(
          Option.map(yield* m.gets(`big:${size}`), (c) => c.value),
          value
        )
      }
      const many = yield* m.getMany(["big:70000", "big:300000"])
      same(Option.fromNullishOr(many.get("big:70000")), pattern(70_000))
      same(Option.fromNullishOr(many.get("big:300000")), pattern(300_000))
    }).pipe(provide())
  )

  it.live("getMany: hits and misses mixed, a key given twice in the map once, the order asked for", () =>
    Effect.gen(function* () {
      const m = yield* Memcache.Memcache
      yield* m.set("gm:a", "A", { noreply: false })
      yield* m.set("gm:c", "C", { noreply: false })
      yield* m.set("gm:b", "B", { noreply: false })
      const got = yield* m.getMany(["gm:c", "gm:x", "gm:a", "gm:c", "gm:y", "gm:b", "gm:a"])
      expect([...got.entries()]).toEqual([
        ["gm:c", "C"],
        ["gm:a", "A"],
        ["gm:b", "B"]
      ])
      expect((yield* m.getMany(["gm:none1", "gm:none2"])).size).toBe(0)
      expect((yield* m.getMany([])).size).toBe(0)
      // Any iterable.
      const fromSet = yield* m.getMany(new Set(["gm:b", "gm:a"]))
      expect([...fromSet.keys()]).toEqual(["gm:b", "gm:a"])
    }).pipe(provide())
  )

  it.live("getMany / getsMany over 3000 keys: split into several get lines, every hit in order", () =>
    Effect.gen(function* () {
      const proxy = yield* Effect.promise(() => startFaultProxy({ target: server() }))
      yield* Effect.addFinalizer(() => Effect.promise(() => proxy.close()))
      yield* Effect.gen(function* () {
        const m = yield* Memcache.Memcache
        const keys = Array.from({ length: 3000 }, (_, i) => `many:${String(i).padStart(5, "0")}`)
        // Every third key is a miss.
        const stored = keys.filter((_, i) => i % 3 !== 0)
        expect(
          yield* m.setMany(
            stored.map((k) => [k, `v-${k}`] as const),
            { noreply: false }
          )
        ).toEqual([])
        proxy.resetCounters()
        const asked = [...keys].reverse()
        const got = yield* m.getMany(asked)
        expect(got.size).toBe(stored.length)
        expect([...got.keys()]).toEqual(asked.filter((k) => stored.includes(k)))
        for (const [k, v] of got) expect(v).toBe(`v-${k}`)
        const lines = text(proxy.clientData())
          .split("\r\n")
          .filter((l) => l.startsWith("get "))
        // 3000 keys of 11 bytes are ~36 KB of get line: more than one line (KeyList.splitKeys), none over 16 KiB,
        // and every key asked exactly once.
        expect(lines.length).toBeGreaterThan(1)
        for (const line of lines) expect(line.length + 2).toBeLessThanOrEqual(16384)
        expect(lines.flatMap((l) => l.split(" ").slice(1)).sort()).toEqual([...keys].sort())

        const withCas = yield* m.getsMany(asked)
        expect(withCas.size).toBe(stored.length)
        expect([...withCas.keys()]).toEqual([...got.keys()])
        for (const [k, v] of withCas) {
          expect(v.value).toBe(`v-${k}`)
          expect(v.cas).toBeGreaterThan(0n)
        }
      }).pipe(provide({ server: proxy.address }))
    })
  )

  it.live("gets / getsMany: the CAS unique the server holds", () =>
    Effect.gen(function* () {
      const m = yield* Memcache.Memcache
      yield* m.set("gs:a", "one", { noreply: false })
      yield* m.set("gs:b", "two", { noreply: false })
      const a = Option.getOrThrow(yield* m.gets("gs:a"))
      expect(a.value).toBe("one")
      const mg = yield* raw(server(), "mg gs:a c\r\n")
      expect(mg).toBe(`HD c${a.cas}\r\n`)
      expect(yield* m.gets("gs:none")).toEqual(Option.none())
      const many = yield* m.getsMany(["gs:b", "gs:none", "gs:a"])
      expect([...many.keys()]).toEqual(["gs:b", "gs:a"])
      expect(many.get("gs:a")).toEqual({ value: "one", cas: a.cas, flags: 16 })
      expect(many.get("gs:b")!.cas).not.toBe(a.cas)
      // A write changes the unique.
      yield* m.set("gs:a", "uno", { noreply: false })
      const after = Option.getOrThrow(yield* m.gets("gs:a"))
      expect(after.cas).not.toBe(a.cas)
    }).pipe(provide())
  )

  it.live("gat / gats: return the value and really set the ttl (checked with mg t)", () =>
    Effect.gen(function* () {
      const m = yield* Memcache.Memcache
      yield* m.set("gat:a", "va", { noreply: false })
      yield* m.set("gat:b", "vb", { noreply: false })
      expect(yield* ttlOf(server(), "gat:a")).toBe(-1)
      expect(yield* m.gat("gat:a", "500 seconds")).toEqual(Option.some("va"))
      const ttlA = yield* ttlOf(server(), "gat:a")
      expect(ttlA).toBeGreaterThan(490)
      expect(ttlA).toBeLessThanOrEqual(500)
      expect(yield* m.gat("gat:none", "10 seconds")).toEqual(Option.none())

      const before = Option.getOrThrow(yield* m.gets("gat:b"))
      const gats = Option.getOrThrow(yield* m.gats("gat:b", "700 seconds"))
      expect(gats.value).toBe("vb")
      // gat does not change the CAS unique.
      expect(gats.cas).toBe(before.cas)
      const ttlB = yield* ttlOf(server(), "gat:b")
      expect(ttlB).toBeGreaterThan(690)
      expect(ttlB).toBeLessThanOrEqual(700)
      expect(yield* m.gats("gat:none", "10 seconds")).toEqual(Option.none())
      // A ttl of zero makes it permanent again.
      yield* m.gat("gat:a", 0)
      expect(yield* ttlOf(server(), "gat:a")).toBe(-1)
      // More than 30 days: sent as an absolute unix time, which the server shows as the remaining seconds.
      yield* m.gat("gat:a", "40 days")
      const ttlLong = (yield* ttlOf(server(), "gat:a"))!
      expect(ttlLong).toBeGreaterThan(40 * 86400 - 10)
      expect(ttlLong).toBeLessThanOrEqual(40 * 86400 + 1)
    }).pipe(provide())
  )

  it.live("setMany: stores every entry with noreply false and true, and returns no failed keys", () =>
    Effect.gen(function* () {
      const m = yield* Memcache.Memcache
      const entries = Array.from({ length: 50 }, (_, i) => [`sm:${i}`, i] as const)
      expect(yield* m.setMany(entries, { noreply: false })).toEqual([])
      const got = yield* m.getMany(entries.map(([k]) => k))
      expect([...got.entries()]).toEqual(entries)
      const texts = Array.from({ length: 50 }, (_, i) => [`smq:${i}`, `t${i}`] as const)
      expect(yield* m.setMany(texts, { noreply: false })).toEqual([])
      expect(yield* m.setMany(texts, { noreply: true, ttl: "300 seconds" })).toBeUndefined()
      expect([...(yield* m.getMany(texts.map(([k]) => k))).entries()]).toEqual(texts)
      const ttl = yield* ttlOf(server(), "smq:7")
      expect(ttl).toBeGreaterThan(290)
      expect(yield* m.setMany([], { noreply: false })).toEqual([])
    }).pipe(provide())
  )

  it.live("add / replace / append / prepend: true and false outcomes (acknowledged), and what the server holds", () =>
    Effect.gen(function* () {
      const m = yield* Memcache.Memcache
      const ack = { noreply: false } as const
      expect(yield* m.add("ar:a", "first", ack)).toBe(true)
      expect(yield* m.add("ar:a", "second", ack)).toBe(false)
      expect(yield* m.get("ar:a")).toEqual(Option.some("first"))
      expect(yield* m.replace("ar:none", "x", ack)).toBe(false)
      expect(yield* m.get("ar:none")).toEqual(Option.none())
      expect(yield* m.replace("ar:a", "replaced", ack)).toBe(true)
      expect(yield* m.get("ar:a")).toEqual(Option.some("replaced"))
      expect(yield* m.append("ar:none", "x", ack)).toBe(false)
      expect(yield* m.prepend("ar:none", "x", ack)).toBe(false)
      expect(yield* m.append("ar:a", "-tail", ack)).toBe(true)
      expect(yield* m.prepend("ar:a", "head-", ack)).toBe(true)
      expect(yield* m.get("ar:a")).toEqual(Option.some("head-replaced-tail"))
      // With the default noreply the outcome is unknown, and none is claimed; the server still did the right thing.
      expect(yield* m.add("ar:a", "ignored")).toBeUndefined()
      expect(yield* m.replace("ar:none2", "ignored")).toBeUndefined()
      expect(yield* m.get("ar:a")).toEqual(Option.some("head-replaced-tail"))
      expect(yield* m.get("ar:none2")).toEqual(Option.none())
    }).pipe(provide())
  )

  it.live("cas: Stored, Exists with a stale unique, NotFound for a missing key", () =>
    Effect.gen(function* () {
      const m = yield* Memcache.Memcache
      yield* m.set("cas:a", "v1", { noreply: false })
      const first = Option.getOrThrow(yield* m.gets("cas:a"))
      expect(yield* m.cas("cas:a", "v2", first.cas)).toBe("Stored")
      expect(yield* m.get("cas:a")).toEqual(Option.some("v2"))
      expect(yield* m.cas("cas:a", "v3", first.cas)).toBe("Exists")
      expect(yield* m.get("cas:a")).toEqual(Option.some("v2"))
      expect(yield* m.cas("cas:none", "v", first.cas)).toBe("NotFound")
      expect(yield* m.get("cas:none")).toEqual(Option.none())
      // The reply is waited for even though the layer's default noreply is true.
      const second = Option.getOrThrow(yield* m.gets("cas:a"))
      expect(yield* m.cas("cas:a", "v4", second.cas, { ttl: "200 seconds" })).toBe("Stored")
      expect(yield* ttlOf(server(), "cas:a")).toBeGreaterThan(190)
    }).pipe(provide())
  )

  it.live("delete / deleteMany", () =>
    Effect.gen(function* () {
      const m = yield* Memcache.Memcache
      yield* m.set("del:a", "a", { noreply: false })
      expect(yield* m.delete("del:a", { noreply: false })).toBe(true)
      expect(yield* m.delete("del:a", { noreply: false })).toBe(false)
      expect(yield* m.get("del:a")).toEqual(Option.none())
      yield* m.set("del:b", "b", { noreply: false })
      expect(yield* m.delete("del:b", { noreply: false })).toBe(true)
      expect(yield* m.get("del:b")).toEqual(Option.none())
      expect(yield* m.delete("del:never", { noreply: false })).toBe(false)
      expect(yield* m.delete("del:never")).toBeUndefined() // noreply: no outcome claimed

      const keys = Array.from({ length: 20 }, (_, i) => `delm:${i}`)
      yield* m.setMany(
        keys.map((k) => [k, k] as const),
        { noreply: false }
      )
      yield* m.set("delm:keep", "keep", { noreply: false })
      yield* m.deleteMany([...keys.slice(0, 10), "delm:0", "delm:missing"])
      yield* m.deleteMany(keys.slice(10), { noreply: false })
      expect((yield* m.getMany([...keys, "delm:keep"])).size).toBe(1)
      expect(yield* m.get("delm:keep")).toEqual(Option.some("keep"))
      yield* m.deleteMany([])
    }).pipe(provide())
  )

  it.live("incr / decr: bigint results, wrap at 2^64, floor at 0, NotFound is None", () =>
    Effect.gen(function* () {
      const m = yield* Memcache.Memcache
      yield* m.set("n:a", 10, { noreply: false })
      expect(yield* m.incr("n:a", 5)).toEqual(Option.some(15n))
      expect(yield* m.incr("n:a", 2n ** 40n)).toEqual(Option.some(2n ** 40n + 15n))
      expect(yield* m.decr("n:a", 2n ** 40n)).toEqual(Option.some(15n))
      expect(yield* m.decr("n:a", 100)).toEqual(Option.some(0n))
      expect(yield* m.get("n:a")).toEqual(Option.some(0))

      yield* m.set("n:max", U64_MAX, { noreply: false })
      expect(yield* m.incr("n:max", 1)).toEqual(Option.some(0n))
      yield* m.set("n:max", U64_MAX - 1n, { noreply: false })
      expect(yield* m.incr("n:max", 1n)).toEqual(Option.some(U64_MAX))
      expect(yield* m.get("n:max")).toEqual(Option.some(U64_MAX))
      expect(yield* m.incr("n:max", U64_MAX)).toEqual(Option.some(U64_MAX - 1n))

      expect(yield* m.incr("n:none", 1)).toEqual(Option.none())
      expect(yield* m.decr("n:none", 1)).toEqual(Option.none())
      expect(yield* m.get("n:none")).toEqual(Option.none())

      // decr that shortens the number: the server pads the stored value with a space; reading it still works.
      yield* m.set("n:pad", 100, { noreply: false })
      expect(yield* m.decr("n:pad", 1)).toEqual(Option.some(99n))
      expect(yield* rawGet(server(), "n:pad")).toBe("VALUE n:pad 2 3\r\n99 \r\nEND\r\n")
      expect(yield* m.get("n:pad")).toEqual(Option.some(99))

      // noreply: the server does the work, the caller learns nothing.
      expect(yield* m.incr("n:pad", 1, { noreply: true })).toBeUndefined()
      expect(yield* m.incr("n:pad", 0, { noreply: false })).toEqual(Option.some(100n))
    }).pipe(provide())
  )

  it.live("touch: true and the new ttl on the server; false for a missing key", () =>
    Effect.gen(function* () {
      const m = yield* Memcache.Memcache
      yield* m.set("t:a", "a", { noreply: false })
      expect(yield* m.touch("t:a", "300 seconds", { noreply: false })).toBe(true)
      const ttl = yield* ttlOf(server(), "t:a")
      expect(ttl).toBeGreaterThan(290)
      expect(ttl).toBeLessThanOrEqual(300)
      expect(yield* m.touch("t:none", "300 seconds", { noreply: false })).toBe(false)
      expect(yield* m.touch("t:a", "900 seconds", { noreply: false })).toBe(true)
      expect(yield* ttlOf(server(), "t:a")).toBeGreaterThan(890)
      // A sub-second ttl is rounded up to one second, never to 0 (which would mean "never expires").
      expect(yield* m.touch("t:a", "10 millis", { noreply: false })).toBe(true)
      const short = yield* ttlOf(server(), "t:a")
      expect(short === undefined || (short >= 0 && short <= 1)).toBe(true)
    }).pipe(provide())
  )

  it.live("stats: general, settings, items, slabs, reset, detail on/off, cachedump", () =>
    Effect.gen(function* () {
      const m = yield* Memcache.Memcache
      yield* m.set("st:a", "a", { noreply: false })
      const general = yield* m.stats()
      expect(general.get("pid")).toBe(server().pid)
      expect(general.get("version")).toBe("1.6.18")
      expect(typeof general.get("rusage_user")).toBe("number")
      expect(general.get("curr_items") as number).toBeGreaterThanOrEqual(1)

      const settings = yield* m.stats(["settings"])
      expect(settings.get("item_size_max")).toBe(1048576)
      expect(settings.get("maxconns")).toBe(1024)
      expect(settings.get("evictions")).toBe("on")

      const items = yield* m.stats(["items"])
      const numbers = [...items.keys()].filter((k) => /^items:\d+:number$/.test(k))
      expect(numbers.length).toBeGreaterThan(0)

      const slabs = yield* m.stats(["slabs"])
      expect(slabs.get("active_slabs") as number).toBeGreaterThan(0)
      expect(typeof slabs.get("total_malloced")).toBe("number")

      // `detail on` answers OK (an empty map); `detail dump` answers PREFIX lines, kept whole.
      expect((yield* m.stats(["detail", "on"])).size).toBe(0)
      yield* m.get("stpfx:a")
      yield* m.get("stpfx:b")
      yield* m.set("stpfx:c", "c", { noreply: false })
      const dump = yield* m.stats(["detail", "dump"])
      expect([...dump.values()]).toContain("PREFIX stpfx get 2 hit 0 set 1 del 0")
      expect((yield* m.stats(["detail", "off"])).size).toBe(0)

      expect((yield* m.get("st:a")).pipe(Option.isSome)).toBe(true)
      expect(((yield* m.stats()).get("get_hits") as number) > 0).toBe(true)
      const reset = yield* m.stats(["reset"])
      expect(reset.size).toBe(0)
      expect((yield* m.stats()).get("get_hits")).toBe(0)
    }).pipe(provide())
  )

  it.live("version: the server's version line", () =>
    Effect.gen(function* () {
      const m = yield* Memcache.Memcache
      const version = yield* m.version()
      expect(version).toBe("1.6.18")
      expect(yield* raw(server(), "version\r\n")).toBe(`VERSION ${version}\r\n`)
    }).pipe(provide())
  )

  it.live("verbosity: OK (acknowledged and noreply), visible in stats settings", () =>
    Effect.gen(function* () {
      const m = yield* Memcache.Memcache
      expect(yield* m.verbosity(2, { noreply: false })).toBeUndefined()
      expect((yield* m.stats(["settings"])).get("verbosity")).toBe(2)
      expect(yield* m.verbosity(0)).toBeUndefined()
      expect((yield* m.stats(["settings"])).get("verbosity")).toBe(0)
    }).pipe(provide())
  )

  it.live("cacheMemlimit: OK changes maxbytes; MEMLIMIT_TOO_SMALL is a typed MemcacheClientError", () =>
    Effect.gen(function* () {
      const m = yield* Memcache.Memcache
      expect(yield* m.cacheMemlimit(100)).toBeUndefined()
      expect((yield* m.stats(["settings"])).get("maxbytes")).toBe(100 * 1024 * 1024)
      const error = yield* Effect.flip(m.cacheMemlimit(4))
      expect(error._tag).toBe("MemcacheClientError")
      expect(error.message).toContain("MEMLIMIT_TOO_SMALL")
      expect((yield* m.stats(["settings"])).get("maxbytes")).toBe(100 * 1024 * 1024)
      expect(yield* m.cacheMemlimit(64)).toBeUndefined()
      // The connection is still in step.
      expect(yield* m.version()).toBe("1.6.18")
    }).pipe(provide())
  )

  it.live("quit: closes the connection; the next call reconnects and works", () =>
    Effect.gen(function* () {
      const proxy = yield* Effect.promise(() => startFaultProxy({ target: server() }))
      yield* Effect.addFinalizer(() => Effect.promise(() => proxy.close()))
      yield* Effect.gen(function* () {
        const m = yield* Memcache.Memcache
        yield* m.set("q:a", "a", { noreply: false })
        expect(proxy.acceptedConnections).toBe(1)
        yield* m.quit()
        // The server closes on quit: the proxy sees the connection go.
        yield* Effect.promise(async () => {
          for (let i = 0; i < 200 && proxy.connections > 0; i++) await new Promise((r) => setTimeout(r, 10))
        })
        expect(proxy.connections).toBe(0)
        expect(text(proxy.clientData())).toContain("quit\r\n")
        expect(yield* m.get("q:a")).toEqual(Option.some("a"))
        expect(proxy.acceptedConnections).toBe(2)
        // quit with no connection open is harmless.
        yield* m.quit()
        yield* m.quit()
        expect(yield* m.get("q:a")).toEqual(Option.some("a"))
      }).pipe(provide({ server: proxy.address }))
    })
  )

  it.live("shutdown without -A: MemcacheUnknownCommandError, and the server keeps running", () =>
    Effect.gen(function* () {
      const m = yield* Memcache.Memcache
      const error = yield* Effect.flip(m.shutdown())
      expect(error._tag).toBe("MemcacheUnknownCommandError")
      expect(error.message).toContain("shutdown not enabled")
      expect(server().running).toBe(true)
      expect(yield* m.version()).toBe("1.6.18")
    }).pipe(provide())
  )

  it.live("withSerializer: a typed JSON view over the same connection", () =>
    Effect.gen(function* () {
      const m = yield* Memcache.Memcache
      const User = Schema.Struct({ name: Schema.String, age: Schema.Number })
      const users = m.withSerializer(Serializer.json(User))
      expect(yield* users.set("ws:u1", { name: "Ada", age: 36 }, { noreply: false })).toBe(true)
      expect(yield* users.get("ws:u1")).toEqual(Option.some({ name: "Ada", age: 36 }))
      expect(yield* rawGet(server(), "ws:u1")).toBe('VALUE ws:u1 16 23\r\n{"name":"Ada","age":36}\r\nEND\r\n')
      // The untyped view reads the JSON as text (flags 16).
      expect(yield* m.get("ws:u1")).toEqual(Option.some('{"name":"Ada","age":36}'))
      // JSON that does not fit the schema fails typed.
      yield* m.set("ws:bad", '{"name":1}', { noreply: false })
      const error = yield* Effect.flip(users.get("ws:bad"))
      expect(error._tag).toBe("MemcacheSerializationError")
      const gets = Option.getOrThrow(yield* users.gets("ws:u1"))
      expect(yield* users.cas("ws:u1", { name: "Ada", age: 37 }, gets.cas)).toBe("Stored")
      expect([...(yield* users.getMany(["ws:u1", "ws:none"])).entries()]).toEqual([["ws:u1", { name: "Ada", age: 37 }]])
      // A view of a view.
      const strings = users.withSerializer(Serializer.string)
      expect(yield* strings.get("ws:u1")).toEqual(Option.some('{"name":"Ada","age":37}'))
    }).pipe(provide())
  )
})

describe("flushAll", () => {
  const server = useMemcached()
  const provide = (options: MemcacheClient.Options = {}) =>
    Effect.provide(MemcacheClient.layer({ server: server().address, ...options }))

  it.live("without a delay: every item is gone (acknowledged and noreply)", () =>
    Effect.gen(function* () {
      const m = yield* Memcache.Memcache
      yield* m.setMany(
        [
          ["f:a", "a"],
          ["f:b", "b"]
        ],
        { noreply: false }
      )
      expect(yield* m.flushAll({ noreply: false })).toBeUndefined()
      expect((yield* m.getMany(["f:a", "f:b"])).size).toBe(0)
      yield* m.set("f:c", "c", { noreply: false })
      expect(yield* m.flushAll()).toBeUndefined()
      expect(yield* m.get("f:c")).toEqual(Option.none())
    }).pipe(provide())
  )

  it.live("with a delay: sent as `flush_all <seconds>`, items stay until it fires, then go", () =>
    Effect.gen(function* () {
      const proxy = yield* Effect.promise(() => startFaultProxy({ target: server() }))
      yield* Effect.addFinalizer(() => Effect.promise(() => proxy.close()))
      yield* Effect.gen(function* () {
        const m = yield* Memcache.Memcache
        yield* m.set("fd:a", "a", { noreply: false })
        proxy.resetCounters()
        // 2500 ms is rounded up to 3 s; the server fires between 1 and 3 s later (whole-second clock).
        expect(yield* m.flushAll({ delay: "2500 millis", noreply: false })).toBeUndefined()
        expect(text(proxy.clientData())).toBe("flush_all 3\r\n")
        expect(yield* m.get("fd:a")).toEqual(Option.some("a"))
        let gone = false
        for (let i = 0; i < 50 && !gone; i++) {
          yield* Effect.sleep("100 millis")
          gone = Option.isNone(yield* m.get("fd:a"))
        }
        expect(gone).toBe(true)
      }).pipe(provide({ server: proxy.address }))
    })
  )
})

describe("shutdown with -A", () => {
  it.live("the server process exits; the call succeeds", () =>
    Effect.gen(function* () {
      const server = yield* Effect.acquireRelease(
        Effect.promise(() => startMemcached({ args: ["-A"] })),
        (s) => Effect.promise(() => s.stop())
      )
      yield* Effect.gen(function* () {
        const m = yield* Memcache.Memcache
        expect(yield* m.version()).toBe("1.6.18")
        yield* m.shutdown()
        let running = true
        for (let i = 0; i < 100 && running; i++) {
          yield* Effect.sleep("20 millis")
          running = server.running
        }
        expect(running).toBe(false)
        // The next call cannot connect.
        const error = yield* Effect.flip(m.get("x"))
        expect(error._tag).toBe("MemcacheConnectionError")
      }).pipe(Effect.provide(MemcacheClient.layer({ server: server.address })))
    })
  )

  it.live("graceful shutdown also makes the process exit", () =>
    Effect.gen(function* () {
      const server = yield* Effect.acquireRelease(
        Effect.promise(() => startMemcached({ args: ["-A"] })),
        (s) => Effect.promise(() => s.stop())
      )
      yield* Effect.gen(function* () {
        const m = yield* Memcache.Memcache
        yield* m.shutdown({ graceful: true })
        let running = true
        for (let i = 0; i < 150 && running; i++) {
          yield* Effect.sleep("20 millis")
          running = server.running
        }
        expect(running).toBe(false)
      }).pipe(Effect.provide(MemcacheClient.layer({ server: server.address })))
    })
  )
})
