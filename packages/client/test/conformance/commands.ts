/**
 * Conformance: every command of the service and every reply kind, without waiting for time to pass.
 */
import { expect } from "@effect/vitest"
import { Serializer } from "@effect-memcache/client"
import { Clock, Effect, Option } from "effect"
import { filler, item, type RawItem, raw, refusedKey, type Subject, text } from "./Subject.ts"

const U64_MAX = 18446744073709551615n
const NON_NUMERIC = "cannot increment or decrement non-numeric value"

/** The statistics a test compares before and after (all plain counters on both servers). */
const statNames = [
  "cmd_get",
  "get_hits",
  "get_misses",
  "cmd_set",
  "curr_items",
  "total_items",
  "bytes",
  "delete_hits",
  "delete_misses",
  "incr_hits",
  "incr_misses",
  "decr_hits",
  "decr_misses",
  "cas_hits",
  "cas_misses",
  "cas_badval",
  "cmd_touch",
  "touch_hits",
  "touch_misses",
  "store_too_large"
] as const

export const commands = (subject: Subject) => {
  const { test } = subject

  test("stats: the counters every command moves, and the fixed values", (t) =>
    Effect.gen(function* () {
      const m = yield* t.client({ defaultNoreply: false })
      const b = m.withSerializer(raw)
      const snapshot = Effect.map(m.stats(), (s) => Object.fromEntries(statNames.map((n) => [n, s.get(n)])))
      const before = yield* snapshot
      yield* b.set("stats:k", item("0123456789")) // 59 + 7 + 10 bytes
      yield* b.set("stats:f", item("0123456789", 7)) // non-zero flags take 4 more
      yield* b.add("stats:k", item("x")) // NOT_STORED still counts as a set
      yield* b.getMany(["stats:k", "stats:nope", "stats:f"])
      yield* b.get("stats:nope")
      yield* b.gat("stats:k", "1 minute")
      yield* b.gat("stats:nope", "1 minute")
      yield* m.touch("stats:nope", "1 minute")
      yield* m.incr("stats:nope", 1)
      yield* m.decr("stats:nope", 1)
      yield* b.set("stats:n", item("5"))
      yield* m.incr("stats:n", 1)
      yield* m.decr("stats:n", 1)
      const cas = (yield* m.gets("stats:n")).pipe(Option.getOrThrow).cas
      yield* m.cas("stats:n", 1, cas + 1000n)
      yield* m.cas("stats:n", 1, cas)
      yield* m.cas("stats:nope", 1, cas)
      yield* m.delete("stats:f")
      yield* m.delete("stats:nope")
      const after = yield* snapshot
      const delta = Object.fromEntries(statNames.map((n) => [n, Number(after[n]) - Number(before[n])]))
      // The meta form of gat and touch is an `mg` with `T`, which memcached counts as a get, and a miss of it only
      // as a get miss.
      const meta = t.protocol === "meta"
      expect(delta).toEqual({
        cmd_get: meta ? 7 : 5,
        get_hits: 3,
        get_misses: meta ? 4 : 2,
        cmd_set: 7,
        curr_items: 2,
        total_items: 4,
        // stats:k 59+7+10, stats:f 80 (deleted), stats:n 59+7+1, then 4 more once cas stores it with flags 2.
        bytes: 76 + 67 + 4,
        delete_hits: 1,
        delete_misses: 1,
        incr_hits: 1,
        incr_misses: 1,
        decr_hits: 1,
        decr_misses: 1,
        cas_hits: 1,
        cas_misses: 1,
        cas_badval: 1,
        cmd_touch: meta ? 1 : 3,
        touch_hits: 1,
        touch_misses: meta ? 0 : 2,
        store_too_large: 0
      })
      const stats = yield* m.stats()
      expect(typeof stats.get("pid")).toBe("number")
      expect(typeof stats.get("uptime")).toBe("number")
      const now = Math.floor((yield* Clock.currentTimeMillis) / 1000)
      expect(Math.abs(Number(stats.get("time")) - now)).toBeLessThanOrEqual(2)
      expect(String(stats.get("version"))).toMatch(/^1\.6\.18/)
      expect(stats.get("limit_maxbytes")).toBe(64 * 1024 * 1024)
      expect(stats.get("evictions")).toBe(0)
      expect((yield* m.stats(["settings"])).get("item_size_max")).toBe(1048576)
      expect((yield* (yield* t.smallClient()).stats(["settings"])).get("item_size_max")).toBe(1024)
    }))

  test("stats sub-commands: reset, detail, an unknown one", (t) =>
    Effect.gen(function* () {
      const m = yield* t.client()
      expect((yield* m.stats(["detail", "on"])).size).toBe(0)
      expect((yield* m.stats(["detail", "off"])).size).toBe(0)
      const usage = yield* Effect.flip(m.stats(["detail"]))
      expect(usage).toMatchObject({ _tag: "MemcacheClientError", text: "usage: stats detail on|off|dump" })
      const unknown = yield* Effect.flip(m.stats(["bogus"]))
      expect(unknown).toMatchObject({ _tag: "MemcacheUnknownCommandError", text: "" })
      yield* m.get("reset:miss")
      expect((yield* m.stats(["reset"])).size).toBe(0)
      expect((yield* m.stats()).get("get_misses")).toBe(0)
    }))

  test("set and get: every value kind of the default serializer, misses, flags as stored", (t) =>
    Effect.gen(function* () {
      const m = yield* t.client({ defaultNoreply: false })
      expect(yield* m.set("kinds:text", "héllo", { noreply: false })).toBe(true)
      expect(yield* m.set("kinds:int", 42, { noreply: false })).toBe(true)
      expect(yield* m.set("kinds:big", 2n ** 70n, { noreply: false })).toBe(true)
      expect(yield* m.set("kinds:bytes", Uint8Array.of(0, 13, 10, 255), { noreply: false })).toBe(true)
      expect(yield* m.set("kinds:empty", "", { noreply: false })).toBe(true)
      expect(yield* m.get("kinds:text")).toEqual(Option.some("héllo"))
      expect(yield* m.get("kinds:int")).toEqual(Option.some(42))
      expect(yield* m.get("kinds:big")).toEqual(Option.some(2n ** 70n))
      // (Compared as plain arrays: the real client hands out Buffer views, a Uint8Array subclass.)
      const bytes = yield* m.get("kinds:bytes")
      expect(bytes.pipe(Option.map((b) => b instanceof Uint8Array && Array.from(b)))).toEqual(
        Option.some([0, 13, 10, 255])
      )
      expect(yield* m.get("kinds:empty")).toEqual(Option.some(""))
      expect(yield* m.get("kinds:missing")).toEqual(Option.none())
      const r = m.withSerializer(raw)
      expect((yield* r.get("kinds:text")).pipe(Option.map(text))).toEqual(Option.some({ text: "héllo", flags: 16 }))
      expect((yield* r.get("kinds:int")).pipe(Option.map(text))).toEqual(Option.some({ text: "42", flags: 2 }))
      // Client flags are an unsigned 32-bit integer, stored and returned as given.
      for (const flags of [0, 1, 2 ** 31, 2 ** 32 - 1]) {
        yield* r.set("kinds:flags", item("v", flags))
        expect((yield* r.get("kinds:flags")).pipe(Option.map((i) => i.flags))).toEqual(Option.some(flags))
      }
      // The `flags` option overrides the serializer's.
      yield* m.set("kinds:override", "v", { flags: 99 })
      expect((yield* r.get("kinds:override")).pipe(Option.map(text))).toEqual(Option.some({ text: "v", flags: 99 }))
      // A value another serializer cannot read is a serialization error, or a miss with ignoreErrors.
      const failed = yield* Effect.flip(m.withSerializer(Serializer.bytes).get("kinds:text"))
      expect(failed._tag).toBe("MemcacheSerializationError")
      const lenient = yield* t.client({ ignoreErrors: true })
      expect(yield* lenient.withSerializer(Serializer.bytes).get("kinds:text")).toEqual(Option.none())
      // Refused input never reaches the server.
      const illegal = yield* Effect.flip(m.get(refusedKey))
      expect(illegal._tag).toBe("MemcacheIllegalInputError")
    }))

  test("getMany and getsMany: hits and misses mixed, in the order asked, duplicates once", (t) =>
    Effect.gen(function* () {
      const m = yield* t.client()
      yield* m.set("many:a", "A")
      yield* m.set("many:c", "C")
      yield* m.set("many:d", 4)
      const found = yield* m.getMany(["many:d", "many:b", "many:a", "many:x", "many:a", "many:c"])
      expect([...found]).toEqual([
        ["many:d", 4],
        ["many:a", "A"],
        ["many:c", "C"]
      ])
      expect((yield* m.getMany(["many:x", "many:y"])).size).toBe(0)
      expect((yield* m.getMany([])).size).toBe(0)
      const withCas = yield* m.getsMany(["many:c", "many:b", "many:a"])
      expect([...withCas.keys()]).toEqual(["many:c", "many:a"])
      expect(withCas.get("many:c")?.value).toBe("C")
      expect(withCas.get("many:a")?.cas).toEqual((yield* m.gets("many:a")).pipe(Option.getOrThrow).cas)
      // Many keys: split into several requests by the client, answered as one map.
      const keys = Array.from({ length: 600 }, (_, i) => `many:k${i}`)
      expect(
        yield* m.setMany(
          keys.filter((_, i) => i % 3 === 0).map((k) => [k, k] as const),
          { noreply: false }
        )
      ).toEqual([])
      const hits = yield* m.getMany(keys)
      expect(hits.size).toBe(200)
      expect([...hits.keys()]).toEqual(keys.filter((_, i) => i % 3 === 0))
    }))

  test("getManyPartial and getsManyPartial: hits in the order asked, misses absent, no failures", (t) =>
    Effect.gen(function* () {
      const m = yield* t.client({ defaultNoreply: false })
      yield* m.set("pm:a", "A")
      yield* m.set("pm:c", 3)
      const partial = yield* m.getManyPartial(["pm:c", "pm:b", "pm:a", "pm:c"])
      expect([...partial.hits]).toEqual([
        ["pm:c", 3],
        ["pm:a", "A"]
      ])
      expect(partial.failures.size).toBe(0)
      expect(partial.failedKeys).toEqual([])
      const withCas = yield* m.getsManyPartial(["pm:a", "pm:x"])
      expect([...withCas.hits.keys()]).toEqual(["pm:a"])
      expect(withCas.hits.get("pm:a")?.cas).toBe(Option.getOrThrow(yield* m.gets("pm:a")).cas)
      // Refused input still fails the call: nothing is sent.
      expect((yield* Effect.flip(m.getManyPartial(["pm:a", refusedKey])))._tag).toBe("MemcacheIllegalInputError")
    }))

  test("add, replace, and a key prefix shared with an unprefixed client", (t) =>
    Effect.gen(function* () {
      const m = yield* t.client({ defaultNoreply: false })
      expect(yield* m.add("ar:k", "first", { noreply: false })).toBe(true)
      expect(yield* m.add("ar:k", "second", { noreply: false })).toBe(false)
      expect(yield* m.get("ar:k")).toEqual(Option.some("first"))
      expect(yield* m.replace("ar:missing", "x", { noreply: false })).toBe(false)
      expect(yield* m.get("ar:missing")).toEqual(Option.none())
      expect(yield* m.replace("ar:k", "third", { noreply: false })).toBe(true)
      expect(yield* m.get("ar:k")).toEqual(Option.some("third"))
      const prefixed = yield* t.client({ keyPrefix: "ar:pfx:", defaultNoreply: false })
      expect(yield* prefixed.set("k", "through the prefix", { noreply: false })).toBe(true)
      expect(yield* m.get("ar:pfx:k")).toEqual(Option.some("through the prefix"))
      expect([...(yield* prefixed.getMany(["k", "nope"]))]).toEqual([["k", "through the prefix"]])
    }))

  test("append and prepend: bytes joined, the old flags kept, NOT_STORED on a missing key", (t) =>
    Effect.gen(function* () {
      const m = yield* t.client({ defaultNoreply: false }).pipe(Effect.map((c) => c.withSerializer(raw)))
      yield* m.set("ap:k", item("mid", 5))
      expect(yield* m.append("ap:k", item("-end", 9), { noreply: false })).toBe(true)
      expect(yield* m.prepend("ap:k", item("start-", 9), { noreply: false })).toBe(true)
      expect((yield* m.get("ap:k")).pipe(Option.map(text))).toEqual(Option.some({ text: "start-mid-end", flags: 5 }))
      expect(yield* m.append("ap:missing", item("x"), { noreply: false })).toBe(false)
      expect(yield* m.prepend("ap:missing", item("x"), { noreply: false })).toBe(false)
      expect(yield* m.get("ap:missing")).toEqual(Option.none())
    }))

  test("gets and cas: stored, stale (EXISTS), zero, missing (NOT_FOUND); which commands change the unique", (t) =>
    Effect.gen(function* () {
      const m = yield* t.client({ defaultNoreply: false })
      const casOf = (key: string) => Effect.map(m.gets(key), (o) => Option.getOrThrow(o).cas)
      yield* m.set("cas:k", "v1")
      const first = yield* casOf("cas:k")
      expect(first).toBeGreaterThan(0n)
      expect(yield* m.cas("cas:k", "v2", first)).toBe("Stored")
      expect(yield* m.get("cas:k")).toEqual(Option.some("v2"))
      const second = yield* casOf("cas:k")
      expect(second).not.toBe(first)
      expect(yield* m.cas("cas:k", "stale", first)).toBe("Exists")
      expect(yield* m.cas("cas:k", "zero", 0n)).toBe("Exists")
      expect(yield* m.get("cas:k")).toEqual(Option.some("v2"))
      expect(yield* m.cas("cas:missing", "x", second)).toBe("NotFound")
      expect(yield* m.get("cas:missing")).toEqual(Option.none())
      yield* m.delete("cas:k")
      expect(yield* m.cas("cas:k", "gone", second)).toBe("NotFound")
      // Every mutation takes a new unique; touch and gat leave it.
      yield* m.set("cas:n", 1)
      const seen = [yield* casOf("cas:n")]
      const changes = [
        m.set("cas:n", 2),
        m.replace("cas:n", 3),
        m.append("cas:n", "0"),
        m.prepend("cas:n", "1"),
        m.incr("cas:n", 1),
        m.decr("cas:n", 1),
        Effect.flatMap(casOf("cas:n"), (c) => m.cas("cas:n", 7, c))
      ]
      for (const change of changes) {
        yield* change
        const next = yield* casOf("cas:n")
        expect(seen).not.toContain(next)
        seen.push(next)
      }
      const last = seen[seen.length - 1]
      yield* m.touch("cas:n", "1 hour")
      yield* m.gat("cas:n", "1 hour")
      expect(yield* casOf("cas:n")).toBe(last)
      expect((yield* m.gats("cas:n", "1 hour")).pipe(Option.map((c) => c.cas))).toEqual(Option.some(last))
      expect(yield* m.add("cas:n", 0, { noreply: false })).toBe(false)
      expect(yield* casOf("cas:n")).toBe(last)
    }))

  test("delete, deleteMany, touch, gat and gats on hits and misses", (t) =>
    Effect.gen(function* () {
      const m = yield* t.client({ defaultNoreply: false })
      yield* m.setMany([
        ["dt:a", "A"],
        ["dt:b", "B"],
        ["dt:c", "C"]
      ])
      expect(yield* m.delete("dt:a", { noreply: false })).toBe(true)
      expect(yield* m.delete("dt:a", { noreply: false })).toBe(false)
      expect(yield* m.get("dt:a")).toEqual(Option.none())
      yield* m.deleteMany(["dt:b", "dt:c", "dt:missing"])
      expect((yield* m.getMany(["dt:b", "dt:c"])).size).toBe(0)
      yield* m.set("dt:t", "T")
      expect(yield* m.touch("dt:t", "1 minute", { noreply: false })).toBe(true)
      expect(yield* m.touch("dt:missing", "1 minute", { noreply: false })).toBe(false)
      expect(yield* m.gat("dt:t", "1 minute")).toEqual(Option.some("T"))
      expect(yield* m.gat("dt:missing", "1 minute")).toEqual(Option.none())
      const gats = yield* m.gats("dt:t", "1 minute")
      expect(gats.pipe(Option.map((c) => c.value))).toEqual(Option.some("T"))
      expect(gats.pipe(Option.map((c) => typeof c.cas))).toEqual(Option.some("bigint"))
      expect(yield* m.gats("dt:missing", "1 minute")).toEqual(Option.none())
    }))

  test("incr and decr: counters, misses, u64 wrap, floor at 0, padding, flags kept", (t) =>
    Effect.gen(function* () {
      const m = yield* t.client({ defaultNoreply: false })
      const r = m.withSerializer(raw)
      yield* m.set("num:n", 10)
      expect(yield* m.incr("num:n", 5)).toEqual(Option.some(15n))
      expect(yield* m.decr("num:n", 3n)).toEqual(Option.some(12n))
      expect(yield* m.get("num:n")).toEqual(Option.some(12)) // still an int for pymemcache: flags kept
      expect(yield* m.incr("num:missing", 1)).toEqual(Option.none())
      expect(yield* m.decr("num:missing", 1)).toEqual(Option.none())
      expect(yield* m.get("num:missing")).toEqual(Option.none())
      // u64: incr wraps, decr stops at 0.
      yield* r.set("num:max", item("18446744073709551615"))
      expect(yield* m.incr("num:max", 1)).toEqual(Option.some(0n))
      yield* r.set("num:max", item("18446744073709551610"))
      expect(yield* m.incr("num:max", 5)).toEqual(Option.some(U64_MAX))
      expect(yield* m.incr("num:max", U64_MAX)).toEqual(Option.some(U64_MAX - 1n))
      yield* r.set("num:zero", item("0"))
      expect(yield* m.decr("num:zero", 1)).toEqual(Option.some(0n))
      yield* r.set("num:small", item("5"))
      expect(yield* m.decr("num:small", 10)).toEqual(Option.some(0n))
      // A shorter number is padded with spaces to the old length; a longer one makes a longer item.
      yield* r.set("num:pad", item("100", 3))
      expect(yield* m.decr("num:pad", 1)).toEqual(Option.some(99n))
      expect((yield* r.get("num:pad")).pipe(Option.map(text))).toEqual(Option.some({ text: "99 ", flags: 3 }))
      expect(yield* m.decr("num:pad", 90)).toEqual(Option.some(9n))
      expect((yield* r.get("num:pad")).pipe(Option.map(text))).toEqual(Option.some({ text: "9  ", flags: 3 }))
      expect(yield* m.incr("num:pad", 991)).toEqual(Option.some(1000n))
      expect((yield* r.get("num:pad")).pipe(Option.map(text))).toEqual(Option.some({ text: "1000", flags: 3 }))
      yield* r.set("num:wrap", item("18446744073709551615"))
      yield* m.incr("num:wrap", 1)
      expect((yield* r.get("num:wrap")).pipe(Option.map(text))).toEqual(
        Option.some({ text: `0${" ".repeat(19)}`, flags: 0 })
      )
      // What counts as a number: leading zeros, surrounding whitespace, a `+` sign.
      const accepted: ReadonlyArray<readonly [string, bigint, string]> = [
        ["007", 8n, "8  "],
        [" 5 ", 6n, "6  "],
        ["\t5\n", 6n, "6  "],
        ["+5", 6n, "6 "],
        ["-0", 1n, "1 "],
        ["000000000000000000001", 2n, `2${" ".repeat(20)}`],
        ["5 abc", 6n, "6    "]
      ]
      for (const [stored, next, after] of accepted) {
        yield* r.set("num:num", item(stored))
        expect(yield* m.incr("num:num", 1)).toEqual(Option.some(next))
        expect((yield* r.get("num:num")).pipe(Option.map((i) => text(i).text))).toEqual(Option.some(after))
      }
      for (const stored of [
        "",
        "   ",
        "-5",
        "1.5",
        "0x5",
        "abc",
        "5abc",
        "99999999999999999999",
        "18446744073709551616"
      ]) {
        yield* r.set("num:bad", item(stored))
        const error = yield* Effect.flip(m.incr("num:bad", 1))
        expect(error).toMatchObject({ _tag: "MemcacheClientError", text: NON_NUMERIC })
        const decrError = yield* Effect.flip(m.decr("num:bad", 1))
        expect(decrError).toMatchObject({ _tag: "MemcacheClientError", text: NON_NUMERIC })
        expect((yield* r.get("num:bad")).pipe(Option.map((i) => text(i).text))).toEqual(Option.some(stored))
      }
      // A delta past Number.MAX_SAFE_INTEGER must be a bigint: refused before anything is sent.
      const unsafe = yield* Effect.flip(m.incr("num:n", 2 ** 60))
      expect(unsafe._tag).toBe("MemcacheIllegalInputError")
    }))

  test("CAS uniques are unique across keys; incr 0 on 2^64-1 keeps the value and takes a new unique", (t) =>
    Effect.gen(function* () {
      const m = yield* t.client({ defaultNoreply: false })
      const r = m.withSerializer(raw)
      const casOf = (key: string) => Effect.map(m.gets(key), (o) => Option.getOrThrow(o).cas)
      const uniques = new Set<bigint>()
      for (let i = 0; i < 20; i++) {
        yield* m.set(`cx:${i}`, i)
        uniques.add(yield* casOf(`cx:${i}`))
      }
      expect(uniques.size).toBe(20)
      yield* r.set("cx:max", item("18446744073709551615"))
      const before = yield* casOf("cx:max")
      expect(yield* m.incr("cx:max", 0)).toEqual(Option.some(U64_MAX))
      expect((yield* r.get("cx:max")).pipe(Option.map(text))).toEqual(
        Option.some({ text: "18446744073709551615", flags: 0 })
      )
      expect(yield* casOf("cx:max")).not.toBe(before)
      expect(yield* m.decr("cx:max", U64_MAX)).toEqual(Option.some(0n))
      expect((yield* r.get("cx:max")).pipe(Option.map((i) => text(i).text))).toEqual(Option.some(`0${" ".repeat(19)}`))
    }))

  test("noreply: no outcome is claimed, errors are not reported, but the commands run", (t) =>
    Effect.gen(function* () {
      const m = yield* t.client() // defaultNoreply: true
      const r = m.withSerializer(raw)
      expect(yield* m.set("nr:k", "v")).toBeUndefined()
      expect(yield* m.get("nr:k")).toEqual(Option.some("v"))
      expect(yield* m.add("nr:k", "other")).toBeUndefined() // NOT_STORED, unreported
      expect(yield* m.get("nr:k")).toEqual(Option.some("v"))
      expect(yield* m.replace("nr:missing", "x")).toBeUndefined()
      expect(yield* m.get("nr:missing")).toEqual(Option.none())
      expect(yield* m.append("nr:k", "+")).toBeUndefined()
      expect(yield* m.prepend("nr:k", "+")).toBeUndefined()
      expect(yield* m.get("nr:k")).toEqual(Option.some("+v+"))
      expect(yield* m.touch("nr:missing", "1 minute")).toBeUndefined()
      expect(yield* m.delete("nr:missing")).toBeUndefined()
      yield* m.set("nr:n", 1)
      expect(yield* m.incr("nr:n", 1, { noreply: true })).toBeUndefined()
      expect(yield* m.get("nr:n")).toEqual(Option.some(2))
      // A non-numeric incr with noreply is a silent data error.
      expect(yield* m.incr("nr:k", 1, { noreply: true })).toBeUndefined()
      expect(yield* m.cas("nr:k", "x", 1n, { noreply: true })).toBeUndefined() // EXISTS, unreported
      expect(yield* m.get("nr:k")).toEqual(Option.some("+v+"))
      expect(yield* m.delete("nr:k")).toBeUndefined()
      expect(yield* m.get("nr:k")).toEqual(Option.none())
      expect(yield* m.setMany([["nr:a", "A"]])).toBeUndefined()
      expect(yield* r.get("nr:a").pipe(Effect.map(Option.map(text)))).toEqual(Option.some({ text: "A", flags: 16 }))
      expect(yield* m.verbosity(0)).toBeUndefined()
    }))

  test("item size limit (-I 1k): the server refuses a value one byte over, flags and key length counted", (t) =>
    Effect.gen(function* () {
      // A client whose own limit is above the server's, so that the server sees what it refuses.
      const small = yield* t.smallClient({ defaultNoreply: false, itemSizeMax: 4096 })
      const m = small.withSerializer(raw)
      // 1024 - 59 - key length, 4 less with flags.
      expect(yield* m.set("k", filler(964), { noreply: false })).toBe(true)
      expect((yield* m.get("k")).pipe(Option.map((i) => i.bytes.length))).toEqual(Option.some(964))
      const over = yield* Effect.flip(m.set("k", filler(965)))
      expect(over).toMatchObject({ _tag: "MemcacheServerError", text: "object too large for cache" })
      // A too-large set deletes the old value.
      expect(yield* m.get("k")).toEqual(Option.none())
      expect(yield* m.set("k", filler(960, 1), { noreply: false })).toBe(true)
      expect(yield* Effect.flip(m.set("k", filler(961, 1), { noreply: false }))).toMatchObject({
        _tag: "MemcacheServerError"
      })
      const key10 = "key-of-10b"
      expect(yield* m.set(key10, filler(955), { noreply: false })).toBe(true)
      expect(yield* Effect.flip(m.set(key10, filler(956), { noreply: false }))).toMatchObject({
        _tag: "MemcacheServerError"
      })
      // add, replace and cas refused as too large leave the old value; their meta form (`ms`) deletes it, as a
      // set refused as too large does in either form.
      yield* m.set(key10, item("old"))
      expect(yield* Effect.flip(m.add(key10, filler(956), { noreply: false }))).toMatchObject({
        _tag: "MemcacheServerError"
      })
      expect(yield* Effect.flip(m.replace(key10, filler(956), { noreply: false }))).toMatchObject({
        _tag: "MemcacheServerError"
      })
      expect(yield* Effect.flip(m.cas(key10, filler(956), 1n))).toMatchObject({ _tag: "MemcacheServerError" })
      expect((yield* m.get(key10)).pipe(Option.map(text))).toEqual(
        t.protocol === "meta" ? Option.none() : Option.some({ text: "old", flags: 0 })
      )
      // append/prepend that would grow the item past the limit: NOT_STORED, the old value kept.
      yield* m.set("a", filler(960))
      expect(yield* m.append("a", filler(4), { noreply: false })).toBe(true)
      expect(yield* m.append("a", filler(1), { noreply: false })).toBe(false)
      expect(yield* m.prepend("a", filler(1), { noreply: false })).toBe(false)
      expect((yield* m.get("a")).pipe(Option.map((i) => i.bytes.length))).toEqual(Option.some(964))
      // With noreply the error is unreported, and the old value still deleted.
      yield* m.set("q", item("old"))
      expect(yield* m.set("q", filler(965), { noreply: true })).toBeUndefined()
      expect(yield* m.get("q")).toEqual(Option.none())
      expect((yield* small.stats()).get("store_too_large")).toBe(7)
    }))

  test("item size limit (-I 1k): the client's itemSizeMax refuses unsent what the server would refuse", (t) =>
    Effect.gen(function* () {
      const small = yield* t.smallClient({ defaultNoreply: false })
      const m = small.withSerializer(raw)
      const refused = (key: string, value: RawItem, noreply = false) =>
        Effect.map(Effect.flip(m.set(key, value, { noreply })), (e) => e._tag)
      const tooLarge = Effect.map(small.stats(), (stats) => stats.get("store_too_large"))
      const before = yield* tooLarge
      expect(yield* m.set("k", filler(964), { noreply: false })).toBe(true)
      expect(yield* refused("k", filler(965))).toBe("MemcacheIllegalInputError")
      expect(yield* m.set("k", filler(960, 1), { noreply: false })).toBe(true)
      expect(yield* refused("k", filler(961, 1))).toBe("MemcacheIllegalInputError")
      expect(yield* m.set("key-of-10b", filler(951, 2 ** 32 - 1), { noreply: false })).toBe(true)
      expect(yield* refused("key-of-10b", filler(952, 2 ** 32 - 1))).toBe("MemcacheIllegalInputError")
      // noreply too: the caller learns, and the old value stays.
      expect(yield* refused("k", filler(965), true)).toBe("MemcacheIllegalInputError")
      expect((yield* m.get("k")).pipe(Option.map((i) => i.bytes.length))).toEqual(Option.some(960))
      // Nothing reached the server.
      expect(yield* tooLarge).toBe(before)
    }))

  test("item size limit (-I 1m, the default): 1048516 bytes for a 1-byte key, one more is too large", (t) =>
    Effect.gen(function* () {
      const m = (yield* t.client({ defaultNoreply: false })).withSerializer(raw)
      const value = filler(1048516)
      value.bytes[0] = 0x61
      value.bytes[value.bytes.length - 1] = 0x7a
      expect(yield* m.set("L", value, { noreply: false })).toBe(true)
      const back = Option.getOrThrow(yield* m.get("L"))
      expect(back.bytes.length).toBe(1048516)
      expect(back.bytes[0]).toBe(0x61)
      expect(back.bytes[back.bytes.length - 1]).toBe(0x7a)
      expect((yield* Effect.flip(m.set("L", filler(1048517))))._tag).toBe("MemcacheIllegalInputError")
      expect(yield* m.set("L", filler(1048512, 1), { noreply: false })).toBe(true)
      expect((yield* Effect.flip(m.set("L", filler(1048513, 1))))._tag).toBe("MemcacheIllegalInputError")
      // Sent anyway (a client allowing more), the server refuses it, and the old value is gone.
      const lax = (yield* t.client({ defaultNoreply: false, itemSizeMax: 2 * 1048576 })).withSerializer(raw)
      expect(yield* Effect.flip(lax.set("L", filler(1048513, 1)))).toMatchObject({
        _tag: "MemcacheServerError",
        text: "object too large for cache"
      })
      expect(yield* m.get("L")).toEqual(Option.none())
      expect(yield* Effect.flip(lax.set("L", filler(1048517)))).toMatchObject({ _tag: "MemcacheServerError" })
    }))

  test("admin: version, verbosity, cache_memlimit (OK and refused), shutdown refused, quit", (t) =>
    Effect.gen(function* () {
      const m = yield* t.client({ defaultNoreply: false })
      expect(yield* m.version()).toMatch(/^1\.6\.18/)
      expect(yield* m.verbosity(1)).toBeUndefined()
      expect(yield* m.verbosity(0, { noreply: true })).toBeUndefined()
      expect(yield* m.cacheMemlimit(100)).toBeUndefined()
      expect((yield* m.stats()).get("limit_maxbytes")).toBe(100 * 1024 * 1024)
      expect(yield* Effect.flip(m.cacheMemlimit(7))).toMatchObject({
        _tag: "MemcacheClientError",
        text: "MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m"
      })
      expect(yield* Effect.flip(m.cacheMemlimit(1_000_000_001))).toMatchObject({
        _tag: "MemcacheClientError",
        text: "MEMLIMIT_ADJUST_FAILED input value is megabytes not bytes"
      })
      expect(yield* m.cacheMemlimit(64)).toBeUndefined()
      expect((yield* m.stats()).get("limit_maxbytes")).toBe(64 * 1024 * 1024)
      expect(yield* Effect.flip(m.shutdown())).toMatchObject({
        _tag: "MemcacheUnknownCommandError",
        text: "shutdown not enabled"
      })
      yield* m.set("admin:k", "kept")
      yield* m.quit()
      expect(yield* m.get("admin:k")).toEqual(Option.some("kept"))
    }))

  test("many fibers at once: every increment counted, every write readable", (t) =>
    Effect.gen(function* () {
      const m = yield* t.client({ defaultNoreply: false })
      yield* m.set("conc:n", 0)
      yield* Effect.forEach(
        Array.from({ length: 500 }, (_, i) => i),
        () => m.incr("conc:n", 1),
        {
          concurrency: "unbounded",
          discard: true
        }
      )
      expect(yield* m.get("conc:n")).toEqual(Option.some(500))
      const results = yield* Effect.forEach(
        Array.from({ length: 300 }, (_, i) => i),
        (i) => Effect.andThen(m.set(`conc:k${i}`, i), m.get(`conc:k${i}`)),
        { concurrency: 50 }
      )
      expect(results.map(Option.getOrNull)).toEqual(Array.from({ length: 300 }, (_, i) => i))
      // Only one of many concurrent adds of one key wins.
      const added = yield* Effect.forEach(
        Array.from({ length: 50 }, (_, i) => i),
        (i) => m.add("conc:once", i, { noreply: false }),
        {
          concurrency: "unbounded"
        }
      )
      expect(added.filter((x) => x).length).toBe(1)
    }))
}
