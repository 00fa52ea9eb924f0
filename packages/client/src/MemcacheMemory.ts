/**
 * The in-memory layer: the same `Memcache` service, over a fake memcached 1.6.18 that lives in the process. It
 * is built on the same command surface as the real client (the same surface over another backend), so key rules,
 * noreply defaults, serializers, `ignoreErrors`, the key prefix and the typed errors are the real client's, not a
 * copy; only the server is simulated: expiry (by Effect's `Clock`, so `TestClock.adjust` expires items), CAS
 * uniques, incr/decr with the server's exact quirks, the item size limit, append/prepend, touch and gat,
 * `flush_all` with and without a delay, stats, and the meta commands, recache leases and invalidation included
 * (`mg` with `N` or `R` and the `W`/`Z`/`X` flags, `md` and `ms` with `I`). A conformance suite runs the same
 * tests against this layer and a real memcached.
 *
 * Extras for tests: a memory limit with LRU eviction, and faults (fail, delay or answer chosen commands) to
 * exercise error handling.
 *
 * @since 0.1.0
 */
import type * as Command from "@effect-memcache/protocol/Command"
import type * as Reply from "@effect-memcache/protocol/Reply"
import * as Clock from "effect/Clock"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Background from "./internal/Background.ts"
import { MemoryServer } from "./internal/MemoryServer.ts"
import * as MemoryTarget from "./internal/MemoryTarget.ts"
import * as Surface from "./internal/Surface.ts"
import * as Memcache from "./Memcache.ts"
import type { TransportError } from "./MemcacheError.ts"

/**
 * The name of a command, as a fault rule is keyed: the text verbs, `flush_all`, `cache_memlimit`, and the meta
 * commands by their two letters. `getMany` sends `get`, `setMany` sends `set`, `deleteMany` sends `delete`.
 *
 * @example
 * ```ts
 * import type { MemcacheMemory } from "@effect-memcache/client"
 * const name: MemcacheMemory.CommandName = "gets"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type CommandName = Command.Verb

/**
 * What happens to a command instead of (or before) the server answering it. Fields combine: the delay comes
 * first, then `fail` or `reply`. A command that fails, times out or gets a made-up reply is not applied.
 *
 * @example
 * ```ts
 * import { MemcacheError, type MemcacheMemory } from "@effect-memcache/client"
 * const down: MemcacheMemory.Fault = {
 *   fail: new MemcacheError.MemcacheConnectionError({ server: "memory", reason: "refused", detail: "test" })
 * }
 * const slow: MemcacheMemory.Fault = { delay: "5 seconds" } // past the call's timeout: MemcacheTimeoutError
 * const full: MemcacheMemory.Fault = { reply: { _tag: "ServerError", text: "out of memory storing object" } }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Fault {
  /**
   * Wait this long (on Effect's `Clock`) before the command reaches the server. A delay that reaches the call's
   * timeout fails the call with `MemcacheTimeoutError` (phase `operation`) at the timeout, as a real connection
   * does, and the command is never applied.
   */
  readonly delay?: Duration.Input | undefined
  /** Fail the call with this transport error. */
  readonly fail?: TransportError | undefined
  /**
   * Answer with this reply instead of the server's, such as `{ _tag: "ServerError", text: "out of memory
   * storing object" }`: error replies become the typed errors the real server's would.
   */
  readonly reply?: Reply.Reply | undefined
}

/**
 * Which commands get a {@link Fault}: a fault per command name, or a function consulted for every command
 * (return `undefined` to let it through). A function can close over mutable state to fail only the next call.
 *
 * @example
 * ```ts
 * import { MemcacheError, type MemcacheMemory } from "@effect-memcache/client"
 * let failNext = true
 * const faults: MemcacheMemory.Faults = (_command, name) => {
 *   if (name !== "get" || !failNext) return undefined
 *   failNext = false
 *   return { fail: new MemcacheError.MemcacheTimeoutError({ server: "memory", phase: "operation", millis: 1 }) }
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Faults =
  | { readonly [K in CommandName]?: Fault | undefined }
  | ((command: Command.Command, name: CommandName) => Fault | undefined)

/**
 * Options of the simulated server (memcached's command-line options).
 *
 * @example
 * ```ts
 * import type { MemcacheMemory } from "@effect-memcache/client"
 * const o: MemcacheMemory.ServerOptions = { itemSizeMax: 1024, memoryLimit: 64 * 1024 }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface ServerOptions {
  /**
   * The item size limit (`-I`), in bytes, default 1048576. As on memcached it counts the whole item: the largest
   * value is `itemSizeMax - 59 - keyBytes`, 4 bytes less when the flags are not 0; a larger one gets
   * `SERVER_ERROR object too large for cache` (and a too-large `set` deletes the old value).
   */
  readonly itemSizeMax?: number | undefined
  /**
   * A memory limit in bytes (items counted as memcached counts them: 59 + key + value, + 4 with flags). Past it,
   * the least recently used items are evicted (the `evictions` stat counts them); an item larger than the limit
   * gets `SERVER_ERROR out of memory storing object`. Default: no limit (and `limit_maxbytes` reports 64 MiB).
   * `cacheMemlimit(mb)` changes it.
   */
  readonly memoryLimit?: number | undefined
  /** What `version` answers. Default `"1.6.18-memory"`. */
  readonly version?: string | undefined
}

