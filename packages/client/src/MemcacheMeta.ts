/**
 * The options and results of the meta commands on the `Memcache` service (`metaGet`, `metaSet`, `metaDelete`,
 * `metaArithmetic`, `metaDebug`, `metaNoop`): every flag memcached 1.6 takes, as typed options, and every flag
 * it returns, as typed fields. The wire format is the protocol package's (`Meta`).
 *
 * A key is a `string` (checked as a text key, the key prefix prepended) or a `Uint8Array`: any bytes (1 to 186,
 * the key prefix included), sent base64 encoded with the `b` flag, so keys that the text protocol refuses
 * (spaces, control characters) can be stored. The server's keyspace is bytes: a binary key holding the UTF-8 of
 * a text key is the same item, on the same server of a cluster.
 *
 * Meta calls always wait for their reply: there is no `q` (quiet) option, as a call's answer is what it asked
 * for. A miss of `metaGet` is `Option.none()`; the other commands answer a status.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import type { CallOptions, Expiry } from "./Memcache.ts"

/**
 * A meta command's key: text, or bytes sent base64 encoded.
 *
 * @example
 * ```ts
 * import type { MemcacheMeta } from "@effect-memcache/client"
 * const text: MemcacheMeta.Key = "user:1"
 * const binary: MemcacheMeta.Key = new Uint8Array([0x00, 0x20, 0xff])
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Key = string | Uint8Array

/**
 * The options of `metaGet` (`mg`). Each `true` asks for one field of the result; the others act on the item.
 *
 * @example
 * ```ts
 * import type { MemcacheMeta } from "@effect-memcache/client"
 * // the value and its CAS; on a miss, create a placeholder for 30 seconds and hand this caller the lease
 * const o: MemcacheMeta.GetOptions = { value: true, cas: true, vivify: "30 seconds" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface GetOptions extends CallOptions {
  /** `v`: return the value (read by the view's serializer). */
  readonly value?: boolean | undefined
  /** `s`: return the value's size in bytes. */
  readonly size?: boolean | undefined
  /** `f`: return the client flags (also sent with `value`, which the serializer reads by its flags). */
  readonly flags?: boolean | undefined
  /** `t`: return the time to live left (before a `touch` of the same call). */
  readonly ttl?: boolean | undefined
  /** `c`: return the CAS unique. */
  readonly cas?: boolean | undefined
  /** `k`: return the key (without the key prefix). Refused with a binary key (see `Meta` in the protocol). */
  readonly key?: boolean | undefined
  /** `h`: return whether the item had been read before. */
  readonly hitBefore?: boolean | undefined
  /** `l`: return the time since the item was last read. */
  readonly lastAccess?: boolean | undefined
  /** `O`: 1 to 31 printable ASCII characters, returned as `opaque`. */
  readonly opaque?: string | undefined
  /** `u`: do not bump the item in the LRU. */
  readonly noBump?: boolean | undefined
  /** `T`: set a new expiry. */
  readonly touch?: Expiry | undefined
  /**
   * `N`: on a miss, create an empty placeholder item living this long and answer it with `win` (this caller
   * holds the lease); callers that read the placeholder meanwhile get `lost`.
   */
  readonly vivify?: Expiry | undefined
  /**
   * `R`: when less than this time to live is left (rounded up to seconds), answer `win` to one caller (it should
   * recompute the value) and `lost` to the others.
   */
  readonly recache?: Duration.Input | undefined
}

/**
 * An item as `metaGet` found it. Fields that were not asked for are `undefined`.
 *
 * @example
 * ```ts
 * import type { MemcacheMeta } from "@effect-memcache/client"
 * const describe = (item: MemcacheMeta.Item<string>) =>
 *   item.win ? "recompute it" : item.stale ? `stale: ${item.value}` : `fresh: ${item.value}`
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Item<A> {
  /**
   * The value, with `value: true`. `undefined` also for a placeholder made by `vivify` (an empty item that the
   * serializer cannot read, or that the pymemcache serializer would read as empty bytes): see `placeholder`.
   */
  readonly value: A | undefined
  /**
   * Whether the item is an empty placeholder of a lease (0 bytes, flags 0, and a `win` or `lost` marker), as
   * made by `vivify`: nobody stored a value yet. An empty value stored with flags 0 looks the same while a
   * `recache` lease runs on it.
   */
  readonly placeholder: boolean
  /** The value's size in bytes, with `size: true`. */
  readonly size: number | undefined
  /** The client flags, with `flags: true` or `value: true`. */
  readonly flags: number | undefined
  /** The time to live left, with `ttl: true`; `Duration.infinity` when the item never expires. */
  readonly ttl: Duration.Duration | undefined
  /** The CAS unique, with `cas: true`. */
  readonly cas: bigint | undefined
  /** The key without the key prefix, with `key: true`. */
  readonly key: string | undefined
  /** Whether the item had been read before this call, with `hitBefore: true`. */
  readonly hitBefore: boolean | undefined
  /** The time since the item was last read, with `lastAccess: true`. */
  readonly lastAccess: Duration.Duration | undefined
  /** The `opaque` the call sent. */
  readonly opaque: string | undefined
  /** `W`: this caller won the lease (a `vivify` miss, a `recache` near expiry, or a stale item): recompute it. */
  readonly win: boolean
  /** `Z`: another caller holds the lease of this item. */
  readonly lost: boolean
  /** `X`: the item was invalidated (`metaDelete` with `invalidate`); its value is stale. */
  readonly stale: boolean
}

