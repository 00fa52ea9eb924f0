/**
 * A call's expiry on the client's side: what is refused before anything is sent (a ttl that is not a duration,
 * NaN, past 2038; an exptime out of range; ttl and exptime together), always as a typed
 * `MemcacheIllegalInputError` and never as a throw or a defect, for every call that takes one; and a
 * sub-second ttl living one second. What the server does with an expiry is in the conformance suite
 * (conformance/expiry.ts), against memcached and the in-memory layer.
 */
import { describe, expect, it } from "@effect/vitest"
import type { Memcache, MemcacheError } from "@effect-memcache/client"
import { MemcacheMemory } from "@effect-memcache/client"
import { Cause, Duration, Effect, Exit, Option } from "effect"
import { TestClock } from "effect/testing"

/** A value from an untyped caller (JavaScript, or parsed configuration): any shape may arrive. */
const untyped = (json: string): Duration.Input => JSON.parse(json)

/** Every call that takes a ttl, with it. */
const callsWithTtl = (m: Memcache.MemcacheShape<Memcache.Value>, ttl: Duration.Input) => ({
  set: () => m.set("k", "v", { ttl }),
  add: () => m.add("k", "v", { ttl }),
  replace: () => m.replace("k", "v", { ttl }),
  cas: () => m.cas("k", "v", 1n, { ttl }),
  setMany: () => m.setMany([["k", "v"]], { ttl }),
  setManyPartial: () => m.setManyPartial([["k", "v"]], { ttl }),
  touch: () => m.touch("k", ttl),
  gat: () => m.gat("k", ttl),
  gats: () => m.gats("k", ttl)
})

/** The call's failure: it must be one typed failure (not a defect), and building the call must not throw. */
const failureOf = (call: () => Effect.Effect<unknown, MemcacheError.MemcacheError>) =>
  Effect.gen(function* () {
    let effect: Effect.Effect<unknown, MemcacheError.MemcacheError> = Effect.die("building the call threw")
    expect(() => {
      effect = call()
    }).not.toThrow()
    const exit = yield* Effect.exit(effect)
    expect(Exit.isFailure(exit) ? exit.cause.reasons.map((r) => r._tag) : "succeeded").toEqual(["Fail"])
    return Exit.isFailure(exit) ? Option.getOrUndefined(Cause.findErrorOption(exit.cause)) : undefined
  })

describe("expiry refused before sending", () => {
  it.effect("a ttl that is not a duration fails every call with MemcacheIllegalInputError on ttl", () =>
    Effect.gen(function* () {
      const m = yield* MemcacheMemory.make({ defaultNoreply: false })
      const bad: ReadonlyArray<readonly [Duration.Input, string]> = [
        [Number.NaN, "NaN is not a duration"],
        [{ seconds: Number.NaN }, "NaN is not a duration"],
        [[Number.NaN, 0], "NaN is not a duration"],
        [untyped('"banana"'), 'cannot read "banana" as a duration'],
        [untyped('"10 secs"'), 'cannot read "10 secs" as a duration'],
        [untyped("null"), "cannot read null as a duration"],
        ["10000 weeks", "past 2147483647 (January 2038)"]
      ]
      for (const [ttl, reason] of bad) {
        for (const [name, call] of Object.entries(callsWithTtl(m, ttl))) {
          const failure = yield* failureOf(call)
          const command = name === "setManyPartial" ? "setMany" : name
          expect(failure).toMatchObject({ _tag: "MemcacheIllegalInputError", command, field: "ttl" })
          expect(failure?.message).toContain(reason)
        }
      }
      // Nothing was stored by any of them.
      expect(yield* m.get("k")).toEqual(Option.none())
    })
  )

  it.effect("an exptime out of range or not an integer is refused on exptime, for touch/gat/gats and stores", () =>
    Effect.gen(function* () {
      const m = yield* MemcacheMemory.make({ defaultNoreply: false })
      yield* m.set("k", "v")
      const notANumber: number = JSON.parse('"60"')
      for (const exptime of [2 ** 31, -(2 ** 31) - 1, 1.5, Number.NaN, notANumber]) {
        for (const call of [
          () => m.touch("k", { exptime }),
          () => m.gat("k", { exptime }),
          () => m.gats("k", { exptime }),
          () => m.set("k", "w", { exptime }),
          () => m.setMany([["k", "w"]], { exptime })
        ]) {
          expect(yield* failureOf(call)).toMatchObject({ _tag: "MemcacheIllegalInputError", field: "exptime" })
        }
      }
      expect(yield* m.get("k")).toEqual(Option.some("v"))
    })
  )

  it.effect("ttl and exptime together are refused rather than one silently winning", () =>
    Effect.gen(function* () {
      const m = yield* MemcacheMemory.make({ defaultNoreply: false })
      const failure = yield* failureOf(() => m.set("k", "v", { ttl: "1 minute", exptime: 60 }))
      expect(failure).toMatchObject({ field: "exptime", reason: "give either ttl or exptime, not both" })
    })
  )
})

describe("expiry rounding", () => {
  it.effect("a sub-second ttl lives one second, not forever and not zero", () =>
    Effect.gen(function* () {
      const m = yield* MemcacheMemory.make({ defaultNoreply: false })
      yield* m.set("k", "v", { ttl: Duration.millis(200) })
      yield* m.set("n", "v", { ttl: 1 })
      yield* TestClock.adjust("999 millis")
      expect([...(yield* m.getMany(["k", "n"])).keys()]).toEqual(["k", "n"])
      yield* TestClock.adjust("1 milli")
      expect([...(yield* m.getMany(["k", "n"])).keys()]).toEqual([])
    })
  )
})
