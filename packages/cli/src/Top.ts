/**
 * `memcache top`: a `stats` sample every second, and the figures of each interval (see `Format.figures`), as
 * plain lines or, on a terminal, as a screen redrawn in place.
 *
 * @since 0.1.0
 */
import type { Memcache } from "@effect-memcache/client"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Format from "./Format.ts"

/**
 * How long `top` waits between two samples.
 *
 * @since 0.1.0
 * @category constants
 */
export const interval = "1 second"

// Moves the cursor home and clears the screen (ANSI), before each redraw of the live screen.
const clearScreen = "\u001b[H\u001b[2J"

const screen = (figures: Format.Figures): string =>
  `${clearScreen}memcache top: every second, Ctrl-C to quit\n\n${Format.table(Format.figurePairs(figures))}`

/**
 * Samples `stats` once, then after each `interval` again, and prints the figures of every interval: `iterations`
 * lines then stops, or forever when none; `live` redraws a screen instead of printing lines.
 *
 * @since 0.1.0
 * @category running
 */
export const run = <E, R>(
  stats: Effect.Effect<ReadonlyMap<string, Memcache.StatValue>, E, R>,
  iterations: Option.Option<number>,
  live: boolean
): Effect.Effect<void, E, R> =>
  Effect.gen(function* () {
    const sample = Effect.flatMap(stats, (stats) =>
      Effect.map(Clock.currentTimeMillis, (at): Format.Sample => ({ at, stats }))
    )
    let before = yield* sample
    const remaining = Option.getOrElse(iterations, () => Number.POSITIVE_INFINITY)
    for (let printed = 0; printed < remaining; printed++) {
      yield* Effect.sleep(interval)
      const after = yield* sample
      const figures = Format.figures(before, after)
      yield* Console.log(live ? screen(figures) : Format.figuresLine(figures))
      before = after
    }
  })
