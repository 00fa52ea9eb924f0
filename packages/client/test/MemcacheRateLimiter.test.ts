/**
 * Effect's own `RateLimiter` (`RateLimiter.layer`) over the memcached store, against a real memcached and the
 * in-memory layer: exact fixed-window counts under 50 concurrent fibers, a token bucket refilling at its rate
 * (on Effect's `Clock`, moved by `TestClock`), what an evicted item means, keys memcached cannot hold as they
 * are, a corrupt item, adaptive learning under concurrency, and giving up after `maxAttempts` lost races.
 */
import { describe, expect, it } from "@effect/vitest"
import { Memcache, MemcacheClient, MemcacheMemory, MemcacheRateLimiter } from "@effect-memcache/client"
import { Duration, Effect, Exit, Fiber, Layer, Option } from "effect"
import { RateLimiter } from "effect/persistence"
import { TestClock } from "effect/testing"
import { useMemcached } from "../../../testing/Memcached.ts"

type Services = RateLimiter.RateLimiter | Memcache.Memcache
type ConsumeOptions = Parameters<RateLimiter.RateLimiter["consume"]>[0]

/** The limiter over the store over `memcache`, with `Memcache` too, to look at and drop items. */
const limiterOver = (memcache: Layer.Layer<Memcache.Memcache, unknown>, options?: MemcacheRateLimiter.StoreOptions) =>
  RateLimiter.layer.pipe(
    Layer.provide(MemcacheRateLimiter.layerStore(options)),
    Layer.provideMerge(Layer.orDie(memcache))
  )

/** `n` concurrent consumes of `key`: the `remaining` of each admitted one, and how many were refused. */
const consumeConcurrently = (
  n: number,
  options: ConsumeOptions
): Effect.Effect<{ readonly remaining: ReadonlyArray<number>; readonly refused: number }, unknown, Services> =>
  Effect.gen(function* () {
    const limiter = yield* RateLimiter.RateLimiter
    const exits = yield* Effect.forEach(
      Array.from({ length: n }, () => limiter.consume(options)),
      (consume) => Effect.exit(consume),
      { concurrency: "unbounded" }
    )
    const remaining: Array<number> = []
    let refused = 0
    for (const exit of exits) {
      if (Exit.isSuccess(exit)) remaining.push(exit.value.remaining)
      else {
        const error = yield* Effect.flip(exit)
        expect(error.reason._tag).toBe("RateLimitExceeded")
        refused++
      }
    }
    return { remaining: remaining.sort((a, b) => a - b), refused }
  })

/** The admitted count of one consume of `key` (of a limit of `limit`), or `"refused"`. */
const admitted = (options: ConsumeOptions) =>
  RateLimiter.RateLimiter.use((limiter) =>
    limiter.consume(options).pipe(
      Effect.map((r) => r.remaining),
      Effect.catchReason("RateLimiterError", "RateLimitExceeded", () => Effect.succeed("refused" as const))
    )
  )

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

