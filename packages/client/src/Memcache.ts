/**
 * The `Memcache` service: its shape (every command), options, results and error unions. The command surface
 * behind it (input checks, noreply defaults, serializers, `ignoreErrors`, retries and spans) is written once and
 * shared by the single-server, cluster and in-memory layers, which differ only in how a request reaches a
 * server.
 *
 * @since 0.1.0
 */
import * as Validation from "@effect-memcache/protocol/Validation"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type * as Schedule from "effect/Schedule"
import type * as Stream from "effect/Stream"
import type * as GetOrCompute from "./GetOrCompute.ts"
import type {
  MemcacheIllegalInputError,
  MemcacheSerializationError,
  ReplyError,
  TransportError
} from "./MemcacheError.ts"
import type * as MemcacheMeta from "./MemcacheMeta.ts"
import type * as Serializer from "./Serializer.ts"

/**
 * What the default serializer ({@link Serializer.pymemcache}) stores: bytes, text and integers, in the format
 * pymemcache and python-memcache read and write.
 *
 * @example
 * ```ts
 * import type { Memcache } from "@effect-memcache/client"
 * const v: Memcache.Value = "hello"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Value = Serializer.PythonValue

/**
 * Options every keyed call takes.
 *
 * @example
 * ```ts
 * import type { Memcache } from "@effect-memcache/client"
 * const o: Memcache.CallOptions = { timeout: "200 millis" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface CallOptions {
  /** Overrides the layer's operation `timeout` for this call. */
  readonly timeout?: Duration.Input | undefined
  /**
   * Routes the call by this key instead of the key itself (pymemcache's tuple keys), so related keys stay on one
   * server of a cluster. Ignored by single-server layers.
   */
  readonly routingKey?: string | undefined
}

/**
 * Options of the calls that can be sent without waiting for a reply.
 *
 * @example
 * ```ts
 * import type { Memcache } from "@effect-memcache/client"
 * const o: Memcache.NoreplyOptions = { noreply: false }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface NoreplyOptions extends CallOptions {
  /**
   * Send with `noreply`: the call completes once the request is queued for this tick's write on an open connection
   * (or once written, when the connection is busy or connecting), and its result carries no outcome
   * (`void`). Defaults to the layer's `defaultNoreply` for set/add/replace/append/prepend/delete/touch/
   * flushAll/verbosity/setMany/deleteMany (as pymemcache), and to `false` for cas/incr/decr. The result type
   * follows the call: pass `noreply: false` for the outcome of a write that is noreply by default (the layer's
   * `defaultNoreply` can make it wait, but cannot change its type).
   */
  readonly noreply?: boolean | undefined
}

