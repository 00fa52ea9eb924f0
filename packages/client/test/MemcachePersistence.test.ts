/**
 * Effect's own persistence modules on memcached: `PersistedCache` over `Persistence.layer` over
 * `MemcachePersistence` (lookups, hits from memcached in a fresh cache, persisted failures, expiry,
 * invalidation), and the backing store itself (getMany order, per-entry TTLs in setMany, clear by generation,
 * hashed keys, undecodable values), each against a real memcached and the in-memory layer.
 */
import { createHash } from "node:crypto"
import { expect } from "@effect/vitest"
import { Memcache, MemcachePersistence, Serializer } from "@effect-memcache/client"
import { Duration, Effect, Exit, Layer, Option, Schema } from "effect"
import { Persistable, PersistedCache, Persistence } from "effect/persistence"
import { onBothServers, type StoreContext } from "./stores/Subject.ts"

class GetUser extends Persistable.Class<{ payload: { readonly id: number } }>()("GetUser", {
  primaryKey: (p) => `user-${p.id}`,
  success: Schema.Struct({ id: Schema.Number, name: Schema.String }),
  error: Schema.String
}) {}

/** A lookup that records the ids it was asked for; a negative id fails. */
const makeLookup = () => {
  const asked: Array<number> = []
  const lookup = (request: GetUser) =>
    Effect.suspend(() => {
      asked.push(request.id)
      return request.id < 0 ? Effect.fail(`no user ${request.id}`) : Effect.succeed(user(request.id))
    })
  return { asked, lookup }
}

const user = (id: number) => ({ id, name: `user ${id}` })

/** `Persistence` on the subject's memcache, with the `Memcache` service itself to look at what is stored. */
const persistence = (t: StoreContext, options: MemcachePersistence.Options = {}) =>
  MemcachePersistence.layerPersistence({ namespace: t.namespace, ...options }).pipe(
    Layer.orDie,
    Layer.provideMerge(t.memcache)
  )

const backing = (t: StoreContext) =>
  MemcachePersistence.layer({ namespace: t.namespace }).pipe(Layer.orDie, Layer.provideMerge(t.memcache))

const text = new TextEncoder()

/** The generation a store's counter at `key` holds. */
const generationOf = (key: string) =>
  Effect.map(
    Memcache.Memcache.use((m) => m.withSerializer(Serializer.raw).get(key)),
    (hit) => (Option.isSome(hit) ? new TextDecoder().decode(hit.value.bytes) : "none")
  )

