/**
 * The memcached store answers as Effect's own `RateLimiter.layerStoreMemory` does: one script of fixed-window,
 * token-bucket and adaptive operations (fractional refill rates and tokens, overflow, windows that end, a
 * cooldown, learning, the learned pace, stale and ignored feedback, a state that expires), run step by step on
 * both stores under one TestClock, must get the same answer at every step. On a real memcached and on the
 * in-memory layer.
 */
import { describe, expect, it } from "@effect/vitest"
import { type Memcache, MemcacheClient, MemcacheMemory, MemcacheRateLimiter } from "@effect-memcache/client"
import { Duration, Effect, Layer } from "effect"
import { RateLimiter } from "effect/persistence"
import { TestClock } from "effect/testing"
import { useMemcached } from "../../../testing/Memcached.ts"

type Store = RateLimiter.RateLimiterStore["Service"]

/** One step of the script: an operation on a store, or time passing. */
type Step = ((store: Store) => Effect.Effect<unknown, RateLimiter.RateLimiterError>) | Duration.Input

const fixedWindow =
  (tokens: number, limit: number | undefined): Step =>
  (store) =>
    store.fixedWindow({ key: "fw", tokens, refillRate: Duration.millis(1000 / 3), limit })

const tokenBucket =
  (tokens: number, allowOverflow: boolean): Step =>
  (store) =>
    store.tokenBucket({ key: "tb", tokens, limit: 5, refillRate: Duration.millis(1000 / 3), allowOverflow })

const consume =
  (tokens = 1): Step =>
  (store) =>
    store.adaptiveConsume({ key: "ad", tokens, fallbackLimit: 10, fallbackWindow: Duration.seconds(30) })

const feedback =
  (epoch: number, tokens: number, status: number, retryAfter: Duration.Input | undefined): Step =>
  (store) =>
    store.adaptiveFeedback({
      key: "ad",
      epoch,
      tokens,
      status,
      retryAfter: retryAfter === undefined ? undefined : Duration.fromInputUnsafe(retryAfter)
    })

const times = (n: number, step: Step): ReadonlyArray<Step> => Array.from({ length: n }, () => step)
/** `n` times `step`, each after `gap`. */
const spaced = (n: number, gap: Duration.Input, step: Step): ReadonlyArray<Step> =>
  times(n, step).flatMap((s): ReadonlyArray<Step> => [gap, s])

const script: ReadonlyArray<Step> = [
  ...times(4, fixedWindow(1, 3)),
  "500 millis",
  ...times(2, fixedWindow(1, 3)),
  ...times(3, fixedWindow(2, undefined)),
  "2 seconds",
  ...times(2, fixedWindow(1, 3)),
  ...times(6, tokenBucket(1, false)),
  "700 millis",
  ...times(2, tokenBucket(1, false)),
  ...times(2, tokenBucket(3, true)),
  "1234 millis",
  ...times(3, tokenBucket(1, false)),
  ...times(2, tokenBucket(0.5, false)),
  "10 seconds",
  tokenBucket(2, false),
  consume(),
  feedback(0, 1, 200, "1 second"), // not a 429: ignored
  feedback(0, 1, 429, undefined), // no retry-after: ignored
  consume(),
  feedback(0, 1, 429, "2 seconds"),
  consume(),
  feedback(0, 1, 429, "3 seconds"),
  feedback(1, 1, 429, "1 hour"), // stale epoch: ignored
  "1 second",
  consume(),
  "3 seconds",
  consume(2),
  ...spaced(5, "100 millis", consume()),
  feedback(0, 1, 429, "1 hour"), // stale epoch: ignored
  feedback(1, 1, 429, "1500 millis"),
  ...spaced(8, "200 millis", consume()),
  consume(3),
  "5 seconds",
  consume(),
  feedback(2, 1, 429, "500 millis"),
  consume(),
  "1 second",
  consume(),
  feedback(3, 3, 429, "1 second"), // a 429 for every token of the learning: cooldown
  consume(),
  "2 minutes", // the state expires
  consume()
]

/** Runs the script on the memcached store (over `memcache`) and on Effect's memory store, step by step. */
const sameAnswers = (memcache: Layer.Layer<Memcache.Memcache, unknown>) =>
  Effect.gen(function* () {
    yield* TestClock.setTime(Date.UTC(2026, 0, 1))
    const reference = yield* RateLimiter.RateLimiterStore.pipe(Effect.provide(RateLimiter.layerStoreMemory))
    const store = yield* MemcacheRateLimiter.make()
    let operations = 0
    for (const [index, step] of script.entries()) {
      if (typeof step !== "function") {
        yield* TestClock.adjust(step)
        continue
      }
      operations++
      const expected = yield* Effect.exit(step(reference))
      const actual = yield* Effect.exit(step(store))
      expect({ index, answer: actual }).toEqual({ index, answer: expected })
    }
    expect(operations).toBe(60)
  }).pipe(Effect.provide(Layer.orDie(memcache)))

describe("the memcached store answers as Effect's layerStoreMemory", () => {
  const server = useMemcached()

  it.effect("on memcached 1.6.18, on Effect's Clock (TestClock)", () =>
    sameAnswers(MemcacheClient.layer({ server: server().address }))
  )

  it.effect("on MemcacheMemory (TestClock)", () => sameAnswers(MemcacheMemory.layer()))
})
