/**
 * Fault injection against a real memcached: a fault proxy between client and server (split replies, delay, cut,
 * reset, garble, blackhole), a stopped (SIGSTOP) and a killed server, and interruptions at random moments. Every
 * fault must surface as a typed error, never as a wrong or short value, and the client must recover by itself,
 * in the text protocol and in the meta one.
 */
import { describe, expect, it } from "@effect/vitest"
import { type Memcache, MemcacheClient, type MemcacheError } from "@effect-memcache/client"
import { Cause, Effect, Exit, Fiber, Option, Schedule } from "effect"
import fc from "fast-check"
import type { FaultProxy } from "../../../testing/FaultProxy.ts"
import { useMemcached } from "../../../testing/Memcached.ts"
import { acquireProxy, acquireServer } from "../../../testing/Scoped.ts"

type Client = Memcache.MemcacheShape<Memcache.Value>

/** Retries until the client has recovered on its own (the reconnect backoff included); no timing is asserted. */
const eventually = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
  Effect.retry(effect, { schedule: Schedule.spaced("50 millis"), times: 300 })

/** The failure of `effect`; a success fails the test with the value it produced. */
const failureOf = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<E> =>
  Effect.flip(
    Effect.flatMap(effect, (a) =>
      Effect.die(new Error(`expected a failure, got a success: ${String(a).slice(0, 80)} (${String(a).length} chars)`))
    )
  )

/** A value that names its key and has exactly `size` characters (ASCII, so as many bytes). */
const valueFor = (key: string, size: number): string => {
  const head = `<${key}>`
  if (size <= head.length) return head.slice(0, size)
  const fill = "abcdefghijklmnopqrstuvwxyz0123456789"
  let body = ""
  while (body.length < size - head.length) body += fill
  return head + body.slice(0, size - head.length)
}

/** Waits (polling) until the proxy has seen `count` request lines starting with `prefix`. */
const awaitRequests = (proxy: FaultProxy, prefix: string, count: number) =>
  Effect.gen(function* () {
    for (let i = 0; i < 400; i++) {
      if (countLines(proxy.clientData(), prefix) >= count) return
      yield* Effect.sleep("5 millis")
    }
    throw new Error(`the proxy never saw ${count} "${prefix}" requests`)
  })

const countLines = (data: Buffer, prefix: string): number =>
  data
    .toString("latin1")
    .split("\r\n")
    .filter((line) => line.startsWith(prefix)).length

/** The client works again: a fresh write and read succeed, and a run of further calls needs no retry. */
const recovered = (m: Client, key: string) =>
  Effect.gen(function* () {
    const value = valueFor(key, 300)
    expect(yield* eventually(m.set(key, value, { noreply: false }))).toBe(true)
    for (let i = 0; i < 20; i++) expect(yield* m.get(key)).toEqual(Option.some(value))
  })

const isResetLike = (e: { readonly _tag: string }): boolean =>
  e._tag === "MemcacheUnexpectedCloseError" ||
  (e._tag === "MemcacheConnectionError" && (e as MemcacheError.MemcacheConnectionError).reason === "reset")