/** The tests both subjects pass; `test` runs a body with the limiter and `Memcache` provided. */
const suite = (test: (name: string, body: () => Effect.Effect<void, unknown, Services>) => void) => {
  test("a fixed window of 10 admits exactly 10 of 50 concurrent consumes, counted one after another", () =>
    Effect.gen(function* () {
      const result = yield* consumeConcurrently(50, { key: "fw-exact", limit: 10, window: "1 minute" })
      expect(result.refused).toBe(40)
      expect(result.remaining).toEqual(range(0, 9))
    }))

  test("a fixed window that delays instead counts all 50 concurrent consumes, none lost", () =>
    Effect.gen(function* () {
      const result = yield* consumeConcurrently(50, {
        key: "fw-delay",
        limit: 10,
        window: "1 minute",
        onExceeded: "delay"
      })
      expect(result.refused).toBe(0)
      expect(result.remaining).toEqual(range(-40, 9))
    }))

  test("a token bucket of 10 admits exactly 10 of 50 concurrent consumes", () =>
    Effect.gen(function* () {
      const result = yield* consumeConcurrently(50, {
        key: "tb-exact",
        limit: 10,
        window: "1 minute",
        algorithm: "token-bucket"
      })
      expect(result.refused).toBe(40)
      expect(result.remaining).toEqual(range(0, 9))
    }))

  test("an evicted fixed window starts again: a whole new limit is admitted (fails open)", () =>
    Effect.gen(function* () {
      const options: ConsumeOptions = { key: "fw-evicted", limit: 3, window: "1 hour" }
      for (const left of [2, 1, 0]) expect(yield* admitted(options)).toBe(left)
      expect(yield* admitted(options)).toBe("refused")
      const m = yield* Memcache.Memcache
      expect(yield* m.delete("ratelimiter:fw:fw-evicted", { noreply: false })).toBe(true)
      for (const left of [2, 1, 0]) expect(yield* admitted(options)).toBe(left)
      expect(yield* admitted(options)).toBe("refused")
    }))

  test("keys with spaces, non-ASCII or past memcached's length are limited each on its own", () =>
    Effect.gen(function* () {
      const keys = ["GET /users 10.0.0.1", "clé", "k".repeat(300), "k".repeat(301), "#hash-like"]
      for (const key of keys) {
        expect(yield* admitted({ key, limit: 1, window: "1 hour" })).toBe(0)
        expect(yield* admitted({ key, limit: 1, window: "1 hour", algorithm: "token-bucket" })).toBe(0)
      }
      for (const key of keys) expect(yield* admitted({ key, limit: 1, window: "1 hour" })).toBe("refused")
    }))

  test("an item that is not rate limiter state fails the consume with RateLimitStoreError", () =>
    Effect.gen(function* () {
      const m = yield* Memcache.Memcache
      yield* m.set("ratelimiter:fw:corrupt", "hello", { noreply: false })
      const limiter = yield* RateLimiter.RateLimiter
      const error = yield* Effect.flip(limiter.consume({ key: "corrupt", limit: 5, window: "1 minute" }))
      expect(error.reason._tag).toBe("RateLimitStoreError")
      expect(error.message).toContain("is not rate limiter state")
    }))

  test("adaptive learning counts all 50 concurrent consumes, and an evicted state is inactive again", () =>
    Effect.gen(function* () {
      const limiter = yield* RateLimiter.RateLimiter
      const consume = limiter.adaptiveConsume({
        key: "adaptive",
        tokens: 1,
        fallbackLimit: 100,
        fallbackWindow: Duration.minutes(1)
      })
      const tooMany = { key: "adaptive", status: 429, retryAfter: Duration.millis(1) }
      yield* limiter.adaptiveFeedback({ ...tooMany, epoch: 0, tokens: 1 })
      yield* Effect.sleep("2 millis") // past the cooldown: the next consume starts learning
      const learning = yield* Effect.forEach(range(1, 50), () => consume, { concurrency: "unbounded" })
      for (const r of learning) expect(r).toMatchObject({ phase: "learning", epoch: 1 })
      // A 429 for 49 of them: learned only if all 50 were counted (49 or fewer would mean a cooldown).
      yield* limiter.adaptiveFeedback({ ...tooMany, epoch: 1, tokens: 49, retryAfter: Duration.hours(1) })
      expect(yield* consume).toMatchObject({ phase: "learned", epoch: 2 })

      const m = yield* Memcache.Memcache
      expect(yield* m.delete("ratelimiter:ad:adaptive", { noreply: false })).toBe(true)
      expect(yield* consume).toEqual({ delay: Duration.zero, epoch: 0, phase: "inactive" })
    }))
}

/**
 * A token bucket of 10 per 10 seconds (one token a second), on Effect's `Clock` moved by `TestClock`: refills one
 * token per elapsed second, never past 10, and says when the next one comes.
 */
const tokenBucketRefills = Effect.gen(function* () {
  yield* TestClock.setTime(Date.UTC(2026, 0, 1))
  const options = { key: "tb-refill", limit: 10, window: "10 seconds", algorithm: "token-bucket" } as const
  for (const left of range(0, 9).reverse()) expect(yield* admitted(options)).toBe(left)
  const limiter = yield* RateLimiter.RateLimiter
  const empty = yield* Effect.flip(limiter.consume(options))
  expect(empty.reason).toMatchObject({ _tag: "RateLimitExceeded", retryAfter: Duration.seconds(1) })

  yield* TestClock.adjust("999 millis")
  expect(yield* admitted(options)).toBe("refused")
  yield* TestClock.adjust("1 millis")
  expect(yield* admitted(options)).toBe(0)
  expect(yield* admitted(options)).toBe("refused")

  yield* TestClock.adjust("3500 millis")
  for (const left of [2, 1, 0]) expect(yield* admitted(options)).toBe(left)
  expect(yield* admitted(options)).toBe("refused")
  yield* TestClock.adjust("500 millis") // the half second left over from before
  expect(yield* admitted(options)).toBe(0)

  yield* TestClock.adjust("1 minute") // full, and no further
  for (const left of range(0, 9).reverse()) expect(yield* admitted(options)).toBe(left)
  expect(yield* admitted(options)).toBe("refused")
})