/**
 * How long an item lives, as every call that sets it takes it: a `ttl` (an Effect `Duration.Input`: a bare
 * number is milliseconds, so pymemcache's `expire=60` is `"60 seconds"`), or `{ exptime }`, memcached's raw
 * exptime in seconds.
 *
 * - A ttl is rounded up to whole seconds (`"200 millis"` lives one second); `0` and `Infinity` never expire;
 *   a negative one (`-Infinity` too) expires at once; more than 30 days is sent as an absolute unix time,
 *   computed from Effect's `Clock` (the server's rule). `NaN`, a time past January 2038 and anything that is
 *   not a duration fail with a `MemcacheIllegalInputError` whose `field` is `"ttl"`.
 * - An exptime is sent as given: `0` never, up to 2592000 (30 days) seconds from now, larger an absolute unix
 *   time (one in the past expires at once), negative expired at once. It must be an integer in
 *   `[-2^31, 2^31)`, else a `MemcacheIllegalInputError` whose `field` is `"exptime"`.
 *
 * @example
 * ```ts
 * import type { Memcache } from "@effect-memcache/client"
 * const inAMinute: Memcache.Expiry = "1 minute"
 * const newYear: Memcache.Expiry = { exptime: 1798761600 } // 2027-01-01T00:00:00Z
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Expiry = Duration.Input | { readonly exptime: number }

/**
 * A write that is sent with noreply unless the call says `noreply: false` (set, add, replace, append, prepend,
 * setMany, delete, touch): with `noreply: false` it answers the outcome `R`; otherwise nothing, as it did not
 * ask the server.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Memcache } from "@effect-memcache/client"
 * const program = Effect.gen(function* () {
 *   const m = yield* Memcache.Memcache
 *   yield* m.set("k", "v") // void: sent with noreply
 *   const added: boolean = yield* m.add("k", "w", { noreply: false }) // false: "k" exists
 *   return added
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface QuietByDefault<Args extends ReadonlyArray<unknown>, O, R, E> {
  (...args: [...Args, options: O & { readonly noreply: false }]): Effect.Effect<R, E>
  (...args: [...Args, options?: O & { readonly noreply?: true | undefined }]): Effect.Effect<void, E>
  (...args: [...Args, options?: O]): Effect.Effect<R | void, E>
}

/**
 * A write that waits for its reply unless the call says `noreply: true` (cas, incr, decr): then it answers
 * nothing.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Memcache } from "@effect-memcache/client"
 * const program = Effect.gen(function* () {
 *   const m = yield* Memcache.Memcache
 *   yield* m.incr("hits", 1, { noreply: true }) // void
 *   return yield* m.incr("hits", 1) // Option<bigint>
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface WaitsByDefault<Args extends ReadonlyArray<unknown>, O, R, E> {
  (...args: [...Args, options: O & { readonly noreply: true }]): Effect.Effect<void, E>
  (...args: [...Args, options?: O & { readonly noreply?: false | undefined }]): Effect.Effect<R, E>
  (...args: [...Args, options?: O]): Effect.Effect<R | void, E>
}

/**
 * Options of the storage calls.
 *
 * @example
 * ```ts
 * import type { Memcache } from "@effect-memcache/client"
 * const o: Memcache.StoreOptions = { ttl: "10 minutes" }
 * const pymemcacheExpire60: Memcache.StoreOptions = { exptime: 60 }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface StoreOptions extends NoreplyOptions {
  /**
   * How long the item lives, a `Duration.Input`: a bare number is milliseconds, as everywhere in Effect. Rounded
   * up to whole seconds; `0` or `Infinity` never expires; negative expires at once; see {@link Expiry}. Default:
   * never expires.
   */
  readonly ttl?: Duration.Input | undefined
  /**
   * The raw memcached exptime instead of `ttl` (seconds up to 30 days, else an absolute unix time; see
   * {@link Expiry}). Giving both is refused.
   */
  readonly exptime?: number | undefined
  /** Overrides the flags the serializer chose (as pymemcache's `flags` argument). */
  readonly flags?: number | undefined
}

/**
 * Options of the admin calls that go to one server (`stats`, `version`, `shutdown`).
 *
 * @example
 * ```ts
 * import type { Memcache } from "@effect-memcache/client"
 * const o: Memcache.ServerOptions = { server: "127.0.0.1:11211" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface ServerOptions {
  readonly timeout?: Duration.Input | undefined
  /** Which server of a cluster (its address as configured); default the first one. */
  readonly server?: string | undefined
}

/**
 * A value with the CAS unique and the client flags `gets`/`gats` returned.
 *
 * @example
 * ```ts
 * import type { Memcache } from "@effect-memcache/client"
 * const next = (c: Memcache.WithCas<number>) => ({ value: c.value + 1, cas: c.cas })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface WithCas<A> {
  readonly value: A
  readonly cas: bigint
  /** The item's client flags, as stored (what the serializer read the value with). */
  readonly flags: number
}

