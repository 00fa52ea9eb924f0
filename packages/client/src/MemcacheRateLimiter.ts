/**
 * Effect's `RateLimiter` on memcached: a `RateLimiterStore` (from `effect/persistence/RateLimiter`) that keeps
 * fixed windows, token buckets and adaptive state in memcached items, shared by every process that uses the same servers. It
 * needs the `Memcache` service (one server, a cluster, or the in-memory layer for tests); provide
 * `RateLimiter.layer` over it.
 *
 * - **Exact under concurrency.** Each operation is a CAS loop: `gets` the item, compute the step of Effect's own
 *   algorithms (those of `RateLimiter.layerStoreMemory`), then `cas` it back, or `add` it when there is none; a
 *   write that lost the race reads again. So concurrent fibers and processes are counted one after another: a
 *   fixed window of `limit` admits exactly `limit`.
 * - **Precision and clock.** The state lives in the item's value, in milliseconds (fractions kept), from Effect's
 *   `Clock` of the calling process: window ends and refills are exact to the millisecond of that clock, not to
 *   memcached's whole seconds. Processes sharing a key must have synchronised clocks; a skew of `d` moves their
 *   windows by `d`. The item's exptime only collects garbage: it is the state's own expiry rounded up to whole
 *   seconds plus one, so memcached never drops a live window early.
 * - **Eviction.** An item that memcached evicts (memory full), or that a restart or `flush_all` loses, reads as
 *   no state: the fixed window starts again at 0 and the token bucket is full, so the limiter admits up to a
 *   whole new `limit`; an adaptive state is inactive again. It fails open, never closed. Size the servers so that
 *   the rate-limit items stay in memory.
 * - **Failures.** A memcached failure fails the call with `RateLimiterError` (reason `RateLimitStoreError`, the
 *   `Memcache` error as its cause). A call that failed in transit may still have counted its tokens; with the
 *   client's `retry` option, a `cas` whose reply was lost may count them twice. Errors over-count, never
 *   under-count.
 * - **Adaptive limiting** (`adaptiveConsume`, `adaptiveFeedback`: a cooldown after a 429, then learning the
 *   rate the server accepts) keeps its state in one item per key, by the same CAS loop and on the same Clock, with
 *   the transitions of Effect's stores.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as RateLimiter from "effect/persistence/RateLimiter"
import * as Adaptive from "./internal/AdaptiveState.ts"
import * as State from "./internal/RateLimitState.ts"
import type { ValueError } from "./Memcache.ts"
import * as Memcache from "./Memcache.ts"
import * as Serializer from "./Serializer.ts"

/**
 * Options of the store.
 *
 * @example
 * ```ts
 * import type { MemcacheRateLimiter } from "@effect-memcache/client"
 * const options: MemcacheRateLimiter.StoreOptions = { prefix: "api-limits:", maxAttempts: 200 }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface StoreOptions {
  /**
   * Prepended to every item key, after the `Memcache` layer's own `keyPrefix`. Default `"ratelimiter:"`. Items
   * are `<prefix>fw:<key>` (fixed windows), `<prefix>tb:<key>` (token buckets) and `<prefix>ad:<key>` (adaptive
   * state); a key that is not printable
   * ASCII of at most 150 characters is replaced by `#` and its SHA-256 (base64url).
   */
  readonly prefix?: string | undefined
  /**
   * How many times one operation reads and writes before giving up when other writers keep changing its item
   * first; then it fails with `RateLimitStoreError`. Each lost race means another call was counted, so `n`
   * callers of one key need at most `n` attempts. Default 100.
   */
  readonly maxAttempts?: number | undefined
}

