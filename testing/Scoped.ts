/**
 * The harness as scoped Effects, for tests written with `it.live`/`it.effect`: a fault proxy, a memcached, a
 * twemproxy and a silent listener that close with the test's scope, and a raw `get` straight from a server.
 */
import * as net from "node:net"
import { Effect, type Scope } from "effect"
import { type FaultMode, type FaultProxy, startFaultProxy } from "./FaultProxy.ts"
import { type MemcachedOptions, type MemcachedServer, rawCommand, startMemcached } from "./Memcached.ts"
import { startTwemproxy, type TwemproxyOptions, type TwemproxyServer } from "./Twemproxy.ts"

/**
 * A fault proxy in front of `target` (in `mode`, default Pass), closed with the test's scope.
 *
 * @example
 * ```ts
 * const proxy = yield* acquireProxy(server())
 * ```
 */
export const acquireProxy = (
  target: { readonly host: string; readonly port: number },
  mode?: FaultMode
): Effect.Effect<FaultProxy, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() => startFaultProxy({ target, ...(mode === undefined ? {} : { mode }) })),
    (proxy) => Effect.promise(() => proxy.close())
  )

/**
 * A memcached of the test's own (for faults that would disturb other tests: SIGSTOP, kill -9, `-I`), stopped
 * with the test's scope.
 *
 * @example
 * ```ts
 * const server = yield* acquireServer({ args: ["-A"] })
 * ```
 */
export const acquireServer = (options?: MemcachedOptions): Effect.Effect<MemcachedServer, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() => startMemcached(options)),
    (server) => Effect.promise(() => server.stop())
  )

/**
 * A twemproxy of the test's own, in front of memcached servers of its own (for faults that would disturb other
 * tests: a killed server), stopped with the test's scope.
 *
 * @example
 * ```ts
 * const proxy = yield* acquireTwemproxy()
 * ```
 */
export const acquireTwemproxy = (options?: TwemproxyOptions): Effect.Effect<TwemproxyServer, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() => startTwemproxy(options)),
    (proxy) => Effect.promise(() => proxy.stop())
  )

/**
 * A TCP listener on 127.0.0.1 that accepts connections and never says a word, closed with the test's scope.
 *
 * @example
 * ```ts
 * const { address, accepted } = yield* silentListener
 * ```
 */
export const silentListener: Effect.Effect<
  { readonly address: string; readonly accepted: () => number },
  never,
  Scope.Scope
> = Effect.acquireRelease(
  Effect.promise(
    () =>
      new Promise<{ server: net.Server; sockets: Set<net.Socket>; address: string; accepted: () => number }>(
        (resolve) => {
          const sockets = new Set<net.Socket>()
          let accepted = 0
          const server = net.createServer((socket) => {
            accepted++
            sockets.add(socket)
            socket.on("error", () => {})
            socket.on("close", () => sockets.delete(socket))
          })
          server.listen({ port: 0, host: "127.0.0.1" }, () => {
            const port = (server.address() as net.AddressInfo).port
            resolve({ server, sockets, address: `127.0.0.1:${port}`, accepted: () => accepted })
          })
        }
      )
  ),
  ({ server, sockets }) =>
    Effect.promise(
      () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy()
          server.close(() => resolve())
        })
    )
)

/**
 * `get <key>` sent straight to a server (not through the client under test): the raw reply, up to `END`.
 *
 * @example
 * ```ts
 * expect(yield* rawGet(server(), "k")).toBe("VALUE k 0 1\r\nv\r\nEND\r\n")
 * ```
 */
export const rawGet = (server: MemcachedServer, key: string): Effect.Effect<string> =>
  Effect.promise(() =>
    rawCommand(server, `get ${key}\r\n`, { until: (b) => b.toString("latin1").endsWith("END\r\n") }).then((b) =>
      b.toString("latin1")
    )
  )
