/**
 * The cluster layer: the same `Memcache` service over many servers, each key on the server a
 * {@link Distribution} names, so application code is the same for one server and for many.
 *
 * - Each server is a single-server client (`MemcacheClient`'s machinery): lazy connections, reconnects paced
 *   by `reconnect`, per-call timeouts. Nothing of that is repeated here.
 * - The surface routes each call by its key without the key prefix (or its `routingKey`); multi-key calls are
 *   split per server (and into bounded lines) and every part runs at once, each under the call's timeout.
 *   `getManyPartial` returns the hits of the servers that answered and the others' failures as data.
 * - Per server, a failure counter and a mark-down state, as pymemcache's `HashClient` (`retryAttempts`,
 *   `retryTimeout`, `deadTimeout`): while a server is down its calls fail fast with a `MemcacheConnectionError`
 *   of reason `down` (a miss for reads under `ignoreErrors`) instead of each waiting for a timeout, and one call
 *   at a time probes it (`version`) when the schedule allows.
 * - `deadServers`: `"keep"` (the default) keeps the ring fixed, so a dead server's keys fail (or miss) until it
 *   is back, and no key ever moves. `"remove"` (pymemcache's and libmemcached auto-eject's behaviour) routes a
 *   dead server's keys to the others meanwhile: they keep being cached, but they move twice, and when the
 *   server returns it may serve values that were overwritten or deleted elsewhere while it was away (stale
 *   reads, until they expire). Prefer `"keep"` unless misses cost more than stale values.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type * as Distribution from "./Distribution.ts"
import * as Background from "./internal/Background.ts"
import * as Cluster from "./internal/Cluster.ts"
import * as Env from "./internal/Env.ts"
import * as Surface from "./internal/Surface.ts"
import * as Memcache from "./Memcache.ts"
import type * as MemcacheClient from "./MemcacheClient.ts"
import { MemcacheIllegalInputError, type TransportError } from "./MemcacheError.ts"

/**
 * One server of the cluster, when it needs more than its address.
 *
 * @example
 * ```ts
 * import type { MemcacheCluster } from "@effect-memcache/client"
 * const s: MemcacheCluster.ServerSpec = { address: "10.0.0.1:11211", weight: 2 }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface ServerSpec {
  /**
   * `host:port`, `[::1]:port`, `host` (port 11211), `memcache://host:port`, `memcaches://host:port` (TLS) or
   * `unix:/path`. The scheme does not change where keys go: `memcache://h:1` is hashed as `h:1`.
   */
  readonly address: string
  /** The relative weight, a positive integer; only weighted schemes (ketama) take one. Default 1. */
  readonly weight?: number | undefined
  /**
   * The address the other clients of the fleet know this server by, hashed instead of `address` (for example
   * the host name they use where this client has an IP, or the real address behind a local tunnel). Default
   * `address`.
   */
  readonly hashAs?: string | undefined
}

/**
 * Options of {@link layer}: the servers, the scheme, failure handling, each server's connection (as
 * `MemcacheClient`) and the command surface. Every default is listed.
 *
 * @example
 * ```ts
 * import type { MemcacheCluster } from "@effect-memcache/client"
 * const o: MemcacheCluster.Options = {
 *   servers: ["10.0.0.1:11211", "10.0.0.2:11211"],
 *   distribution: "ketama",
 *   deadTimeout: "10 seconds"
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends MemcacheClient.ConnectionOptions, Memcache.SurfaceOptions {
  /** The servers, at least one; order matters to `modula` and to admin calls without `server` (the first). */
  readonly servers: ReadonlyArray<string | ServerSpec>
  /** The routing scheme, or a built-in one's name. Default `"rendezvous"` (pymemcache's `HashClient`). */
  readonly distribution?: Distribution.Distribution | Distribution.Name | undefined
  /** What happens to a dead server's keys: see the module documentation. Default `"keep"`. */
  readonly deadServers?: "keep" | "remove" | undefined
  /**
   * pymemcache's `retry_attempts`: after a server's first failure, how many failed retries (probes) mark it
   * dead; 0 marks it dead at once. Default 2.
   */
  readonly retryAttempts?: number | undefined
  /**
   * pymemcache's `retry_timeout`: after a failure, how long the server's calls fail fast before one call
   * retries it. Default 1 second.
   */
  readonly retryTimeout?: Duration.Input | undefined
  /**
   * pymemcache's `dead_timeout`: how long a dead server's calls fail fast before one call probes it again, or a
   * schedule of those delays (each failed probe takes the next one; an exhausted schedule starts over), such as
   * `Schedule.exponential("1 second")`. Default 60 seconds, as pymemcache.
   */
  readonly deadTimeout?: Duration.Input | Schedule.Schedule<unknown, TransportError> | undefined
}

