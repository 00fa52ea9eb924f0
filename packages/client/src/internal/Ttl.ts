/**
 * A call's `ttl` as memcached's exptime: whole seconds rounded up, 0 for never, and beyond 30 days an absolute
 * unix time computed from Effect's `Clock` (the server's rule, `Exptime.fromSeconds`).
 *
 * @internal
 */
import * as Exptime from "@effect-memcache/protocol/Exptime"
import * as Clock from "effect/Clock"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { toMillis } from "./Settings.ts"

/** A ttl as a relative exptime, or `undefined` when it is beyond 30 days (an absolute time needs the Clock). */
export const relative = (ttl: Duration.Input): number | undefined => {
  const millis = toMillis(ttl)
  if (millis === 0 || !Number.isFinite(millis)) return 0
  const seconds = Math.ceil(millis / 1000)
  return seconds <= Exptime.RELATIVE_MAX ? seconds : undefined
}

/** A ttl as the server's exptime. */
export const exptimeOf = (ttl: Duration.Input): Effect.Effect<number> => {
  const exptime = relative(ttl)
  if (exptime !== undefined) return Effect.succeed(exptime)
  const seconds = Math.ceil(toMillis(ttl) / 1000)
  return Effect.map(Clock.currentTimeMillis, (now) => Exptime.fromSeconds(seconds, Math.floor(now / 1000)))
}

/**
 * The exptime of a store call's options (`exptime` as given, else its `ttl`, else 0), or `undefined` when it
 * needs the Clock (a ttl beyond 30 days): see {@link exptimeOf}.
 */
export const ofStoreOptions = (
  o: { readonly ttl?: Duration.Input | undefined; readonly exptime?: number | undefined } | undefined
): number | undefined => (o?.exptime !== undefined ? o.exptime : o?.ttl === undefined ? 0 : relative(o.ttl))
