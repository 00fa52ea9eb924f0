import { Exptime } from "@effect-memcache/protocol"
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

describe("Exptime.fromSeconds", () => {
  const now = 1_700_000_000

  it("keeps 0 as never and makes negatives expire at once", () => {
    expect(Exptime.fromSeconds(0, now)).toBe(0)
    expect(Exptime.fromSeconds(-5, now)).toBe(-1)
    expect(Exptime.fromSeconds(-0.5, now)).toBe(-1)
  })

  it("keeps up to 30 days relative and rounds fractions up", () => {
    expect(Exptime.fromSeconds(1, now)).toBe(1)
    expect(Exptime.fromSeconds(0.2, now)).toBe(1)
    expect(Exptime.fromSeconds(59.01, now)).toBe(60)
    expect(Exptime.fromSeconds(Exptime.RELATIVE_MAX, now)).toBe(2592000)
  })

  it("turns more than 30 days into an absolute unix time", () => {
    expect(Exptime.fromSeconds(Exptime.RELATIVE_MAX + 1, now)).toBe(now + 2592001)
    expect(Exptime.fromSeconds(2592000.5, now + 0.9)).toBe(now + 2592001)
    expect(Exptime.fromSeconds(31 * 86400, now)).toBe(1702678400)
  })

  it("gives a value validate refuses when the time reaches past 2038", () => {
    expect(Exptime.validate(Exptime.fromSeconds(2 ** 31, now))?.field).toBe("exptime")
  })
})