/**
 * How `metaSet` stores: `set` (the default), `add` (only a new key), `replace` (only an existing key), `append`
 * or `prepend` (to an existing value).
 *
 * @example
 * ```ts
 * import type { MemcacheMeta } from "@effect-memcache/client"
 * const mode: MemcacheMeta.SetMode = "add"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type SetMode = "set" | "add" | "replace" | "append" | "prepend"

/**
 * The options of `metaSet` (`ms`).
 *
 * @example
 * ```ts
 * import type { MemcacheMeta } from "@effect-memcache/client"
 * const o: MemcacheMeta.SetOptions = { ttl: "10 minutes", compareCas: 42n, returnCas: true }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface SetOptions extends CallOptions {
  /** How long the item lives, as the store calls take it (`ttl` or `exptime`, not both). Default: never expires. */
  readonly ttl?: Duration.Input | undefined
  /** The raw exptime instead of `ttl`. */
  readonly exptime?: number | undefined
  /** Overrides the flags the serializer chose (`F`). */
  readonly flags?: number | undefined
  /** `M`: the storage mode. Default `"set"`. */
  readonly mode?: SetMode | undefined
  /** `C`: store only if the item's CAS unique is still this one. */
  readonly compareCas?: bigint | undefined
  /** `I`: with `compareCas`, a CAS lower than the item's marks the stored item stale instead of failing. */
  readonly invalidate?: boolean | undefined
  /** `c`: return the stored item's CAS unique. */
  readonly returnCas?: boolean | undefined
  /** `k`: return the key (text keys only). */
  readonly key?: boolean | undefined
  /** `O`: returned as `opaque`. */
  readonly opaque?: string | undefined
}

/**
 * What `metaSet` did: `Stored`; `NotStored` (the mode's condition failed); `Exists` (the CAS differed);
 * `NotFound` (a `compareCas` on a missing key).
 *
 * @example
 * ```ts
 * import type { MemcacheMeta } from "@effect-memcache/client"
 * const stored = (r: MemcacheMeta.SetResult) => r.status === "Stored"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface SetResult {
  readonly status: "Stored" | "NotStored" | "Exists" | "NotFound"
  /** The stored item's CAS unique, with `returnCas: true` (when stored). */
  readonly cas: bigint | undefined
  /** The key without the key prefix, with `key: true`. */
  readonly key: string | undefined
  readonly opaque: string | undefined
}

/**
 * The options of `metaDelete` (`md`).
 *
 * @example
 * ```ts
 * import type { MemcacheMeta } from "@effect-memcache/client"
 * // keep serving the value as stale for 30 seconds while one caller recomputes it
 * const o: MemcacheMeta.DeleteOptions = { invalidate: true, ttl: "30 seconds" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface DeleteOptions extends CallOptions {
  /** `C`: delete only if the item's CAS unique is still this one. */
  readonly compareCas?: bigint | undefined
  /**
   * `I`: instead of deleting, mark the item stale (later reads get `stale`, and one of them `win`) and bump its
   * CAS unique.
   */
  readonly invalidate?: boolean | undefined
  /** `T`, with `invalidate` only: the stale item's new expiry. */
  readonly ttl?: Expiry | undefined
  /** `k`: return the key (text keys only). */
  readonly key?: boolean | undefined
  /** `O`: returned as `opaque`. */
  readonly opaque?: string | undefined
}

/**
 * What `metaDelete` did: `Deleted` (or marked stale), `NotFound`, or `Exists` (the CAS differed).
 *
 * @example
 * ```ts
 * import type { MemcacheMeta } from "@effect-memcache/client"
 * const gone = (r: MemcacheMeta.DeleteResult) => r.status !== "Exists"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface DeleteResult {
  readonly status: "Deleted" | "NotFound" | "Exists"
  readonly key: string | undefined
  readonly opaque: string | undefined
}

/**
 * The options of `metaArithmetic` (`ma`).
 *
 * @example
 * ```ts
 * import type { MemcacheMeta } from "@effect-memcache/client"
 * // a counter that starts at 1 on first use and lives a minute
 * const o: MemcacheMeta.ArithmeticOptions = { vivify: "1 minute", initial: 1n }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface ArithmeticOptions extends CallOptions {
  /** `M`: `"incr"` (the default) or `"decr"` (floored at 0). */
  readonly mode?: "incr" | "decr" | undefined
  /** `D`: the delta, an unsigned 64-bit integer. Default 1. */
  readonly delta?: bigint | number | undefined
  /** `N`: on a miss, create the item with `initial`, living this long. */
  readonly vivify?: Expiry | undefined
  /** `J`: the value of an item created by `vivify`. Default 0. */
  readonly initial?: bigint | number | undefined
  /** `C`: apply only if the item's CAS unique is still this one. */
  readonly compareCas?: bigint | undefined
  /** `T`: set a new expiry. */
  readonly touch?: Expiry | undefined
  /** `t`: return the time to live left. */
  readonly ttl?: boolean | undefined
  /** `c`: return the CAS unique. */
  readonly cas?: boolean | undefined
  /** `k`: return the key (text keys only). */
  readonly key?: boolean | undefined
  /** `O`: returned as `opaque`. */
  readonly opaque?: string | undefined
}

/**
 * What `metaArithmetic` did: `Applied` with the new `value`; `NotFound`; `NotStored` (a `vivify` that could not
 * create the item); `Exists` (the CAS differed).
 *
 * @example
 * ```ts
 * import type { MemcacheMeta } from "@effect-memcache/client"
 * const count = (r: MemcacheMeta.ArithmeticResult) => (r.status === "Applied" ? r.value : 0n)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface ArithmeticResult {
  readonly status: "Applied" | "NotFound" | "NotStored" | "Exists"
  /** The new value, when applied. */
  readonly value: bigint | undefined
  readonly ttl: Duration.Duration | undefined
  readonly cas: bigint | undefined
  readonly key: string | undefined
  readonly opaque: string | undefined
}
