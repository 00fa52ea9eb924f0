/**
 * getOrCompute against a real memcached 1.6.18 and against the in-memory layer on the TestClock (the same suite),
 * and what only a real server shows: an outage, and a server that refuses meta commands.
 */
import { describe, expect, it } from "@effect/vitest"
import { MemcacheClient, MemcacheMemory } from "@effect-memcache/client"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import { freePort, useMemcached } from "../../../testing/Memcached.ts"
import { getOrComputeSuite } from "./getOrCompute/suite.ts"

describe("getOrCompute: memcached 1.6.18", () => {
  const server = useMemcached()
  getOrComputeSuite({
    name: "memcached",
    test: (name, body) =>
      it.live(name, () =>
        body({
          client: (options) => Effect.orDie(MemcacheClient.make({ ...options, server: server().address })),
          smallClient: () => Effect.die("not used"),
          passTime: (seconds) => Effect.sleep(seconds * 1000)
        })
      )
  })

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
            passTime: (seconds) => TestClock.adjust(seconds * 1000)
          })
        })
      )
  })
})
