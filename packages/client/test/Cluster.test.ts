import { describe, expect, it } from "@effect/vitest"
import { Distribution, Memcache, MemcacheCluster } from "@effect-memcache/client"
import { Config, ConfigProvider, Effect, Exit, Fiber, Layer, Option, Schedule, Schema } from "effect"
import { TestClock } from "effect/testing"
import { afterAll, beforeAll } from "vitest"
import { type MemcachedServer, rawCommand, startMemcached } from "../../../testing/Memcached.ts"
import { acquireProxy } from "../../../testing/Scoped.ts"

/** Starts `n` servers before the block's tests and stops them after. */
const useServers = (n: number): (() => ReadonlyArray<MemcachedServer>) => {
  let servers: Array<MemcachedServer> = []
  beforeAll(async () => {
    servers = await Promise.all(Array.from({ length: n }, () => startMemcached()))
  })
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()))
  })
  return () => servers
}

const nodesOf = (servers: ReadonlyArray<MemcachedServer>, weights?: ReadonlyArray<number>) =>
  servers.map((s, i): Distribution.Node => ({ host: s.host, port: s.port, weight: weights?.[i] ?? 1 }))

/** A seeded generator, so a failure can be replayed. */
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

// ASCII, Latin-1, Cyrillic, CJK and astral characters: every one a legal key character.
const ALPHABET = Array.from(
  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_-.#/éüÿĀłключЖ中文字鍵😀🔑𝄞"
)

const randomKeys = (count: number, seed: number): Array<string> => {
  const next = random(seed)
  const keys = new Set<string>()
  while (keys.size < count) {
    const length = 1 + Math.floor(next() * 24)
    let key = ""
    for (let i = 0; i < length; i++) key += ALPHABET[Math.floor(next() * ALPHABET.length)]
    keys.add(key)
  }
  return [...keys]
}

const getRaw = async (server: MemcachedServer, key: string): Promise<string> =>
  (await rawCommand(server, `get ${key}\r\n`, { until: (b) => b.toString().endsWith("END\r\n") })).toString()

/** The keys among `keys` that `server` holds, read with raw `get` lines (independently of the client's decoder). */
const holding = async (server: MemcachedServer, keys: ReadonlyArray<string>, prefix: string): Promise<Set<string>> => {
  const found = new Set<string>()
  for (let i = 0; i < keys.length; i += 100) {
    const reply = await rawCommand(
      server,
      `get ${keys
        .slice(i, i + 100)
        .map((k) => prefix + k)
        .join(" ")}\r\n`,
      {
        until: (b) => b.subarray(-5).toString() === "END\r\n",
        timeoutMillis: 10_000
      }
    )
    let at = 0
    for (;;) {
      const eol = reply.indexOf("\r\n", at)
      const line = reply.subarray(at, eol).toString("utf8")
      if (line === "END") break
      const [, key, , length] = line.split(" ")
      found.add(key!.slice(prefix.length))
      at = eol + 2 + Number(length) + 2
    }
  }
  return found
}

const reasonOf = (exit: Exit.Exit<unknown, { readonly _tag: string }>): string => {
  if (Exit.isSuccess(exit)) return "success"
  const error = Exit.findErrorOption(exit)
  if (Option.isNone(error)) return "defect"
  const e = error.value as { readonly _tag: string; readonly reason?: string }
  return e.reason === undefined ? e._tag : `${e._tag}:${e.reason}`
}

