/**
 * A Schedule stepped by hand, one delay per failure: the pacing of reconnection (Server) and of a dead cluster
 * member's probes (ClusterMember). An exhausted schedule starts over; `reset` starts it over after a success.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schedule from "effect/Schedule"

type Step<I> = (now: number, input: I) => Effect.Effect<[unknown, Duration.Duration], unknown>

/** @internal */
export class ScheduleDelays<I> {
  private step: Step<I> | undefined
  private readonly schedule: Schedule.Schedule<unknown, I>

  constructor(schedule: Schedule.Schedule<unknown, I>) {
    this.schedule = schedule
  }

  /** The next delay in milliseconds, after a failure `input` at `now`. */
  next(now: number, input: I): Effect.Effect<number> {
    return Effect.gen({ self: this }, function* () {
      if (this.step === undefined) this.step = (yield* Schedule.toStep(this.schedule)) as Step<I>
      let exit = yield* Effect.exit(this.step(now, input))
      if (Exit.isFailure(exit)) {
        this.step = (yield* Schedule.toStep(this.schedule)) as Step<I>
        exit = yield* Effect.exit(this.step(now, input))
      }
      return Exit.isSuccess(exit) ? Duration.toMillis(exit.value[1]) : 0
    })
  }

  /** Starts the schedule over (after a success). */
  reset(): void {
    this.step = undefined
  }
}
