/**
 * Expiration times, as memcached reads them:
 *
 * - `0`: never expires.
 * - `1..2592000` (30 days): seconds from now.
 * - `> 2592000`: an absolute unix time in seconds (one in the past expires at once).
 * - negative: expired at once.
 *
 * The server parses the number as 64 bits and truncates it to int32, so `2^31` turns negative (expires at once)
 * and `2^32` turns into `0` (never expires). {@link validate} therefore refuses anything outside
 * `[-2^31, 2^31)`, and {@link fromMillis} turns a duration (a call's ttl) into the right form.
 *
 * @since 0.1.0
 */
import { InvalidInput } from "./Errors.ts"

/**
 * The largest exptime the server reads as relative seconds (30 days); larger values are unix times.
 *
 * @example
 * ```ts
 * import { Exptime } from "@effect-memcache/protocol"
 * Exptime.RELATIVE_MAX // 2592000
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const RELATIVE_MAX = 2592000

/**
 * The smallest exptime that survives the server's int32 truncation (`-2^31`).
 *
 * @example
 * ```ts
 * import { Exptime } from "@effect-memcache/protocol"
 * Exptime.MIN // -2147483648
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const MIN = -2147483648

/**
 * The largest exptime that survives the server's int32 truncation (`2^31 - 1`).
 *
 * @example
 * ```ts
 * import { Exptime } from "@effect-memcache/protocol"
 * Exptime.MAX // 2147483647
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX = 2147483647

/**
 * Checks an exptime: an integer in `[-2^31, 2^31)`. `undefined` when it may be sent.
 *
 * @example
 * ```ts
 * import { Exptime } from "@effect-memcache/protocol"
 * Exptime.validate(60) // undefined
 * Exptime.validate(2 ** 31)?.field // "exptime"
 * ```
 *
 * @since 0.1.0
 * @category validation
 */
export const validate = (exptime: number): InvalidInput | undefined => {
  if (typeof exptime !== "number" || !Number.isInteger(exptime)) {
    return new InvalidInput("exptime", `must be an integer number of seconds, got ${String(exptime)}`)
  }
  if (exptime < MIN || exptime > MAX) {
    return new InvalidInput(
      "exptime",
      `${exptime} is outside [${MIN}, ${MAX}]: the server truncates it to 32 bits (2^31 would expire at once, 2^32 would never expire)`
    )
  }
  return undefined
}

/**
 * Whether {@link fromMillis} sends a duration as an absolute unix time (more than 30 days once rounded up to
 * whole seconds), and so reads the current time; below that, any `nowUnixSeconds` gives the same result.
 *
 * @example
 * ```ts
 * import { Exptime } from "@effect-memcache/protocol"
 * Exptime.isAbsolute(60_000) // false
 * Exptime.isAbsolute(31 * 86_400_000) // true
 * ```
 *
 * @since 0.1.0
 * @category predicates
 */
export const isAbsolute = (millis: number): boolean =>
  millis > 0 && Number.isFinite(millis) && Math.ceil(millis / 1000) > RELATIVE_MAX

/**
 * Turns a duration in milliseconds from now (a call's `ttl`) into the exptime to send, or refuses it (field
 * `"ttl"`):
 *
 * - `0` and `+Infinity` → `0` (never expires);
 * - negative, including `-Infinity` → `-1` (expired at once; `touch`/`gat` with it still find the item, which
 *   is then gone);
 * - positive → whole seconds rounded up (`1` ms → `1`, so a short ttl never becomes "never");
 * - up to 30 days → those seconds (relative);
 * - more than 30 days → the absolute unix time `floor(nowUnixSeconds) + seconds`;
 * - `NaN`, or a time past {@link MAX} (January 2038) → refused.
 *
 * `nowUnixSeconds` is only read beyond 30 days (see {@link isAbsolute}).
 *
 * @example
 * ```ts
 * import { Exptime } from "@effect-memcache/protocol"
 * Exptime.fromMillis(60_000, 1_700_000_000) // 60
 * Exptime.fromMillis(-500, 1_700_000_000) // -1
 * Exptime.fromMillis(31 * 86_400_000, 1_700_000_000) // 1702678400
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromMillis = (millis: number, nowUnixSeconds: number): number | InvalidInput => {
  if (typeof millis !== "number" || Number.isNaN(millis)) {
    return new InvalidInput("ttl", `${String(millis)} is not a duration: give milliseconds as a number, or a Duration`)
  }
  if (millis === 0 || millis === Number.POSITIVE_INFINITY) return 0
  if (millis < 0) return -1
  const seconds = Math.ceil(millis / 1000)
  if (seconds <= RELATIVE_MAX) return seconds
  const exptime = Math.floor(nowUnixSeconds) + seconds
  return exptime <= MAX
    ? exptime
    : new InvalidInput(
        "ttl",
        `${seconds} seconds from now is past ${MAX} (January 2038), the last unix time memcached can hold: give a shorter ttl, or Infinity for never`
      )
}

/**
 * How the server reads an exptime it receives (its `realtime()`): the unix second at which the item is gone,
 * `0` for never, and `-1` (a time always past) for a negative exptime. The `flush_all` delay is read the same
 * way. The inverse of {@link fromMillis}, for servers written in JavaScript (the client's in-memory server).
 *
 * @example
 * ```ts
 * import { Exptime } from "@effect-memcache/protocol"
 * Exptime.expiresAt(60, 1_700_000_000) // 1700000060
 * Exptime.expiresAt(1_800_000_000, 1_700_000_000) // 1800000000
 * Exptime.expiresAt(-1, 1_700_000_000) // -1
 * ```
 *
 * @since 0.1.0
 * @category destructors
 */
export const expiresAt = (exptime: number, nowUnixSeconds: number): number => {
  if (exptime === 0) return 0
  if (exptime < 0) return -1
  return exptime <= RELATIVE_MAX ? nowUnixSeconds + exptime : exptime
}
