/**
 * The connection layer itself (internal/Connection.ts, internal/Server.ts) against a real memcached, through the
 * fault proxy: what interruption does before and after a request is written, timeouts, the in-flight bound
 * (counted on the socket), and the `mn` that keeps noreply error lines from shifting replies.
 */
import { EventEmitter } from "node:events"
import * as net from "node:net"
import { describe, expect, it } from "@effect/vitest"
import { MemcacheClient, MemcacheError } from "@effect-memcache/client"
import { Command, Reply, Validation } from "@effect-memcache/protocol"
import { Cause, Effect, Exit, Fiber, Logger, Option, Stream } from "effect"
import type { FaultProxy } from "../../../testing/FaultProxy.ts"
import { rawCommand, useMemcached } from "../../../testing/Memcached.ts"
import { acquireProxy } from "../../../testing/Scoped.ts"
import * as Address from "../src/internal/Address.ts"
import { open } from "../src/internal/Connect.ts"
import * as Connection from "../src/internal/Connection.ts"
import * as Transport from "../src/internal/Transport.ts"

const closed = new MemcacheError.MemcacheConnectionError({ server: "test", reason: "closed", detail: "test over" })

const openConnection = (address: string, overrides: Partial<Connection.ConnectionOptions> = {}) =>
  Effect.acquireRelease(
    open({
      address: Address.parse(address) as Address.ServerAddress,
      connectTimeoutMillis: 2000,
      noDelay: true,
      keepAlive: true,
      tls: undefined,
      answerNoreply: false,
      meta: false,
      maxInFlight: 1024,
      maxValueLength: 2 * 1048576,
      stallMillis: 2000,
      auth: undefined,
      onQuietErrors: () => {},
      ...overrides
    }),
    (connection) => Effect.sync(() => connection.retire(closed))
  )

const send = (connection: Connection.Connection, command: Command.Command, timeoutMillis = 10_000) =>
  Effect.suspend(() => {
    const validated = Validation.validate(command)
    if (Validation.isInvalid(validated)) return Effect.die(validated)
    return Transport.request(
      (request) => connection.enqueue(request),
      validated,
      Reply.expectation(validated),
      timeoutMillis
    )
  })

const bytes = (text: string) => new TextEncoder().encode(text)
const text = (value: Uint8Array) => new TextDecoder().decode(value)

/** The values of a retrieval reply, as `key=value` strings. */
const valuesOf = (reply: Reply.Reply | undefined): Array<string> => {
  if (reply?._tag !== "Values") throw new Error(`expected values, got ${reply?._tag}`)
  return reply.values.map((v) => `${v.key}=${text(v.value)}`)
}

const countLines = (data: Buffer, prefix: string): number =>
  data
    .toString("latin1")
    .split("\r\n")
    .filter((line) => line.startsWith(prefix)).length

/** Waits (polling) until the proxy has seen `count` request lines starting with `prefix`. */
const awaitRequests = (proxy: FaultProxy, prefix: string, count = 1) =>
  Effect.gen(function* () {
    for (let i = 0; i < 400; i++) {
      if (countLines(proxy.clientData(), prefix) >= count) return
      yield* Effect.sleep("5 millis")
    }
    throw new Error(`the proxy never saw ${count} "${prefix}" requests`)
  })

/** Counts the lines starting with one of `prefixes` in a byte stream fed in arbitrary chunks. */
const lineCounter = (prefixes: ReadonlyArray<string>) => {
  let carry = ""
  let count = 0
  return {
    feed: (chunk: Uint8Array | string) => {
      const lines = (carry + (typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("latin1"))).split("\r\n")
      carry = lines.pop()!
      for (const line of lines) if (prefixes.some((p) => line.startsWith(p))) count++
    },
    get count() {
      return count
    }
  }
}

