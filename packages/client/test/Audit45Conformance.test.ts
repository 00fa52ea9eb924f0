/**
 * Audit of issue 4: conformance tests the suite in ./conformance did not have, written once and run against both
 * a real memcached 1.6.18 and the in-memory layer, exactly as Conformance.test.ts runs the suite (no `if` on
 * the subject).
 *
 * - `getManyPartial` / `getsManyPartial`, the two methods of the service the suite never called.
 * - Expired items for CAS: `cas` on an expired key is NOT_FOUND, and a `gets` unique taken before expiry does not
 *   revive it.
 * - A CAS unique is unique across keys (one counter), and `incr` of 0 on 2^64-1 is a no-op that still bumps it.
 */
import { describe, expect, it } from "@effect/vitest"
import { MemcacheClient, MemcacheMemory } from "@effect-memcache/client"
import { Effect, Option } from "effect"
import { TestClock } from "effect/testing"
import { useMemcached } from "../../../testing/Memcached.ts"
import { item, raw, type Subject, text } from "./conformance/Subject.ts"

const U64_MAX = 18446744073709551615n

const audit = ({ test }: Subject) => {
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
      expect((yield* Effect.flip(m.getManyPartial(["pm:a", "bad key"])))._tag).toBe("MemcacheIllegalInputError")
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

  test("an expired item is gone for cas too, whatever unique the caller kept", (t) =>
    Effect.gen(function* () {
      const m = yield* t.client({ defaultNoreply: false })
      yield* m.set("cx:exp", "v", { ttl: "1 second" })
      const unique = Option.getOrThrow(yield* m.gets("cx:exp")).cas
      yield* t.passTime(2.5)
      expect(yield* m.cas("cx:exp", "w", unique)).toBe("NotFound")
      expect(yield* m.get("cx:exp")).toEqual(Option.none())
      expect(yield* m.replace("cx:exp", "w")).toBe(false)
    }))
}

describe("audit 45 conformance: memcached 1.6.18", () => {
  const server = useMemcached()
  audit({
    name: "memcached",
    test: (name, body) =>
      it.live(name, () =>
        body({
          client: (options) => Effect.orDie(MemcacheClient.make({ ...options, server: server().address })),
          smallClient: (options) => Effect.orDie(MemcacheClient.make({ ...options, server: server().address })),
          passTime: (seconds) => Effect.sleep(seconds * 1000)
        })
      )
  })
})

describe("audit 45 conformance: MemcacheMemory", () => {
  audit({
    name: "memory",
    test: (name, body) =>
      it.effect(name, () =>
        Effect.gen(function* () {
          yield* TestClock.setTime(Date.UTC(2026, 0, 1))
          const server = yield* MemcacheMemory.makeServer()
          yield* body({
            client: (options) => MemcacheMemory.make({ ...options, server }),
            smallClient: (options) => MemcacheMemory.make({ ...options, server }),
            passTime: (seconds) => TestClock.adjust(seconds * 1000)
          })
        })
      )
  })
})
