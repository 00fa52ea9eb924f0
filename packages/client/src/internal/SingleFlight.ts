/**
 * Single flight: concurrent runs for one key share the first one's effect and its result, success or failure. A
 * run whose first caller is interrupted does not fail the callers that joined it: they start over (one of them
 * runs it). Runs of one key must be the same computation (`getOrCompute` documents it): a caller that joins gets
 * the result of the first caller's effect as its own.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"

/** @internal */
export class SingleFlight {
  // Each key's runs share one result type (the contract above); the map holds the runs of every key.
  private readonly inFlight = new Map<string, Deferred.Deferred<unknown, unknown>>()

  /** `effect` for `key`, unless a run for `key` is in flight: then that run's result. */
  run<A, E, R>(key: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> {
    return Effect.suspend(() => {
      const running = this.inFlight.get(key)
      if (running !== undefined) return this.join(key, running, effect)
      const done = Deferred.makeUnsafe<unknown, unknown>()
      this.inFlight.set(key, done)
      return Effect.onExit(effect, (exit) => {
        if (this.inFlight.get(key) === done) this.inFlight.delete(key)
        return Deferred.done(done, exit)
      })
    })
  }

  private join<A, E, R>(
    key: string,
    running: Deferred.Deferred<unknown, unknown>,
    effect: Effect.Effect<A, E, R>
  ): Effect.Effect<A, E, R> {
    return Effect.flatMap(Effect.exit(Deferred.await(running)), (exit) =>
      Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause)
        ? this.run(key, effect)
        : // The joined run is this key's computation, so its result has this caller's types (the contract above).
          (exit as Exit.Exit<A, E>)
    )
  }
}