describe("Connection", () => {
  const server = useMemcached()

  it.live("thousands of pipelined sets of mixed sizes reach the server byte for byte (buffer reuse is safe)", () =>
    Effect.gen(function* () {
      // Small values go through the encoder's buffer, which is written over once the kernel has the bytes; the
      // big ones fill the socket so that Node queues writes (then nothing may be written over).
      const connection = yield* openConnection(server().address)
      let seed = 7
      const random = () => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff
        return seed
      }
      const values = Array.from({ length: 3000 }, (_, i) => {
        const size = i % 50 === 0 ? 60_000 + (random() % 40_000) : 1 + (random() % 300)
        return Uint8Array.from({ length: size }, () => random() & 0xff)
      })
      const replies = yield* Effect.forEach(
        values,
        (value, i) => send(connection, Command.set(`reuse:${i}`, value, { noreply: i % 3 === 0 })),
        { concurrency: "unbounded" }
      )
      expect(replies.filter((r) => r !== undefined && r._tag !== "Stored")).toEqual([])
      for (let start = 0; start < values.length; start += 100) {
        const keys = Array.from({ length: 100 }, (_, j) => `reuse:${start + j}`)
        const reply = yield* send(connection, Command.get(keys))
        if (reply?._tag !== "Values") throw new Error(`expected values, got ${reply?._tag}`)
        expect(reply.values.map((v) => v.key)).toEqual(keys)
        reply.values.forEach((v, j) => {
          expect(Buffer.compare(v.value, values[start + j]!)).toBe(0)
        })
      }
    }).pipe(Effect.scoped)
  )

  it.live("bytes Node still queues are never written over, though each write was accepted", () =>
    Effect.gen(function* () {
      // A socket whose writes are accepted (`write` returns true, under the high-water mark) but stay queued
      // in Node (`writableLength` > 0), as when the kernel's buffer is full: it keeps the chunks it was handed,
      // as Node does, and a copy of what they held then.
      const handed: Array<{ chunk: Uint8Array; copy: Uint8Array }> = []
      let queued = 0
      const socket = Object.assign(new EventEmitter(), {
        write: (chunk: Uint8Array) => {
          handed.push({ chunk, copy: chunk.slice() })
          return true
        },
        cork: () => {},
        uncork: () => {},
        destroy: () => {},
        end: () => {}
      })
      Object.defineProperty(socket, "writableLength", { get: () => queued })
      const connection = new Connection.Connection(socket as unknown as net.Socket, {
        address: Address.parse("127.0.0.1:1") as Address.ServerAddress,
        answerNoreply: false,
        meta: false,
        connectTimeoutMillis: 1000,
        noDelay: true,
        keepAlive: true,
        tls: undefined,
        maxInFlight: 1024,
        maxValueLength: 1048576,
        stallMillis: 2000,
        auth: undefined,
        onQuietErrors: () => {}
      })
      const sets = (prefix: string) =>
        Effect.forEach(
          Array.from({ length: 50 }, (_, i) => i),
          (i) => send(connection, Command.set(`${prefix}:${i}`, bytes(`value-${i}`), { noreply: true })),
          { discard: true }
        )
      const contains = (prefix: string) => {
        const all = Buffer.concat(handed.map((h) => h.copy))
        for (let i = 0; i < 50; i++) {
          expect(
            all.indexOf(`set ${prefix}:${i} 0 0 ${`value-${i}`.length} noreply\r\nvalue-${i}\r\n`)
          ).toBeGreaterThanOrEqual(0)
        }
      }
      // Queued in Node: every chunk handed out keeps its bytes while later commands are written.
      queued = 100
      yield* sets("q")
      expect(handed.length).toBeGreaterThanOrEqual(50)
      for (const { chunk, copy } of handed) expect(Buffer.compare(chunk, copy)).toBe(0)
      contains("q")
      // Node's queue empty: the kernel has the bytes and the buffer is reused, each write still whole.
      queued = 0
      yield* sets("e")
      contains("e")
      connection.retire(closed)
    })
  )

  it.live("an idle connection writes a request in its caller's tick; the requests that follow wait for one write", () =>
    Effect.gen(function* () {
      yield* Effect.promise(() => rawCommand(server(), "set iw:a 0 0 1\r\nA\r\nset iw:c 0 0 1\r\nC\r\n"))
      const proxy = yield* acquireProxy(server())
      const connection = yield* openConnection(proxy.address)
      const socket = connection.socket
      const before = socket.bytesWritten
      const a = Effect.runFork(send(connection, Command.get("iw:a")))
      // Handed to the socket before the caller's tick ended: nothing was waiting to share its write.
      expect(socket.bytesWritten - before).toBe("get iw:a\r\n".length)
      const b = Effect.runFork(send(connection, Command.get("iw:b")))
      const c = Effect.runFork(send(connection, Command.get("iw:c")))
      // Behind a request in flight, the rest of the tick is coalesced: not written yet.
      expect(socket.bytesWritten - before).toBe("get iw:a\r\n".length)
      expect(connection.load).toBe(3)
      expect(valuesOf(yield* Fiber.join(a))).toEqual(["iw:a=A"])
      expect(valuesOf(yield* Fiber.join(b))).toEqual([])
      expect(valuesOf(yield* Fiber.join(c))).toEqual(["iw:c=C"])
      expect(proxy.clientData().toString("latin1")).toBe("get iw:a\r\nget iw:b\r\nget iw:c\r\n")
    })
  )

  it.live("interruption after the request was written: its reply is read and dropped, the others get theirs", () =>
    Effect.gen(function* () {
      const proxy = yield* acquireProxy(server())
      yield* Effect.promise(() => rawCommand(server(), "set ia:a 0 0 1\r\nA\r\nset ia:b 0 0 1\r\nB\r\n"))
      const connection = yield* openConnection(proxy.address)
      proxy.setMode({ _tag: "Delay", millis: 150 })
      const a = yield* Effect.forkChild(send(connection, Command.get("ia:a")))
      const b = yield* Effect.forkChild(send(connection, Command.get(["ia:b", "ia:c"])))
      const c = yield* Effect.forkChild(send(connection, Command.set("ia:d", bytes("x"))))
      yield* awaitRequests(proxy, "set ia:d")

      // a's reply (the value A) comes first; it must be read and dropped, not handed to b or c.
      yield* Fiber.interrupt(a)
      expect(connection.isRetired).toBe(false)
      expect(valuesOf(yield* Fiber.join(b))).toEqual(["ia:b=B"])
      expect(yield* Fiber.join(c)).toEqual({ _tag: "Stored" })
      proxy.setMode({ _tag: "Pass" })
      expect(valuesOf(yield* send(connection, Command.get("ia:d")))).toEqual(["ia:d=x"])
      expect(connection.isRetired).toBe(false)
      expect(connection.load).toBe(0)
      expect(proxy.acceptedConnections).toBe(1)
    })
  )

  it.live("interruption before the request was written leaves the connection alone", () =>
    Effect.gen(function* () {
      const proxy = yield* acquireProxy(server())
      yield* Effect.promise(() => rawCommand(server(), "set ib:a 0 0 1\r\nA\r\nset ib:c 0 0 1\r\nC\r\n"))
      const connection = yield* openConnection(proxy.address, { maxInFlight: 1 })
      proxy.setMode({ _tag: "Delay", millis: 100 })

      // Waiting behind the in-flight bound.
      const a = yield* Effect.forkChild(send(connection, Command.get("ib:a")))
      const b = yield* Effect.forkChild(send(connection, Command.get("ib:b")))
      yield* awaitRequests(proxy, "get ib:a")
      expect(connection.load).toBe(2)
      yield* Fiber.interrupt(b)
      expect(valuesOf(yield* Fiber.join(a))).toEqual(["ib:a=A"])

      // Queued in this very tick and interrupted before the write (the coalesced write runs in a microtask).
      proxy.setMode({ _tag: "Pass" })
      const before = connection.load
      const q = Effect.runFork(send(connection, Command.get("ib:q")))
      expect(connection.load).toBe(before + 1)
      q.interruptUnsafe()
      expect(Exit.hasInterrupts(yield* Fiber.await(q))).toBe(true)

      expect(valuesOf(yield* send(connection, Command.get("ib:c")))).toEqual(["ib:c=C"])
      expect(connection.isRetired).toBe(false)
      expect(proxy.acceptedConnections).toBe(1)
      expect(proxy.clientData().toString("latin1")).toBe("get ib:a\r\nget ib:c\r\n")
    })
  )

  it.live("through the command surface: a store interrupted before its write is never sent; after it, it stands", () =>
    Effect.gen(function* () {
      const proxy = yield* acquireProxy(server())
      const m = yield* MemcacheClient.make({ server: proxy.address })
      expect(Option.isNone(yield* m.get("sv:warm"))).toBe(true)

      // Queued behind a call in flight (a busy connection coalesces the writes of a tick) and interrupted in the
      // tick it was made, before the coalesced write: nothing reaches the server.
      proxy.setMode({ _tag: "Delay", millis: 100 })
      const busy = yield* Effect.forkChild(m.get("sv:busy"))
      yield* awaitRequests(proxy, "get sv:busy")
      const q = Effect.runFork(m.set("sv:q", "x", { noreply: false }))
      q.interruptUnsafe()
      expect(Exit.hasInterrupts(yield* Fiber.await(q))).toBe(true)
      expect(Option.isNone(yield* Fiber.join(busy))).toBe(true)
      proxy.setMode({ _tag: "Pass" })
      expect(Option.isNone(yield* m.get("sv:q"))).toBe(true)
      expect(proxy.clientData().toString("latin1")).not.toContain("sv:q 0")

      // Interrupted once written: the store has happened, its reply is read and dropped, and the other request on
      // the same connection gets its own reply.
      proxy.setMode({ _tag: "Delay", millis: 150 })
      const w = yield* Effect.forkChild(m.set("sv:w", "x", { noreply: false }))
      const other = yield* Effect.forkChild(m.add("sv:o", "y", { noreply: false }))
      yield* awaitRequests(proxy, "add sv:o")
      yield* Fiber.interrupt(w)
      expect(yield* Fiber.join(other)).toBe(true)
      proxy.setMode({ _tag: "Pass" })
      expect(yield* m.add("sv:o", "z", { noreply: false })).toBe(false)
      expect(yield* m.get("sv:w")).toEqual(Option.some("x"))
      expect(proxy.acceptedConnections).toBe(1)
    })
  )

  it.live("a written request past its deadline fails alone: its late reply is dropped, the others get theirs", () =>
    Effect.gen(function* () {
      yield* Effect.promise(() => rawCommand(server(), "set to:a 0 0 1\r\nA\r\nset to:b 0 0 1\r\nB\r\n"))
      const proxy = yield* acquireProxy(server())
      const connection = yield* openConnection(proxy.address)
      proxy.setMode({ _tag: "Delay", millis: 300 })
      const slow = yield* Effect.forkChild(send(connection, Command.get("to:a"), 60))
      const patient = yield* Effect.forkChild(send(connection, Command.get("to:b"), 10_000))
      expect(yield* Fiber.await(slow)).toEqual(
        Exit.fail(
          new MemcacheError.MemcacheTimeoutError({
            server: connection.options.address.name,
            phase: "operation",
            millis: 60
          })
        )
      )
      // The timed-out get's reply (A) arrives first and is dropped; the next request gets its own.
      expect(valuesOf(yield* Fiber.join(patient))).toEqual(["to:b=B"])
      proxy.setMode({ _tag: "Pass" })
      expect(valuesOf(yield* send(connection, Command.get("to:a")))).toEqual(["to:a=A"])
      expect(connection.isRetired).toBe(false)
      expect(proxy.acceptedConnections).toBe(1)
    })
  )

  it.live("a connection that receives nothing for its stall window while replies are due is retired", () =>
    Effect.gen(function* () {
      const proxy = yield* acquireProxy(server())
      const connection = yield* openConnection(proxy.address, { stallMillis: 100 })
      proxy.setMode({ _tag: "Blackhole" })
      const e = yield* Effect.flip(send(connection, Command.get("st:a"), 50))
      expect(e).toMatchObject({ _tag: "MemcacheTimeoutError", phase: "operation", millis: 50 })
      // A call waiting longer than the window keeps the connection; once it is gone, silence retires it.
      const retired = yield* Effect.flip(send(connection, Command.get("st:b"), 200))
      expect(retired).toMatchObject({ _tag: "MemcacheTimeoutError", millis: 200 })
      // Retired on the timer that failed that call (polled: the call's fiber may resume before the timer ends).
      for (let i = 0; i < 200 && !connection.isRetired; i++) yield* Effect.sleep("5 millis")
      expect(connection.isRetired).toBe(true)
      const late = yield* Effect.flip(send(connection, Command.get("st:c")))
      expect(late).toMatchObject({ _tag: "MemcacheConnectionError", reason: "aborted" })
    })
  )

  it.live("a request still waiting to be written times out alone: the connection stays", () =>
    Effect.gen(function* () {
      const proxy = yield* acquireProxy(server())
      yield* Effect.promise(() => rawCommand(server(), "set tq:a 0 0 1\r\nA\r\n"))
      const connection = yield* openConnection(proxy.address, { maxInFlight: 1 })
      proxy.setMode({ _tag: "Delay", millis: 150 })
      const a = yield* Effect.forkChild(send(connection, Command.get("tq:a")))
      const b = yield* Effect.forkChild(send(connection, Command.get("tq:b"), 30))
      const e = yield* Effect.flip(Fiber.join(b))
      expect(e).toMatchObject({ _tag: "MemcacheTimeoutError", phase: "operation", millis: 30 })
      expect(connection.isRetired).toBe(false)
      expect(valuesOf(yield* Fiber.join(a))).toEqual(["tq:a=A"])
      expect(countLines(proxy.clientData(), "get tq:b")).toBe(0)
    })
  )

  it.live("no timeout (Infinity) and timeouts beyond 2^31 ms: no timer overflow, nothing times out early", () =>
    Effect.gen(function* () {
      const warnings: Array<string> = []
      const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`)
      yield* Effect.acquireRelease(
        Effect.sync(() => process.on("warning", onWarning)),
        () => Effect.sync(() => process.off("warning", onWarning))
      )
      // Node runs a timer of more than 2^31-1 ms (or Infinity) after 1 ms instead, with a warning.
      const connection = yield* openConnection(server().address, { connectTimeoutMillis: Infinity })
      const fortyDays = 40 * 24 * 3600 * 1000
      for (const timeout of [fortyDays, Infinity, fortyDays]) {
        expect(valuesOf(yield* send(connection, Command.get("lt:missing"), timeout))).toEqual([])
      }
      // Warnings are emitted on a later tick.
      yield* Effect.sleep("10 millis")
      expect(warnings.filter((w) => w.startsWith("TimeoutOverflowWarning"))).toEqual([])
      expect(connection.isRetired).toBe(false)
    })
  )

  it.live(
    "in-flight bound, counted on the socket: written-but-unanswered never exceeds maxInFlight (mn included)",
    () =>
      Effect.gen(function* () {
        const proxy = yield* acquireProxy(server())
        const keys = Array.from({ length: 40 }, (_, i) => `fl:${i}`)
        yield* Effect.promise(() =>
          rawCommand(server(), keys.map((k) => `set ${k} 0 0 ${k.length}\r\n${k}\r\n`).join(""), {
            until: (b) => countLines(b, "STORED") === keys.length
          })
        )
        for (const maxInFlight of [1, 3, 8]) {
          const connection = yield* openConnection(proxy.address, { maxInFlight })
          proxy.setMode({ _tag: "Delay", millis: 1 })
          // Requests as the server counts them: each expects one terminal line (END, MN) back.
          const requests = lineCounter(["get ", "mn"])
          const replies = lineCounter(["END", "MN"])
          let outstanding = 0
          const socket = connection.socket
          const write = socket.write.bind(socket) as (chunk: Uint8Array) => boolean
          socket.write = ((chunk: Uint8Array) => {
            requests.feed(chunk)
            outstanding = Math.max(outstanding, requests.count - replies.count)
            return write(chunk)
          }) as typeof socket.write
          // Counts replies once the connection has decoded them (its socket reads into its own buffer, no `data`).
          const decoder = connection["decoder"]
          const decode = decoder.feed.bind(decoder)
          decoder.feed = (chunk: Uint8Array) => {
            decode(chunk)
            replies.feed(chunk)
          }

          // Gets, interleaved with noreply sets (which add an `mn` to their batch).
          const calls = Array.from({ length: 300 }, (_, i) =>
            i % 3 === 2
              ? Effect.as(send(connection, Command.set(`fl:w${i}`, bytes("w"), { noreply: true })), [] as Array<string>)
              : Effect.map(send(connection, Command.get(keys[i % keys.length]!)), valuesOf)
          )
          const results = yield* Effect.all(calls, { concurrency: "unbounded" })
          results.forEach((values, i) => {
            const k = keys[i % keys.length]!
            expect(values).toEqual(i % 3 === 2 ? [] : [`${k}=${k}`])
          })
          expect(outstanding, `maxInFlight ${maxInFlight}`).toBeLessThanOrEqual(maxInFlight)
          // The bound was reached, so the check above had something to check.
          expect(outstanding).toBe(maxInFlight)
          // The last `mn` may still be on its way; then every request was answered.
          for (let i = 0; i < 200 && replies.count < requests.count; i++) yield* Effect.sleep("5 millis")
          expect(replies.count).toBe(requests.count)
          connection.retire(closed)
        }
      })
  )

  it.live("a caller resumed by a failure can send again at once: the dead connection already left its slot", () =>
    Effect.gen(function* () {
      const proxy = yield* acquireProxy(server())
      const m = yield* MemcacheClient.make({ server: proxy.address })
      yield* m.set("slot:k", "v", { noreply: false })
      for (let i = 0; i < 5; i++) {
        proxy.setMode({ _tag: "Garble" })
        const e = yield* Effect.flip(m.get("slot:k"))
        expect(e._tag).toBe("MemcacheProtocolError")
        // Runs in the same synchronous stretch as the failure above, while the dead connection is being retired.
        proxy.setMode({ _tag: "Pass" })
        expect(yield* m.get("slot:k")).toEqual(Option.some("v"))
      }
      expect(proxy.acceptedConnections).toBe(6)
    })
  )
})

/**
 * A stand-in for servers that answer a refused noreply command with an error line anyway (memcached 1.6.18
 * suppresses it, older servers and proxies did not): every noreply `set` gets a SERVER_ERROR line.
 */
const startNoisyServer = (): Promise<net.Server> =>
  new Promise((resolve) => {
    const listener = net.createServer((socket) => {
      socket.setNoDelay(true)
      let buffer = Buffer.alloc(0)
      socket.on("data", (chunk: Buffer) => {
        buffer = Buffer.concat([buffer, chunk])
        for (;;) {
          const nl = buffer.indexOf("\r\n")
          if (nl < 0) return
          const line = buffer.subarray(0, nl).toString("latin1")
          const [verb, key, , , length] = line.split(" ")
          if (verb === "set") {
            const end = nl + 2 + Number(length) + 2
            if (buffer.length < end) return
            buffer = buffer.subarray(end)
            socket.write(line.endsWith(" noreply") ? "SERVER_ERROR object too large for cache\r\n" : "STORED\r\n")
            continue
          }
          buffer = buffer.subarray(nl + 2)
          if (verb === "get") socket.write(`VALUE ${key} 16 ${key!.length + 2}\r\nv:${key}\r\nEND\r\n`)
          else if (verb === "mn") socket.write("MN\r\n")
          else socket.write("ERROR\r\n")
        }
      })
    })
    listener.listen(0, "127.0.0.1", () => resolve(listener))
  })

describe("noreply error lines", () => {
  it.live("error lines before the MN are absorbed, logged once per batch, and never shift later replies", () =>
    Effect.gen(function* () {
      const listener = yield* Effect.acquireRelease(
        Effect.promise(() => startNoisyServer()),
        (l) => Effect.promise(() => new Promise<void>((resolve) => l.close(() => resolve())))
      )
      const port = (listener.address() as net.AddressInfo).port
      const warnings: Array<string> = []
      const collector = Logger.make((options) => {
        if (options.logLevel === "Warn") warnings.push([options.message].flat().map(String).join(" "))
      })
      // Unbatched: the noisy server answers single-key gets only.
      const m = yield* MemcacheClient.make({ server: `127.0.0.1:${port}`, batching: false }).pipe(
        Effect.provideService(Logger.CurrentLoggers, new Set([collector]))
      )
      for (let round = 0; round < 10; round++) {
        const results = yield* Effect.all(
          [
            m.get("a"),
            m.set("x", "1", { noreply: true }),
            m.get("b"),
            m.set("y", "2", { noreply: true }),
            m.set("z", "3", { noreply: true }),
            m.get("c"),
            m.set("w", "4", { noreply: false })
          ],
          { concurrency: "unbounded" }
        )
        expect(results).toEqual([
          Option.some("v:a"),
          undefined,
          Option.some("v:b"),
          undefined,
          undefined,
          Option.some("v:c"),
          true
        ])
      }
      // The warnings are logged by a fiber of their own: wait for them.
      // One warning per batch: each round sends two (x alone, then y and z).
      for (let i = 0; i < 200 && warnings.length < 20; i++) yield* Effect.sleep("5 millis")
      expect(warnings.length).toBe(20)
      for (const warning of warnings)
        expect(warning).toContain("a noreply command failed: MemcacheServerError object too large")
      expect(warnings.filter((w) => w.endsWith("(and 1 more in the same batch)")).length).toBe(10)
      // And each is offered to the application as data: the latest 64 are replayed to a new subscriber.
      const failures = yield* m.noreplyFailures.pipe(Stream.take(30), Stream.runCollect)
      expect(failures.length).toBe(30)
      for (const failure of failures) {
        expect(failure).toMatchObject({
          _tag: "MemcacheServerError",
          command: "noreply command",
          server: `127.0.0.1:${port}`
        })
        expect(failure.text).toContain("object too large")
      }
    })
  )
})

describe("noreply writes", () => {
  const server = useMemcached()

  /** The fiber of a call that `Effect.runSyncExit` found suspended, or `undefined` when it completed at once. */
  const suspended = (exit: Exit.Exit<unknown, unknown>) => {
    if (Exit.isSuccess(exit)) return undefined
    const error = Cause.squash(exit.cause)
    if (!Cause.isAsyncFiberError(error)) throw error
    return error.fiber
  }

  it.live("a noreply set on an open connection under maxInFlight completes without suspending, written in order", () =>
    Effect.gen(function* () {
      const m = yield* MemcacheClient.make({ server: server().address })
      yield* m.get("nr:warm") // the connection is open
      // Each call runs to its end synchronously: it never waited for the write.
      for (let i = 1; i <= 100; i++) expect(suspended(Effect.runSyncExit(m.set("nr:k", `v${i}`)))).toBeUndefined()
      // Written in the order called, before the get that follows them.
      expect(yield* m.get("nr:k")).toEqual(Option.some("v100"))
    })
  )

  it.live("past maxInFlight a noreply set waits for its write (back-pressure), and every write keeps its order", () =>
    Effect.gen(function* () {
      const m = yield* MemcacheClient.make({ server: server().address, maxInFlight: 2 })
      yield* m.get("bp:warm")
      const fibers = [1, 2, 3, 4].map((i) => suspended(Effect.runSyncExit(m.set("bp:k", `v${i}`))))
      // Two fit under the bound without waiting; the next ones wait until they are written.
      expect(fibers.map((fiber) => fiber === undefined)).toEqual([true, true, false, false])
      for (const fiber of fibers) if (fiber !== undefined) yield* Fiber.join(fiber)
      expect(yield* m.get("bp:k")).toEqual(Option.some("v4"))
      // A long run of them through the bound: nothing lost, the last one written last.
      yield* Effect.forEach(
        Array.from({ length: 2000 }, (_, i) => i),
        (i) => m.set(`bp:${i % 50}`, `w${i}`)
      )
      const got = yield* m.getMany(Array.from({ length: 50 }, (_, i) => `bp:${i}`))
      expect([...got.values()].sort()).toEqual(Array.from({ length: 50 }, (_, i) => `w${1950 + i}`).sort())
    })
  )
})