describe("MemcacheCluster: every key on the server its Distribution names", () => {
  const servers = useServers(4)
  const cases: ReadonlyArray<{
    readonly name: string
    readonly distribution: Distribution.Distribution
    readonly weights?: ReadonlyArray<number>
  }> = [
    { name: "rendezvous", distribution: Distribution.rendezvous },
    { name: "ketama", distribution: Distribution.ketama, weights: [1, 2, 1, 3] },
    { name: "modula", distribution: Distribution.modula },
    { name: "custom", distribution: Distribution.custom((key, nodes) => key.length % nodes.length) }
  ]

  cases.forEach(({ distribution, name, weights }, n) => {
    it.live(
      `${name}: 10,000 random keys (non-ASCII among them)`,
      () =>
        Effect.gen(function* () {
          const keyPrefix = `${name}:`
          const keys = randomKeys(10_000, 1000 + n)
          const route = distribution.make(nodesOf(servers(), weights))
          const cluster = yield* MemcacheCluster.make({
            servers: servers().map((s, i) =>
              weights === undefined ? s.address : { address: s.address, weight: weights[i]! }
            ),
            distribution,
            keyPrefix,
            defaultNoreply: false,
            timeout: "10 seconds"
          })
          expect(
            yield* cluster.setMany(
              keys.map((k, i) => [k, i] as const),
              { noreply: false }
            )
          ).toEqual([])

          // Read every server directly: it holds exactly the keys the scheme routes to it.
          const counts: Array<number> = []
          for (const [i, server] of servers().entries()) {
            const found = yield* Effect.promise(() => holding(server, keys, keyPrefix))
            const expected = keys.filter((k) => route(k) === i)
            expect([...found].sort()).toEqual(expected.sort())
            counts.push(found.size)
          }
          expect(counts.reduce((a, b) => a + b, 0)).toBe(keys.length)
          // Every server got a share (ketama's weights 1:2:1:3 included).
          for (const count of counts) expect(count).toBeGreaterThan(500)

          // And the cluster reads them all back, across every server at once.
          const all = yield* cluster.getMany(keys)
          expect(all.size).toBe(keys.length)
          expect([...all.keys()]).toEqual(keys) // in the order asked, whatever the server
          keys.forEach((k, i) => {
            expect(all.get(k)).toBe(i)
          })
        }),
      60_000
    )
  })

  it.live("routingKey keeps related keys on the routing key's server", () =>
    Effect.gen(function* () {
      const route = Distribution.rendezvous.make(nodesOf(servers()))
      const cluster = yield* MemcacheCluster.make({
        servers: servers().map((s) => s.address),
        keyPrefix: "rk:",
        defaultNoreply: false
      })
      const keys = Array.from({ length: 50 }, (_, i) => `user:42:item:${i}`)
      for (const key of keys) yield* cluster.set(key, "x", { routingKey: "user:42" })
      const home = servers()[route("user:42")]!
      for (const key of keys) expect(yield* Effect.promise(() => getRaw(home, `rk:${key}`))).toContain("VALUE")
      expect((yield* cluster.getMany(keys, { routingKey: "user:42" })).size).toBe(keys.length)
    })
  )

  it.live("the key prefix is not part of the routing (pymemcache routes before prefixing)", () =>
    Effect.gen(function* () {
      const route = Distribution.rendezvous.make(nodesOf(servers()))
      const cluster = yield* MemcacheCluster.make({
        servers: servers().map((s) => s.address),
        keyPrefix: "some-long-prefix:",
        defaultNoreply: false
      })
      for (const key of ["foo", "bar", "ключ", "🔑"]) {
        yield* cluster.set(key, "v")
        const home = servers()[route(key)]!
        expect(yield* Effect.promise(() => getRaw(home, `some-long-prefix:${key}`))).toContain("VALUE")
      }
    })
  )

  it.live("refuses invalid options", () =>
    Effect.gen(function* () {
      const fail = (options: MemcacheCluster.Options) =>
        Effect.flip(Effect.scoped(MemcacheCluster.make(options))).pipe(Effect.map((e) => [e._tag, e.field]))
      const address = servers()[0]!.address
      expect(yield* fail({ servers: [] })).toEqual(["MemcacheIllegalInputError", "servers"])
      expect(yield* fail({ servers: [address, address] })).toEqual(["MemcacheIllegalInputError", "servers"])
      expect(yield* fail({ servers: [{ address, weight: 2 }] })).toEqual(["MemcacheIllegalInputError", "weight"])
      expect(yield* fail({ servers: [{ address, weight: 0 }], distribution: "ketama" })).toEqual([
        "MemcacheIllegalInputError",
        "weight"
      ])
      expect(yield* fail({ servers: [{ address, hashAs: "[::1" }] })).toEqual(["MemcacheIllegalInputError", "hashAs"])
      expect(yield* fail({ servers: [address], retryAttempts: -1 })).toEqual([
        "MemcacheIllegalInputError",
        "retryAttempts"
      ])
    })
  )

  it.live("layerConfig reads the servers and the scheme from Config", () =>
    Effect.gen(function* () {
      const route = Distribution.ketama.make(nodesOf(servers()))
      const layer = MemcacheCluster.layerConfig({
        servers: Config.Array(Schema.String, "MEMCACHE_SERVERS", { separator: "," }),
        distribution: Config.Literals(["rendezvous", "ketama", "modula"], "MEMCACHE_DISTRIBUTION"),
        keyPrefix: Config.succeed("config:"),
        defaultNoreply: Config.succeed(false)
      })
      yield* Memcache.Memcache.use((m) => m.set("foo", "bar")).pipe(
        Effect.provide(layer),
        Effect.provide(
          ConfigProvider.layer(
            ConfigProvider.fromUnknown({
              MEMCACHE_SERVERS: servers()
                .map((s) => s.address)
                .join(","),
              MEMCACHE_DISTRIBUTION: "ketama"
            })
          )
        )
      )
      expect(yield* Effect.promise(() => getRaw(servers()[route("foo")]!, "config:foo"))).toContain("VALUE")
    })
  )

  it.live("layerEnv reads MEMCACHE_SERVERS (all of them) and MEMCACHE_DISTRIBUTION", () =>
    Effect.gen(function* () {
      const route = Distribution.modula.make(nodesOf(servers()))
      const env = (vars: Record<string, string>) => ConfigProvider.layer(ConfigProvider.fromEnv({ env: vars }))
      const keys = ["env-a", "env-b", "env-c", "env-d", "env-e", "env-f"]
      yield* Memcache.Memcache.use((m) => Effect.forEach(keys, (k) => m.set(k, k, { noreply: false }))).pipe(
        Effect.provide(
          MemcacheCluster.layerEnv().pipe(
            Layer.provide(
              env({
                MEMCACHE_SERVERS: servers()
                  .map((s) => s.address)
                  .join(" , "),
                MEMCACHE_DISTRIBUTION: "modula",
                MEMCACHE_KEY_PREFIX: "envc:"
              })
            )
          )
        )
      )
      for (const key of keys) {
        expect(yield* Effect.promise(() => getRaw(servers()[route(key)]!, `envc:${key}`))).toContain("VALUE")
      }
      // Without servers anywhere the layer refuses to build.
      const missing = yield* Effect.flip(
        Memcache.Memcache.use((m) => m.version()).pipe(
          Effect.provide(MemcacheCluster.layerEnv().pipe(Layer.provide(env({}))))
        )
      )
      expect(missing).toMatchObject({ _tag: "MemcacheIllegalInputError", field: "servers" })
    })
  )

  it.live("hashAs routes by the name other clients use", () =>
    Effect.gen(function* () {
      // Route as if the servers were 10.0.0.1:11211 and 10.0.0.2:11211, while connecting to the local ones.
      const hashed: ReadonlyArray<Distribution.Node> = [
        { host: "10.0.0.1", port: 11211 },
        { host: "10.0.0.2", port: 11211 }
      ]
      const route = Distribution.ketama.make(hashed)
      const cluster = yield* MemcacheCluster.make({
        servers: [
          { address: servers()[0]!.address, hashAs: "10.0.0.1:11211" },
          { address: servers()[1]!.address, hashAs: "10.0.0.2" }
        ],
        distribution: "ketama",
        keyPrefix: "hash-as:",
        defaultNoreply: false
      })
      for (const key of ["foo", "bar", "baz", "user:1", "zzz"]) {
        yield* cluster.set(key, "v")
        expect(yield* Effect.promise(() => getRaw(servers()[route(key)]!, `hash-as:${key}`))).toContain("VALUE")
      }
    })
  )
})

