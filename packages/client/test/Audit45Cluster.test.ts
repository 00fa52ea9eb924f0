/**
 * Audit of issue 5 (the cluster): what the other cluster tests did not pin down.
 *
 * - Each scheme against a reference written here straight from ../shared/hashing.md (not the Distribution module,
 *   whose own golden-vector test has only 10 ASCII keys): the reference first reproduces the golden vectors, then
 *   agrees with the module on 10,000 random keys, non-ASCII and astral ones included, with ketama weights.
 * - pymemcache's tie rule, on a real murmur3 collision.
 * - The failure counter, one probe at a time, and the dead schedule (stepped per failed probe, restarted when
 *   exhausted), on a ClusterMember over a scripted Target (deterministic, no sockets).
 * - Long key lists are chunked per server in a cluster too (seen on the wire through a proxy).
 */
import * as Crypto from "node:crypto"
import * as Zlib from "node:zlib"
import { describe, expect, it } from "@effect/vitest"
import { Distribution, MemcacheCluster, MemcacheError } from "@effect-memcache/client"
import { Command, type Reply } from "@effect-memcache/protocol"
import { Deferred, Duration, Effect, Exit, Fiber, Option, Schedule } from "effect"
import { afterAll, beforeAll } from "vitest"
import { type FaultProxy, startFaultProxy } from "../../../testing/FaultProxy.ts"
import { type MemcachedServer, startMemcached } from "../../../testing/Memcached.ts"
import type { Target } from "../src/internal/Backend.ts"
import { ClusterMember } from "../src/internal/ClusterMember.ts"

// ---- references, from hashing.md ------------------------------------------------------------------------------