describe("MemcacheRateLimiter on memcached 1.6.18", () => {
  const server = useMemcached()
  const limiter = () => limiterOver(MemcacheClient.layer({ server: server().address }))
  // Real time for the concurrency tests: the client's timeouts run on the Clock.
  suite((name, body) => it.live(name, () => body().pipe(Effect.provide(limiter()))))

  it.effect("a token bucket refills one token per window / limit, on Effect's Clock (TestClock here)", () =>
    tokenBucketRefills.pipe(
      Effect.provide(limiterOver(MemcacheClient.layer({ server: server().address }), { prefix: "tb:" }))
    )
  )
})

/**
 * The in-memory layer answers a command in the caller's tick, so a fiber's `gets` and `cas` would never be
 * separated by another fiber's. Delaying every `cas` and `add` by a millisecond (on the TestClock) makes
 * concurrent fibers read the same item, then race to write it, as they do on a real server.
 */
const racingMemory = MemcacheMemory.layer({ faults: { cas: { delay: "1 millis" }, add: { delay: "1 millis" } } })

/** Runs `body`, moving the TestClock a millisecond at a time until it is done. */
const drivingTheClock = <A, E, R>(body: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const fiber = yield* Effect.forkChild(body)
    while (fiber.pollUnsafe() === undefined) yield* TestClock.adjust("1 millis")
    return yield* Fiber.join(fiber)
  })

describe("MemcacheRateLimiter on MemcacheMemory", () => {
  suite((name, body) => it.effect(name, () => drivingTheClock(body()).pipe(Effect.provide(limiterOver(racingMemory)))))

  it.effect("a token bucket refills one token per window / limit, on Effect's Clock (TestClock)", () =>
    tokenBucketRefills.pipe(Effect.provide(limiterOver(MemcacheMemory.layer())))
  )

  it.effect("a fixed window ends at its ttl to the millisecond, on Effect's Clock (TestClock)", () =>
    Effect.gen(function* () {
      const options: ConsumeOptions = { key: "fw-window", limit: 2, window: "10 seconds" }
      for (const left of [1, 0]) expect(yield* admitted(options)).toBe(left)
      const limiter = yield* RateLimiter.RateLimiter
      const refused = yield* Effect.flip(limiter.consume(options))
      // Two consumes of a 10-second window of 2 hold it 2 × 5 seconds.
      expect(refused.reason).toMatchObject({ _tag: "RateLimitExceeded", retryAfter: Duration.seconds(10) })
      yield* TestClock.adjust("9999 millis")
      expect(yield* admitted(options)).toBe("refused")
      yield* TestClock.adjust("1 millis")
      for (const left of [1, 0]) expect(yield* admitted(options)).toBe(left)
    }).pipe(Effect.provide(limiterOver(MemcacheMemory.layer())))
  )

  it.effect("the item outlives its window: its exptime is the window's end rounded up to seconds, plus one", () =>
    Effect.gen(function* () {
      const m = yield* Memcache.Memcache
      const options: ConsumeOptions = { key: "fw-gc", limit: 1, window: "1500 millis" }
      expect(yield* admitted(options)).toBe(0)
      yield* TestClock.adjust("1499 millis")
      expect(yield* admitted(options)).toBe("refused")
      yield* TestClock.adjust("1 millis") // the window is over; the item stays until 1.5 s rounds up to 2, plus 1
      expect(Option.isSome(yield* m.get("ratelimiter:fw:fw-gc"))).toBe(true)
      yield* TestClock.adjust("1499 millis")
      expect(Option.isSome(yield* m.get("ratelimiter:fw:fw-gc"))).toBe(true)
      yield* TestClock.adjust("1 millis")
      expect(yield* m.get("ratelimiter:fw:fw-gc")).toEqual(Option.none())
    }).pipe(Effect.provide(limiterOver(MemcacheMemory.layer())))
  )

  it.effect("an operation that keeps losing its item to other writers gives up after maxAttempts", () =>
    Effect.gen(function* () {
      const limiter = yield* RateLimiter.RateLimiter
      const exits = yield* Effect.forEach(
        range(1, 5),
        () => Effect.exit(limiter.consume({ key: "contended", limit: 10, window: "1 minute" })),
        { concurrency: "unbounded" }
      ).pipe(drivingTheClock)
      const failures = exits.filter(Exit.isFailure)
      expect(failures.length).toBeGreaterThan(0)
      for (const failure of failures) {
        const error = yield* Effect.flip(failure)
        expect(error.reason._tag).toBe("RateLimitStoreError")
        expect(error.message).toContain("kept changing: gave up after 1 attempts")
      }
    }).pipe(Effect.provide(limiterOver(racingMemory, { maxAttempts: 1 })))
  )
})