describe("MemcacheCluster: a server's long key list", () => {
  const servers = useServers(2)

  it.live("getMany of 6,000 keys: several get lines, none over 16 KiB, each key once, hits in the order asked", () =>
    Effect.gen(function* () {
      const proxy = yield* acquireProxy(servers()[0]!)
      const cluster = yield* MemcacheCluster.make({
        servers: [proxy.address, servers()[1]!.address],
        keyPrefix: "chunk:",
        defaultNoreply: false,
        timeout: "10 seconds"
      })
      const route = Distribution.rendezvous.make([proxy, servers()[1]!].map((s) => ({ host: s.host, port: s.port })))
      const keys = Array.from({ length: 6000 }, (_, i) => `key-number-${i}`)
      yield* cluster.setMany(keys.filter((_, i) => i % 2 === 0).map((k) => [k, k] as const))
      proxy.resetCounters()
      const found = yield* cluster.getMany(keys)
      expect(found.size).toBe(3000)
      const stored = keys.filter((_, i) => i % 2 === 0)
      expect([...found]).toEqual(stored.map((k) => [k, k]))
      const lines = proxy
        .clientData()
        .toString("utf8")
        .split("\r\n")
        .filter((l) => l.startsWith("get "))
      expect(lines.length).toBeGreaterThan(1)
      for (const line of lines) expect(line.length + 2).toBeLessThanOrEqual(16384)
      const sent = lines.flatMap((l) => l.split(" ").slice(1))
      const mine = keys.filter((k) => route(k) === 0).map((k) => `chunk:${k}`)
      expect(mine.length).toBeGreaterThan(2000)
      expect(sent.sort()).toEqual(mine.sort())
    })
  )
})