/** MurmurHash3 x86_32 of a byte array (plain arithmetic on BigInt-free 32-bit words). */
const murmurReference = (data: ReadonlyArray<number>, seed = 0): number => {
  const mul = (a: number, b: number) => Math.imul(a, b) >>> 0
  const rotl = (x: number, r: number) => ((x << r) | (x >>> (32 - r))) >>> 0
  let h = seed >>> 0
  const blocks = Math.floor(data.length / 4)
  for (let b = 0; b < blocks; b++) {
    let k = (data[4 * b]! | (data[4 * b + 1]! << 8) | (data[4 * b + 2]! << 16) | (data[4 * b + 3]! << 24)) >>> 0
    k = mul(rotl(mul(k, 0xcc9e2d51), 15), 0x1b873593)
    h = (mul(rotl((h ^ k) >>> 0, 13), 5) + 0xe6546b64) >>> 0
  }
  const tail = blocks * 4
  const rest = data.length - tail
  if (rest > 0) {
    let k = 0
    for (let j = rest - 1; j >= 0; j--) k = (k << 8) | data[tail + j]!
    k = mul(rotl(mul(k >>> 0, 0xcc9e2d51), 15), 0x1b873593)
    h = (h ^ k) >>> 0
  }
  h = (h ^ data.length) >>> 0
  h = mul(h ^ (h >>> 16), 0x85ebca6b)
  h = mul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

/** pymemcache: one byte per code point, `ord(c) & 0xFF`. */
const pyBytes = (text: string): Array<number> => Array.from(text, (c) => c.codePointAt(0)! & 0xff)

const rendezvousReference = (nodes: ReadonlyArray<Distribution.Node>) => (key: string) => {
  let high = -1
  let winner = ""
  const names = nodes.map((n) => `${n.host}:${n.port}`)
  for (const name of names) {
    const score = murmurReference(pyBytes(`${name}-${key}`))
    if (score > high) {
      high = score
      winner = name
    } else if (score === high) winner = name > winner ? name : winner
  }
  return names.indexOf(winner)
}

const md5 = (text: string) => Crypto.createHash("md5").update(text, "utf8").digest()

const ketamaReference = (nodes: ReadonlyArray<Distribution.Node>) => {
  const f = Math.fround
  const total = nodes.reduce((s, n) => s + (n.weight ?? 1), 0)
  const points: Array<{ value: number; server: number }> = []
  nodes.forEach((node, server) => {
    const pct = f((node.weight ?? 1) / total)
    const count = Math.floor(f(f(f(f(pct * 160) / 4) * nodes.length) + 1e-10)) * 4
    for (let i = 0; i < count / 4; i++) {
      const name = node.port === 11211 ? `${node.host}-${i}` : `${node.host}:${node.port}-${i}`
      const digest = md5(name)
      for (let a = 0; a < 4; a++) points.push({ value: digest.readUInt32LE(4 * a), server })
    }
  })
  points.sort((x, y) => x.value - y.value || x.server - y.server)
  return (key: string) => {
    const hash = md5(key).readUInt32LE(0)
    const first = points.find((p) => p.value >= hash)
    return (first ?? points[0]!).server
  }
}

const modulaReference = (nodes: ReadonlyArray<Distribution.Node>) => (key: string) =>
  Zlib.crc32(Buffer.from(key, "utf8")) % nodes.length

const golden3: ReadonlyArray<Distribution.Node> = [
  { host: "10.0.0.1", port: 11211 },
  { host: "10.0.0.2", port: 11211 },
  { host: "10.0.0.3", port: 11212 }
]
const goldenKeys = ["foo", "bar", "baz", "user:1", "user:2", "session:abcdef", "a", "key-with-dash", "12345", "zzz"]
const row = (labels: string) => labels.split(" ").map((l) => Number(l.slice(1)) - 1)

const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const ALPHABET = Array.from("abcXYZ019:_-.éüÿĀłключЖ中文鍵😀🔑𝄞")
const randomKeys = (count: number, seed: number) => {
  const next = random(seed)
  return Array.from({ length: count }, () =>
    Array.from({ length: 1 + Math.floor(next() * 30) }, () => ALPHABET[Math.floor(next() * ALPHABET.length)]).join("")
  )
}

describe("audit 45: schemes against references written from hashing.md", () => {
  const cases = [
    { name: "rendezvous", reference: rendezvousReference, golden: ".1 .2 .2 .2 .1 .1 .2 .1 .3 .3" },
    { name: "ketama", reference: ketamaReference, golden: ".2 .2 .1 .2 .2 .3 .2 .3 .3 .1" },
    { name: "modula", reference: modulaReference, golden: ".3 .3 .1 .1 .2 .1 .1 .1 .1 .3" }
  ] as const

  for (const { name, reference, golden } of cases) {
    it(`${name}: the reference reproduces the golden row, and the module agrees with it on 10,000 keys`, () => {
      expect(goldenKeys.map(reference(golden3))).toEqual(row(golden))
      const nodes: ReadonlyArray<Distribution.Node> = [
        { host: "127.0.0.1", port: 11211, weight: 1 },
        { host: "127.0.0.1", port: 11212, weight: name === "ketama" ? 2 : 1 },
        { host: "10.1.2.3", port: 20000, weight: 1 },
        { host: "memcache-4.example", port: 11211, weight: name === "ketama" ? 3 : 1 }
      ]
      const expected = reference(nodes)
      const actual = Distribution.byName[name].make(nodes)
      const keys = randomKeys(10_000, 45)
      expect(keys.some((k) => /[^\x00-\x7f]/.test(k))).toBe(true)
      expect(keys.some((k) => /[\u{10000}-\u{10ffff}]/u.test(k))).toBe(true)
      const mismatches = keys.filter((k) => actual(k) !== expected(k))
      expect(mismatches).toEqual([])
    })
  }

  it("rendezvous: a tie goes to the greater server name, in either order (pymemcache's max(str))", () => {
    // Find two server names that score the same for one key (a birthday search: ~2^17 names for a 32-bit hash).
    const seen = new Map<number, string>()
    let pair: [string, string] | undefined
    for (let i = 0; pair === undefined && i < 4_000_000; i++) {
      const name = `/tmp/mc-${i}.sock`
      const score = Distribution.murmur3(`${name}-k`)
      const other = seen.get(score)
      if (other !== undefined) pair = [other, name]
      else seen.set(score, name)
    }
    expect(pair).toBeDefined()
    const [a, b] = pair!
    expect(Distribution.murmur3(`${a}-k`)).toBe(Distribution.murmur3(`${b}-k`))
    const greater = [a, b].sort()[1] // strings: the greater by code unit, as Python compares these ASCII names
    for (const order of [
      [a, b],
      [b, a]
    ]) {
      const route = Distribution.rendezvous.make(order.map((host) => ({ host })))
      expect(order[route("k")]).toBe(greater)
    }
  })
})

// ---- ClusterMember over a scripted Target ---------------------------------------------------------------------

type Behaviour = (command: Command.Command) => Effect.Effect<Reply.Reply | undefined, MemcacheError.TransportError>

const refused = new MemcacheError.MemcacheConnectionError({ server: "s", reason: "refused", detail: "scripted" })
const values: Reply.Reply = { _tag: "Values", values: [] }
const get: Command.Command = { _tag: "Get", verb: "get", keys: ["k"] }
const getExpectation = Command.expectation(get)

const scripted = () => {
  const seen: Array<string> = []
  let behaviour: Behaviour = () => Effect.fail(refused)
  const target: Target = {
    name: "s",
    request: (command) =>
      Effect.suspend(() => {
        seen.push(command._tag)
        return behaviour(command)
      }),
    quit: Effect.void
  }
  return {
    target,
    seen,
    set: (b: Behaviour) => {
      behaviour = b
    }
  }
}

const reasonOf = (exit: Exit.Exit<unknown, MemcacheError.TransportError>) => {
  if (Exit.isSuccess(exit)) return "success"
  const e = Option.getOrThrow(Exit.findErrorOption(exit))
  return e._tag === "MemcacheConnectionError" ? `${e._tag}:${e.reason}` : e._tag
}

describe("audit 45: ClusterMember health", () => {
  it.live("the failure counter: retryAttempts failed probes after the first failure make it dead", () =>
    Effect.gen(function* () {
      const inner = scripted()
      const member = new ClusterMember(
        inner.target,
        { host: "s" },
        { retryAttempts: 3, retryTimeoutMillis: 0, deadSchedule: Schedule.spaced("1 hour") },
        () => {}
      )
      const call = Effect.exit(member.target.request(get, getExpectation, 1000))
      expect(reasonOf(yield* call)).toBe("MemcacheConnectionError:refused")
      expect(member.state).toBe("Failing")
      expect(inner.seen).toEqual(["Get"])
      // Each later call is a probe (retryTimeout 0: due at once); two failed probes keep it failing, the third kills it.
      for (const state of ["Failing", "Failing", "Dead"]) {
        expect(reasonOf(yield* call)).toBe("MemcacheConnectionError:refused")
        expect(member.state).toBe(state)
      }
      expect(inner.seen).toEqual(["Get", "Version", "Version", "Version"])
      // Dead, next probe in an hour: calls fail fast and never reach the server.
      expect(reasonOf(yield* call)).toBe("MemcacheConnectionError:down")
      expect(inner.seen.length).toBe(4)
    })
  )

  it.live("one probe at a time: while it runs every other call fails fast; its success brings the server back", () =>
    Effect.gen(function* () {
      const inner = scripted()
      const member = new ClusterMember(
        inner.target,
        { host: "s" },
        { retryAttempts: 0, retryTimeoutMillis: 0, deadSchedule: Schedule.spaced(Duration.zero) },
        () => {}
      )
      expect(reasonOf(yield* Effect.exit(member.target.request(get, getExpectation, 1000)))).toBe(
        "MemcacheConnectionError:refused"
      )
      expect(member.state).toBe("Dead")
      const gate = yield* Deferred.make<void>()
      inner.set((command) =>
        command._tag === "Version"
          ? Effect.as(Deferred.await(gate), { _tag: "Version", version: "1.6.18" } as Reply.Reply)
          : Effect.succeed(values)
      )
      const probe = yield* Effect.forkChild(member.target.request(get, getExpectation, 1000))
      while (!inner.seen.includes("Version")) yield* Effect.yieldNow
      const others = yield* Effect.forEach(
        Array.from({ length: 20 }, () => Effect.exit(member.target.request(get, getExpectation, 1000))),
        (e) => e,
        { concurrency: "unbounded" }
      )
      expect(others.map(reasonOf)).toEqual(Array.from({ length: 20 }, () => "MemcacheConnectionError:down"))
      expect(inner.seen).toEqual(["Get", "Version"])
      yield* Deferred.succeed(gate, undefined)
      expect(yield* Fiber.join(probe)).toEqual(values) // the probing call then runs its own command
      expect(member.state).toBe("Up")
      expect(yield* member.target.request(get, getExpectation, 1000)).toEqual(values)
      expect(inner.seen).toEqual(["Get", "Version", "Get", "Get"])
    })
  )

  it.live("the dead schedule: stepped once per failed probe, started over when exhausted", () =>
    Effect.gen(function* () {
      const inner = scripted()
      const attempts: Array<number> = []
      // Two recurrences with no delay, then done: the member must start the schedule over.
      const schedule = Schedule.recurs(2).pipe(Schedule.tap((m) => Effect.sync(() => attempts.push(m.attempt))))
      const member = new ClusterMember(
        inner.target,
        { host: "s" },
        { retryAttempts: 0, retryTimeoutMillis: 0, deadSchedule: schedule },
        () => {}
      )
      for (let i = 0; i < 5; i++) {
        expect(reasonOf(yield* Effect.exit(member.target.request(get, getExpectation, 1000)))).toBe(
          "MemcacheConnectionError:refused"
        )
        expect(member.state).toBe("Dead")
      }
      // The first failure and four failed probes: five steps, the third and fifth on a fresh schedule.
      expect(inner.seen).toEqual(["Get", "Version", "Version", "Version", "Version"])
      expect(attempts).toEqual([1, 2, 1, 2, 1])
    })
  )
})

// ---- chunked multi-gets per server ----------------------------------------------------------------------------

describe("audit 45: a cluster chunks each server's long key list", () => {
  let servers: Array<MemcachedServer> = []
  let proxy: FaultProxy | undefined
  beforeAll(async () => {
    servers = await Promise.all([startMemcached(), startMemcached()])
    proxy = await startFaultProxy({ target: servers[0]! })
  })
  afterAll(async () => {
    await proxy?.close()
    await Promise.all(servers.map((s) => s.stop()))
  })

  it.live("getMany of 6,000 keys: the proxied server gets several get lines, none over 16 KiB, each key once", () =>
    Effect.gen(function* () {
      const cluster = yield* MemcacheCluster.make({
        servers: [proxy!.address, servers[1]!.address],
        keyPrefix: "chunk:",
        defaultNoreply: false,
        timeout: "10 seconds"
      })
      const route = Distribution.rendezvous.make([proxy!, servers[1]!].map((s) => ({ host: s.host, port: s.port })))
      const keys = Array.from({ length: 6000 }, (_, i) => `key-number-${i}`)
      yield* cluster.setMany(keys.filter((_, i) => i % 2 === 0).map((k) => [k, k] as const))
      proxy!.resetCounters()
      const found = yield* cluster.getMany(keys)
      expect(found.size).toBe(3000)
      const lines = proxy!
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
