/**
 * The meta protocol for the whole surface (`protocol: "meta"`): what goes on the wire (seen by the fault proxy),
 * the opaque that pairs each reply with its request, keys that only the meta form can carry, and the layers that
 * refuse it. The results of every command are the conformance suite's, run in both protocols.
 */
import * as net from "node:net"
import { describe, expect, it } from "@effect/vitest"
import {
  Distribution,
  type Memcache,
  MemcacheClient,
  MemcacheCluster,
  MemcacheMemory,
  Serializer
} from "@effect-memcache/client"
import { Effect, Option } from "effect"
import { rawCommand, useMemcached } from "../../../testing/Memcached.ts"
import { acquireProxy } from "../../../testing/Scoped.ts"

type Client = Memcache.MemcacheShape<Memcache.Value>

const lines = (data: Buffer): Array<string> =>
  data
    .toString("latin1")
    .split("\r\n")
    .filter((l) => l.length > 0)

const base64 = (key: string) => Buffer.from(key, "utf8").toString("base64")

/**
 * A server that speaks just enough meta for a set and a get, answering each request of its first connection
 * with an opaque one above the one sent, and correctly afterwards.
 */
const fakeServer = Effect.acquireRelease(
  Effect.promise(
    () =>
      new Promise<{ readonly address: string; readonly connections: () => number; readonly close: () => void }>(
        (resolve) => {
          let connections = 0
          const server = net.createServer((socket) => {
            const skew = connections++ === 0 ? 1 : 0
            let buffer = Buffer.alloc(0)
            socket.on("error", () => {})
            socket.on("data", (chunk) => {
              buffer = Buffer.concat([buffer, chunk])
              for (;;) {
                const end = buffer.indexOf("\r\n")
                if (end < 0) return
                const words = buffer.subarray(0, end).toString("latin1").split(" ")
                const opaque = Number(words.find((w) => w.startsWith("O"))?.slice(1) ?? -1) + skew
                let next = end + 2
                if (words[0] === "ms") {
                  const length = Number(words[2])
                  if (buffer.length < next + length + 2) return
                  next += length + 2
                  socket.write(`HD O${opaque}\r\n`)
                } else if (words[0] === "mg") socket.write(`VA 1 f0 O${opaque}\r\nx\r\n`)
                else if (words[0] === "mn") socket.write("MN\r\n")
                buffer = buffer.subarray(next)
              }
            })
          })
          server.listen(0, "127.0.0.1", () => {
            const port = (server.address() as net.AddressInfo).port
            resolve({ address: `127.0.0.1:${port}`, connections: () => connections, close: () => server.close() })
          })
        }
      )
  ),
  (server) => Effect.sync(() => server.close())
)

