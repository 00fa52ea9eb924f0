/**
 * Multi-key writes: setMany returns the keys the server refused; setManyPartial and deleteManyPartial keep a
 * failed server's error as data while the other servers' keys are written.
 */
import { describe, expect, it } from "@effect/vitest"
import { Distribution, MemcacheClient, MemcacheCluster } from "@effect-memcache/client"
import { Effect, Option } from "effect"
import { type MemcachedServer, rawCommand, startMemcached, useMemcached } from "../../../testing/Memcached.ts"

const rawGet = async (server: MemcachedServer, key: string): Promise<string> =>
  (await rawCommand(server, `get ${key}\r\n`, { until: (b) => b.toString().endsWith("END\r\n") })).toString()

describe("setMany on a server with a 1 KiB item size", () => {
  const server = useMemcached({ args: ["-I", "1k", "-o", "slab_chunk_max=1024"] })

  it.live("returns the keys the server refused, and stores the others", () =>
    Effect.gen(function* () {
      const m = yield* MemcacheClient.make({ server: server().address, defaultNoreply: false })
      const big = new Uint8Array(5000)
      const failed = yield* m.setMany(
        [
          ["wm:ok", "fine"],
          ["wm:big", big],
          ["wm:ok2", "also fine"]
        ],
        { noreply: false }
      )
      expect(failed).toEqual(["wm:big"])
      expect(yield* m.get("wm:ok")).toEqual(Option.some("fine"))
      expect(yield* m.get("wm:ok2")).toEqual(Option.some("also fine"))
      expect(yield* Effect.promise(() => rawGet(server(), "wm:big"))).toBe("END\r\n")

      const partial = yield* m.setManyPartial([
        ["wm:p1", "one"],
        ["wm:pbig", big]
      ])
      expect(partial.failedKeys).toEqual(["wm:pbig"])
      expect([...partial.failures.values()].map((e) => e._tag)).toEqual(["MemcacheServerError"])
    })
  )
})

describe("partial multi-key writes on a cluster with a dead server", () => {
  it.live("the live servers' keys are written or deleted; the dead one's failure is data", () =>
    Effect.gen(function* () {
      const servers = yield* Effect.acquireRelease(
        Effect.promise(() => Promise.all([startMemcached(), startMemcached()])),
        (all) => Effect.promise(() => Promise.all(all.map((s) => s.stop())))
      )
      const addresses = servers.map((s) => s.address)
      const route = Distribution.rendezvous.make(servers.map((s) => ({ host: s.host, port: s.port })))
      const keys = Array.from({ length: 40 }, (_, i) => `wp:${i}`)
      const onDead = keys.filter((k) => route(k) === 1)
      const onLive = keys.filter((k) => route(k) === 0)
      expect(onDead.length).toBeGreaterThan(0)
      expect(onLive.length).toBeGreaterThan(0)

      const m = yield* MemcacheCluster.make({
        servers: addresses,
        defaultNoreply: false,
        timeout: "500 millis",
        retryAttempts: 0
      })
      yield* Effect.promise(() => servers[1]!.kill9())

      const written = yield* m.setManyPartial(keys.map((k) => [k, `v:${k}`] as const))
      expect(written.failedKeys).toEqual(onDead)
      expect([...written.failures.keys()]).toEqual([addresses[1]])
      expect(written.failures.get(addresses[1]!)?._tag).toBe("MemcacheConnectionError")
      for (const key of onLive) {
        expect(yield* Effect.promise(() => rawGet(servers[0]!, key))).toContain(`v:${key}`)
      }

      const deleted = yield* m.deleteManyPartial(keys)
      expect(deleted.failedKeys).toEqual(onDead)
      expect([...deleted.failures.keys()]).toEqual([addresses[1]])
      for (const key of onLive) {
        expect(yield* Effect.promise(() => rawGet(servers[0]!, key))).toBe("END\r\n")
      }

      // Refused input still fails the whole call, before anything is sent.
      const refused = yield* Effect.flip(m.deleteManyPartial(["ok", "bad key"]))
      expect(refused._tag).toBe("MemcacheIllegalInputError")
    })
  )
})
