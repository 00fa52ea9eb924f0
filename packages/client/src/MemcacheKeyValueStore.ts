/**
 * Effect's `KeyValueStore` on memcached, over the `Memcache` service.
 *
 * - Strings are stored as UTF-8 with flags 16, bytes as they are with flags 0. As with Effect's in-memory store,
 *   `get` of bytes answers them in base64 and `getUint8Array` of a string answers its UTF-8 bytes.
 * - `modify` and `modifyUint8Array` are compare-and-swap loops (`gets`, then `cas`; on `EXISTS`, another writer
 *   came first: read again and retry), so concurrent modifications never lose an update. As the
 *   `KeyValueStore` contract says, they change a key only if it exists: a missing key (or one deleted during the
 *   loop) answers `undefined` and is not created.
 * - memcached cannot list keys: `clear`, `clearPrefix`, `size`, `keys` and `isEmpty` fail with a
 *   `KeyValueStoreError` saying so. There is no best-effort mode.
 * - Keys memcached would refuse (too long with the client's `keyPrefix`, or with a space, control or non-ASCII
 *   character) are stored under `<readable start>#sha256:<SHA-256 of the whole key, in hex>`; a key that itself
 *   ends like a hashed one is always hashed, so two keys share a memcached key only through a SHA-256 collision.
 * - memcached evicts: an entry can vanish before its TTL, like any cache item.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Base64 from "effect/encoding/Base64"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as KeyValueStore from "effect/persistence/KeyValueStore"
import * as StoreKey from "./internal/StoreKey.ts"
import * as Memcache from "./Memcache.ts"
import { MemcacheIllegalInputError } from "./MemcacheError.ts"
import * as Serializer from "./Serializer.ts"

/**
 * Options of the memcached key/value store.
 *
 * @example
 * ```ts
 * import type { MemcacheKeyValueStore } from "@effect-memcache/client"
 * const o: MemcacheKeyValueStore.Options = { namespace: "kv:", ttl: "1 day" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * Prepended to every key as it is, to keep the store's entries apart from other data: printable ASCII without
   * spaces. Default `""`.
   */
  readonly namespace?: string | undefined
  /**
   * The `keyPrefix` the `Memcache` layer was built with, if any: it counts in memcached's 250-byte key limit,
   * so longer keys must be hashed sooner. Default `""`.
   */
  readonly clientKeyPrefix?: string | undefined
  /** How long every written entry lives (rounded up to whole seconds). Default: until evicted. */
  readonly ttl?: Duration.Input | undefined
}

type Raw = Memcache.MemcacheShape<Serializer.Serialized>

const encoder = new TextEncoder()
const decoder = new TextDecoder()

const NO_LISTING =
  "memcached cannot list keys, so a memcached KeyValueStore has no clear, clearPrefix, size, keys or isEmpty"

const storeError = (method: string, message: string, key?: string, cause?: unknown) =>
  new KeyValueStore.KeyValueStoreError({
    method,
    message,
    ...(key === undefined ? {} : { key }),
    ...(cause === undefined ? {} : { cause })
  })

const cannotList = (method: string) => Effect.fail(storeError(method, NO_LISTING))

const asText = (item: Serializer.Serialized): string =>
  item.flags === Serializer.Flags.text ? decoder.decode(item.bytes) : Base64.encode(item.bytes)

const asBytes = (item: Serializer.Serialized): Uint8Array => item.bytes

const itemOf = (value: string | Uint8Array): Serializer.Serialized =>
  typeof value === "string"
    ? { bytes: encoder.encode(value), flags: Serializer.Flags.text }
    : { bytes: value, flags: Serializer.Flags.bytes }

/** Runs `effect`, its memcache failure as a `KeyValueStoreError` of `method` on `key`. */
const call = <A>(method: string, key: string, effect: Effect.Effect<A, Memcache.ValueError>) =>
  Effect.mapError(effect, (cause) => storeError(method, `${method}(${key}) failed: ${cause.message}`, key, cause))