/**
 * The outcome of `cas`: stored, the item changed since it was read (`Exists`), or it is gone (`NotFound`).
 *
 * @example
 * ```ts
 * import type { Memcache } from "@effect-memcache/client"
 * const ok = (r: Memcache.CasResult) => r === "Stored"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type CasResult = "Stored" | "Exists" | "NotFound"

/**
 * A parsed `stats` value: integers as `number` (or `bigint` past 2^53), decimals as `number`, everything else
 * as the server's text.
 *
 * @example
 * ```ts
 * import type { Memcache } from "@effect-memcache/client"
 * const uptime = (s: ReadonlyMap<string, Memcache.StatValue>) => s.get("uptime")
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type StatValue = number | bigint | string

/**
 * The failures of calls that take a key: a refused input, a transport failure or an error reply.
 *
 * @example
 * ```ts
 * import type { Memcache } from "@effect-memcache/client"
 * const tag = (e: Memcache.KeyError) => e._tag
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type KeyError = MemcacheIllegalInputError | TransportError | ReplyError

/**
 * The failures of calls that carry values: {@link KeyError} or a serialization failure.
 *
 * @example
 * ```ts
 * import type { Memcache } from "@effect-memcache/client"
 * const tag = (e: Memcache.ValueError) => e._tag
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type ValueError = KeyError | MemcacheSerializationError

/**
 * The failures of admin calls that take no key.
 *
 * @example
 * ```ts
 * import type { Memcache } from "@effect-memcache/client"
 * const tag = (e: Memcache.AdminError) => e._tag
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type AdminError = TransportError | ReplyError

/**
 * What {@link MemcacheShape.getManyPartial} returns: the hits of the servers that answered, and the failures of
 * the others as data. A key in `failedKeys` is neither a hit nor a known miss.
 *
 * @example
 * ```ts
 * import type { Memcache } from "@effect-memcache/client"
 * const complete = (r: Memcache.PartialHits<string>) => r.failures.size === 0
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface PartialHits<A> {
  /** The hits, in the order asked. */
  readonly hits: ReadonlyMap<string, A>
  /**
   * Per server (its name, as in `ServerOptions.server`): why some of its keys could not be read, a transport or
   * reply error of its part of the call (`MemcacheTimeoutError` for a server that did not answer in time), or
   * the serialization error of a value it returned. One failure per server.
   */
  readonly failures: ReadonlyMap<string, TransportError | ReplyError | MemcacheSerializationError>
  /** The keys of the failed parts, and those whose value could not be read, in the order asked. */
  readonly failedKeys: ReadonlyArray<string>
}

/**
 * The outcome of a multi-key write asked for as a partial result: per server, the failure of its part as data,
 * instead of one failure for the whole call.
 *
 * @example
 * ```ts
 * import type { Memcache } from "@effect-memcache/client"
 * const complete = (r: Memcache.PartialWrites) => r.failures.size === 0 && r.failedKeys.length === 0
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface PartialWrites {
  /** Per server (its name): the transport or reply error of a key sent to it. One failure per server. */
  readonly failures: ReadonlyMap<string, TransportError | ReplyError>
  /**
   * The keys not written, in the order given: those of failed servers, and for `setManyPartial` also those the
   * server did not store (`NOT_STORED`).
   */
  readonly failedKeys: ReadonlyArray<string>
}