/**
 * The defaults of {@link StoreOptions}.
 *
 * @example
 * ```ts
 * import { MemcacheRateLimiter } from "@effect-memcache/client"
 * const prefix: string = MemcacheRateLimiter.defaults.prefix // "ratelimiter:"
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const defaults = { prefix: "ratelimiter:", maxAttempts: 100 } as const

type Items = Memcache.MemcacheShape<string>

const storeError = (operation: string, message: string, cause?: unknown) =>
  new RateLimiter.RateLimiterError({
    reason: new RateLimiter.RateLimitStoreError({
      message: `${operation}: ${message}`,
      ...(cause === undefined ? {} : { cause })
    })
  })

/** What one pass of the loop got: the answer, or a lost race (the item changed, or appeared, meanwhile). */
type Pass<R> = { readonly _tag: "Done"; readonly result: R } | { readonly _tag: "Lost" }

const lost: Pass<never> = { _tag: "Lost" }
const done = <R>(result: R): Pass<R> => ({ _tag: "Done", result })

/** The garbage-collection ttl of a state that ends at `expiresAt`: rounded up to seconds, plus one. */
const itemTtl = (expiresAt: number, now: number): Duration.Duration =>
  Duration.seconds(Math.max(1, Math.ceil((expiresAt - now) / 1000)) + 1)

interface Algorithm<S, R> {
  readonly operation: string
  readonly parse: (text: string) => S | undefined
  readonly format: (state: S) => string
  readonly step: (current: S | undefined, now: number) => State.Step<S, R>
}

/** One read-compute-write pass over `key`. */
const pass = <S, R>(
  items: Items,
  key: string,
  algorithm: Algorithm<S, R>
): Effect.Effect<Pass<R>, ValueError | string> =>
  Effect.gen(function* () {
    const item = yield* items.gets(key)
    const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
    let current: S | undefined
    if (Option.isSome(item)) {
      current = algorithm.parse(item.value.value)
      if (current === undefined) return yield* Effect.fail(`${key} holds a value that is not rate limiter state`)
    }
    const { result, write } = algorithm.step(current, now)
    if (write === undefined) return done(result)
    const value = algorithm.format(write.state)
    const ttl = itemTtl(write.expiresAt, now)
    if (Option.isNone(item)) return (yield* items.add(key, value, { ttl, noreply: false })) ? done(result) : lost
    return (yield* items.cas(key, value, item.value.cas, { ttl })) === "Stored" ? done(result) : lost
  })

/** Runs passes until one is not lost, at most `maxAttempts` of them; failures become `RateLimiterError`s. */
const update = <S, R>(
  items: Items,
  key: string,
  algorithm: Algorithm<S, R>,
  maxAttempts: number
): Effect.Effect<R, RateLimiter.RateLimiterError> =>
  Effect.gen(function* () {
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const outcome = yield* pass(items, key, algorithm)
      if (outcome._tag === "Done") return outcome.result
      yield* Effect.yieldNow
    }
    return yield* Effect.fail(`${key} kept changing: gave up after ${maxAttempts} attempts`)
  }).pipe(
    Effect.mapError((error) =>
      typeof error === "string"
        ? storeError(algorithm.operation, error)
        : storeError(algorithm.operation, error.message, error)
    )
  )

type Store = RateLimiter.RateLimiterStore["Service"]

const fixedWindow = (
  o: Parameters<Store["fixedWindow"]>[0]
): Algorithm<State.FixedWindow, readonly [count: number, ttl: number]> => {
  const refillMillis = Duration.toMillis(o.refillRate)
  return {
    operation: "fixedWindow",
    parse: State.parseFixedWindow,
    format: State.formatFixedWindow,
    step: (current, now) => State.fixedWindow(current, now, { tokens: o.tokens, refillMillis, limit: o.limit })
  }
}

const tokenBucket = (
  o: Parameters<Store["tokenBucket"]>[0]
): Algorithm<State.TokenBucket, readonly [remaining: number, elapsedMillis: number]> => {
  const refillMillis = Duration.toMillis(o.refillRate)
  const { tokens, limit, allowOverflow } = o
  return {
    operation: "tokenBucket",
    parse: State.parseTokenBucket,
    format: State.formatTokenBucket,
    step: (current, now) => State.tokenBucket(current, now, { tokens, limit, refillMillis, allowOverflow })
  }
}

