/**
 * Conformance: what time does to items (expiry, touch, gat, cas, delayed flush) and flush_all. The real server's
 * clock ticks once a second, at a phase of its own: an item with a TTL of T seconds expires between T-1 and T
 * seconds after it is written, and `flush_all N` fires between N-2 and N-1 seconds after the command. So every
 * "still there" assertion below leaves at least a second of margin, and one wait serves many assertions.
 */
import { expect } from "@effect/vitest"
import { Clock, Effect, Option } from "effect"
import type { Subject } from "./Subject.ts"

export const timing = (subject: Subject) => {
  const { test } = subject

  test("expiry: relative, absolute, negative, touch, gat/gats, and append/incr keep the exptime (one wait)", (t) =>
    Effect.gen(function* () {
      const m = yield* t.client({ defaultNoreply: false })
      const now = Math.floor((yield* Clock.currentTimeMillis) / 1000)
      const short = { ttl: "2 seconds" } as const
      const long = { ttl: "20 seconds" } as const
      yield* m.set("exp:short", "v", short)
      yield* m.set("exp:long", "v", long)
      yield* m.set("exp:never", "v")
      yield* m.set("exp:31days", "v", { ttl: "31 days" }) // sent as an absolute unix time
      expect(yield* m.set("exp:negative", "v", { noreply: false, exptime: -1 })).toBe(true) // stored, and expired at once
      expect(yield* m.set("exp:past", "v", { noreply: false, exptime: now - 100 })).toBe(true) // an absolute time in the past
      yield* m.set("exp:future", "v", { exptime: now + 60 }) // an absolute time ahead
      yield* m.set("exp:touch-longer", "v", short)
      expect(yield* m.touch("exp:touch-longer", "20 seconds", { noreply: false })).toBe(true)
      yield* m.set("exp:touch-shorter", "v", long)
      expect(yield* m.touch("exp:touch-shorter", "2 seconds", { noreply: false })).toBe(true)
      yield* m.set("exp:gat-longer", "v", short)
      expect(yield* m.gat("exp:gat-longer", "20 seconds")).toEqual(Option.some("v"))
      yield* m.set("exp:gats-shorter", "v", long)
      expect((yield* m.gats("exp:gats-shorter", "2 seconds")).pipe(Option.map((c) => c.value))).toEqual(
        Option.some("v")
      )
      // append/prepend ignore the exptime they are given; incr/decr keep the item's.
      yield* m.set("exp:append", "v", short)
      expect(yield* m.append("exp:append", "+", { ...long, noreply: false })).toBe(true)
      yield* m.set("exp:prepend", "v", short)
      expect(yield* m.prepend("exp:prepend", "+", { ...long, noreply: false })).toBe(true)
      yield* m.set("exp:incr", 1, short)
      expect(yield* m.incr("exp:incr", 1)).toEqual(Option.some(2n))
      yield* m.set("exp:cas", "v", short)
      const cas = Option.getOrThrow(yield* m.gets("exp:cas")).cas
      expect(yield* m.cas("exp:cas", "w", cas, long)).toBe("Stored")
      const keys = [
        "exp:short",
        "exp:long",
        "exp:never",
        "exp:31days",
        "exp:negative",
        "exp:past",
        "exp:future",
        "exp:touch-longer",
        "exp:touch-shorter",
        "exp:gat-longer",
        "exp:gats-shorter",
        "exp:append",
        "exp:prepend",
        "exp:incr",
        "exp:cas"
      ]
      const present = (found: ReadonlyMap<string, unknown>) => keys.filter((k) => found.has(k))
      expect(present(yield* m.getMany(keys))).toEqual(keys.filter((k) => k !== "exp:negative" && k !== "exp:past"))

      yield* t.passTime(3.5)

      expect(present(yield* m.getMany(keys))).toEqual([
        "exp:long",
        "exp:never",
        "exp:31days",
        "exp:future",
        "exp:touch-longer",
        "exp:gat-longer",
        "exp:cas"
      ])
      // Expired items are gone for every command, not only for get.
      expect(yield* m.touch("exp:short", "1 minute", { noreply: false })).toBe(false)
      expect(yield* m.incr("exp:incr", 1)).toEqual(Option.none())
      expect(yield* m.add("exp:short", "again", { noreply: false })).toBe(true)
      expect(yield* m.get("exp:short")).toEqual(Option.some("again"))
    }))

  test("an expired item is gone for cas too, whatever unique the caller kept", (t) =>
    Effect.gen(function* () {
      const m = yield* t.client({ defaultNoreply: false })
      yield* m.set("cx:exp", "v", { ttl: "1 second" })
      const unique = Option.getOrThrow(yield* m.gets("cx:exp")).cas
      yield* t.passTime(2.5)
      expect(yield* m.cas("cx:exp", "w", unique)).toBe("NotFound")
      expect(yield* m.get("cx:exp")).toEqual(Option.none())
      expect(yield* m.replace("cx:exp", "w", { noreply: false })).toBe(false)
    }))

  test("flush_all now: every item goes, later writes stay", (t) =>
    Effect.gen(function* () {
      const m = yield* t.client({ defaultNoreply: false })
      yield* m.setMany([
        ["flush:a", "A"],
        ["flush:b", "B"]
      ])
      expect(yield* m.flushAll()).toBeUndefined()
      expect((yield* m.getMany(["flush:a", "flush:b"])).size).toBe(0)
      yield* m.set("flush:c", "C")
      expect(yield* m.get("flush:c")).toEqual(Option.some("C"))
      expect(yield* m.flushAll({ noreply: true })).toBeUndefined()
      expect(yield* m.get("flush:c")).toEqual(Option.none())
      expect(yield* m.replace("flush:c", "x", { noreply: false })).toBe(false)
    }))

  test("flush_all with a delay: items written before it fires go, including those written after the command", (t) =>
    Effect.gen(function* () {
      const m = yield* t.client({ defaultNoreply: false })
      yield* m.set("delay:before", "v")
      expect(yield* m.flushAll({ delay: "3 seconds" })).toBeUndefined()
      expect(yield* m.get("delay:before")).toEqual(Option.some("v"))
      yield* m.set("delay:between", "v")
      expect(yield* m.get("delay:between")).toEqual(Option.some("v"))

      // memcached fires `flush_all 3` 1 to 2 seconds after the command (see §4.5 of protocol.md), this server at
      // exactly 2; after 3.5 seconds both have fired, and the second in which new writes would vanish is over.
      yield* t.passTime(3.5)

      expect((yield* m.getMany(["delay:before", "delay:between"])).size).toBe(0)
      yield* m.set("delay:after", "v")
      expect(yield* m.get("delay:after")).toEqual(Option.some("v"))
    }))
}
