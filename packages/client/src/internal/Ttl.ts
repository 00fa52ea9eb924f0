/**
 * A call's expiry as memcached's exptime. A `ttl` (an Effect `Duration.Input`) goes through the protocol's one
 * conversion, `Exptime.fromMillis` (negative expires at once, sub-second rounds up, `Infinity` never, beyond 30
 * days an absolute unix time from Effect's `Clock`); a raw `exptime` is sent as given and range-checked with
 * the command. What cannot be read as a duration is a `MemcacheIllegalInputError` naming the `ttl`, never a
 * throw.
 *
 * @internal
 */
import * as Exptime from "@effect-memcache/protocol/Exptime"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Formatter from "effect/Formatter"
import * as Option from "effect/Option"
import type { Expiry } from "../Memcache.ts"
import { MemcacheIllegalInputError } from "../MemcacheError.ts"
import { illegal } from "./Call.ts"

/** A ttl beyond 30 days: sent as an absolute unix time, so the Clock is read when the call runs. */
export interface Absolute {
  readonly _tag: "Absolute"
  readonly millis: number
}

/** An expiry as far as it is known without the Clock: the exptime, why it cannot be sent, or {@link Absolute}. */
export type Known = number | MemcacheIllegalInputError | Absolute

/**
 * A ttl in milliseconds, or `undefined` when it is not a duration at all. Effect reads `NaN` as zero, so a NaN
 * anywhere in the input is kept as NaN here, for `Exptime.fromMillis` to refuse rather than "never expires".
 */
const millisOf = (ttl: Duration.Input): number | undefined => {
  if (typeof ttl === "number") return ttl
  if (
    typeof ttl === "object" &&
    ttl !== null &&
    !Duration.isDuration(ttl) &&
    Object.values(ttl).some((v) => typeof v === "number" && Number.isNaN(v))
  ) {
    return Number.NaN
  }
  const duration = Duration.fromInput(ttl)
  return Option.isSome(duration) ? Duration.toMillis(duration.value) : undefined
}

const converted = (command: string, millis: number, nowUnixSeconds: number): number | MemcacheIllegalInputError => {
  const exptime = Exptime.fromMillis(millis, nowUnixSeconds)
  return typeof exptime === "number" ? exptime : illegal(command, exptime)
}

/**
 * A `flush_all` delay as the server reads it (whole seconds rounded up, 0 for now; beyond 30 days an absolute
 * unix time from Effect's `Clock`), or why it cannot be sent: not a duration, NaN, or infinite (memcached reads
 * 0 as "now", so "never" has no delay).
 */
export const delayOf = (delay: Duration.Input): Effect.Effect<number, MemcacheIllegalInputError> => {
  const millis = millisOf(delay)
  if (millis === undefined || !Number.isFinite(millis)) {
    const reason = `${Formatter.format(delay)} is not a finite duration`
    return Effect.fail(new MemcacheIllegalInputError({ command: "flushAll", field: "delay", reason }))
  }
  const seconds = millis <= 0 ? 0 : Math.ceil(millis / 1000)
  if (seconds <= Exptime.RELATIVE_MAX) return Effect.succeed(seconds)
  return Effect.map(Clock.currentTimeMillis, (now) => Math.floor(now / 1000) + seconds)
}

/** A ttl's exptime, or why not, or {@link Absolute} when it needs the Clock. */
export const ofTtl = (command: string, ttl: Duration.Input): Known => {
  const millis = millisOf(ttl)
  if (millis === undefined) {
    const reason = `cannot read ${Formatter.format(ttl)} as a duration: give a Duration, milliseconds as a number, or a string such as "10 seconds"`
    return new MemcacheIllegalInputError({ command, field: "ttl", reason })
  }
  return Exptime.isAbsolute(millis) ? { _tag: "Absolute", millis } : converted(command, millis, 0)
}

/** A raw exptime, sent as given once the protocol's range check passed (also for untyped callers' values). */
const raw = (command: string, exptime: number): Known => {
  const invalid = Exptime.validate(exptime)
  return invalid === undefined ? exptime : illegal(command, invalid)
}

/** The positional expiry of touch/gat/gats: a ttl, or `{ exptime }` sent as given. */
export const ofExpiry = (command: string, expiry: Expiry): Known =>
  typeof expiry === "object" && expiry !== null && "exptime" in expiry
    ? raw(command, expiry.exptime)
    : ofTtl(command, expiry)

/** The expiry of a store call's options: `exptime` as given, else its `ttl`, else 0 (never); not both. */
export const ofStoreOptions = (
  command: string,
  o: { readonly ttl?: Duration.Input | undefined; readonly exptime?: number | undefined } | undefined
): Known => {
  if (o?.exptime !== undefined) {
    return o.ttl === undefined
      ? raw(command, o.exptime)
      : new MemcacheIllegalInputError({ command, field: "exptime", reason: "give either ttl or exptime, not both" })
  }
  return o?.ttl === undefined ? 0 : ofTtl(command, o.ttl)
}

/** The exptime to send, reading the Clock for a ttl beyond 30 days. */
export const resolve = (command: string, known: Known): Effect.Effect<number, MemcacheIllegalInputError> => {
  if (typeof known === "number") return Effect.succeed(known)
  if (known._tag !== "Absolute") return Effect.fail(known)
  return Effect.flatMap(Clock.currentTimeMillis, (now) => {
    const exptime = converted(command, known.millis, Math.floor(now / 1000))
    return typeof exptime === "number" ? Effect.succeed(exptime) : Effect.fail(exptime)
  })
}