describe("MemcacheCluster: a server killed under load", () => {
  const servers = useServers(3)

  it.live(
    "the others keep answering, the dead one fails fast (or misses), and it is used again once restarted",
    () =>
      Effect.gen(function* () {
        const [a, b, victim] = servers() as [MemcachedServer, MemcachedServer, MemcachedServer]
        const route = Distribution.rendezvous.make(nodesOf(servers()))
        const options: MemcacheCluster.Options = {
          servers: servers().map((s) => s.address),
          defaultNoreply: false,
          timeout: "1 second",
          retryAttempts: 1,
          retryTimeout: "200 millis",
          deadTimeout: "200 millis",
          reconnect: Schedule.spaced("50 millis")
        }
        const cluster = yield* MemcacheCluster.make(options)
        const lenient = yield* MemcacheCluster.make({ ...options, ignoreErrors: true })
        const keys = Array.from({ length: 600 }, (_, i) => `load:${i}`)
        const onVictim = keys.filter((k) => route(k) === 2)
        const onOthers = keys.filter((k) => route(k) !== 2)
        expect(onVictim.length).toBeGreaterThan(50)
        yield* cluster.setMany(keys.map((k) => [k, k] as const))

        // Load: reads of every key, over and over, recording how each one ended.
        const othersFailures: Array<string> = []
        let othersSucceeded = 0
        let running = true
        const load = yield* Effect.forkChild(
          Effect.whileLoop({
            while: () => running,
            body: () =>
              Effect.forEach(
                onOthers,
                (key) =>
                  Effect.map(Effect.exit(cluster.get(key)), (exit) => {
                    if (Exit.isSuccess(exit) && Option.getOrNull(exit.value) === key) othersSucceeded++
                    else othersFailures.push(`${key}: ${reasonOf(exit)}`)
                  }),
                { concurrency: 32, discard: true }
              ),
            step: () => {}
          })
        )
        yield* Effect.sleep("100 millis")
        yield* Effect.promise(() => victim.kill9())

        // The victim gets marked down; from then on its calls fail fast with reason "down".
        let marked = false
        for (let i = 0; i < 200 && !marked; i++) {
          marked = reasonOf(yield* Effect.exit(cluster.get(onVictim[0]!))) === "MemcacheConnectionError:down"
          if (!marked) yield* Effect.sleep("20 millis")
        }
        expect(marked).toBe(true)
        const burst = yield* Effect.forEach(onVictim.slice(0, 50), (key) => Effect.exit(cluster.get(key)), {
          concurrency: "unbounded"
        })
        const reasons = burst.map(reasonOf)
        // At most one of them is the probe (one at a time), which fails on the dead socket; the rest fail fast.
        expect(reasons.every((r) => r.startsWith("MemcacheConnectionError:"))).toBe(true)
        expect(reasons.filter((r) => r === "MemcacheConnectionError:down").length).toBeGreaterThanOrEqual(49)

        // Under ignoreErrors the dead server's keys are misses, and the others' hits still come back.
        let missed = false
        for (let i = 0; i < 200 && !missed; i++) {
          const exit = yield* Effect.exit(lenient.get(onVictim[1]!))
          missed = Exit.isSuccess(exit) && Option.isNone(exit.value)
          if (!missed) yield* Effect.sleep("20 millis")
        }
        expect(missed).toBe(true)
        const mixed = yield* lenient.getMany([...onOthers.slice(0, 20), ...onVictim.slice(0, 20)])
        expect([...mixed.keys()]).toEqual(onOthers.slice(0, 20))

        running = false
        yield* Fiber.join(load)
        expect(othersFailures).toEqual([])
        expect(othersSucceeded).toBeGreaterThan(onOthers.length)

        // Restarted on the same port: the same client uses it again, no restart of the client.
        yield* Effect.promise(() => victim.restart())
        let back = false
        for (let i = 0; i < 300 && !back; i++) {
          back = Exit.isSuccess(yield* Effect.exit(cluster.get(onVictim[0]!)))
          if (!back) yield* Effect.sleep("50 millis")
        }
        expect(back).toBe(true)
        expect(yield* cluster.set(onVictim[0]!, "again", { noreply: false })).toBe(true)
        expect(yield* Effect.promise(() => getRaw(victim, onVictim[0]!))).toContain("VALUE")
        expect(yield* Effect.promise(() => getRaw(a, onVictim[0]!))).toBe("END\r\n")
        expect(yield* Effect.promise(() => getRaw(b, onVictim[0]!))).toBe("END\r\n")
        expect(yield* cluster.get(onVictim[0]!)).toEqual(Option.some("again"))
      }),
    60_000
  )

  it.live(
    'deadServers: "remove" moves a dead server\'s keys to the others until it is back',
    () =>
      Effect.gen(function* () {
        const victim = servers()[1]!
        const route = Distribution.rendezvous.make(nodesOf(servers()))
        const survivors = [servers()[0]!, servers()[2]!]
        const routeSurvivors = Distribution.rendezvous.make(nodesOf(survivors))
        const cluster = yield* MemcacheCluster.make({
          servers: servers().map((s) => s.address),
          deadServers: "remove",
          keyPrefix: "remove:",
          defaultNoreply: false,
          timeout: "1 second",
          retryAttempts: 0,
          deadTimeout: "300 millis",
          reconnect: Schedule.spaced("50 millis")
        })
        const key = Array.from({ length: 100 }, (_, i) => `k${i}`).find((k) => route(k) === 1)!
        yield* Effect.promise(() => victim.kill9())
        // The first call sees the failure and marks the server dead; then the key goes to its survivor's server.
        let moved = false
        for (let i = 0; i < 200 && !moved; i++) {
          moved = Exit.isSuccess(yield* Effect.exit(cluster.set(key, "elsewhere")))
          if (!moved) yield* Effect.sleep("20 millis")
        }
        expect(moved).toBe(true)
        const fallback = survivors[routeSurvivors(key)]!
        expect(yield* Effect.promise(() => getRaw(fallback, `remove:${key}`))).toContain("elsewhere")

        yield* Effect.promise(() => victim.restart())
        let home = false
        for (let i = 0; i < 300 && !home; i++) {
          yield* Effect.exit(cluster.set(key, "home"))
          home = (yield* Effect.promise(() => getRaw(victim, `remove:${key}`))).includes("home")
          if (!home) yield* Effect.sleep("50 millis")
        }
        expect(home).toBe(true)
      }),
    60_000
  )
})

