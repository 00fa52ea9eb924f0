/**
 * Effect's persistence on memcached: a `BackingPersistence` over the `Memcache` service, so that
 * `Persistence.layer`, `PersistedCache` and everything built on `Persistence` run on memcached unchanged.
 *
 * - Entries are JSON text (flags 16) under `<namespace><storeId>:<generation>:<key>` (`%` and `:` in the store
 *   id percent-encoded, so stores cannot overlap), with their TTL as the item's expiry (rounded up to whole
 *   seconds).
 * - `getMany` is one `getMany` of the service: one pipelined request per server.
 * - `clear` cannot delete anything, as memcached cannot list keys: it bumps the store's generation, a counter
 *   item (`<namespace><storeId>:generation`) that is part of every key, so every earlier entry becomes
 *   unreachable at once and is left to expire or be evicted. Each call reads the generation first (one more
 *   round trip; with `batching` on, the default, concurrent reads of it go as one request).
 * - A key memcached would refuse (over 250 bytes with the client's `keyPrefix`, or with a space, control or
 *   non-ASCII character) is stored under `<readable start>#sha256:<SHA-256 of the whole key, in hex>`. Two keys
 *   cannot share a memcached key: a key that itself ends like a hashed one is always hashed, so unchanged and
 *   hashed keys never meet, and two hashed keys meet only through a SHA-256 collision (none is known).
 * - A value that cannot be read back (not JSON, not an object, written by something else) is a miss, and is
 *   deleted.
 * - memcached evicts: a persisted entry can vanish before its TTL, like any cache item.
 *
 * @since 0.1.0
 */
import * as Arr from "effect/Array"
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Persistence from "effect/persistence/Persistence"
import * as Generation from "./internal/Generation.ts"
import * as StoreKey from "./internal/StoreKey.ts"
import * as Memcache from "./Memcache.ts"
import { MemcacheIllegalInputError } from "./MemcacheError.ts"
import * as Serializer from "./Serializer.ts"

/**
 * Options of the memcached backing store.
 *
 * @example
 * ```ts
 * import type { MemcachePersistence } from "@effect-memcache/client"
 * const o: MemcachePersistence.Options = { namespace: "app:persistence:", clientKeyPrefix: "app:" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Prepended to every store's keys, to keep them apart from other data. Default `"persistence:"`. */
  readonly namespace?: string | undefined
  /**
   * The `keyPrefix` the `Memcache` layer was built with, if any: the client adds it to every key, so it counts in
   * memcached's 250-byte limit and longer keys must be hashed sooner. Default `""`.
   */
  readonly clientKeyPrefix?: string | undefined
}

type Raw = Memcache.MemcacheShape<Serializer.Serialized>

const encoder = new TextEncoder()
const decoder = new TextDecoder("utf-8", { fatal: true })

const storeIdPart = (storeId: string): string => storeId.replace(/%/g, "%25").replace(/:/g, "%3A")

const encode = (value: object): Serializer.Serialized | undefined => {
  try {
    const json = JSON.stringify(value)
    return json === undefined ? undefined : { bytes: encoder.encode(json), flags: Serializer.Flags.text }
  } catch {
    return undefined
  }
}

const decode = (item: Serializer.Serialized): object | undefined => {
  if (item.flags !== Serializer.Flags.text) return undefined
  try {
    const value: unknown = JSON.parse(decoder.decode(item.bytes))
    return typeof value === "object" && value !== null ? value : undefined
  } catch {
    return undefined
  }
}

const failure =
  (message: string) =>
  (cause: unknown): Persistence.PersistenceError =>
    new Persistence.PersistenceError({ message, cause })

/** A memcache failure as a `PersistenceError` with `message`; a `PersistenceError` as it is. */
const orFailure =
  (message: string) =>
  (error: Memcache.ValueError | Persistence.PersistenceError): Persistence.PersistenceError =>
    error instanceof Persistence.PersistenceError ? error : failure(message)(error)

const refused = (message: string) => Effect.fail(new Persistence.PersistenceError({ message }))

const ttlOption = (ttl: Duration.Duration | undefined): { readonly ttl?: Duration.Duration } =>
  ttl === undefined ? {} : { ttl }

/** The entries of `entries` grouped by TTL (one `setMany` per group: the service takes one TTL per call). */
const byTtl = (
  entries: ReadonlyArray<readonly [key: string, value: Serializer.Serialized, ttl: Duration.Duration | undefined]>
) => {
  const groups = new Map<number | undefined, Array<readonly [string, Serializer.Serialized]>>()
  const ttls = new Map<number | undefined, Duration.Duration | undefined>()
  for (const [key, value, ttl] of entries) {
    const millis = ttl === undefined ? undefined : Duration.toMillis(ttl)
    const group = groups.get(millis)
    if (group === undefined) {
      groups.set(millis, [[key, value]])
      ttls.set(millis, ttl)
    } else group.push([key, value])
  }
  return Array.from(groups, ([millis, group]) => ({ ttl: ttls.get(millis), entries: group }))
}

