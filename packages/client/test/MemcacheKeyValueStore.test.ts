/**
 * Effect's `KeyValueStore` on memcached, against a real memcached and the in-memory layer: the operations (text
 * and bytes, each read through the other view as Effect's in-memory store does), `modify` as a CAS loop that
 * loses no update under 50 concurrent fibers, the listing operations refused with a clear error, the TTL
 * option, keys memcached refuses, and Effect's `prefix` and `toSchemaStore` views on top.
 */
import { expect } from "@effect/vitest"
import { MemcacheKeyValueStore } from "@effect-memcache/client"
import { Effect, Exit, Layer, Option, Schema } from "effect"
import { KeyValueStore } from "effect/persistence"
import { onBothServers, type StoreContext } from "./stores/Subject.ts"

const storeOn = (t: StoreContext, options: MemcacheKeyValueStore.Options = {}) =>
  MemcacheKeyValueStore.layer({ namespace: t.namespace, ...options }).pipe(Layer.orDie, Layer.provide(t.memcache))

const text = new TextEncoder()

onBothServers("MemcacheKeyValueStore", (test) => {
  test("set, get, has and remove, for text and for bytes", (t) =>
    Effect.gen(function* () {
      const store = yield* KeyValueStore.KeyValueStore
      expect(yield* store.get("greeting")).toBeUndefined()
      expect(yield* store.has("greeting")).toBe(false)
      yield* store.set("greeting", "héllo")
      expect(yield* store.get("greeting")).toBe("héllo")
      expect(yield* store.getUint8Array("greeting")).toEqual(text.encode("héllo"))
      expect(yield* store.has("greeting")).toBe(true)
      yield* store.set("bytes", Uint8Array.of(0, 255, 13, 10))
      expect(yield* store.getUint8Array("bytes")).toEqual(Uint8Array.of(0, 255, 13, 10))
      expect(yield* store.get("bytes")).toBe("AP8NCg==") // base64, as Effect's in-memory store answers
      yield* store.remove("greeting")
      yield* store.remove("never set")
      expect(yield* store.get("greeting")).toBeUndefined()
      expect(yield* store.has("greeting")).toBe(false)
    }).pipe(Effect.provide(storeOn(t))))

  test("modify changes an existing value and answers it; a missing key is left missing", (t) =>
    Effect.gen(function* () {
      const store = yield* KeyValueStore.KeyValueStore
      yield* store.set("word", "abc")
      expect(yield* store.modify("word", (s) => s.toUpperCase())).toBe("ABC")
      expect(yield* store.get("word")).toBe("ABC")
      yield* store.set("bytes", Uint8Array.of(1, 2))
      expect(yield* store.modifyUint8Array("bytes", (b) => Uint8Array.of(...b, 3))).toEqual(Uint8Array.of(1, 2, 3))
      expect(yield* store.getUint8Array("bytes")).toEqual(Uint8Array.of(1, 2, 3))
      expect(yield* store.modify("missing", () => "created?")).toBeUndefined()
      expect(yield* store.modifyUint8Array("missing", () => Uint8Array.of(1))).toBeUndefined()
      expect(yield* store.has("missing")).toBe(false)
    }).pipe(Effect.provide(storeOn(t))))

  test("modify from 50 concurrent fibers loses no update: the counter ends at exactly 50", (t) =>
    Effect.gen(function* () {
      const store = yield* KeyValueStore.KeyValueStore
      yield* store.set("counter", "0")
      const answers = yield* Effect.forEach(
        Array.from({ length: 50 }, (_, i) => i),
        () => store.modify("counter", (n) => String(Number(n) + 1)),
        { concurrency: "unbounded" }
      )
      expect(yield* store.get("counter")).toBe("50")
      // Every fiber saw its own increment land: the answers are 1..50, each once.
      expect(answers.map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1))
    }).pipe(Effect.provide(storeOn(t))))

  test("clear, clearPrefix, size, keys and isEmpty fail, saying memcached cannot list keys", (t) =>
    Effect.gen(function* () {
      const store = yield* KeyValueStore.KeyValueStore
      const listing = {
        clear: store.clear,
        clearPrefix: store.clearPrefix("a"),
        size: store.size,
        keys: store.keys,
        isEmpty: store.isEmpty
      }
      for (const [method, effect] of Object.entries(listing)) {
        const exit = yield* Effect.exit(effect)
        expect(exit).toEqual(Exit.fail(expect.objectContaining({ _tag: "KeyValueStoreError", method })))
        if (Exit.isFailure(exit)) expect(String(exit.cause)).toContain("memcached cannot list keys")
      }
    }).pipe(Effect.provide(storeOn(t))))

  test("with the ttl option, entries expire", (t) =>
    Effect.gen(function* () {
      const store = yield* KeyValueStore.KeyValueStore
      yield* store.set("short", "v")
      yield* store.set("counter", "1")
      expect(yield* store.modify("counter", (n) => `${n}0`)).toBe("10") // cas writes with the ttl too
      yield* t.passTime(3)
      expect(yield* store.get("short")).toBeUndefined()
      expect(yield* store.get("counter")).toBeUndefined()
    }).pipe(Effect.provide(storeOn(t, { ttl: "2 seconds" }))))

  test("keys memcached refuses (long, spaced, non-ASCII) are stored apart and read back", (t) =>
    Effect.gen(function* () {
      const store = yield* KeyValueStore.KeyValueStore
      const long = "k".repeat(400)
      const keys = [long, `${long}!`, "a b", "a_b", "new\nline", "ключ", "\u{1F600}"]
      yield* Effect.forEach(keys, (key, i) => store.set(key, `value ${i}`))
      expect(yield* Effect.forEach(keys, (key) => store.get(key))).toEqual(keys.map((_, i) => `value ${i}`))
      expect(yield* store.modify(long, (v) => `${v}+`)).toBe("value 0+")
    }).pipe(Effect.provide(storeOn(t))))

  test("with the client's keyPrefix given as clientKeyPrefix, a key that fits only without it is hashed", (t) =>
    Effect.gen(function* () {
      const store = yield* KeyValueStore.KeyValueStore
      const key = "k".repeat(200 - t.namespace.length) // 200 bytes with the namespace; 300 behind the prefix
      yield* store.set(key, "long")
      expect(yield* store.get(key)).toBe("long")
    }).pipe(
      Effect.provide(
        MemcacheKeyValueStore.layer({ namespace: t.namespace, clientKeyPrefix: "c".repeat(100) }).pipe(
          Layer.orDie,
          Layer.provide(t.memcacheWith({ keyPrefix: "c".repeat(100) }))
        )
      )
    ))

  test("a namespace memcached would refuse, or one leaving no room to hash keys into, fails the layer", (t) =>
    Effect.gen(function* () {
      const fails = (options: MemcacheKeyValueStore.Options) =>
        Effect.map(Effect.exit(MemcacheKeyValueStore.make(options)), Exit.isFailure)
      expect(yield* fails({ namespace: "my store:" })).toBe(true)
      expect(yield* fails({ namespace: "é:" })).toBe(true)
      expect(yield* fails({ namespace: "n".repeat(100), clientKeyPrefix: "c".repeat(79) })).toBe(true)
      expect(yield* fails({ namespace: "n".repeat(100), clientKeyPrefix: "c".repeat(78) })).toBe(false)
    }).pipe(Effect.provide(t.memcache)))

  test("Effect's prefix and toSchemaStore views work on top", (t) =>
    Effect.gen(function* () {
      const store = yield* KeyValueStore.KeyValueStore
      const users = KeyValueStore.toSchemaStore(
        KeyValueStore.prefix(store, "users:"),
        Schema.Struct({ name: Schema.String, visits: Schema.Number })
      )
      yield* users.set("1", { name: "Ada", visits: 1 })
      expect(yield* users.get("1")).toEqual(Option.some({ name: "Ada", visits: 1 }))
      expect(yield* store.get("users:1")).toBe('{"name":"Ada","visits":1}')
      yield* users.modify("1", (u) => ({ ...u, visits: u.visits + 1 }))
      expect(yield* store.get("users:1")).toBe('{"name":"Ada","visits":2}')
    }).pipe(Effect.provide(storeOn(t))))
})
