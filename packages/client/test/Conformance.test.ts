/**
 * Runs the conformance suite three times: against the real client connected to a real memcached 1.6.18, in each
 * of its protocols (text, and meta: every command in its meta form), and against the in-memory layer. All must
 * pass the same tests.
 */
import { describe, it } from "@effect/vitest"
import { MemcacheClient, MemcacheMemory } from "@effect-memcache/client"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import { useMemcached } from "../../../testing/Memcached.ts"
import { conformance } from "./conformance/suite.ts"

for (const protocol of ["text", "meta"] as const) {
  describe(`conformance: memcached 1.6.18, ${protocol} protocol`, () => {
    const server = useMemcached()
    const small = useMemcached({ args: ["-I", "1k", "-o", "slab_chunk_max=1024"] })
    conformance({
      name: protocol === "text" ? "memcached" : "memcached (meta)",
      // Real time: TestClock would freeze the client's timeouts, and the server's clock is the wall clock anyway.
      test: (name, body) =>
        it.live(name, () =>
          body({
            client: (options) => Effect.orDie(MemcacheClient.make({ protocol, ...options, server: server().address })),
            smallClient: (options) =>
              Effect.orDie(MemcacheClient.make({ itemSizeMax: 1024, protocol, ...options, server: small().address })),
            passTime: (seconds) => Effect.sleep(seconds * 1000),
            protocol
          })
        )
    })
  })
}

describe("conformance: MemcacheMemory", () => {
  // A realistic start time, so absolute exptimes (unix times) mean what they mean on a real server.
  const start = Date.UTC(2026, 0, 1)
  conformance({
    name: "memory",
    test: (name, body) =>
      it.effect(name, () =>
        Effect.gen(function* () {
          yield* TestClock.setTime(start)
          const server = yield* MemcacheMemory.makeServer()
          const smallServer = yield* MemcacheMemory.makeServer({ itemSizeMax: 1024 })
          yield* body({
            client: (options) => MemcacheMemory.make({ ...options, server }),
            smallClient: (options) => MemcacheMemory.make({ itemSizeMax: 1024, ...options, server: smallServer }),
            passTime: (seconds) => TestClock.adjust(seconds * 1000),
            protocol: "text"
          })
        })
      )
  })
})
