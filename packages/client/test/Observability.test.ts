/**
 * Observability against a real memcached: the spans (read by an in-memory tracer) and the metrics (read from a
 * registry of the test's own) of a few calls, an error reply, and a cluster server marked down.
 */
import { describe, expect, it } from "@effect/vitest"
import { Distribution, Memcache, MemcacheClient, MemcacheCluster } from "@effect-memcache/client"
import { Effect, Exit, Metric } from "effect"
import { afterAll, beforeAll } from "vitest"
import { type MemcachedServer, startMemcached, useMemcached } from "../../../testing/Memcached.ts"
import { recording } from "./RecordingTracer.ts"

/** The value of a counter, or the count of a histogram, whose attributes include `match`. */
const measured = (
  snapshots: ReadonlyArray<Metric.Metric.Snapshot>,
  id: string,
  match: Record<string, string>
): number => {
  let total = 0
  for (const s of snapshots) {
    if (s.id !== id) continue
    const attributes = s.attributes ?? {}
    if (!Object.entries(match).every(([k, v]) => attributes[k] === v)) continue
    if (s.type === "Counter") total += Number(s.state.count)
    else if (s.type === "Histogram") total += s.state.count
  }
  return total
}

describe("observability against memcached", () => {
  // `-I 1k`: the server refuses what the client (told 1 MiB) lets through, so a store fails with SERVER_ERROR.
  const server = useMemcached({ args: ["-I", "1k", "-o", "slab_chunk_max=1024"] })

  it.live("spans follow the database conventions and metrics count calls, hits, misses and errors", () =>
    Effect.gen(function* () {
      const { spans, tracer } = recording()
      const { host, port } = server()
      const m = yield* Memcache.Memcache
      const failure = yield* Effect.gen(function* () {
        yield* m.set("o:k", "secret-value", { noreply: false })
        yield* m.get("o:k")
        yield* m.get("o:missing")
        yield* m.getMany(["o:k", "o:x", "o:y"])
        return yield* Effect.flip(m.set("o:big", "x".repeat(4096), { noreply: false }))
      }).pipe(Effect.withTracer(tracer))
      expect(failure._tag).toBe("MemcacheServerError")

      const at = `${host}:${port}`
      expect(spans.map((s) => s.name)).toEqual(["set", "get", "get", "getMany", "set"].map((n) => `${n} ${at}`))
      for (const span of spans) {
        expect(span.kind).toBe("client")
        expect(span.attributes.get("db.system.name")).toBe("memcached")
        expect(span.attributes.get("server.address")).toBe(host)
        expect(span.attributes.get("server.port")).toBe(port)
        // Neither keys nor values are recorded.
        const recorded = [...span.attributes.values()].map(String).join(" ")
        expect(recorded).not.toMatch(/o:k|secret-value/)
      }
      expect(spans[3]!.attributes.get("db.operation.batch.size")).toBe(3)
      expect(spans[1]!.attributes.has("db.operation.batch.size")).toBe(false)
      expect(spans[4]!.attributes.get("error.type")).toBe("MemcacheServerError")
      expect(spans[4]!.attributes.get("db.response.status_code")).toBe("SERVER_ERROR")
      expect(spans[0]!.attributes.has("error.type")).toBe(false)

      const snapshots = yield* Metric.snapshot
      const server_ = { "server.address": host, "server.port": String(port) }
      const op = (name: string) => ({ "db.operation.name": name, ...server_ })
      expect(measured(snapshots, "db.client.operation.duration", op("set"))).toBe(2)
      expect(measured(snapshots, "db.client.operation.duration", op("get"))).toBe(2)
      expect(measured(snapshots, "memcache.client.hits", op("get"))).toBe(1)
      expect(measured(snapshots, "memcache.client.misses", op("get"))).toBe(1)
      expect(measured(snapshots, "memcache.client.hits", op("getMany"))).toBe(1)
      expect(measured(snapshots, "memcache.client.misses", op("getMany"))).toBe(2)
      expect(measured(snapshots, "memcache.client.errors", { ...op("set"), "error.type": "MemcacheServerError" })).toBe(
        1
      )
      expect(measured(snapshots, "memcache.client.requests_in_flight", server_)).toBe(0)
      expect(measured(snapshots, "memcache.client.connections.open", server_)).toBe(1)
    }).pipe(
      Effect.provide(MemcacheClient.layer({ server: server().address, itemSizeMax: 1024 * 1024, metrics: true })),
      Effect.provideService(Metric.MetricRegistry, new Map())
    )
  )

  it.live("with metrics off (the default) nothing is recorded", () =>
    Effect.gen(function* () {
      const m = yield* Memcache.Memcache
      yield* m.set("o:off", "v", { noreply: false })
      yield* m.get("o:off")
      const ids = (yield* Metric.snapshot).map((s) => s.id)
      expect(ids.filter((id) => id.startsWith("memcache.") || id.startsWith("db."))).toEqual([])
    }).pipe(
      Effect.provide(MemcacheClient.layer({ server: server().address })),
      Effect.provideService(Metric.MetricRegistry, new Map())
    )
  )
})

