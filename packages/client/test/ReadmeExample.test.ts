import { expect, it } from "@effect/vitest"
import { Memcache, MemcacheMemory } from "@effect-memcache/client"
import { Effect, Option } from "effect"
import { TestClock } from "effect/testing"

it.effect("the README's in-memory example: expires", () =>
  Effect.gen(function* () {
    const cache = yield* Memcache.Memcache
    yield* cache.set("k", "v", { ttl: "10 seconds" })
    expect(yield* cache.get("k")).toEqual(Option.some("v"))
    yield* TestClock.adjust("11 seconds")
    expect(yield* cache.get("k")).toEqual(Option.none())
  }).pipe(Effect.provide(MemcacheMemory.layer()))
)