describe("MemcacheCluster: partial multi-get with a stopped server", () => {
  const servers = useServers(3)

  it.live(
    "returns the others' hits within the deadline and the stopped server's timeout as data",
    () =>
      Effect.gen(function* () {
        const stopped = servers()[0]!
        const route = Distribution.rendezvous.make(nodesOf(servers()))
        const cluster = yield* MemcacheCluster.make({
          servers: servers().map((s) => s.address),
          defaultNoreply: false
        })
        const keys = Array.from({ length: 300 }, (_, i) => `partial:${i}`)
        yield* cluster.setMany(keys.map((k) => [k, k] as const))
        // Connections are open to every server before it stops, so the timeout is the operation's.
        expect((yield* cluster.getMany(keys)).size).toBe(keys.length)
        yield* Effect.promise(() => stopped.pause())
        const result = yield* cluster
          .getManyPartial(keys, { timeout: "300 millis" })
          .pipe(Effect.ensuring(Effect.promise(() => stopped.resume())))
        const onStopped = keys.filter((k) => route(k) === 0)
        expect([...result.hits.keys()]).toEqual(keys.filter((k) => route(k) !== 0))
        expect(result.failedKeys).toEqual(onStopped)
        expect([...result.failures.keys()]).toEqual([stopped.address])
        const failure = result.failures.get(stopped.address)!
        expect(failure._tag).toBe("MemcacheTimeoutError")

        // Without partial results the same call fails as a whole (here: fast, the server is marked down).
        const whole = yield* Effect.exit(cluster.getMany(keys, { timeout: "300 millis" }))
        expect(Exit.isFailure(whole)).toBe(true)
      }),
    30_000
  )

  it.live("getsManyPartial and the in-surface partial result on one healthy cluster", () =>
    Effect.gen(function* () {
      const cluster = yield* MemcacheCluster.make({ servers: servers().map((s) => s.address), defaultNoreply: false })
      yield* cluster.set("p1", "one")
      yield* cluster.set("p2", 2)
      const result = yield* cluster.getsManyPartial(["p1", "p2", "p3"])
      expect([...result.hits.keys()]).toEqual(["p1", "p2"])
      expect(result.hits.get("p1")?.value).toBe("one")
      expect(typeof result.hits.get("p2")?.cas).toBe("bigint")
      expect(result.failures.size).toBe(0)
      expect(result.failedKeys).toEqual([])
      // Through the layer, as application code sees it.
      const viaLayer = yield* Memcache.Memcache.use((m) => m.getManyPartial(["p1", "p2", "p3"])).pipe(
        Effect.provide(MemcacheCluster.layer({ servers: servers().map((s) => s.address) }))
      )
      expect([...viaLayer.hits]).toEqual([
        ["p1", "one"],
        ["p2", 2]
      ])
    })
  )
})