/**
 * The cluster's defaults, in milliseconds where a duration.
 *
 * @example
 * ```ts
 * import { MemcacheCluster } from "@effect-memcache/client"
 * MemcacheCluster.defaults.retryAttempts // 2
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const defaults = {
  distribution: "rendezvous",
  deadServers: "keep",
  retryAttempts: 2,
  retryTimeoutMillis: 1000,
  deadTimeoutMillis: 60_000
} as const

const illegal = (field: string, reason: string) => new MemcacheIllegalInputError({ command: "layer", field, reason })

/**
 * Builds the service over every server in the current scope, without a layer. Connections open lazily, so
 * this never waits for or fails because of a server; it fails only on invalid options.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { MemcacheCluster } from "@effect-memcache/client"
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const cache = yield* MemcacheCluster.make({ servers: ["127.0.0.1:11211", "127.0.0.1:11212"] })
 *     return yield* cache.getMany(["a", "b", "c"])
 *   })
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<Memcache.MemcacheShape<Memcache.Value>, MemcacheIllegalInputError, Scope.Scope> =>
  Effect.gen(function* () {
    const background = Background.metered(yield* Background.make, options.metrics)
    const backend = yield* Cluster.make(options, background)
    return Surface.make(backend, options, background)
  })

/**
 * The `Memcache` service over a cluster of servers.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Memcache, MemcacheCluster } from "@effect-memcache/client"
 * const program = Memcache.Memcache.use((m) => m.set("k", "v")).pipe(
 *   Effect.provide(
 *     MemcacheCluster.layer({ servers: ["10.0.0.1:11211", "10.0.0.2:11211"], distribution: "ketama" })
 *   )
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<Memcache.Memcache, MemcacheIllegalInputError> =>
  Layer.effect(Memcache.Memcache, make(options))

/**
 * The layer, with its options from `Config` (each field a `Config`, or one `Config` of the whole).
 *
 * @example
 * ```ts
 * import { Config, Schema } from "effect"
 * import { MemcacheCluster } from "@effect-memcache/client"
 * const layer = MemcacheCluster.layerConfig({
 *   servers: Config.Array(Schema.String, "MEMCACHE_SERVERS"),
 *   distribution: Config.Literals(["rendezvous", "ketama", "modula"], "MEMCACHE_DISTRIBUTION")
 * })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Wrap<Options>
): Layer.Layer<Memcache.Memcache, MemcacheIllegalInputError | Config.ConfigError> =>
  Layer.effect(Memcache.Memcache, Effect.flatMap(Config.unwrap(options), make))

/**
 * The cluster layer configured from the environment: the servers of `MEMCACHE_SERVERS` (comma-separated,
 * required unless `options.servers` is given), the scheme of `MEMCACHE_DISTRIBUTION` (`rendezvous`, `ketama`,
 * `modula`), and every variable `MemcacheClient.envConfig` reads. The environment wins over `options`.
 *
 * @example
 * ```ts
 * import { MemcacheCluster } from "@effect-memcache/client"
 * // MEMCACHE_SERVERS=10.0.0.1:11211,10.0.0.2:11211 MEMCACHE_DISTRIBUTION=ketama
 * const layer = MemcacheCluster.layerEnv({ keyPrefix: "app:" })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerEnv = (
  options: Partial<Options> = {}
): Layer.Layer<Memcache.Memcache, MemcacheIllegalInputError | Config.ConfigError> =>
  Layer.effect(
    Memcache.Memcache,
    Effect.flatMap(
      Config.all({
        env: Env.settings,
        distribution: Config.option(Config.Literals(["rendezvous", "ketama", "modula"], "MEMCACHE_DISTRIBUTION"))
      }),
      ({ env, distribution }) => {
        const servers = env.servers ?? options.servers
        if (servers === undefined || servers.length === 0) {
          return Effect.fail(illegal("servers", "MEMCACHE_SERVERS is not set and no servers were given"))
        }
        return make({
          ...options,
          ...env.options,
          servers,
          ...(Option.isSome(distribution) ? { distribution: distribution.value } : {})
        })
      }
    )
  )
