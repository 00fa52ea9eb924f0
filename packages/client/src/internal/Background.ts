/**
 * What a layer's transports do outside a caller's fiber — connecting, probing, pacing, logging — tied to the
 * layer: its `Clock` (so `TestClock` drives reconnect backoff and cluster health), and fibers that belong to the
 * layer's scope (closing the layer interrupts them, and nothing runs or logs after it closed).
 *
 * @internal
 */
import type * as Reply from "@effect-memcache/protocol/Reply"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberSet from "effect/FiberSet"
import * as PubSub from "effect/PubSub"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { ReplyError } from "../MemcacheError.ts"
import { replyError } from "./Call.ts"
import { type Event, record } from "./Metrics.ts"

/** How many of the latest noreply failures a new subscriber of `noreplyFailures` gets first. */
export const NOREPLY_REPLAY = 64

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
  /**
   * The error replies a server sent for noreply commands, one batch at a time: logged once per batch and
   * published to {@link Background.noreplyFailures}.
   */
  readonly reportNoreply: (server: string, replies: ReadonlyArray<Reply.Reply>) => void
  /** Every reported noreply failure; a new subscriber first gets the latest {@link NOREPLY_REPLAY}. */
  readonly noreplyFailures: Stream.Stream<ReplyError>
  /** Counts a connection or cluster event of a server (nothing unless the layer has `metrics: true`). */
  readonly count: (event: Event, server: string, by?: number) => void
}

const uncounted = (): void => {}

/** The background, with its events counted when `metrics` is on (recorded in the layer's context). */
export const metered = (background: Background, metrics: boolean | undefined): Background =>
  metrics === true
    ? { ...background, count: (event, server, by = 1) => void background.now(record(event, server, by)) }
    : background

/** The background of the layer being built: call it in the layer's scope. */
export const make: Effect.Effect<Background, never, Scope.Scope> = Effect.gen(function* () {
  const context = yield* Effect.context<never>()
  const fork = yield* FiberSet.makeRuntime<never, unknown, unknown>()
  const runSync = Effect.runSyncExitWith(context)
  const failures = yield* PubSub.sliding<ReplyError>({ capacity: 1024, replay: NOREPLY_REPLAY })
  yield* Effect.addFinalizer(() => PubSub.shutdown(failures))
  const background: Background = {
    clock: Context.get(context, Clock.Clock),
    fork: (effect) => fork(effect),
    now: (effect) => {
      const exit = runSync(effect)
      return Exit.isSuccess(exit) ? exit.value : undefined
    },
    warn: (message) => {
      fork(Effect.logWarning(message))
    },
    reportNoreply: (server, replies) => {
      const errors: Array<ReplyError> = []
      for (const reply of replies) {
        const error = replyError("noreply command", server, reply)
        if (error !== undefined) errors.push(error)
      }
      if (errors.length === 0) return
      background.count("noreplyFailures", server, errors.length)
      const more = errors.length > 1 ? ` (and ${errors.length - 1} more in the same batch)` : ""
      const warning = Effect.logWarning(
        `memcache ${server}: a noreply command failed: ${errors[0]!._tag} ${errors[0]!.text}${more}`
      )
      fork(Effect.andThen(warning, PubSub.publishAll(failures, errors)))
    },
    noreplyFailures: Stream.fromPubSub(failures),
    count: uncounted
  }
  return background
})