describe("MemcacheCluster: health on Effect's Clock", () => {
  const servers = useServers(2)

  it.effect(
    'deadServers: "remove" takes a dead server out of the ring until its dead timeout has passed on the Clock',
    () =>
      Effect.gen(function* () {
        const [home, other] = servers()
        const route = Distribution.rendezvous.make(nodesOf(servers()))
        const key = Array.from({ length: 100 }, (_, i) => `clock${i}`).find((k) => route(k) === 0)!
        const cluster = yield* MemcacheCluster.make({
          servers: servers().map((s) => s.address),
          deadServers: "remove",
          keyPrefix: "clock:",
          defaultNoreply: false,
          retryAttempts: 0,
          deadTimeout: "1 minute",
          reconnect: Schedule.spaced("1 second")
        })
        yield* Effect.promise(() => home!.kill9())
        // The first call finds the server gone and marks it dead; the next goes to the other server.
        expect(Exit.isFailure(yield* Effect.exit(cluster.set(key, "while away", { noreply: false })))).toBe(true)
        expect(yield* cluster.set(key, "while away", { noreply: false })).toBe(true)
        expect(yield* Effect.promise(() => getRaw(other!, `clock:${key}`))).toContain("while away")
        yield* Effect.promise(() => home!.restart())
        // Back, but the ring only takes it again when its probe falls due, on the Clock.
        yield* TestClock.adjust("59 seconds")
        expect(yield* cluster.set(key, "still away", { noreply: false })).toBe(true)
        expect(yield* Effect.promise(() => getRaw(other!, `clock:${key}`))).toContain("still away")
        yield* TestClock.adjust("1 second")
        expect(yield* cluster.set(key, "home again", { noreply: false })).toBe(true)
        expect(yield* Effect.promise(() => getRaw(home!, `clock:${key}`))).toContain("home again")
      })
  )
})