describe("meta protocol", () => {
  const server = useMemcached()

  it.live("every keyed command goes in its meta form with an opaque; admin commands go as text", () =>
    Effect.gen(function* () {
      const proxy = yield* acquireProxy(server())
      const m: Client = yield* MemcacheClient.make({ server: proxy.address, protocol: "meta", batching: false })
      yield* m.set("w:a", "1")
      expect(yield* m.set("w:b", "2", { noreply: false })).toBe(true)
      expect(yield* m.add("w:b", "9", { noreply: false })).toBe(false)
      expect(yield* m.get("w:a")).toEqual(Option.some("1"))
      expect(yield* m.getMany(["w:a", "w:none", "w:b"])).toEqual(
        new Map([
          ["w:a", "1"],
          ["w:b", "2"]
        ])
      )
      const cas = Option.getOrThrow(yield* m.gets("w:a")).cas
      expect(yield* m.cas("w:a", "3", cas)).toBe("Stored")
      expect(yield* m.gat("w:a", "1 minute")).toEqual(Option.some("3"))
      expect(yield* m.touch("w:a", "1 minute", { noreply: false })).toBe(true)
      yield* m.set("w:n", 5)
      expect(yield* m.incr("w:n", 2)).toEqual(Option.some(7n))
      expect(yield* m.decr("w:n", 10)).toEqual(Option.some(0n))
      expect(yield* m.delete("w:b", { noreply: false })).toBe(true)
      expect(yield* m.version()).toMatch(/^1\.6/)
      const sent = lines(proxy.clientData()).filter((l) => !/^[0-9]$/.test(l)) // the data blocks: values 0-9
      expect(sent.filter((l) => !/^(ms|mg|md|ma|mn)( |$)/.test(l))).toEqual(["version"])
      // Each request has an opaque of its own, and the ones a reply is read for are not quiet.
      const opaques = sent.filter((l) => l !== "mn" && l !== "version").map((l) => /(?:^| )O(\d+)(?: |$)/.exec(l)?.[1])
      expect(opaques.every((o) => o !== undefined)).toBe(true)
      expect(new Set(opaques).size).toBe(opaques.length)
      expect(sent[0]).toMatch(/^ms w:a 1 F16 O\d+ q$/) // noreply: quiet, and closed by mn
      expect(sent[1]).toBe("mn")
      expect(sent[2]).toMatch(/^ms w:b 1 F16 O\d+$/)
      // A get is a run of quiet mg, one per key with consecutive opaques, closed by mn; gets asks for the cas.
      const run = sent.findIndex((l) => l.startsWith("mg w:none "))
      const first = Number(/ O(\d+) q$/.exec(sent[run - 1]!)?.[1])
      expect(sent.slice(run - 1, run + 3)).toEqual([
        `mg w:a v f O${first} q`,
        `mg w:none v f O${first + 1} q`,
        `mg w:b v f O${first + 2} q`,
        "mn"
      ])
      expect(sent.some((l) => /^mg w:a v f c O\d+ q$/.test(l))).toBe(true)
    })
  )

  it.live("a reply with another request's opaque is a protocol error that retires the connection", () =>
    Effect.gen(function* () {
      const fake = yield* fakeServer
      const m: Client = yield* MemcacheClient.make({ server: fake.address, protocol: "meta" })
      const error = yield* Effect.flip(m.set("k", "v", { noreply: false }))
      expect(error._tag).toBe("MemcacheProtocolError")
      expect(error.message).toContain("opaque")
      // The next call goes over a new connection, whose replies carry the right opaques.
      expect(yield* m.set("k", "v", { noreply: false })).toBe(true)
      expect(fake.connections()).toBe(2)
      expect(yield* m.withSerializer(Serializer.string).get("k")).toEqual(Option.some("x"))
    })
  )

  it.live("keys the text protocol refuses go base64, reach the item of their bytes, and never run a command", () =>
    Effect.gen(function* () {
      yield* Effect.promise(() => rawCommand(server(), "set meta:sentinel 0 0 5\r\nalive\r\n"))
      const m: Client = yield* MemcacheClient.make({ server: server().address, protocol: "meta", keyPrefix: "p " })
      const keys = ["a b", " leading", "a\r\nflush_all", "tab\tnul\u0000del\u007f", "é ü", `${"x".repeat(100)} y`]
      for (const key of keys) {
        expect(yield* m.set(key, `value of ${key}`, { noreply: false })).toBe(true)
        expect(yield* m.get(key)).toEqual(Option.some(`value of ${key}`))
        // The server holds it under the prefixed key's UTF-8 bytes.
        const raw = yield* Effect.promise(() => rawCommand(server(), `mg ${base64(`p ${key}`)} b v\r\n`))
        expect(raw.toString("utf8")).toBe(`VA ${Buffer.byteLength(`value of ${key}`)}\r\nvalue of ${key}\r\n`)
        expect(yield* m.incr(key, 1).pipe(Effect.flip)).toMatchObject({ _tag: "MemcacheClientError" })
        expect(yield* m.touch(key, "1 minute", { noreply: false })).toBe(true)
        expect(yield* m.delete(key, { noreply: false })).toBe(true)
        expect(yield* m.get(key)).toEqual(Option.none())
      }
      expect(yield* m.getMany(keys)).toEqual(new Map())
      // Longer than 186 bytes of UTF-8 with the prefix: base64 would pass the server's 250-byte limit.
      const tooLong = yield* Effect.flip(m.get(`${"x".repeat(184)} `))
      expect(tooLong).toMatchObject({ _tag: "MemcacheIllegalInputError", field: "key" })
      const sentinel = yield* Effect.promise(() => rawCommand(server(), "mg meta:sentinel v\r\n"))
      expect(sentinel.toString("latin1")).toBe("VA 5\r\nalive\r\n")
    })
  )

  const second = useMemcached()

  it.live("a cluster in meta mode routes each key as in text mode, quiet writes and get runs per server", () =>
    Effect.gen(function* () {
      const servers = [server(), second()]
      const cluster: Client = yield* MemcacheCluster.make({ servers: servers.map((s) => s.address), protocol: "meta" })
      const keys = Array.from({ length: 40 }, (_, i) => `cl:${i} x`)
      yield* cluster.setMany(keys.map((key) => [key, `v:${key}`] as const))
      expect(yield* cluster.getMany(keys)).toEqual(new Map(keys.map((key) => [key, `v:${key}`])))
      const route = Distribution.rendezvous.make(
        servers.map((s): Distribution.Node => ({ host: s.host, port: s.port, weight: 1 }))
      )
      const homes = new Set<number>()
      for (const key of keys) {
        const home = route(key)
        homes.add(home)
        const raw = yield* Effect.promise(() => rawCommand(servers[home]!, `mg ${base64(key)} b v\r\n`))
        expect(raw.toString("latin1")).toBe(`VA ${`v:${key}`.length}\r\nv:${key}\r\n`)
      }
      expect(homes.size).toBe(2)
    })
  )

  it.effect("the in-memory layer takes the option for its key rules: a key with a space is stored", () =>
    Effect.gen(function* () {
      const server = yield* MemcacheMemory.makeServer()
      const meta = yield* MemcacheMemory.make({ server, protocol: "meta" })
      expect(yield* meta.set("a b", "v", { noreply: false })).toBe(true)
      expect(yield* meta.get("a b")).toEqual(Option.some("v"))
      const text = yield* MemcacheMemory.make({ server })
      expect(yield* Effect.flip(text.get("a b"))).toMatchObject({ _tag: "MemcacheIllegalInputError", field: "key" })
    })
  )

  it.live("with twemproxy the layer refuses the meta protocol before connecting", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        MemcacheClient.make({ server: server().address, proxy: "twemproxy", protocol: "meta" })
      )
      expect(error).toMatchObject({ _tag: "MemcacheIllegalInputError", field: "protocol" })
    })
  )
})