/**
 * Every memcached command, with values of type `A` (the serializer's type). pymemcache's method names in
 * camelCase. Misses and NOT_STORED / EXISTS / NOT_FOUND are values (`Option`, `boolean`, {@link CasResult}).
 *
 * @example
 * ```ts
 * import { Effect, Option } from "effect"
 * import { Memcache } from "@effect-memcache/client"
 * const program = Effect.gen(function* () {
 *   const cache = yield* Memcache.Memcache
 *   yield* cache.set("greeting", "hello", { ttl: "1 minute" })
 *   return Option.getOrElse(yield* cache.get("greeting"), () => "miss")
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface MemcacheShape<A> {
  /** The value of `key`, or `Option.none()` on a miss. */
  readonly get: (key: string, options?: CallOptions) => Effect.Effect<Option.Option<A>, ValueError>
  /** The hits among `keys`, in the order asked (a key given twice is sent twice and appears once). */
  readonly getMany: (keys: Iterable<string>, options?: CallOptions) => Effect.Effect<ReadonlyMap<string, A>, ValueError>
  /** `get` with the item's CAS unique, for a later `cas`. */
  readonly gets: (key: string, options?: CallOptions) => Effect.Effect<Option.Option<WithCas<A>>, ValueError>
  /** `getMany` with each hit's CAS unique. */
  readonly getsMany: (
    keys: Iterable<string>,
    options?: CallOptions
  ) => Effect.Effect<ReadonlyMap<string, WithCas<A>>, ValueError>
  /**
   * `getMany` that a failing server does not fail as a whole: the other servers' hits, and each failed server's
   * error as data (see {@link PartialHits}). Every part runs at once under the call's timeout. Only refused input
   * fails the call; `ignoreErrors` does not apply (the failures are already values).
   */
  readonly getManyPartial: (
    keys: Iterable<string>,
    options?: CallOptions
  ) => Effect.Effect<PartialHits<A>, MemcacheIllegalInputError>
  /** `getsMany` with partial results, as {@link MemcacheShape.getManyPartial}. */
  readonly getsManyPartial: (
    keys: Iterable<string>,
    options?: CallOptions
  ) => Effect.Effect<PartialHits<WithCas<A>>, MemcacheIllegalInputError>
  /** Get and touch: returns the value and sets a new expiry (a ttl or `{ exptime }`, see {@link Expiry}). */
  readonly gat: (key: string, ttl: Expiry, options?: CallOptions) => Effect.Effect<Option.Option<A>, ValueError>
  /** `gat` with the CAS unique. */
  readonly gats: (
    key: string,
    ttl: Expiry,
    options?: CallOptions
  ) => Effect.Effect<Option.Option<WithCas<A>>, ValueError>
  /** With `noreply: false`, `true` when stored (`set` stores unless the server refuses it). */
  readonly set: QuietByDefault<[key: string, value: A], StoreOptions, boolean, ValueError>
  /**
   * Stores every entry. With `noreply: false`, returns the keys the server did not store (`NOT_STORED`, or an
   * error reply such as `SERVER_ERROR object too large`). A transport failure fails the call: `setManyPartial`
   * keeps it as data.
   */
  readonly setMany: QuietByDefault<
    [entries: Iterable<readonly [string, A]>],
    StoreOptions,
    ReadonlyArray<string>,
    ValueError
  >
  /** Stores only if the key does not exist; with `noreply: false`, `false` when it already exists. */
  readonly add: QuietByDefault<[key: string, value: A], StoreOptions, boolean, ValueError>
  /** Stores only if the key exists; with `noreply: false`, `false` when it does not. */
  readonly replace: QuietByDefault<[key: string, value: A], StoreOptions, boolean, ValueError>
  /** Appends the serialized bytes; with `noreply: false`, `false` when the key does not exist. Flags and ttl stay. */
  readonly append: QuietByDefault<[key: string, value: A], StoreOptions, boolean, ValueError>
  /** Prepends the serialized bytes; with `noreply: false`, `false` when the key does not exist. */
  readonly prepend: QuietByDefault<[key: string, value: A], StoreOptions, boolean, ValueError>
  /** Stores only if the item's CAS unique is still `cas`. noreply is off by default. */
  readonly cas: WaitsByDefault<[key: string, value: A, cas: bigint], StoreOptions, CasResult, ValueError>
  /** Deletes the key; with `noreply: false`, `true` when deleted and `false` when not found. */
  readonly delete: QuietByDefault<[key: string], NoreplyOptions, boolean, KeyError>
  /** Deletes every key (per server, at once); noreply by default, as `delete`. */
  readonly deleteMany: (keys: Iterable<string>, options?: NoreplyOptions) => Effect.Effect<void, KeyError>
  /** `setMany`, with each server's failure as data (see {@link PartialWrites}); only refused input fails it. */
  readonly setManyPartial: (
    entries: Iterable<readonly [string, A]>,
    options?: StoreOptions
  ) => Effect.Effect<PartialWrites, MemcacheIllegalInputError | MemcacheSerializationError>
  /** `deleteMany`, with each server's failure as data (see {@link PartialWrites}); only refused input fails it. */
  readonly deleteManyPartial: (
    keys: Iterable<string>,
    options?: NoreplyOptions
  ) => Effect.Effect<PartialWrites, MemcacheIllegalInputError>
  /** The new value, or `None` when the key does not exist. */
  readonly incr: WaitsByDefault<[key: string, delta: bigint | number], NoreplyOptions, Option.Option<bigint>, KeyError>
  /** The new value (floored at 0), or `None` when the key does not exist. */
  readonly decr: WaitsByDefault<[key: string, delta: bigint | number], NoreplyOptions, Option.Option<bigint>, KeyError>
  /**
   * Sets a new expiry (a ttl or `{ exptime }`, see {@link Expiry}); with `noreply: false`, `true` when touched and
   * `false` when not found.
   */
  readonly touch: QuietByDefault<[key: string, ttl: Expiry], NoreplyOptions, boolean, KeyError>
  /** `stats [args...]`, parsed (see {@link StatValue}); `ITEM`/`PREFIX` lines of sub-commands are kept whole. */
  readonly stats: (
    args?: ReadonlyArray<string>,
    options?: ServerOptions
  ) => Effect.Effect<ReadonlyMap<string, StatValue>, AdminError | MemcacheIllegalInputError>
  /** The server's version; a `server` that is not one of the layer's is refused. */
  readonly version: (options?: ServerOptions) => Effect.Effect<string, AdminError | MemcacheIllegalInputError>
  /** Flushes every server (after `delay`, rounded up to seconds). */
  readonly flushAll: (
    options?: { readonly delay?: Duration.Input | undefined; readonly noreply?: boolean | undefined } & ServerOptions
  ) => Effect.Effect<void, AdminError | MemcacheIllegalInputError>
  /** Sets the servers' verbosity. */
  readonly verbosity: (
    level: number,
    options?: { readonly noreply?: boolean | undefined } & ServerOptions
  ) => Effect.Effect<void, AdminError | MemcacheIllegalInputError>
  /** Sets the server's memory limit in megabytes; a refusal (such as `MEMLIMIT_TOO_SMALL`) is a client error. */
  readonly cacheMemlimit: (
    megabytes: number,
    options?: ServerOptions
  ) => Effect.Effect<void, AdminError | MemcacheIllegalInputError>
  /** Closes every connection politely; the next call reconnects. */
  readonly quit: () => Effect.Effect<void>
  /** Asks the server to shut down (needs `memcached -A`, else a `MemcacheUnknownCommandError`). */
  readonly shutdown: (
    options?: { readonly graceful?: boolean | undefined } & ServerOptions
  ) => Effect.Effect<void, AdminError | MemcacheIllegalInputError>
  /**
   * `mg`: the item of `key` with the fields the options ask for, `Option.none()` on a miss. Leases: `vivify`
   * creates a placeholder on a miss and answers `win` to this caller, `lost` to the others; `recache` hands out
   * `win` once near expiry; an invalidated item answers `stale` (see {@link MemcacheMeta.GetOptions}).
   */
  readonly metaGet: (
    key: MemcacheMeta.Key,
    options?: MemcacheMeta.GetOptions
  ) => Effect.Effect<Option.Option<MemcacheMeta.Item<A>>, ValueError>
  /** `ms`: stores the value by the options' mode, CAS and invalidation rules; answers what it did. */
  readonly metaSet: (
    key: MemcacheMeta.Key,
    value: A,
    options?: MemcacheMeta.SetOptions
  ) => Effect.Effect<MemcacheMeta.SetResult, ValueError>
  /** `md`: deletes the key, or with `invalidate` marks it stale (see {@link MemcacheMeta.DeleteOptions}). */
  readonly metaDelete: (
    key: MemcacheMeta.Key,
    options?: MemcacheMeta.DeleteOptions
  ) => Effect.Effect<MemcacheMeta.DeleteResult, KeyError>
  /** `ma`: increments or decrements a counter, creating it with `vivify`; answers the new value. */
  readonly metaArithmetic: (
    key: MemcacheMeta.Key,
    options?: MemcacheMeta.ArithmeticOptions
  ) => Effect.Effect<MemcacheMeta.ArithmeticResult, KeyError>
  /** `me`: the server's debug fields of an item (`exp`, `la`, `cas`, `fetch`, `cls`, `size`), or a miss. */
  readonly metaDebug: (
    key: MemcacheMeta.Key,
    options?: CallOptions
  ) => Effect.Effect<Option.Option<Readonly<Record<string, string>>>, KeyError>
  /** `mn` to one server (named, or the first): a round trip that does nothing, answered by `MN`. */
  readonly metaNoop: (options?: ServerOptions) => Effect.Effect<void, AdminError | MemcacheIllegalInputError>
  /**
   * Cache-aside without stampedes: the cached value of `key`, or `compute`'s, stored for the next caller.
   * Concurrent callers of one key share one computation (pass the same `compute` for a key); across processes a
   * meta lease lets one caller compute while the others wait for its value; `recache` refreshes a value near its
   * expiry in one caller; after an invalidation the others get the stale value; a cache outage never fails the
   * call (see the `GetOrCompute` module).
   */
  readonly getOrCompute: <E, R>(
    key: string,
    compute: Effect.Effect<A, E, R>,
    options?: GetOrCompute.Options
  ) => Effect.Effect<A, E | GetOrCompute.Error, R>
  /** {@link MemcacheShape.getOrCompute}, with how the value was got (a hit, computed, stale...). */
  readonly getOrComputeOutcome: <E, R>(
    key: string,
    compute: Effect.Effect<A, E, R>,
    options?: GetOrCompute.Options
  ) => Effect.Effect<GetOrCompute.Computed<A>, E | GetOrCompute.Error, R>
  /**
   * The error replies that came back for commands sent with noreply. memcached 1.6 suppresses them, but older
   * servers, proxies and malformed commands answer error lines, without saying which command they belong to:
   * each batch of them is logged once as a warning and published here as a typed error (`command: "noreply
   * command"`). A new subscriber first gets the latest 64.
   */
  readonly noreplyFailures: Stream.Stream<ReplyError>
  /** The same service, on the same connections, reading and writing values with `serializer`. */
  readonly withSerializer: <B>(serializer: Serializer.Serializer<B>) => MemcacheShape<B>
}

