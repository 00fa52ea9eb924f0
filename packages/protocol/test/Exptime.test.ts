import { Errors, Exptime } from "@effect-memcache/protocol"
import { describe, expect, it } from "vitest"

describe("Exptime.validate", () => {
  it("accepts the int32 edges and the usual values", () => {
    for (const t of [-(2 ** 31), 2 ** 31 - 1, -1, 0, 1, 2592000, 2592001]) expect(Exptime.validate(t)).toBeUndefined()
  })

  it("refuses one past each edge, saying why", () => {
    const over = Exptime.validate(2 ** 31)
    expect(over?.field).toBe("exptime")
    expect(over?.reason).toBe(
      "2147483648 is outside [-2147483648, 2147483647]: the server truncates it to 32 bits (2^31 would expire at once, 2^32 would never expire)"
    )
    expect(Exptime.validate(-(2 ** 31) - 1)?.reason).toContain("-2147483649 is outside")
    expect(Exptime.validate(2 ** 32)?.field).toBe("exptime")
  })

  it("refuses non-integers", () => {
    expect(Exptime.validate(1.5)?.reason).toBe("must be an integer number of seconds, got 1.5")
    expect(Exptime.validate(Number.NaN)?.reason).toBe("must be an integer number of seconds, got NaN")
    expect(Exptime.validate(Number.POSITIVE_INFINITY)?.field).toBe("exptime")
  })
})

describe("Exptime.fromMillis", () => {
  const now = 1_700_000_000

  it("keeps 0 as never, and reads +Infinity as never too", () => {
    expect(Exptime.fromMillis(0, now)).toBe(0)
    expect(Exptime.fromMillis(-0, now)).toBe(0)
    expect(Exptime.fromMillis(Number.POSITIVE_INFINITY, now)).toBe(0)
  })

  it("makes every negative duration, -Infinity included, expire at once (-1), never 0", () => {
    for (const millis of [-500, -1, -0.001, -1000, -5_000_000_000, Number.NEGATIVE_INFINITY]) {
      expect(Exptime.fromMillis(millis, now)).toBe(-1)
    }
  })

  it("rounds a positive duration up to whole seconds, so a sub-second ttl lives one second", () => {
    expect(Exptime.fromMillis(1, now)).toBe(1)
    expect(Exptime.fromMillis(200, now)).toBe(1)
    expect(Exptime.fromMillis(1000, now)).toBe(1)
    expect(Exptime.fromMillis(1001, now)).toBe(2)
    expect(Exptime.fromMillis(59_010, now)).toBe(60)
    expect(Exptime.fromMillis(0.000001, now)).toBe(1)
  })

  it("keeps up to 30 days relative, whatever the time", () => {
    expect(Exptime.fromMillis(Exptime.RELATIVE_MAX * 1000, now)).toBe(2592000)
    expect(Exptime.fromMillis(Exptime.RELATIVE_MAX * 1000, 0)).toBe(2592000)
  })

  it("turns more than 30 days into an absolute unix time from the whole second of now", () => {
    expect(Exptime.fromMillis(Exptime.RELATIVE_MAX * 1000 + 1, now)).toBe(now + 2592001)
    expect(Exptime.fromMillis(Exptime.RELATIVE_MAX * 1000 + 500, now + 0.9)).toBe(now + 2592001)
    expect(Exptime.fromMillis(31 * 86_400_000, now)).toBe(1702678400)
  })

  it("refuses NaN, naming the ttl", () => {
    const refused = Exptime.fromMillis(Number.NaN, now)
    expect(refused).toBeInstanceOf(Errors.InvalidInput)
    expect(refused).toMatchObject({
      field: "ttl",
      reason: "NaN is not a duration: give milliseconds as a number, or a Duration"
    })
  })

  it("refuses a time past 2038 instead of sending an exptime the server would truncate", () => {
    const last = (Exptime.MAX - now) * 1000
    expect(Exptime.fromMillis(last, now)).toBe(Exptime.MAX)
    const refused = Exptime.fromMillis(last + 1000, now)
    expect(refused).toMatchObject({ field: "ttl" })
    expect(refused instanceof Errors.InvalidInput && refused.reason).toContain("January 2038")
    expect(Exptime.fromMillis(1e300, now)).toMatchObject({ field: "ttl" })
  })
})

describe("Exptime.isAbsolute", () => {
  it("is true exactly when fromMillis reads the current time", () => {
    for (const millis of [0, -1, 1, 2592000000, 2592000001, 31 * 86_400_000, Infinity, -Infinity]) {
      const reads = Exptime.fromMillis(millis, 1_700_000_000) !== Exptime.fromMillis(millis, 1_800_000_000)
      expect(Exptime.isAbsolute(millis)).toBe(reads)
    }
  })
})

describe("Exptime.expiresAt", () => {
  const now = 1_700_000_000

  it("reads an exptime as the server does: never, relative, absolute, expired", () => {
    expect(Exptime.expiresAt(0, now)).toBe(0)
    expect(Exptime.expiresAt(1, now)).toBe(now + 1)
    expect(Exptime.expiresAt(Exptime.RELATIVE_MAX, now)).toBe(now + 2592000)
    expect(Exptime.expiresAt(Exptime.RELATIVE_MAX + 1, now)).toBe(2592001)
    expect(Exptime.expiresAt(now + 60, now)).toBe(now + 60)
    expect(Exptime.expiresAt(-1, now)).toBe(-1)
    expect(Exptime.expiresAt(Exptime.MIN, now)).toBe(-1)
  })

  it("undoes fromMillis to the second", () => {
    for (const millis of [1, 999, 60_000, 2592000000, 2592000001, 40 * 86_400_000]) {
      const exptime = Exptime.fromMillis(millis, now)
      expect(typeof exptime === "number" && Exptime.expiresAt(exptime, now)).toBe(now + Math.ceil(millis / 1000))
    }
  })
})