/**
 * A simulated memcached: one keyspace, shared by every client built over it with `server` (as several clients of
 * one memcached process).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { MemcacheMemory } from "@effect-memcache/client"
 * const program = Effect.gen(function* () {
 *   const server = yield* MemcacheMemory.makeServer({ itemSizeMax: 1024 })
 *   const a = yield* MemcacheMemory.make({ server, keyPrefix: "a:" })
 *   const b = yield* MemcacheMemory.make({ server })
 *   yield* a.set("k", "v")
 *   return yield* b.get("a:k") // Option.some("v")
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Server {
  readonly [ServerTypeId]: typeof ServerTypeId
  /** The server's name in errors (and `ServerOptions.server` of the admin calls). */
  readonly name: string
  /** The number of items held, expired ones not yet reclaimed included (memcached's `curr_items`). */
  readonly size: number
}

/**
 * Marks a {@link Server} made by {@link makeServer}.
 *
 * @since 0.1.0
 * @category symbols
 */
export const ServerTypeId = "~@effect-memcache/client/MemcacheMemory/Server" as const

/** The simulated server behind each public {@link Server}. */
const simulations = new WeakMap<Server, MemoryServer>()

const simulationOf = (server: Server): MemoryServer => {
  const simulation = simulations.get(server)
  // Only makeServer makes a Server (its type id says so), and it registers each one.
  if (simulation === undefined) throw new TypeError("MemcacheMemory: a Server must come from makeServer")
  return simulation
}

/**
 * Options of {@link make} and {@link layer}: the command surface's, the simulated server's, and faults.
 *
 * @example
 * ```ts
 * import type { MemcacheMemory } from "@effect-memcache/client"
 * const o: MemcacheMemory.Options = { keyPrefix: "test:", memoryLimit: 1024 * 1024 }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends Memcache.SurfaceOptions, ServerOptions {
  /**
   * Use this server instead of a fresh one (to share a keyspace between clients). Its own options then apply;
   * `itemSizeMax` here is only the client's check. Default: a new server.
   */
  readonly server?: Server | undefined
  /** Commands to fail, delay or answer differently (see {@link Fault}). Default none. */
  readonly faults?: Faults | undefined
}

/**
 * The defaults of the simulated server.
 *
 * @example
 * ```ts
 * import { MemcacheMemory } from "@effect-memcache/client"
 * MemcacheMemory.defaults.version // "1.6.18-memory"
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const defaults = {
  name: "memory",
  version: "1.6.18-memory",
  itemSizeMax: Memcache.defaults.itemSizeMax
} as const

/**
 * Creates a simulated memcached (its uptime counts from Effect's `Clock` now).
 *
 * @example
 * ```ts
 * import { MemcacheMemory } from "@effect-memcache/client"
 * const server = MemcacheMemory.makeServer({ memoryLimit: 1024 * 1024 })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeServer = (options: ServerOptions = {}): Effect.Effect<Server> =>
  Effect.map(Clock.currentTimeMillis, (now) => {
    const simulation = new MemoryServer(
      {
        itemSizeMax: options.itemSizeMax ?? defaults.itemSizeMax,
        memoryLimit: options.memoryLimit,
        version: options.version ?? defaults.version
      },
      Math.floor(now / 1000)
    )
    const server: Server = {
      [ServerTypeId]: ServerTypeId,
      name: defaults.name,
      get size() {
        return simulation.size
      }
    }
    simulations.set(server, simulation)
    return server
  })

/**
 * Builds the service over a simulated server (a new one, or `options.server`), without a layer.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { MemcacheMemory } from "@effect-memcache/client"
 * const program = Effect.gen(function* () {
 *   const cache = yield* MemcacheMemory.make()
 *   yield* cache.set("k", "v")
 *   return yield* cache.get("k")
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<Memcache.MemcacheShape<Memcache.Value>, never, Scope.Scope> =>
  Effect.gen(function* () {
    const server = options.server ?? (yield* makeServer(options))
    const simulation = simulationOf(server)
    const background = Background.metered(yield* Background.make, options.metrics)
    const target = MemoryTarget.make(server.name, simulation, options.faults, background)
    return Surface.make(
      { targets: [target], route: () => target },
      { ...options, itemSizeMax: options.itemSizeMax ?? simulation.options.itemSizeMax },
      background
    )
  })

/**
 * The `Memcache` service over a fresh simulated server (or `options.server`), for tests and local development.
 *
 * @example
 * ```ts
 * import { Effect, Option } from "effect"
 * import { TestClock } from "effect/testing"
 * import { Memcache, MemcacheMemory } from "@effect-memcache/client"
 * const program = Effect.gen(function* () {
 *   const cache = yield* Memcache.Memcache
 *   yield* cache.set("session", "abc", { ttl: "10 seconds" })
 *   yield* TestClock.adjust("11 seconds")
 *   return Option.isNone(yield* cache.get("session")) // true
 * }).pipe(Effect.provide(MemcacheMemory.layer()))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<Memcache.Memcache> =>
  Layer.effect(Memcache.Memcache, make(options))