const makeStore = (raw: Raw, toKey: (key: string) => string, ttl: Duration.Input | undefined) => {
  const store = ttl === undefined ? {} : { ttl }
  const read =
    <A>(method: string, as: (item: Serializer.Serialized) => A) =>
    (key: string): Effect.Effect<A | undefined, KeyValueStore.KeyValueStoreError> =>
      call(
        method,
        key,
        Effect.map(raw.get(toKey(key)), (hit) => (Option.isSome(hit) ? as(hit.value) : undefined))
      )
  const modify =
    <A extends string | Uint8Array>(method: string, as: (item: Serializer.Serialized) => A) =>
    (key: string, f: (value: A) => A): Effect.Effect<A | undefined, KeyValueStore.KeyValueStoreError> => {
      const stored = toKey(key)
      const attempt: Effect.Effect<A | undefined, Memcache.ValueError> = Effect.flatMap(raw.gets(stored), (hit) => {
        if (Option.isNone(hit)) return Effect.undefined
        const next = f(as(hit.value.value))
        return Effect.flatMap(raw.cas(stored, itemOf(next), hit.value.cas, store), (result) =>
          // Exists: another writer came first; NotFound: deleted meanwhile, so the next read answers undefined.
          result === "Stored" ? Effect.succeed(next) : attempt
        )
      })
      return call(method, key, attempt)
    }
  return KeyValueStore.make({
    get: read("get", asText),
    getUint8Array: read("getUint8Array", asBytes),
    has: (key) => call("has", key, Effect.map(raw.get(toKey(key)), Option.isSome)),
    set: (key, value) =>
      Effect.flatMap(call("set", key, raw.set(toKey(key), itemOf(value), { ...store, noreply: false })), (stored) =>
        stored ? Effect.void : Effect.fail(storeError("set", `memcached did not store ${key}`, key))
      ),
    remove: (key) => call("remove", key, Effect.asVoid(raw.delete(toKey(key), { noreply: false }))),
    modify: modify("modify", asText),
    modifyUint8Array: modify("modifyUint8Array", asBytes),
    clear: cannotList("clear"),
    clearPrefix: () => cannotList("clearPrefix"),
    size: cannotList("size"),
    keys: cannotList("keys"),
    isEmpty: cannotList("isEmpty")
  })
}

/**
 * A `KeyValueStore` over the `Memcache` service in context. Fails when `namespace` is not printable ASCII
 * without spaces, or when it and `clientKeyPrefix` leave too few of memcached's 250 key bytes to hash a key into
 * (together they must stay within 178 bytes).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { MemcacheKeyValueStore, MemcacheMemory } from "@effect-memcache/client"
 * const program = Effect.gen(function* () {
 *   const store = yield* MemcacheKeyValueStore.make({ namespace: "kv:" })
 *   yield* store.set("visits", "0")
 *   return yield* store.modify("visits", (n) => String(Number(n) + 1)) // "1"
 * }).pipe(Effect.provide(MemcacheMemory.layer()))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<KeyValueStore.KeyValueStore, MemcacheIllegalInputError, Memcache.Memcache> =>
  Effect.gen(function* () {
    const namespace = options.namespace ?? ""
    if (namespace !== "" && !StoreKey.allPlain(namespace)) {
      return yield* new MemcacheIllegalInputError({
        command: "MemcacheKeyValueStore",
        field: "namespace",
        reason: "must be printable ASCII without spaces (it is part of every key as it is)"
      })
    }
    const budget = StoreKey.budgetOf(`${options.clientKeyPrefix ?? ""}${namespace}`)
    if (budget === undefined) {
      return yield* new MemcacheIllegalInputError({
        command: "MemcacheKeyValueStore",
        field: "namespace",
        reason: `with the clientKeyPrefix, leaves fewer than ${StoreKey.HASH_BYTES} of memcached's 250 key bytes`
      })
    }
    const raw = (yield* Memcache.Memcache).withSerializer(Serializer.raw)
    // The namespace is not hashed with the key: it stays readable, and it was counted in the budget.
    return makeStore(raw, (key) => `${namespace}${StoreKey.storeKey(key, budget)}`, options.ttl)
  })

/**
 * The `KeyValueStore` layer on the `Memcache` service.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { MemcacheClient, MemcacheKeyValueStore } from "@effect-memcache/client"
 * const KeyValueStoreLive = MemcacheKeyValueStore.layer({ namespace: "kv:" }).pipe(
 *   Layer.provide(MemcacheClient.layer({ server: "127.0.0.1:11211" }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<KeyValueStore.KeyValueStore, MemcacheIllegalInputError, Memcache.Memcache> =>
  Layer.effect(KeyValueStore.KeyValueStore, make(options))

/**
 * {@link layer} with its options read from a `Config`.
 *
 * @example
 * ```ts
 * import { Config } from "effect"
 * import { MemcacheKeyValueStore } from "@effect-memcache/client"
 * const layer = MemcacheKeyValueStore.layerConfig({ namespace: Config.String("KV_NAMESPACE") })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Wrap<Options>
): Layer.Layer<KeyValueStore.KeyValueStore, MemcacheIllegalInputError | Config.ConfigError, Memcache.Memcache> =>
  Layer.effect(KeyValueStore.KeyValueStore, Effect.flatMap(Config.unwrap(options), make))
