/**
 * getOrCompute against a real memcached 1.6.18 and against the in-memory layer on the TestClock (the same suite),
 * and what only a real server shows: an outage, and a server that refuses meta commands.
 */
import { describe, expect, it } from "@effect/vitest"
import { MemcacheClient, MemcacheError, MemcacheMemory, Serializer } from "@effect-memcache/client"
import { Effect, Option } from "effect"
import { TestClock } from "effect/testing"
import { freePort, useMemcached } from "../../../testing/Memcached.ts"
import { getOrComputeSuite } from "./getOrCompute/suite.ts"

describe("getOrCompute: memcached 1.6.18", () => {
  const server = useMemcached()
  // Its meta commands go the same way in both protocols; in meta the fallback reads and writes do too.
  for (const protocol of ["text", "meta"] as const) {
    getOrComputeSuite({
      name: `memcached-${protocol}`,
      test: (name, body) =>
        it.live(`${name} (${protocol} protocol)`, () =>
          body({
            client: (options) => Effect.orDie(MemcacheClient.make({ protocol, ...options, server: server().address })),
            smallClient: () => Effect.die("not used"),
            passTime: (seconds) => Effect.sleep(seconds * 1000),
            protocol
          })
        )
    })
  }

  it.live("a cache outage never fails the call: compute runs, and the outcome says Unavailable", () =>
    Effect.gen(function* () {
      const port = yield* Effect.promise(() => freePort())
      const m = yield* MemcacheClient.make({ server: `127.0.0.1:${port}`, connectTimeout: "200 millis" })
      const result = yield* m.getOrComputeOutcome("down", Effect.succeed("from the source"))
      expect(result.value).toBe("from the source")
      expect(result.outcome._tag).toBe("Unavailable")
      if (result.outcome._tag === "Unavailable") expect(result.outcome.error._tag).toBe("MemcacheConnectionError")
    })
  )
})

describe("getOrCompute: MemcacheMemory on the TestClock", () => {
  getOrComputeSuite({
    name: "memory",
    test: (name, body) =>
      it.effect(name, () =>
        Effect.gen(function* () {
          yield* TestClock.setTime(Date.UTC(2026, 0, 1))
          const server = yield* MemcacheMemory.makeServer()
          yield* body({
            client: (options) => MemcacheMemory.make({ ...options, server }),
            smallClient: () => Effect.die("not used"),
            passTime: (seconds) => TestClock.adjust(seconds * 1000),
            protocol: "text"
          })
        })
      )
  })
})

describe("getOrCompute: servers that cannot take part", () => {
  it.effect("a server that answers ERROR to meta commands gets single flight and a plain get and set", () =>
    Effect.gen(function* () {
      const m = yield* MemcacheMemory.make({ faults: { mg: { reply: { _tag: "Error", text: "" } } } })
      const text = m.withSerializer(Serializer.string)
      const first = yield* text.getOrComputeOutcome("plain", Effect.succeed("computed"), { ttl: "1 minute" })
      expect(first).toEqual({ value: "computed", outcome: { _tag: "Computed", reason: "noLease" } })
      expect(yield* text.get("plain")).toEqual(Option.some("computed"))
      expect(yield* text.getOrComputeOutcome("plain", Effect.die("must not compute"))).toEqual({
        value: "computed",
        outcome: { _tag: "Hit" }
      })
    })
  )

  it.effect("a failing server: compute's value, outcome Unavailable with the error, nothing fails", () =>
    Effect.gen(function* () {
      const down = new MemcacheError.MemcacheConnectionError({ server: "memory", reason: "refused", detail: "test" })
      const m = yield* MemcacheMemory.make({ faults: { mg: { fail: down }, ms: { fail: down } } })
      const result = yield* m.withSerializer(Serializer.string).getOrComputeOutcome("k", Effect.succeed("source"))
      expect(result).toEqual({ value: "source", outcome: { _tag: "Unavailable", error: down } })
    })
  )
})