// Every suite runs in both protocols: the text protocol, and the meta form of every command (`protocol: "meta"`).
for (const protocol of ["text", "meta"] as const) {
  /** How a get starts on the wire. */
  const getWord = protocol === "text" ? "get " : "mg "
  describe(`${protocol} protocol`, () => {
    describe("fault proxy", () => {
      const server = useMemcached()

      it.live("replies split at every byte: pipelined gets and sets of every size stay paired", () =>
        Effect.gen(function* () {
          const proxy = yield* acquireProxy(server())
          const m = yield* MemcacheClient.make({ protocol, server: proxy.address, timeout: "25 seconds" })
          proxy.setMode({ _tag: "SplitEveryByte" })
          // About 140 KB of replies in all: every byte is a socket write and a turn of the event loop.
          const sizes = [0, 1, 2, 3, 7, 64, 500, 1400, 4096, 9000, 20_000, 100_000]
          const keys = sizes.map((size, i) => `split:${i}:${size}`)
          const stored = yield* Effect.forEach(keys, (k, i) => m.set(k, valueFor(k, sizes[i]!), { noreply: false }), {
            concurrency: "unbounded"
          })
          expect(stored).toEqual(keys.map(() => true))

          // Gets, misses, a multi-get and new (noreply and acknowledged) sets, all in one pipeline.
          const later = ["split:late:a", "split:late:b"]
          const results = yield* Effect.all(
            [
              ...keys.map((k) => m.get(k)),
              m.get("split:missing"),
              m.set(later[0]!, valueFor(later[0]!, 2000)),
              m.getMany([keys[3]!, "split:missing", keys[9]!, keys[0]!]),
              m.set(later[1]!, valueFor(later[1]!, 2), { noreply: false }),
              ...keys.slice(0, 9).map((k) => m.get(k))
            ],
            { concurrency: "unbounded" }
          )
          const expected = keys.map((k, i) => Option.some(valueFor(k, sizes[i]!)))
          expect(results.slice(0, keys.length)).toEqual(expected)
          let i = keys.length
          expect(results[i++]).toEqual(Option.none())
          expect(results[i++]).toBeUndefined() // sent with noreply
          expect(results[i++]).toEqual(
            new Map([
              [keys[3]!, valueFor(keys[3]!, sizes[3]!)],
              [keys[9]!, valueFor(keys[9]!, sizes[9]!)],
              [keys[0]!, ""]
            ])
          )
          expect(results[i++]).toBe(true)
          expect(results.slice(i)).toEqual(expected.slice(0, 9))
          expect(yield* m.getMany(later)).toEqual(new Map(later.map((k, j) => [k, valueFor(k, j === 0 ? 2000 : 2)])))
          // Everything went over the one connection, one byte at a time.
          expect(proxy.acceptedConnections).toBe(1)
        })
      )

      it.live("delay: slow replies arrive intact; past the timeout a call fails with an operation timeout", () =>
        Effect.gen(function* () {
          const proxy = yield* acquireProxy(server())
          const m = yield* MemcacheClient.make({ protocol, server: proxy.address, timeout: "2 seconds" })
          const keys = Array.from({ length: 20 }, (_, i) => `delay:${i}`)
          yield* Effect.forEach(keys, (k, i) => m.set(k, valueFor(k, 100 * i), { noreply: false }))
          proxy.setMode({ _tag: "Delay", millis: 40 })
          const got = yield* Effect.forEach(keys, (k) => m.get(k), { concurrency: "unbounded" })
          expect(got).toEqual(keys.map((k, i) => Option.some(valueFor(k, 100 * i))))

          proxy.setMode({ _tag: "Delay", millis: 400 })
          const e = yield* failureOf(m.get(keys[1]!, { timeout: "50 millis" }))
          expect(e._tag).toBe("MemcacheTimeoutError")
          expect((e as MemcacheError.MemcacheTimeoutError).phase).toBe("operation")

          proxy.setMode({ _tag: "Pass" })
          yield* recovered(m, "delay:after")
        })
      )

      it.live("cut in the middle of a 50 KB value: MemcacheUnexpectedCloseError, never a short value", () =>
        Effect.gen(function* () {
          const proxy = yield* acquireProxy(server())
          const m = yield* MemcacheClient.make({ protocol, server: proxy.address })
          const key = "cut:big"
          const value = valueFor(key, 50_000)
          expect(yield* m.set(key, value, { noreply: false })).toBe(true)
          // In meta, the get's hit carries opaque 1: a connection counts from 0, the set took 0, and after each cut
          // the first request of the new connection is the get that finds the client recovered.
          const replyLength =
            protocol === "text"
              ? `VALUE ${key} 16 50000\r\n`.length + 50_000 + "\r\nEND\r\n".length
              : "VA 50000 f16 O1\r\n".length + 50_000 + "\r\nMN\r\n".length
          const valueEnd = replyLength - (protocol === "text" ? "END\r\n" : "MN\r\n").length
          // Inside the VALUE line, at the start, middle and end of the data, inside the trailer and END.
          for (const bytes of [1, 10, 30, 25_000, 49_999, replyLength - 8, replyLength - 1]) {
            proxy.setMode({ _tag: "CutAfter", bytes })
            if (bytes >= valueEnd) {
              // The value and its \r\n arrived whole, only the END is cut: a get is answered as its value arrives.
              expect(yield* m.get(key), `cut after ${bytes} bytes`).toEqual(Option.some(value))
            } else {
              const e = yield* failureOf(m.get(key))
              expect(e._tag, `cut after ${bytes} bytes`).toBe("MemcacheUnexpectedCloseError")
            }
            // A multi-get cut the same way fails whole, it does not return the keys read so far.
            proxy.setMode({ _tag: "CutAfter", bytes })
            const many = yield* failureOf(m.getMany(["cut:missing", key]))
            expect(many._tag, `getMany cut after ${bytes} bytes`).toBe("MemcacheUnexpectedCloseError")
            proxy.setMode({ _tag: "Pass" })
            expect(yield* eventually(m.get(key))).toEqual(Option.some(value))
          }
          // A cut at the very end of the reply loses nothing.
          proxy.setMode({ _tag: "CutAfter", bytes: replyLength })
          expect(yield* m.get(key)).toEqual(Option.some(value))
          proxy.setMode({ _tag: "Pass" })
          yield* recovered(m, "cut:after")
        })
      )

      it.live("reset: a MemcacheConnectionError (reset) or MemcacheUnexpectedCloseError, then recovery", () =>
        Effect.gen(function* () {
          const proxy = yield* acquireProxy(server())
          const m = yield* MemcacheClient.make({ protocol, server: proxy.address })
          yield* m.set("reset:k", "v", { noreply: false })
          // A reset of an idle connection, then of one that has requests in flight, then of new connections.
          proxy.setMode({ _tag: "Reset" })
          for (let i = 0; i < 5; i++) {
            const e = yield* failureOf(m.get("reset:k"))
            expect(isResetLike(e), `${e._tag}: ${e.message}`).toBe(true)
          }
          proxy.setMode({ _tag: "Pass" })
          yield* recovered(m, "reset:after")

          proxy.setMode({ _tag: "Delay", millis: 200 })
          proxy.resetCounters()
          const fibers = yield* Effect.forEach(
            Array.from({ length: 10 }, () => "reset:k"),
            (k) => Effect.forkChild(Effect.exit(m.get(k)))
          )
          // Batching coalesces the 10 gets of one tick into one `get reset:k` request.
          yield* awaitRequests(proxy, `${getWord}reset:k`, 1)
          proxy.setMode({ _tag: "Reset" })
          for (const fiber of fibers) {
            const exit = yield* Fiber.join(fiber)
            expect(Exit.isFailure(exit)).toBe(true)
            if (Exit.isFailure(exit)) {
              const e = Cause.squash(exit.cause) as { readonly _tag: string }
              expect(isResetLike(e), e._tag).toBe(true)
            }
          }
          proxy.setMode({ _tag: "Pass" })
          yield* recovered(m, "reset:after2")
        })
      )

      it.live("garbled replies: MemcacheProtocolError, then recovery", () =>
        Effect.gen(function* () {
          const proxy = yield* acquireProxy(server())
          const m = yield* MemcacheClient.make({ protocol, server: proxy.address })
          yield* m.set("garble:k", "v", { noreply: false })
          proxy.setMode({ _tag: "Garble" })
          for (const call of [
            m.get("garble:k"),
            m.set("garble:k", "w", { noreply: false }),
            m.version(),
            m.incr("n", 1)
          ]) {
            const e = yield* failureOf<unknown, { readonly _tag: string }>(call)
            expect(e._tag, String(e)).toBe("MemcacheProtocolError")
          }
          proxy.setMode({ _tag: "Pass" })
          yield* recovered(m, "garble:after")
          // Garbling touches only replies: the set whose reply was garbled did reach memcached.
          expect(yield* m.get("garble:k")).toEqual(Option.some("w"))
        })
      )

      it.live("in-flight bound: with replies blackholed, no more than maxInFlight requests are written", () =>
        Effect.gen(function* () {
          const proxy = yield* acquireProxy(server())
          // Unbatched, so that each get is its own request on the wire.
          const m = yield* MemcacheClient.make({
            protocol,
            server: proxy.address,
            maxInFlight: 4,
            timeout: "20 seconds",
            batching: false
          })
          yield* m.version()
          proxy.resetCounters()
          proxy.setMode({ _tag: "Blackhole" })
          const fibers = yield* Effect.forEach(
            Array.from({ length: 60 }, (_, i) => `bound:${i}`),
            (k) => Effect.forkChild(m.get(k))
          )
          yield* awaitRequests(proxy, `${getWord}bound:`, 4)
          // Give the client every chance to write more than it may (it must not), then count what it wrote.
          yield* Effect.sleep("150 millis")
          expect(countLines(proxy.clientData(), getWord)).toBe(4)
          expect(proxy.acceptedConnections).toBe(0)
          yield* Effect.forEach(fibers, Fiber.interrupt, { discard: true })
          proxy.setMode({ _tag: "Pass" })
          yield* recovered(m, "bound:after")
        })
      )

      it.live("in-flight bound: hundreds of concurrent callers on maxInFlight 2 all complete", () =>
        Effect.gen(function* () {
          const proxy = yield* acquireProxy(server())
          const m = yield* MemcacheClient.make({ protocol, server: proxy.address, maxInFlight: 2 })
          const keys = Array.from({ length: 400 }, (_, i) => `wait:${i}`)
          yield* Effect.forEach(keys, (k, i) => m.set(k, valueFor(k, i % 50), { noreply: i % 2 === 0 }), {
            concurrency: "unbounded"
          })
          proxy.setMode({ _tag: "Delay", millis: 1 })
          const got = yield* Effect.forEach(keys, (k) => m.get(k), { concurrency: "unbounded" })
          expect(got).toEqual(keys.map((k, i) => Option.some(valueFor(k, i % 50))))
        })
      )
    })

    describe("server stopped and killed", () => {
      it.live("SIGSTOP: calls time out (operation); after SIGCONT the client works again", () =>
        Effect.gen(function* () {
          const server = yield* acquireServer()
          const m = yield* MemcacheClient.make({ protocol, server: server.address, timeout: "150 millis" })
          expect(yield* m.set("stop:k", "v", { noreply: false })).toBe(true)
          yield* Effect.promise(() => server.pause())
          for (const call of [m.get("stop:k"), m.get("stop:k"), m.set("stop:k", "w", { noreply: false })]) {
            const e = yield* failureOf<unknown, { readonly _tag: string }>(call)
            expect(e._tag, String(e)).toBe("MemcacheTimeoutError")
            expect((e as MemcacheError.MemcacheTimeoutError).phase).toBe("operation")
          }
          yield* Effect.promise(() => server.resume())
          yield* recovered(m, "stop:after")
        })
      )

      for (const batching of [false, true]) {
        it.live(
          `SIGSTOP for 300 ms: one call with a 50 ms timeout fails alone, its 50 neighbours get their values (batching ${batching})`,
          () =>
            Effect.gen(function* () {
              const server = yield* acquireServer()
              const m = yield* MemcacheClient.make({ protocol, server: server.address, batching })
              const keys = Array.from({ length: 50 }, (_, i) => `alone:${i}`)
              yield* Effect.forEach(keys, (k) => m.set(k, `v:${k}`, { noreply: false }))
              yield* m.set("alone:short", "short", { noreply: false })
              yield* Effect.promise(() => server.pause())
              const short = yield* Effect.forkChild(Effect.exit(m.get("alone:short", { timeout: "50 millis" })))
              const neighbours = yield* Effect.forkChild(
                Effect.forEach(keys, (k) => Effect.exit(m.get(k)), { concurrency: "unbounded" })
              )
              const shortExit = yield* Fiber.join(short)
              yield* Effect.sleep("250 millis") // the server stays stopped past the short call's timeout
              yield* Effect.promise(() => server.resume())
              expect(Exit.isFailure(shortExit) && Cause.squash(shortExit.cause)).toMatchObject({
                _tag: "MemcacheTimeoutError",
                phase: "operation"
              })
              const exits = yield* Fiber.join(neighbours)
              expect(exits).toEqual(keys.map((k) => Exit.succeed(Option.some(`v:${k}`))))
              expect(yield* m.get("alone:short")).toEqual(Option.some("short"))
            })
        )
      }

      it.live("kill -9 and restart on the same port: typed failures while down, success after, same layer", () =>
        Effect.gen(function* () {
          const server = yield* acquireServer()
          const m = yield* MemcacheClient.make({ protocol, server: server.address, timeout: "500 millis" })
          expect(yield* m.set("kill:k", "v", { noreply: false })).toBe(true)
          yield* Effect.promise(() => server.kill9())
          const seen = new Set<string>()
          for (let i = 0; i < 12; i++) {
            const e = yield* failureOf(m.get("kill:k"))
            const what = e._tag === "MemcacheConnectionError" ? `${e._tag}:${e.reason}` : e._tag
            expect([
              "MemcacheConnectionError:refused",
              "MemcacheConnectionError:backoff",
              "MemcacheConnectionError:reset",
              "MemcacheUnexpectedCloseError"
            ]).toContain(what)
            seen.add(what)
            yield* Effect.sleep("20 millis")
          }
          // While the server is down, connecting is refused, and the backoff makes later calls fail fast.
          expect(seen.has("MemcacheConnectionError:refused")).toBe(true)
          expect(seen.has("MemcacheConnectionError:backoff")).toBe(true)
          yield* Effect.promise(() => server.restart())
          yield* recovered(m, "kill:after")
          // A restarted memcached is empty.
          expect(yield* m.get("kill:k")).toEqual(Option.none())
        })
      )
    })

    describe("noreply", () => {
      it.live("a noreply set refused by the server (-I 1k) never shifts the replies of later requests", () =>
        Effect.gen(function* () {
          const server = yield* acquireServer({ args: ["-I", "1k", "-o", "slab_chunk_max=1024"] })
          const m = yield* MemcacheClient.make({ protocol, server: server.address, itemSizeMax: 64 * 1024 })
          const keys = Array.from({ length: 12 }, (_, i) => `nr:${i}`)
          yield* Effect.forEach(keys, (k) => m.set(k, valueFor(k, 100), { noreply: false }))
          for (let round = 0; round < 20; round++) {
            // One pipeline: gets, a noreply set too large for the server, more gets, another refused set, gets.
            const big = valueFor(`nr:big:${round}`, 2000 + round * 100)
            const results = yield* Effect.all(
              [
                ...keys.slice(0, 4).map((k) => m.get(k)),
                m.set("nr:big", big, { noreply: true }),
                ...keys.slice(4, 8).map((k) => m.get(k)),
                m.set(keys[round % 12]!, big, { noreply: true }),
                m.set(keys[round % 12]!, valueFor(keys[round % 12]!, 100), { noreply: true }),
                ...keys.slice(8).map((k) => m.get(k)),
                m.get("nr:big")
              ],
              { concurrency: "unbounded" }
            )
            const gets = [...results.slice(0, 4), ...results.slice(5, 9), ...results.slice(11, 15)]
            expect(gets).toEqual(keys.map((k) => Option.some(valueFor(k, 100))))
            expect(results[4]).toBeUndefined() // noreply: no outcome claimed
            expect(results[15]).toEqual(Option.none())
          }
          // The acknowledged form of the same set reports the server's refusal.
          const e = yield* failureOf(m.set("nr:big", valueFor("nr:big", 2000), { noreply: false }))
          expect(e._tag).toBe("MemcacheServerError")
          expect(yield* m.getMany(keys)).toEqual(new Map(keys.map((k) => [k, valueFor(k, 100)])))
        })
      )
    })

    describe("timeouts and interruptions never mis-pair replies", () => {
      const server = useMemcached()
      const KEYS = 16
      const keyOf = (i: number) => `pair:${i}`
      // Distinct values of different lengths: any reply handed to the wrong request is visible.
      const expected = (i: number) => valueFor(keyOf(i), 10 + i * 37)

      type Op =
        | { readonly _tag: "Plain"; readonly key: number; readonly at: number }
        | { readonly _tag: "EffectTimeout"; readonly key: number; readonly at: number; readonly millis: number }
        | { readonly _tag: "CallTimeout"; readonly key: number; readonly at: number; readonly millis: number }
        | { readonly _tag: "Interrupt"; readonly key: number; readonly at: number; readonly millis: number }
        | { readonly _tag: "Many"; readonly keys: ReadonlyArray<number>; readonly at: number }

      const key = fc.integer({ min: 0, max: KEYS - 1 })
      const at = fc.integer({ min: 0, max: 15 })
      const millis = fc.integer({ min: 0, max: 40 })
      const op: fc.Arbitrary<Op> = fc.oneof(
        fc.record({ _tag: fc.constant("Plain" as const), key, at }),
        fc.record({ _tag: fc.constant("EffectTimeout" as const), key, at, millis }),
        fc.record({ _tag: fc.constant("CallTimeout" as const), key, at, millis: fc.integer({ min: 1, max: 40 }) }),
        fc.record({ _tag: fc.constant("Interrupt" as const), key, at, millis }),
        fc.record({ _tag: fc.constant("Many" as const), keys: fc.array(key, { minLength: 1, maxLength: 5 }), at })
      )
      const round = fc.record({
        delay: fc.integer({ min: 0, max: 30 }),
        ops: fc.array(op, { minLength: 5, maxLength: 30 })
      })

      const allowedFailures = new Set([
        "MemcacheTimeoutError",
        "MemcacheConnectionError:aborted",
        "TimeoutError" // Effect.timeout's own
      ])

      it.live("random rounds of timeouts and interrupts on a delayed connection: every success is its own value", () =>
        Effect.gen(function* () {
          const proxy = yield* acquireProxy(server())
          const m = yield* MemcacheClient.make({ protocol, server: proxy.address, connections: 2 })
          yield* Effect.forEach(
            Array.from({ length: KEYS }, (_, i) => i),
            (i) => m.set(keyOf(i), expected(i), { noreply: false })
          )
          const tally = { ok: 0, failed: 0, interrupted: 0 }

          const check = (o: Op, exit: Exit.Exit<unknown, unknown>) => {
            if (Exit.isSuccess(exit)) {
              tally.ok++
              if (o._tag === "Many") {
                const unique = [...new Set(o.keys)]
                expect(exit.value).toEqual(new Map(unique.map((i) => [keyOf(i), expected(i)])))
              } else {
                expect(exit.value).toEqual(Option.some(expected(o.key)))
              }
              return
            }
            if (Cause.hasInterruptsOnly(exit.cause)) {
              tally.interrupted++
              return
            }
            tally.failed++
            const e = Cause.squash(exit.cause) as { readonly _tag: string; readonly reason?: string }
            const what = e._tag === "MemcacheConnectionError" ? `${e._tag}:${e.reason}` : e._tag
            expect(allowedFailures, `${o._tag}: ${String(e)}`).toContain(what)
          }

          const run = (o: Op): Effect.Effect<Exit.Exit<unknown, unknown>> => {
            const call: Effect.Effect<unknown, unknown> =
              o._tag === "Plain"
                ? m.get(keyOf(o.key))
                : o._tag === "EffectTimeout"
                  ? Effect.timeout(m.get(keyOf(o.key)), o.millis)
                  : o._tag === "CallTimeout"
                    ? m.get(keyOf(o.key), { timeout: o.millis })
                    : o._tag === "Many"
                      ? m.getMany(o.keys.map(keyOf))
                      : Effect.gen(function* () {
                          const fiber = yield* Effect.forkChild(m.get(keyOf(o.key)))
                          yield* Effect.sleep(o.millis)
                          yield* Fiber.interrupt(fiber)
                          return yield* Fiber.join(fiber)
                        })
            return Effect.exit(Effect.andThen(Effect.sleep(o.at), call))
          }

          yield* Effect.promise(() =>
            fc.assert(
              fc.asyncProperty(round, (plan) =>
                Effect.runPromise(
                  Effect.gen(function* () {
                    proxy.setMode({ _tag: "Delay", millis: plan.delay })
                    const exits = yield* Effect.forEach(plan.ops, run, { concurrency: "unbounded" })
                    for (let i = 0; i < plan.ops.length; i++) check(plan.ops[i]!, exits[i]!)
                  })
                )
              ),
              { numRuns: 60, endOnFailure: true }
            )
          )
          // The rounds exercised both outcomes: the property was not passed by failing (or succeeding) everything.
          expect(tally.ok).toBeGreaterThan(100)
          expect(tally.failed + tally.interrupted).toBeGreaterThan(50)
          proxy.setMode({ _tag: "Pass" })
          const all = yield* eventually(m.getMany(Array.from({ length: KEYS }, (_, i) => keyOf(i))))
          expect(all).toEqual(new Map(Array.from({ length: KEYS }, (_, i) => [keyOf(i), expected(i)])))
        })
      )
    })
  })
}
