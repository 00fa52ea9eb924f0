/**
 * What a layer does in the background belongs to it: closing the layer interrupts a connect in flight at once,
 * nothing logs after it closed, and reconnect backoff runs on Effect's Clock (so TestClock drives it).
 */
import * as net from "node:net"
import { describe, expect, it } from "@effect/vitest"
import { MemcacheClient } from "@effect-memcache/client"
import { Effect, Exit, Fiber, Logger, Redacted, Schedule, Scope } from "effect"
import { TestClock } from "effect/testing"
import { freePort } from "../../../testing/Memcached.ts"

/** A listener that accepts connections and never answers, and says when a client's socket closed. */
const mute = Effect.acquireRelease(
  Effect.promise(
    () =>
      new Promise<{ server: net.Server; address: string; sockets: Set<net.Socket> }>((resolve) => {
        const sockets = new Set<net.Socket>()
        const server = net.createServer((socket) => {
          sockets.add(socket)
          // Read (and drop) what the client sends, so its FIN is seen.
          socket.resume()
          socket.on("close", () => sockets.delete(socket))
          socket.on("error", () => {})
        })
        server.listen(0, "127.0.0.1", () => {
          const port = (server.address() as net.AddressInfo).port
          resolve({ server, address: `127.0.0.1:${port}`, sockets })
        })
      })
  ),
  ({ server, sockets }) =>
    Effect.promise(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy()
          server.close(() => resolve())
        })
    )
)

/** Polls until `done` holds (a real socket event, not a clock). */
const until = (done: () => boolean) =>
  Effect.promise(
    () =>
      new Promise<void>((resolve) => {
        const check = () => (done() ? resolve() : setTimeout(check, 5))
        check()
      })
  )

describe("layer lifecycle", () => {
  it.live("closing the layer interrupts a connect in flight at once: the call fails closed, the socket is closed", () =>
    Effect.gen(function* () {
      const listener = yield* mute
      const scope = yield* Scope.make()
      // Authentication is part of connecting: against a mute server it waits for the connect timeout (an hour).
      const cache = yield* MemcacheClient.make({
        server: listener.address,
        username: "user",
        password: Redacted.make("secret"),
        connectTimeout: "1 hour"
      }).pipe(Scope.provide(scope))
      const call = yield* Effect.forkChild(Effect.exit(cache.get("k")))
      yield* until(() => listener.sockets.size === 1)
      yield* Scope.close(scope, Exit.void)
      const exit = yield* Fiber.join(call)
      expect(exit).toEqual(Exit.fail(expect.objectContaining({ _tag: "MemcacheConnectionError", reason: "closed" })))
      yield* until(() => listener.sockets.size === 0)
    })
  )

  it.live("nothing logs after the layer is closed", () =>
    Effect.gen(function* () {
      const listener = yield* mute
      const logged: Array<{ readonly message: unknown; readonly afterClose: boolean }> = []
      let closed = false
      const collector = Logger.make((options) => {
        logged.push({ message: options.message, afterClose: closed })
      })
      const scope = yield* Scope.make()
      const cache = yield* MemcacheClient.make({
        server: listener.address,
        username: "user",
        password: Redacted.make("secret"),
        connectTimeout: "100 millis"
      }).pipe(Scope.provide(scope), Effect.provideService(Logger.CurrentLoggers, new Set([collector])))
      const call = yield* Effect.forkChild(Effect.exit(cache.get("k")))
      yield* until(() => listener.sockets.size === 1)
      closed = true
      yield* Scope.close(scope, Exit.void)
      yield* Fiber.join(call)
      // Past the connect timeout: an attempt left running would fail now and log its backoff.
      yield* Effect.sleep("300 millis")
      expect(logged.filter((entry) => entry.afterClose)).toEqual([])
    })
  )

  it.effect("reconnect backoff is paced by Effect's Clock", () =>
    Effect.gen(function* () {
      const port = yield* Effect.promise(() => freePort())
      const cache = yield* MemcacheClient.make({
        server: `127.0.0.1:${port}`,
        reconnect: Schedule.spaced("10 seconds")
      })
      const failure = Effect.map(Effect.flip(cache.get("k")), (e) => ("reason" in e ? e.reason : e._tag))
      expect(yield* failure).toBe("refused")
      expect(yield* failure).toBe("backoff")
      yield* TestClock.adjust("9 seconds")
      expect(yield* failure).toBe("backoff")
      yield* TestClock.adjust("1 second")
      // The schedule allows another attempt now: it reaches the (still closed) port.
      expect(yield* failure).toBe("refused")
    })
  )
})
