/**
 * Conformance: the expiries that take effect at once, so no waiting: negative ttls (in every form a
 * `Duration.Input` takes) expire at once, `Infinity` never does, and touch/gat/gats take a raw `{ exptime }`,
 * relative or an absolute unix time (one in the past expires at once; gat/gats still return the value first).
 */
import { expect } from "@effect/vitest"
import { Clock, Duration, Effect, Option } from "effect"
import type { Subject } from "./Subject.ts"

export const expiry = (subject: Subject) => {
  const { test } = subject

  test("a negative ttl expires at once, in every form; Infinity never expires", (t) =>
    Effect.gen(function* () {
      const m = yield* t.client({ defaultNoreply: false })
      const gone = ["neg:millis", "neg:number", "neg:string", "neg:nanos", "neg:infinity", "neg:many", "neg:touch"]
      expect(yield* m.set("neg:millis", "v", { noreply: false, ttl: Duration.millis(-500) })).toBe(true)
      expect(yield* m.set("neg:number", "v", { noreply: false, ttl: -1 })).toBe(true)
      expect(yield* m.add("neg:string", "v", { noreply: false, ttl: "-5 seconds" })).toBe(true)
      expect(yield* m.set("neg:nanos", "v", { noreply: false, ttl: -1n })).toBe(true)
      expect(yield* m.set("neg:infinity", "v", { noreply: false, ttl: "-Infinity" })).toBe(true)
      expect(yield* m.setMany([["neg:many", "v"]], { noreply: false, ttl: Duration.seconds(-1) })).toEqual([])
      yield* m.set("neg:touch", "v")
      expect(yield* m.touch("neg:touch", -1, { noreply: false })).toBe(true)
      yield* m.set("never:infinity", "v", { ttl: "Infinity" })
      yield* m.set("never:touch", "v", { ttl: "1 hour" })
      expect(yield* m.touch("never:touch", Duration.infinity, { noreply: false })).toBe(true)
      const found = yield* m.getMany([...gone, "never:infinity", "never:touch"])
      expect([...found.keys()]).toEqual(["never:infinity", "never:touch"])
    }))

  test("touch, gat and gats take { exptime }: relative, absolute ahead, absolute past and negative", (t) =>
    Effect.gen(function* () {
      const m = yield* t.client({ defaultNoreply: false })
      const now = Math.floor((yield* Clock.currentTimeMillis) / 1000)
      const keys = [
        "x:touch-relative",
        "x:touch-ahead",
        "x:touch-past",
        "x:touch-negative",
        "x:gat-ahead",
        "x:gat-past",
        "x:gats-relative",
        "x:gats-negative",
        "x:gat-negative-ttl"
      ]
      for (const key of keys) yield* m.set(key, "v")
      expect(yield* m.touch("x:touch-relative", { exptime: 3600 }, { noreply: false })).toBe(true)
      expect(yield* m.touch("x:touch-ahead", { exptime: now + 3600 }, { noreply: false })).toBe(true)
      expect(yield* m.touch("x:touch-past", { exptime: now - 100 }, { noreply: false })).toBe(true)
      expect(yield* m.touch("x:touch-negative", { exptime: -1 }, { noreply: false })).toBe(true)
      expect(yield* m.touch("x:missing", { exptime: now + 3600 }, { noreply: false })).toBe(false)
      // gat/gats answer with the value, and the item is gone after.
      expect(yield* m.gat("x:gat-ahead", { exptime: now + 3600 })).toEqual(Option.some("v"))
      expect(yield* m.gat("x:gat-past", { exptime: now - 100 })).toEqual(Option.some("v"))
      const cas = Option.map(yield* m.gats("x:gats-relative", { exptime: 3600 }), (c) => c.value)
      expect(cas).toEqual(Option.some("v"))
      const negative = Option.map(yield* m.gats("x:gats-negative", { exptime: -1 }), (c) => c.value)
      expect(negative).toEqual(Option.some("v"))
      expect(yield* m.gat("x:gat-negative-ttl", "-1 seconds")).toEqual(Option.some("v"))
      const found = yield* m.getMany(keys)
      expect([...found.keys()]).toEqual(["x:touch-relative", "x:touch-ahead", "x:gat-ahead", "x:gats-relative"])
    }))
}