onBothServers("MemcachePersistence", (test) => {
  test("PersistedCache looks a key up once; a fresh cache answers it from memcached", (t) =>
    Effect.gen(function* () {
      const { asked, lookup } = makeLookup()
      const options = { storeId: "users", timeToLive: (): Duration.Input => "1 minute" }
      const first = yield* PersistedCache.make(lookup, options)
      expect(yield* first.get(new GetUser({ id: 1 }))).toEqual(user(1))
      expect(yield* first.get(new GetUser({ id: 1 }))).toEqual(user(1))
      const second = yield* PersistedCache.make(lookup, options) // an empty in-memory cache
      expect(yield* second.get(new GetUser({ id: 1 }))).toEqual(user(1))
      expect(yield* second.get(new GetUser({ id: 2 }))).toEqual(user(2))
      expect(asked).toEqual([1, 2])
    }).pipe(Effect.provide(persistence(t))))

  test("PersistedCache persists a failed lookup too, and invalidate removes it from memcached", (t) =>
    Effect.gen(function* () {
      const { asked, lookup } = makeLookup()
      const options = { storeId: "users", timeToLive: (): Duration.Input => "1 minute" }
      const first = yield* PersistedCache.make(lookup, options)
      expect(yield* Effect.exit(first.get(new GetUser({ id: -1 })))).toEqual(Exit.fail("no user -1"))
      const second = yield* PersistedCache.make(lookup, options)
      expect(yield* Effect.exit(second.get(new GetUser({ id: -1 })))).toEqual(Exit.fail("no user -1"))
      expect(asked).toEqual([-1])
      yield* second.invalidate(new GetUser({ id: -1 }))
      const third = yield* PersistedCache.make(lookup, options)
      yield* Effect.exit(third.get(new GetUser({ id: -1 })))
      expect(asked).toEqual([-1, -1])
    }).pipe(Effect.provide(persistence(t))))

  test("a persisted entry expires with its timeToLive, and is looked up again", (t) =>
    Effect.gen(function* () {
      const { asked, lookup } = makeLookup()
      const options = { storeId: "users", timeToLive: (): Duration.Input => "3 seconds" }
      yield* (yield* PersistedCache.make(lookup, options)).get(new GetUser({ id: 7 }))
      yield* (yield* PersistedCache.make(lookup, options)).get(new GetUser({ id: 7 }))
      expect(asked).toEqual([7])
      yield* t.passTime(4)
      expect(yield* (yield* PersistedCache.make(lookup, options)).get(new GetUser({ id: 7 }))).toEqual(user(7))
      expect(asked).toEqual([7, 7])
    }).pipe(Effect.provide(persistence(t))))

  test("getMany answers in the order asked, misses as undefined; setMany keeps each entry's TTL", (t) =>
    Effect.gen(function* () {
      const store = yield* (yield* Persistence.BackingPersistence).make("s")
      yield* store.setMany([
        ["short", { v: 1 }, Duration.seconds(2)],
        ["long", { v: 2 }, Duration.minutes(1)],
        ["never", { v: 3 }, undefined]
      ])
      expect(yield* store.getMany(["never", "missing", "short", "long", "never"])).toEqual([
        { v: 3 },
        undefined,
        { v: 1 },
        { v: 2 },
        { v: 3 }
      ])
      yield* t.passTime(3)
      expect(yield* store.getMany(["short", "long", "never"])).toEqual([undefined, { v: 2 }, { v: 3 }])
    }).pipe(Effect.provide(backing(t))))

  test("clear empties its own store (a new generation) and no other; the store is usable after", (t) =>
    Effect.gen(function* () {
      const backingPersistence = yield* Persistence.BackingPersistence
      const a = yield* backingPersistence.make("a")
      const b = yield* backingPersistence.make("b")
      yield* a.set("k", { from: "a" }, undefined)
      yield* b.set("k", { from: "b" }, undefined)
      yield* a.clear
      expect(yield* a.get("k")).toBeUndefined()
      expect(yield* b.get("k")).toEqual({ from: "b" })
      yield* a.set("k", { from: "a again" }, undefined)
      expect(yield* (yield* backingPersistence.make("a")).get("k")).toEqual({ from: "a again" })
      yield* a.remove("k")
      expect(yield* a.get("k")).toBeUndefined()
    }).pipe(Effect.provide(backing(t))))

  test("keys memcached refuses (long, spaced, control, non-ASCII) are stored apart and read back", (t) =>
    Effect.gen(function* () {
      const store = yield* (yield* Persistence.BackingPersistence).make("keys")
      const long = "x".repeat(300)
      const keys = [long, `${long}y`, "a b", "a_b", "tab\there", "line\nbreak", "é", "\u{1F600}", "\uD800"]
      yield* Effect.forEach(keys, (key, i) => store.set(key, { i }, undefined))
      expect(yield* store.getMany(keys as [string, ...Array<string>])).toEqual(keys.map((_, i) => ({ i })))
    }).pipe(Effect.provide(backing(t))))

  test("a key spelled like the hashed memcached key of another is stored apart from it", (t) =>
    Effect.gen(function* () {
      const store = yield* (yield* Persistence.BackingPersistence).make("look")
      yield* store.set("a b", { spaced: true }, undefined)
      const gen = yield* generationOf(`${t.namespace}look:generation`)
      // "a b" is stored under `<ns>look:<gen>:a_b#sha256:<digest of "<ns>look:<gen>:a b">`: the key below makes
      // exactly that text the logical key of another entry.
      const digest = createHash("sha256")
        .update(Buffer.from(`${t.namespace}look:${gen}:a b`, "utf16le"))
        .digest("hex")
      const lookalike = `a_b#sha256:${digest}`
      const raw = (yield* Memcache.Memcache).withSerializer(Serializer.raw)
      expect(Option.isSome(yield* raw.get(`${t.namespace}look:${gen}:${lookalike}`))).toBe(true)
      yield* store.set(lookalike, { lookalike: true }, undefined)
      expect(yield* store.getMany(["a b", lookalike])).toEqual([{ spaced: true }, { lookalike: true }])
    }).pipe(Effect.provide(backing(t))))

  test("with the client's keyPrefix given as clientKeyPrefix, a key that fits only without it is hashed", (t) =>
    Effect.gen(function* () {
      const store = yield* (yield* Persistence.BackingPersistence).make("p")
      // 200 bytes of namespace, store and key: under 250 alone, over it behind the client's 100-byte prefix.
      const key = "k".repeat(200 - `${t.namespace}p:${yield* generationOf(`${t.namespace}p:generation`)}:`.length)
      yield* store.set(key, { long: true }, undefined)
      expect(yield* store.get(key)).toEqual({ long: true })
    }).pipe(
      Effect.provide(
        MemcachePersistence.layer({ namespace: t.namespace, clientKeyPrefix: "c".repeat(100) }).pipe(
          Layer.orDie,
          Layer.provideMerge(t.memcacheWith({ keyPrefix: "c".repeat(100) }))
        )
      )
    ))

  test("a value that cannot be read back is a miss, and is deleted", (t) =>
    Effect.gen(function* () {
      const store = yield* (yield* Persistence.BackingPersistence).make("bad")
      yield* store.set("ok", { fine: true }, undefined) // starts the store's generation
      const raw = (yield* Memcache.Memcache).withSerializer(Serializer.raw)
      const gen = yield* generationOf(`${t.namespace}bad:generation`)
      const badKeys = ["json", "flags", "scalar"]
      yield* raw.set(`${t.namespace}bad:${gen}:json`, { bytes: text.encode("{not json"), flags: 16 })
      yield* raw.set(`${t.namespace}bad:${gen}:flags`, { bytes: text.encode("{}"), flags: 0 })
      yield* raw.set(`${t.namespace}bad:${gen}:scalar`, { bytes: text.encode("42"), flags: 16 })
      expect(yield* store.get("json")).toBeUndefined()
      expect(yield* store.getMany(["flags", "ok", "scalar"])).toEqual([undefined, { fine: true }, undefined])
      const left = yield* raw.getMany(badKeys.map((key) => `${t.namespace}bad:${gen}:${key}`))
      expect(left.size).toBe(0)
    }).pipe(Effect.provide(backing(t))))

  test("a clientKeyPrefix that leaves no room to hash keys into fails the layer", (t) =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(MemcachePersistence.make({ clientKeyPrefix: "p".repeat(179) }))
      expect(Exit.isFailure(exit)).toBe(true)
      expect(Exit.isSuccess(yield* Effect.exit(MemcachePersistence.make({ clientKeyPrefix: "p".repeat(178) })))).toBe(
        true
      )
    }).pipe(Effect.provide(t.memcache)))
})
