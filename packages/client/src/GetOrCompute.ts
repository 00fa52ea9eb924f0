/**
 * The options and outcomes of `getOrCompute`, the service's cache-aside call: the cached value, or `compute`'s,
 * stored for the next caller, without stampedes.
 *
 * - **Single flight in the process**: concurrent callers of one key on one view share one call (and so one
 *   computation). A caller that joins shares the first caller's `compute`, result and outcome.
 * - **A lease across processes**: the read is a meta get with `vivify` (`N`): on a miss, memcached creates an
 *   empty placeholder and hands the lease (`W`) to one caller, which computes and stores (compare-and-swap on
 *   the placeholder). The others (`Z`) poll with a growing, jittered pause (from 5 ms, doubling, at most
 *   250 ms) until the value is there, the lease expires (the next poll wins it), or `maxWait` has passed: then
 *   they compute themselves.
 * - **Early recache** (`recache`): when less than that time to live is left, one caller recomputes and stores
 *   while every other keeps reading the current value.
 * - **Serve-stale**: after `metaDelete(key, { invalidate: true })`, one caller recomputes and every other gets
 *   the stale value meanwhile.
 * - **Outages never fail the call**: when memcached cannot be reached or fails (a transport or reply error),
 *   `compute` runs, its value is returned, the outcome says `Unavailable`, and a warning is logged. Only
 *   refused input (a bad key, ttl or lease) and a value the serializer refuses to write fail the call, besides
 *   `compute`'s own errors.
 * - A failing `compute` fails its callers with its error and gives the lease back at once (the placeholder is
 *   deleted); an interrupted one (as if its process died) leaves it to expire after `lease`.
 * - Behind a proxy that does not forward meta commands (`proxy: "twemproxy"`), or a server that answers them
 *   `ERROR`, it is single flight plus a plain `get` and `set`: no lease across processes.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import type { CallOptions, Expiry } from "./Memcache.ts"
import type {
  MemcacheIllegalInputError,
  MemcacheSerializationError,
  ReplyError,
  TransportError
} from "./MemcacheError.ts"

/**
 * The options of `getOrCompute`.
 *
 * @example
 * ```ts
 * import type { GetOrCompute } from "@effect-memcache/client"
 * const o: GetOrCompute.Options = { ttl: "5 minutes", recache: "30 seconds" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends CallOptions {
  /** How long a computed value lives (a ttl or `{ exptime }`, see `Memcache.Expiry`). Default: never expires. */
  readonly ttl?: Expiry | undefined
  /**
   * How long the lease of a missing key lasts: the time the winner has to compute and store before another
   * caller may take over (rounded up to seconds). Default 10 seconds.
   */
  readonly lease?: Duration.Input | undefined
  /** How long a caller waits for another caller's lease before computing itself. Default: the `lease`. */
  readonly maxWait?: Duration.Input | undefined
  /**
   * Early recache: when less than this time to live is left, one caller recomputes the value while the others
   * keep reading it. Default: none.
   */
  readonly recache?: Duration.Input | undefined
}

/**
 * How a `getOrCompute` call got its value.
 *
 * - `Hit`: the value was cached.
 * - `Computed`: this call ran `compute` and stored its value: on a `miss` (it won the lease), to `recache` a
 *   value near its expiry, to replace a `stale` one, after its wait for another caller's lease expired
 *   (`waitExpired`), or without a lease (`noLease`: behind a proxy, or the server refused meta commands). A
 *   cached value that could not be read back (`unreadable`) is recomputed and overwritten.
 * - `Stale`: the value was invalidated and another caller is recomputing it: this call got the stale value.
 * - `LeaseLost`: another caller held the lease; this call waited `waited` and got the value it stored.
 * - `Unavailable`: memcached failed with `error`; this call ran `compute` without the cache.
 *
 * @example
 * ```ts
 * import type { GetOrCompute } from "@effect-memcache/client"
 * const label = (o: GetOrCompute.Outcome) => (o._tag === "Computed" ? `computed (${o.reason})` : o._tag)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Outcome =
  | { readonly _tag: "Hit" }
  | {
      readonly _tag: "Computed"
      readonly reason: "miss" | "recache" | "stale" | "waitExpired" | "noLease" | "unreadable"
    }
  | { readonly _tag: "Stale" }
  | { readonly _tag: "LeaseLost"; readonly waited: Duration.Duration }
  | { readonly _tag: "Unavailable"; readonly error: TransportError | ReplyError }

/**
 * A value with the outcome that produced it (`getOrComputeOutcome`).
 *
 * @example
 * ```ts
 * import type { GetOrCompute } from "@effect-memcache/client"
 * const hit = (r: GetOrCompute.Computed<string>) => r.outcome._tag === "Hit"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Computed<A> {
  readonly value: A
  readonly outcome: Outcome
}

/**
 * What `getOrCompute` fails with besides `compute`'s errors: refused input (a bad key, ttl or lease), or a
 * computed value the serializer refuses to write. The cache's own failures never fail it.
 *
 * @example
 * ```ts
 * import type { GetOrCompute } from "@effect-memcache/client"
 * const why = (e: GetOrCompute.Error) => e._tag
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Error = MemcacheIllegalInputError | MemcacheSerializationError