/**
 * The memcache service. Provide it with `MemcacheClient.layer` (one server), `MemcacheCluster.layer` or the
 * in-memory layer for tests.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Memcache } from "@effect-memcache/client"
 * const hits = Memcache.Memcache.use((m) => m.getMany(["a", "b"]))
 * ```
 *
 * @since 0.1.0
 * @category services
 */
export class Memcache extends Context.Service<Memcache, MemcacheShape<Value>>()("@effect-memcache/client/Memcache") {}

/**
 * Options of the command surface, common to every layer. Every default is listed.
 *
 * @example
 * ```ts
 * import type { Memcache } from "@effect-memcache/client"
 * const o: Memcache.SurfaceOptions = { keyPrefix: "app:", timeout: "500 millis", ignoreErrors: true }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface SurfaceOptions {
  /** Prepended to every key (counted in the 250-byte limit). Default `""`. */
  readonly keyPrefix?: string | undefined
  /** Accept non-ASCII keys, sent as UTF-8. Default `true` (pymemcache defaults to `false`). */
  readonly allowUnicodeKeys?: boolean | undefined
  /** The noreply default of set/add/replace/append/prepend/delete/touch/flushAll/verbosity. Default `true`. */
  readonly defaultNoreply?: boolean | undefined
  /**
   * pymemcache's `ignore_exc`: get/getMany/gets/getsMany/gat/gats turn failures into misses, logging each at
   * warning level. Refused inputs (a bad key) still fail: they are bugs, not outages. Default `false`.
   */
  readonly ignoreErrors?: boolean | undefined
  /** The serializer of the service's values. Default {@link Serializer.pymemcache}. */
  readonly serializer?: Serializer.Serializer<Value> | undefined
  /**
   * The server's item size limit (`-I`), in bytes: match the server's. Default 1048576 (the server's default). It
   * bounds the whole item as memcached 1.6.18 counts it, so the largest value is `itemSizeMax - 59 - keyBytes`
   * (key prefix included), 4 bytes less when the flags are not 0 (`Validation.maxValueSize`); a larger one fails
   * with `MemcacheIllegalInputError` before it is sent (with noreply the server's refusal would go unseen).
   */
  readonly itemSizeMax?: number | undefined
  /**
   * How long a call waits for its reply. Default 2 seconds. A timeout fails only its call (a reply that comes
   * later is read and dropped); a connection that receives no reply bytes for this long while replies are due is
   * retired.
   */
  readonly timeout?: Duration.Input | undefined
  /**
   * Retries transport failures (timeouts, connection errors, unexpected closes) by this schedule, for the calls
   * that are safe to repeat: reads, touch, delete, cas, stats, version. Default: no retry.
   */
  readonly retry?: Schedule.Schedule<unknown, TransportError> | undefined
  /** Also retry set/add/replace/append/prepend/incr/decr/flushAll (not idempotent). Default `false`. */
  readonly retryUnsafe?: boolean | undefined
  /**
   * Wrap each call in a client span by OpenTelemetry's database conventions when a tracing backend is installed:
   * named `<command> <host>:<port>` when the layer has one server, `<command>` otherwise, with `db.system.name`
   * (`memcached`), `db.operation.name`, `server.address` and `server.port` (single server),
   * `db.operation.batch.size` (multi-key calls of several keys), and on failure `error.type` (the error's
   * `_tag`) and `db.response.status_code` (`CLIENT_ERROR`, `SERVER_ERROR`, `ERROR`). Keys and values are never
   * recorded. With Effect's built-in tracer, which exports nothing, no span is made. Default `true`.
   */
  readonly spans?: boolean | undefined
  /**
   * Record metrics with Effect's `Metric` (read them with `Metric.snapshot` or effect/observability's OTLP and
   * Prometheus exporters). Per call, with `db.system.name`, `db.operation.name` and, when the layer has one server,
   * `server.address` and `server.port`: `db.client.operation.duration` (seconds; with `error.type` on failure),
   * `memcache.client.hits`, `memcache.client.misses`, `memcache.client.errors` (by `error.type`) and
   * `memcache.client.requests_in_flight`. Per server: `memcache.client.connections.open`,
   * `memcache.client.reconnects`, `memcache.client.cluster.mark_downs`, `memcache.client.cluster.recoveries`
   * and `memcache.client.noreply_failures`. Default `false`: with it off, calls take the same path as without
   * metrics.
   */
  readonly metrics?: boolean | undefined
  /**
   * Automatic batching: single-key `get`/`gets` calls made by concurrent fibers in the same tick are sent as one
   * multi-key request per server (each key asked once), and every caller gets its own answer, errors and
   * timeout. Default `true`.
   */
  readonly batching?: boolean | undefined
  /**
   * The longest `get`/`gets` line a multi-key get sends, in bytes with its `\r\n`: a longer key list (a big
   * `getMany`, or a tick's batched gets) is split into several requests. Default 16384. memcached takes a get
   * line of any length; ElastiCache Serverless refuses lines over 16 KB, so keep it at or under 16384 there.
   * A line must hold one key: values under 300 act as 300.
   */
  readonly maxGetLineBytes?: number | undefined
  /**
   * How commands go on the wire. Default `"text"`: the text protocol, which every memcached and proxy speaks.
   * `"meta"` (memcached 1.6 and later, spoken directly): every keyed command goes in its meta form (set as `ms`,
   * get as a run of quiet `mg` closed by `mn`, delete as `md`, incr/decr as `ma`, touch as `mg` with `T`; see
   * the protocol's `MetaForm`), with the same results:
   * - every request carries an opaque that is checked on its reply: a reply with another one is a protocol error,
   *   which retires the connection;
   * - noreply writes go quiet (`q`), in runs closed by `mn`, and a failure the server reports for one still goes
   *   to the noreply failure log and metric;
   * - keys with a space or a control byte are accepted, up to 186 bytes of UTF-8 with the key prefix, and sent
   *   base64 (`b`): the server stores them under those bytes.
   *
   * Commands without a meta form (stats, version, flushAll, verbosity, cacheMemlimit, quit, and ASCII
   * authentication) go as text on the same connection. Refused with `proxy: "twemproxy"`, which forwards no meta
   * command. The in-memory layer takes it for its key rules alone.
   */
  readonly protocol?: "text" | "meta" | undefined
}

/** The defaults of {@link SurfaceOptions}, in milliseconds where a duration. @since 0.1.0 @category constants */
export const defaults = {
  keyPrefix: "",
  allowUnicodeKeys: true,
  defaultNoreply: true,
  ignoreErrors: false,
  itemSizeMax: Validation.DEFAULT_ITEM_SIZE_MAX,
  timeoutMillis: 2000,
  retryUnsafe: false,
  spans: true,
  metrics: false,
  batching: true,
  maxGetLineBytes: Validation.MAX_GET_LINE_LENGTH,
  protocol: "text"
} as const