const makeStore = (raw: Raw, budget: number, storeNamespace: string): Persistence.BackingPersistenceStore => {
  const generationKey = StoreKey.storeKey(`${storeNamespace}generation`, budget)
  const generation = Generation.current(raw, generationKey)
  const keyIn = (gen: string) => (key: string) => StoreKey.storeKey(`${storeNamespace}${gen}:${key}`, budget)
  const serialize = (key: string, value: object) => {
    const item = encode(value)
    return item === undefined ? refused(`Failed to serialize the value of ${key} as JSON`) : Effect.succeed(item)
  }
  /** The value of a hit; a value that cannot be read is deleted (without waiting) and is a miss. */
  const read = (key: string, hit: Option.Option<Serializer.Serialized>) => {
    if (Option.isNone(hit)) return Effect.undefined
    const value = decode(hit.value)
    return value !== undefined ? Effect.succeed(value) : Effect.as(Effect.ignore(raw.delete(key)), undefined)
  }
  return {
    get: (key) =>
      Effect.gen(function* () {
        const stored = keyIn(yield* generation)(key)
        return yield* read(stored, yield* raw.get(stored))
      }).pipe(Effect.mapError(failure(`Failed to get key ${key} from memcached`))),
    getMany: (keys) =>
      Effect.gen(function* () {
        const stored = Arr.map(keys, keyIn(yield* generation))
        const hits = yield* raw.getMany(stored)
        return yield* Effect.forEach(stored, (key) => read(key, Option.fromUndefinedOr(hits.get(key))))
      }).pipe(Effect.mapError(failure("Failed to getMany from memcached"))),
    set: (key, value, ttl) =>
      Effect.gen(function* () {
        const item = yield* serialize(key, value)
        const stored = keyIn(yield* generation)(key)
        const written = yield* raw.set(stored, item, { ...ttlOption(ttl), noreply: false })
        if (!written) return yield* refused(`memcached did not store ${stored}`)
      }).pipe(Effect.mapError(orFailure(`Failed to set key ${key} in memcached`))),
    setMany: (entries) =>
      Effect.gen(function* () {
        const toKey = keyIn(yield* generation)
        const items = yield* Effect.forEach(entries, ([key, value, ttl]) =>
          Effect.map(serialize(key, value), (item) => [toKey(key), item, ttl] as const)
        )
        const perGroup = yield* Effect.forEach(
          byTtl(items),
          (group) => raw.setMany(group.entries, { ...ttlOption(group.ttl), noreply: false }),
          { concurrency: "unbounded" }
        )
        const notStored = perGroup.flat()
        if (notStored.length > 0) return yield* refused(`memcached did not store ${notStored.join(", ")}`)
      }).pipe(Effect.mapError(orFailure("Failed to setMany in memcached"))),
    remove: (key) =>
      Effect.gen(function* () {
        yield* raw.delete(keyIn(yield* generation)(key), { noreply: false })
      }).pipe(Effect.mapError(failure(`Failed to remove key ${key} from memcached`))),
    clear: Generation.bump(raw, generationKey).pipe(Effect.mapError(failure("Failed to clear the store in memcached")))
  }
}

/**
 * The backing store maker over the `Memcache` service in context. Fails when `clientKeyPrefix` leaves too few
 * bytes of memcached's 250 to hash a key into (it must be at most 178 bytes).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { MemcacheMemory, MemcachePersistence } from "@effect-memcache/client"
 * const program = Effect.gen(function* () {
 *   const backing = yield* MemcachePersistence.make()
 *   const store = yield* backing.make("users")
 *   yield* store.set("1", { name: "Ada" }, undefined)
 *   return yield* store.get("1") // { name: "Ada" }
 * }).pipe(Effect.scoped, Effect.provide(MemcacheMemory.layer()))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<Persistence.BackingPersistence["Service"], MemcacheIllegalInputError, Memcache.Memcache> =>
  Effect.gen(function* () {
    const budget = StoreKey.budgetOf(options.clientKeyPrefix ?? "")
    if (budget === undefined) {
      return yield* new MemcacheIllegalInputError({
        command: "MemcachePersistence",
        field: "clientKeyPrefix",
        reason: `leaves fewer than ${StoreKey.HASH_BYTES} of memcached's 250 key bytes for a store's keys`
      })
    }
    const raw = (yield* Memcache.Memcache).withSerializer(Serializer.raw)
    const namespace = options.namespace ?? "persistence:"
    return Persistence.BackingPersistence.of({
      make: (storeId) => Effect.sync(() => makeStore(raw, budget, `${namespace}${storeIdPart(storeId)}:`))
    })
  })

/**
 * `BackingPersistence` on the `Memcache` service: provide it under `Persistence.layer` (or use
 * {@link layerPersistence}).
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { Persistence } from "effect/persistence"
 * import { MemcacheClient, MemcachePersistence } from "@effect-memcache/client"
 * const PersistenceLive = Persistence.layer.pipe(
 *   Layer.provide(MemcachePersistence.layer()),
 *   Layer.provide(MemcacheClient.layer({ server: "127.0.0.1:11211" }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<Persistence.BackingPersistence, MemcacheIllegalInputError, Memcache.Memcache> =>
  Layer.effect(Persistence.BackingPersistence, make(options))

/**
 * {@link layer} with its options read from a `Config`.
 *
 * @example
 * ```ts
 * import { Config } from "effect"
 * import { MemcachePersistence } from "@effect-memcache/client"
 * const layer = MemcachePersistence.layerConfig({ namespace: Config.String("PERSISTENCE_NAMESPACE") })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Wrap<Options>
): Layer.Layer<Persistence.BackingPersistence, MemcacheIllegalInputError | Config.ConfigError, Memcache.Memcache> =>
  Layer.effect(Persistence.BackingPersistence, Effect.flatMap(Config.unwrap(options), make))

/**
 * `Persistence` itself (Effect's `Persistence.layer`) on memcached: what `PersistedCache` needs.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { MemcacheClient, MemcachePersistence } from "@effect-memcache/client"
 * const PersistenceLive = MemcachePersistence.layerPersistence().pipe(
 *   Layer.provide(MemcacheClient.layer({ server: "127.0.0.1:11211" }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerPersistence = (
  options: Options = {}
): Layer.Layer<Persistence.Persistence, MemcacheIllegalInputError, Memcache.Memcache> =>
  Persistence.layer.pipe(Layer.provide(layer(options)))
