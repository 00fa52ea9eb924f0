/**
 * Runs the same store tests against a real memcached and against the in-memory layer (as the conformance suite
 * does): a `Memcache` layer of the subject, a namespace no other test uses (the real server is shared by every
 * test of a file), and a way to let time pass on the subject's clock.
 */
import { describe, it } from "@effect/vitest"
import { type Memcache, MemcacheClient, MemcacheMemory } from "@effect-memcache/client"
import { Effect, Layer, type Scope } from "effect"
import { TestClock } from "effect/testing"
import { useMemcached } from "../../../../testing/Memcached.ts"

/** What a store test gets. */
export interface StoreContext {
  /** The `Memcache` service of the subject (a real client, or the in-memory layer). */
  readonly memcache: Layer.Layer<Memcache.Memcache>
  /** The same with client options (such as a `keyPrefix`). */
  readonly memcacheWith: (options: Memcache.SurfaceOptions) => Layer.Layer<Memcache.Memcache>
  /** A namespace of its own, ending in `:`. */
  readonly namespace: string
  /** Lets `seconds` pass on the server's clock: real sleeping for memcached, `TestClock.adjust` in memory. */
  readonly passTime: (seconds: number) => Effect.Effect<void>
}

export type StoreTest = (name: string, body: (t: StoreContext) => Effect.Effect<void, unknown, Scope.Scope>) => void

let namespaces = 0
const freshNamespace = () => `t${++namespaces}-${Date.now()}:`

/** Registers `tests` twice: on a real memcached 1.6.18, and on the in-memory layer. */
export const onBothServers = (title: string, tests: (test: StoreTest) => void): void => {
  describe(`${title}: memcached 1.6.18`, () => {
    const server = useMemcached()
    tests((name, body) =>
      // Real time: the server's clock is the wall clock, and TestClock would freeze the client's timeouts.
      it.live(name, () =>
        body({
          memcache: Layer.orDie(MemcacheClient.layer({ server: server().address })),
          memcacheWith: (options) => Layer.orDie(MemcacheClient.layer({ ...options, server: server().address })),
          namespace: freshNamespace(),
          passTime: (seconds) => Effect.sleep(seconds * 1000)
        })
      )
    )
  })
  describe(`${title}: MemcacheMemory`, () => {
    tests((name, body) =>
      it.effect(name, () =>
        Effect.gen(function* () {
          yield* TestClock.setTime(Date.UTC(2026, 0, 1))
          const server = yield* MemcacheMemory.makeServer()
          yield* body({
            memcache: MemcacheMemory.layer({ server }),
            memcacheWith: (options) => MemcacheMemory.layer({ ...options, server }),
            namespace: freshNamespace(),
            passTime: (seconds) => TestClock.adjust(seconds * 1000)
          })
        })
      )
    )
  })
}
