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
 * `[-2^31, 2^31)`, and {@link fromSeconds} turns a relative duration into the right form.
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
 * Turns a duration in seconds from now into the exptime to send, applying the 30-day rule:
 *
 * - `0` → `0` (never expires);
 * - negative → `-1` (expire at once);
 * - fractions round up (`0.2` → `1`, so a short positive TTL never becomes "never");
 * - `1..2592000` → unchanged (relative);
 * - more than 30 days → the absolute unix time `floor(nowUnixSeconds) + seconds`.
 *
 * The result is not range-checked (a duration reaching past 2038 gives a value {@link validate} refuses).
 *
 * @example
 * ```ts
 * import { Exptime } from "@effect-memcache/protocol"
 * Exptime.fromSeconds(60, 1_700_000_000) // 60
 * Exptime.fromSeconds(31 * 86400, 1_700_000_000) // 1702678400
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromSeconds = (seconds: number, nowUnixSeconds: number): number => {
  if (seconds === 0) return 0
  if (seconds < 0) return -1
  const whole = Math.ceil(seconds)
  return whole <= RELATIVE_MAX ? whole : Math.floor(nowUnixSeconds) + whole
}