const adaptiveConsume = (
  o: RateLimiter.AdaptiveConsumeOptions
): Algorithm<Adaptive.AdaptiveState, RateLimiter.AdaptiveConsumeResult> => {
  const fallbackWindowMillis = Duration.toMillis(o.fallbackWindow)
  return {
    operation: "adaptiveConsume",
    parse: Adaptive.parse,
    format: Adaptive.format,
    step: (current, now) => Adaptive.consume(current, now, { tokens: o.tokens, fallbackWindowMillis })
  }
}

const adaptiveFeedback = (
  o: RateLimiter.AdaptiveFeedbackOptions,
  retryAfterMillis: number
): Algorithm<Adaptive.AdaptiveState, void> => ({
  operation: "adaptiveFeedback",
  parse: Adaptive.parse,
  format: Adaptive.format,
  step: (current, now) => Adaptive.feedback(current, now, { epoch: o.epoch, tokens: o.tokens, retryAfterMillis })
})

/**
 * A `RateLimiterStore` over the `Memcache` service: see the module's description for its guarantees.
 *
 * @example
 * ```ts
 * import { Duration, Effect } from "effect"
 * import { MemcacheMemory, MemcacheRateLimiter } from "@effect-memcache/client"
 * const program = Effect.gen(function* () {
 *   const store = yield* MemcacheRateLimiter.make({ prefix: "limits:" })
 *   return yield* store.fixedWindow({ key: "user:1", tokens: 1, refillRate: Duration.seconds(1), limit: 10 })
 * }).pipe(Effect.provide(MemcacheMemory.layer()))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: StoreOptions = {}
): Effect.Effect<RateLimiter.RateLimiterStore["Service"], never, Memcache.Memcache> =>
  Effect.gen(function* () {
    const items = (yield* Memcache.Memcache).withSerializer(Serializer.string)
    const prefix = options.prefix ?? defaults.prefix
    const maxAttempts = options.maxAttempts ?? defaults.maxAttempts
    const run = <S, R>(kind: string, key: string, algorithm: Algorithm<S, R>) =>
      update(items, `${prefix}${kind}:${State.itemKey(key)}`, algorithm, maxAttempts)
    return RateLimiter.RateLimiterStore.of({
      fixedWindow: (o) => run("fw", o.key, fixedWindow(o)),
      tokenBucket: (o) => run("tb", o.key, tokenBucket(o)),
      adaptiveConsume: (o) => run("ad", o.key, adaptiveConsume(o)),
      // Only a 429 with a retry-after changes the state, as in Effect's stores.
      adaptiveFeedback: (o) =>
        o.status !== 429 || o.retryAfter === undefined
          ? Effect.void
          : run("ad", o.key, adaptiveFeedback(o, Duration.toMillis(o.retryAfter)))
    })
  })

/**
 * Provides Effect's `RateLimiterStore` on memcached; it needs the `Memcache` service. Provide
 * `RateLimiter.layer` over it for the `RateLimiter` service.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { RateLimiter } from "effect/persistence"
 * import { MemcacheClient, MemcacheRateLimiter } from "@effect-memcache/client"
 *
 * const RateLimiterLive = RateLimiter.layer.pipe(
 *   Layer.provide(MemcacheRateLimiter.layerStore()),
 *   Layer.provide(MemcacheClient.layer({ server: "127.0.0.1:11211" }))
 * )
 *
 * const program = Effect.gen(function* () {
 *   const limiter = yield* RateLimiter.RateLimiter
 *   return yield* limiter.consume({ key: "user:1", limit: 100, window: "1 minute" })
 * }).pipe(Effect.provide(RateLimiterLive))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStore = (
  options: StoreOptions = {}
): Layer.Layer<RateLimiter.RateLimiterStore, never, Memcache.Memcache> =>
  Layer.effect(RateLimiter.RateLimiterStore, make(options))
