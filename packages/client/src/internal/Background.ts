/**
 * What a layer's transports do outside a caller's fiber — connecting, probing, pacing, logging — tied to the
 * layer: its `Clock` (so `TestClock` drives reconnect backoff and cluster health), and fibers that belong to the
 * layer's scope (closing the layer interrupts them, and nothing runs or logs after it closed).
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberSet from "effect/FiberSet"
import type * as Scope from "effect/Scope"

/** @internal */
export interface Background {
  /** The layer's clock. */
  readonly clock: Clock.Clock
  /** Runs `effect` in a fiber of the layer's scope; once the layer is closed, the fiber is interrupted at once. */
  readonly fork: <A, E>(effect: Effect.Effect<A, E>) => Fiber.Fiber<A, E>
  /**
   * Runs `effect` to completion now, in the layer's context, for steps that must not wait (a schedule's next
   * delay); `undefined` when it could not complete synchronously.
   */
  readonly now: <A>(effect: Effect.Effect<A>) => A | undefined
  /** Logs a warning in the layer's context, unless the layer is closed. */
  readonly warn: (message: string) => void
}

/** The background of the layer being built: call it in the layer's scope. */
export const make: Effect.Effect<Background, never, Scope.Scope> = Effect.gen(function* () {
  const context = yield* Effect.context<never>()
  const fork = yield* FiberSet.makeRuntime<never, unknown, unknown>()
  const runSync = Effect.runSyncExitWith(context)
  const background: Background = {
    clock: Context.get(context, Clock.Clock),
    fork: (effect) => fork(effect),
    now: (effect) => {
      const exit = runSync(effect)
      return Exit.isSuccess(exit) ? exit.value : undefined
    },
    warn: (message) => {
      fork(Effect.logWarning(message))
    }
  }
  return background
})
