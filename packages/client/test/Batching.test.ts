/**
 * Automatic batching: concurrent single-key get/gets calls of one tick become one multi-key request per server,
 * counted on the wire through a proxy; every caller gets its own answer, error and timeout, and one caller's
 * interruption does not disturb the others.
 */
import * as net from "node:net"
import { describe, expect, it } from "@effect/vitest"
import { MemcacheClient, MemcacheMemory } from "@effect-memcache/client"
import { Cause, Effect, Exit, Fiber, Option, Schedule } from "effect"
import { useMemcached } from "../../../testing/Memcached.ts"
import { acquireProxy } from "../../../testing/Scoped.ts"

/** The request lines a client sent that start with `verb `. */
const requestLines = (data: Buffer, verb: string): Array<string> =>
  data
    .toString("latin1")
    .split("\r\n")
    .filter((line) => line.startsWith(`${verb} `))

const keys = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag}:${i}`)

/**
 * A server that answers a `get` line with the value of its first key at once and holds the rest of the reply
 * (the other keys' values, then END), and every later reply behind it, until `release` is called: every key's
 * value is the key itself.
 */
const startHoldingServer = () =>
  Effect.acquireRelease(
    Effect.promise(
      () =>
        new Promise<{ listener: net.Server; lines: Array<string>; release: () => void; sockets: Set<net.Socket> }>(
          (resolve) => {
            const lines: Array<string> = []
            const held: Array<() => void> = []
            const sockets = new Set<net.Socket>()
            const item = (key: string) => `VALUE ${key} 16 ${key.length}\r\n${key}\r\n`
            const listener = net.createServer((socket) => {
              sockets.add(socket)
              let buffer = ""
              socket.on("data", (chunk: Buffer) => {
                buffer += chunk.toString("latin1")
                for (let nl = buffer.indexOf("\r\n"); nl >= 0; nl = buffer.indexOf("\r\n")) {
                  const line = buffer.slice(0, nl)
                  buffer = buffer.slice(nl + 2)
                  lines.push(line)
                  const [first, ...rest] = line.split(" ").slice(1)
                  // Replies keep their order: behind a held reply, a whole reply is held too.
                  if (held.length === 0) socket.write(item(first!))
                  else rest.unshift(first!)
                  held.push(() => socket.write(`${rest.map(item).join("")}END\r\n`))
                }
              })
            })
            const release = () => {
              for (const send of held.splice(0)) send()
            }
            listener.listen(0, "127.0.0.1", () => resolve({ listener, lines, release, sockets }))
          }
        )
    ),
    ({ listener, sockets }) =>
      Effect.promise(
        () =>
          new Promise<void>((resolve) => {
            for (const socket of sockets) socket.destroy()
            listener.close(() => resolve())
          })
      )
  )

describe("automatic batching", () => {
  const server = useMemcached()

  it.live("100 concurrent gets are one request on the wire, and each caller gets its own value", () =>
    Effect.gen(function* () {
      const proxy = yield* acquireProxy(server())
      const m = yield* MemcacheClient.make({ server: proxy.address })
      const all = keys(100, "b1")
      // Every third key is a miss.
      yield* Effect.forEach(
        all.filter((_, i) => i % 3 !== 0),
        (k) => m.set(k, `value of ${k}`, { noreply: false })
      )
      proxy.resetCounters()
      const got = yield* Effect.forEach(all, (k) => m.get(k), { concurrency: "unbounded" })
      expect(got).toEqual(all.map((k, i) => (i % 3 === 0 ? Option.none() : Option.some(`value of ${k}`))))
      const lines = requestLines(proxy.clientData(), "get")
      expect(lines.length).toBe(1)
      expect(lines[0]!.split(" ").slice(1).sort()).toEqual([...all].sort())
    })
  )

  it.live("a caller is answered as its value arrives, before the rest of its batch has arrived", () =>
    Effect.gen(function* () {
      const server = yield* startHoldingServer()
      const port = (server.listener.address() as net.AddressInfo).port
      const m = yield* MemcacheClient.make({ server: `127.0.0.1:${port}` })
      const [first, second, third] = yield* Effect.forEach(["hold:a", "hold:b", "hold:c"], (k) =>
        Effect.forkChild(m.get(k))
      )
      // The server sent only the first key's value: its caller has it, the others still wait for theirs.
      expect(yield* Fiber.join(first!)).toEqual(Option.some("hold:a"))
      expect(server.lines).toEqual(["get hold:a hold:b hold:c"])
      expect(second!.pollUnsafe()).toBeUndefined()
      expect(third!.pollUnsafe()).toBeUndefined()
      // A new batch goes out while the first is still being answered.
      const next = yield* Effect.forkChild(m.get("hold:d"))
      const line = yield* Effect.retry(
        Effect.suspend(() => (server.lines.length === 2 ? Effect.succeed(server.lines[1]) : Effect.fail("not yet"))),
        { times: 200, schedule: Schedule.spaced("10 millis") }
      )
      expect(line).toBe("get hold:d")
      server.release()
      expect(yield* Fiber.join(second!)).toEqual(Option.some("hold:b"))
      expect(yield* Fiber.join(third!)).toEqual(Option.some("hold:c"))
      expect(yield* Fiber.join(next)).toEqual(Option.some("hold:d"))
    })
  )

  it.live("a burst split over several lines: every caller gets its own value or miss", () =>
    Effect.gen(function* () {
      const proxy = yield* acquireProxy(server())
      const m = yield* MemcacheClient.make({ server: proxy.address })
      // 2,000 keys of 34 bytes (70 KB) need five get lines under the 16 KB line limit.
      const all = keys(2000, "b-split-burst-with-a-long-key")
      // Runs of hits and misses, so that lines start and end on both.
      const hit = (i: number) => Math.floor(i / 7) % 3 !== 0
      yield* Effect.forEach(
        all.filter((_, i) => hit(i)),
        (k) => m.set(k, `value of ${k}`, { noreply: false }),
        { concurrency: 16 }
      )
      proxy.resetCounters()
      // Every tenth key is asked twice.
      const asked = [...all, ...all.filter((_, i) => i % 10 === 0)]
      const got = yield* Effect.forEach(asked, (k) => m.get(k), { concurrency: "unbounded" })
      expect(got).toEqual(asked.map((k) => (hit(all.indexOf(k)) ? Option.some(`value of ${k}`) : Option.none())))
      const lines = requestLines(proxy.clientData(), "get")
      expect(lines.length).toBe(5)
      expect(lines.flatMap((line) => line.split(" ").slice(1)).sort()).toEqual([...all].sort())
    })
  )

  it.live("a key asked by many callers at once is asked once", () =>
    Effect.gen(function* () {
      const proxy = yield* acquireProxy(server())
      const m = yield* MemcacheClient.make({ server: proxy.address })
      yield* m.set("b2:same", "shared", { noreply: false })
      yield* m.set("b2:other", "other", { noreply: false })
      proxy.resetCounters()
      const got = yield* Effect.forEach(
        Array.from({ length: 50 }, (_, i) => (i % 10 === 9 ? "b2:other" : "b2:same")),
        (k) => m.get(k),
        { concurrency: "unbounded" }
      )
      expect(got.filter((o) => Option.getOrNull(o) === "shared").length).toBe(45)
      expect(got.filter((o) => Option.getOrNull(o) === "other").length).toBe(5)
      expect(requestLines(proxy.clientData(), "get")).toEqual(["get b2:same b2:other"])
    })
  )

  it.live("gets are batched apart from gets-with-cas, and carry their own CAS uniques", () =>
    Effect.gen(function* () {
      const proxy = yield* acquireProxy(server())
      const m = yield* MemcacheClient.make({ server: proxy.address })
      const all = keys(20, "b3")
      yield* Effect.forEach(all, (k) => m.set(k, k, { noreply: false }))
      proxy.resetCounters()
      const [plain, withCas] = yield* Effect.all(
        [
          Effect.forEach(all, (k) => m.get(k), { concurrency: "unbounded" }),
          Effect.forEach(all, (k) => m.gets(k), { concurrency: "unbounded" })
        ],
        { concurrency: "unbounded" }
      )
      expect(plain.map(Option.getOrNull)).toEqual(all)
      const uniques = withCas.map((o) => Option.getOrThrow(o))
      expect(uniques.map((c) => c.value)).toEqual(all)
      // Each unique is the item's own: a cas with it succeeds.
      expect(yield* m.cas(all[7]!, "changed", uniques[7]!.cas)).toBe("Stored")
      expect(requestLines(proxy.clientData(), "get").length).toBe(1)
      expect(requestLines(proxy.clientData(), "gets").length).toBe(1)
    })
  )

  it.live("batching: false sends one request per call", () =>
    Effect.gen(function* () {
      const proxy = yield* acquireProxy(server())
      const m = yield* MemcacheClient.make({ server: proxy.address, batching: false })
      proxy.resetCounters()
      yield* Effect.forEach(keys(30, "b4"), (k) => m.get(k), { concurrency: "unbounded" })
      expect(requestLines(proxy.clientData(), "get").length).toBe(30)
    })
  )

  it.live("interrupting some callers leaves the others and the connection alone", () =>
    Effect.gen(function* () {
      const proxy = yield* acquireProxy(server())
      const m = yield* MemcacheClient.make({ server: proxy.address })
      const all = keys(20, "b5")
      yield* Effect.forEach(all, (k) => m.set(k, `v:${k}`, { noreply: false }))
      proxy.resetCounters()
      proxy.setMode({ _tag: "Delay", millis: 100 })
      const fibers = yield* Effect.forEach(all, (k) => Effect.forkChild(m.get(k)))
      // Wait until the batch is on the wire, then interrupt every fourth caller.
      while (requestLines(proxy.clientData(), "get").length === 0) yield* Effect.sleep("5 millis")
      yield* Effect.forEach(
        fibers.filter((_, i) => i % 4 === 0),
        Fiber.interrupt,
        { discard: true }
      )
      for (const [i, fiber] of fibers.entries()) {
        const exit = yield* Fiber.await(fiber)
        if (i % 4 === 0) expect(Exit.hasInterrupts(exit)).toBe(true)
        else expect(exit).toEqual(Exit.succeed(Option.some(`v:${all[i]}`)))
      }
      // The connection was not retired: the next call uses it (no connection opened since the counters' reset).
      proxy.setMode({ _tag: "Pass" })
      expect(yield* m.get(all[1]!)).toEqual(Option.some(`v:${all[1]}`))
      expect(proxy.acceptedConnections).toBe(0)
      expect(proxy.connections).toBe(1)
    })
  )

  it.live("a timeout reaches every caller of the batch as its own typed error", () =>
    Effect.gen(function* () {
      const proxy = yield* acquireProxy(server())
      const m = yield* MemcacheClient.make({ server: proxy.address, timeout: "100 millis" })
      yield* m.version()
      proxy.setMode({ _tag: "Blackhole" })
      const exits = yield* Effect.forEach(keys(10, "b6"), (k) => Effect.exit(m.get(k)), { concurrency: "unbounded" })
      for (const exit of exits) {
        expect(Exit.isFailure(exit)).toBe(true)
        if (Exit.isFailure(exit)) {
          expect(Cause.squash(exit.cause)).toMatchObject({ _tag: "MemcacheTimeoutError", phase: "operation" })
        }
      }
    })
  )

  it.effect("the in-memory layer batches through the same code, with the same answers", () =>
    Effect.gen(function* () {
      const m = yield* MemcacheMemory.make()
      const all = keys(50, "b7")
      yield* Effect.forEach(
        all.filter((_, i) => i % 2 === 0),
        (k) => m.set(k, k)
      )
      const got = yield* Effect.forEach(all, (k) => m.get(k), { concurrency: "unbounded" })
      expect(got).toEqual(all.map((k, i) => (i % 2 === 0 ? Option.some(k) : Option.none())))
      const stats = yield* m.stats()
      // One multi-key get of 50 keys: the server counts 50 gets, 25 hits.
      expect(stats.get("cmd_get")).toBe(50)
      expect(stats.get("get_hits")).toBe(25)
    })
  )
})