describe("observability of a cluster", () => {
  let servers: Array<MemcachedServer> = []
  beforeAll(async () => {
    servers = await Promise.all([startMemcached(), startMemcached()])
  })
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()))
  })

  it.live("a cluster call's span and metrics carry the server its key went to, found as the call runs", () =>
    Effect.gen(function* () {
      const { spans, tracer } = recording()
      const route = Distribution.rendezvous.make(servers.map((s) => ({ host: s.host, port: s.port, weight: 1 })))
      const keys = Array.from({ length: 40 }, (_, i) => `obs:span:${i}`)
      const cluster = yield* MemcacheCluster.make({ servers: servers.map((s) => s.address), metrics: true })
      yield* Effect.gen(function* () {
        for (const key of keys) {
          yield* cluster.set(key, "v", { noreply: false })
          yield* cluster.get(key)
          yield* cluster.delete(key, { noreply: false })
        }
      }).pipe(Effect.withTracer(tracer))
      // The per-call metrics carry the server too: each server's gets counted under its own address.
      const snapshots = yield* Metric.snapshot
      servers.forEach((server, at) => {
        const attributes = { "db.operation.name": "get", "server.port": String(server.port) }
        const routedHere = keys.filter((k) => route(k) === at).length
        expect(routedHere).toBeGreaterThan(0)
        expect(measured(snapshots, "db.client.operation.duration", attributes)).toBe(routedHere)
        expect(measured(snapshots, "memcache.client.hits", attributes)).toBe(routedHere)
      })
      expect(spans.length).toBe(3 * keys.length)
      spans.forEach((span, i) => {
        const server = servers[route(keys[Math.floor(i / 3)]!)]!
        expect(span.name).toBe(["set", "get", "delete"][i % 3])
        expect(span.attributes.get("server.address")).toBe(server.host)
        expect(span.attributes.get("server.port")).toBe(server.port)
      })
      expect(new Set(spans.map((s) => s.attributes.get("server.port"))).size).toBe(2)
    }).pipe(Effect.scoped, Effect.provideService(Metric.MetricRegistry, new Map()))
  )

  it.live("a killed server is counted as marked down, by server", () =>
    Effect.gen(function* () {
      const [, victim] = servers as [MemcachedServer, MemcachedServer]
      const route = Distribution.rendezvous.make(servers.map((s) => ({ host: s.host, port: s.port, weight: 1 })))
      const key = Array.from({ length: 100 }, (_, i) => `obs:${i}`).find((k) => route(k) === 1)!
      const cluster = yield* MemcacheCluster.make({
        servers: servers.map((s) => s.address),
        defaultNoreply: false,
        timeout: "1 second",
        retryAttempts: 1,
        retryTimeout: "1 minute",
        metrics: true
      })
      yield* cluster.set(key, "v")
      yield* Effect.promise(() => victim.kill9())
      // The first failure marks the server down; the next call fails fast.
      yield* Effect.exit(cluster.get(key))
      const down = yield* Effect.exit(cluster.get(key))
      expect(Exit.isFailure(down)).toBe(true)

      const snapshots = yield* Metric.snapshot
      const victimAt = { "server.address": victim.host, "server.port": String(victim.port) }
      expect(measured(snapshots, "memcache.client.cluster.mark_downs", victimAt)).toBe(1)
      expect(measured(snapshots, "memcache.client.cluster.recoveries", victimAt)).toBe(0)
      expect(measured(snapshots, "memcache.client.errors", { "db.operation.name": "get" })).toBe(2)
    }).pipe(Effect.scoped, Effect.provideService(Metric.MetricRegistry, new Map()))
  )
})
