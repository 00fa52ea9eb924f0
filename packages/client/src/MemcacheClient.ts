/**
 * The single-server layer: pymemcache's `Client`, pipelined. Connecting is lazy and retried, so building the
 * layer never fails or waits because memcached is away; closing the layer's scope closes every socket and
 * fails every pending request with a `closed` connection error.
 *
 * @since 0.1.0
 */

import type * as Tls from "node:tls"
import * as Config from "effect/Config"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import type * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Background from "./internal/Background.ts"
import * as Env from "./internal/Env.ts"
import * as ProxyRules from "./internal/ProxyRules.ts"
import type { ConnectFailure } from "./internal/Server.ts"
import * as Servers from "./internal/Servers.ts"
import * as Surface from "./internal/Surface.ts"
import * as Memcache from "./Memcache.ts"
import { MemcacheIllegalInputError } from "./MemcacheError.ts"

/**
 * Connection options of one server, shared by the cluster layer. Every default is listed.
 *
 * @example
 * ```ts
 * import type { MemcacheClient } from "@effect-memcache/client"
 * const o: MemcacheClient.ConnectionOptions = { connectTimeout: "500 millis", connections: 2 }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface ConnectionOptions {
  /** How long opening a connection (TCP, TLS handshake and authentication) may take. Default 1 second. */
  readonly connectTimeout?: Duration.Input | undefined
  /**
   * `TCP_NODELAY`. Default `true` (writes are already coalesced: the requests of a tick on a busy connection go out
   * in one write).
   */
  readonly noDelay?: boolean | undefined
  /** TCP keep-alive. Default `true`. */
  readonly keepAlive?: boolean | undefined
  /**
   * TLS (`memcached -Z`): `true` for the system's CAs, or node:tls options (`ca`, `servername`, ...). Default off,
   * except for a server written `memcaches://host:port`, which is reached over TLS (with these options when given;
   * `tls: false` with such an address is refused).
   */
  readonly tls?: boolean | Tls.ConnectionOptions | undefined
  /** ASCII authentication (`memcached -Y`). Both or neither. */
  readonly username?: string | undefined
  readonly password?: Redacted.Redacted<string> | undefined
  /** Pipelined connections per server; each request takes the least busy. Default 1. */
  readonly connections?: number | undefined
  /** Requests written and not yet answered, per connection; further callers wait. Default 1024. */
  readonly maxInFlight?: number | undefined
  /**
   * Paces reconnection after a failed attempt; while it waits, calls fail fast with a `backoff` connection
   * error. Default: exponential from 50 ms, capped at 5 s, jittered. An exhausted schedule starts over.
   */
  readonly reconnect?: Schedule.Schedule<unknown, ConnectFailure> | undefined
}

/**
 * A proxy the single server of {@link layer} stands for. Only `"twemproxy"` for now (twemproxy, Debian's
 * `nutcracker`); the union is open for `"mcrouter"` and `"memcached-proxy"` (memcached's built-in proxy), which
 * would need rules of their own (see the README's section on proxies).
 *
 * @example
 * ```ts
 * import type { MemcacheClient } from "@effect-memcache/client"
 * const proxy: MemcacheClient.ProxyKind = "twemproxy"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type ProxyKind = "twemproxy"

/**
 * Options of {@link layer}: the server, its connection and the command surface.
 *
 * @example
 * ```ts
 * import type { MemcacheClient } from "@effect-memcache/client"
 * const o: MemcacheClient.Options = { server: "127.0.0.1:11211", keyPrefix: "app:" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends ConnectionOptions, Memcache.SurfaceOptions {
  /**
   * `host:port`, `[::1]:port`, `host` (port 11211), `memcache://host:port`, `memcaches://host:port` (TLS) or
   * `unix:/path`. Default `127.0.0.1:11211`. Anything else (whitespace inside it, another scheme, a path) fails the
   * layer with a `MemcacheIllegalInputError` that says what to write.
   */
  readonly server?: string | undefined
  /**
   * What sits between the client and memcached, when it is not memcached itself. Default none. With
   * `"twemproxy"`:
   * - no meta command goes on the wire: twemproxy closes the connection on `mn`, which otherwise closes every run
   *   of noreply commands. Noreply commands are instead sent with their reply asked for: the call still completes
   *   as any noreply call does, without that reply, which is read and dropped (an error reply goes to `noreplyFailures`). Every request
   *   has its own reply, so an error line can never be taken for a later request's reply; the cost is a reply
   *   per write on the wire.
   * - the commands twemproxy does not forward (gat/gats, `stats` with or without arguments, flushAll,
   *   verbosity, cacheMemlimit, shutdown) fail with a `MemcacheIllegalInputError` (`field: "proxy"`) before
   *   anything is sent, and the connection stays up.
   * - `username`/`password` are refused: twemproxy does not authenticate.
   */
  readonly proxy?: ProxyKind | undefined
}

/**
 * The connection defaults, in milliseconds where a duration.
 *
 * @example
 * ```ts
 * import { MemcacheClient } from "@effect-memcache/client"
 * MemcacheClient.defaults.connectTimeoutMillis // 1000
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const defaults: typeof Servers.defaults = Servers.defaults

/**
 * The default reconnect schedule: exponential from 50 ms, capped at 5 s, jittered.
 *
 * @example
 * ```ts
 * import { MemcacheClient } from "@effect-memcache/client"
 * const layer = MemcacheClient.layer({ reconnect: MemcacheClient.defaultReconnect })
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultReconnect: Schedule.Schedule<unknown, ConnectFailure> = Servers.defaultReconnect

/**
 * Builds the service in the current scope, without a layer.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { MemcacheClient } from "@effect-memcache/client"
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const cache = yield* MemcacheClient.make({ server: "127.0.0.1:11211" })
 *     return yield* cache.version()
 *   })
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<Memcache.MemcacheShape<Memcache.Value>, MemcacheIllegalInputError, Scope.Scope> =>
  Effect.gen(function* () {
    const proxy = ProxyRules.rulesOf(options.proxy)
    if (options.username !== undefined && !proxy.forwardsAuth) {
      return yield* new MemcacheIllegalInputError({
        command: "layer",
        field: "username",
        reason: `${options.proxy} does not authenticate: leave out username and password`
      })
    }
    const background = Background.metered(yield* Background.make, options.metrics)
    const { target } = yield* Servers.make(options.server ?? defaults.server, options, background, proxy)
    return Surface.make({ targets: [target], route: () => target }, options, background, proxy)
  })

/**
 * The `Memcache` service over one server.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Memcache, MemcacheClient } from "@effect-memcache/client"
 * const program = Memcache.Memcache.use((m) => m.set("k", "v")).pipe(
 *   Effect.provide(MemcacheClient.layer({ server: "127.0.0.1:11211" }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<Memcache.Memcache, MemcacheIllegalInputError> =>
  Layer.effect(Memcache.Memcache, make(options))

/**
 * The layer, with its options from `Config` (each field a `Config`, or one `Config` of the whole).
 *
 * @example
 * ```ts
 * import { Config } from "effect"
 * import { MemcacheClient } from "@effect-memcache/client"
 * const layer = MemcacheClient.layerConfig({ server: Config.String("CACHE_ADDRESS") })
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
 * The options read from the environment, every variable optional:
 *
 * | variable | option |
 * | --- | --- |
 * | `MEMCACHE_SERVERS` | `server` (one address; for several, use `MemcacheCluster.layerEnv`) |
 * | `MEMCACHE_TIMEOUT` | `timeout` (a duration: `500 millis`, `2 seconds`) |
 * | `MEMCACHE_CONNECT_TIMEOUT` | `connectTimeout` |
 * | `MEMCACHE_KEY_PREFIX` | `keyPrefix` |
 * | `MEMCACHE_NOREPLY` | `defaultNoreply` (`true`/`false`) |
 * | `MEMCACHE_IGNORE_ERRORS` | `ignoreErrors` |
 * | `MEMCACHE_TLS` | `tls` (`true` for the system's CAs) |
 * | `MEMCACHE_USERNAME`, `MEMCACHE_PASSWORD` | ASCII authentication |
 * | `MEMCACHE_CONNECTIONS` | `connections` per server |
 * | `MEMCACHE_PROTOCOL` | `protocol` (`text` or `meta`) |
 *
 * No variable sets `proxy`: pass it in the options of {@link layerEnv} or {@link layer}.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { MemcacheClient } from "@effect-memcache/client"
 * const layer = Layer.unwrap(Effect.map(MemcacheClient.envConfig, MemcacheClient.layer))
 * ```
 *
 * @since 0.1.0
 * @category config
 */
export const envConfig: Config.Config<Options> = Env.settings.pipe(
  Config.map(
    ({ servers, options }): Options => (servers?.[0] === undefined ? options : { ...options, server: servers[0] })
  )
)

/**
 * The layer configured from the environment ({@link envConfig}), with `options` for what the environment does not
 * set (the environment wins). `MEMCACHE_SERVERS` with more than one address is refused (use
 * `MemcacheCluster.layerEnv`) rather than silently using the first.
 *
 * @example
 * ```ts
 * import { MemcacheClient } from "@effect-memcache/client"
 * const layer = MemcacheClient.layerEnv({ keyPrefix: "app:" })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerEnv = (
  options: Options = {}
): Layer.Layer<Memcache.Memcache, MemcacheIllegalInputError | Config.ConfigError> =>
  Layer.effect(
    Memcache.Memcache,
    Effect.flatMap(Env.settings, ({ servers, options: env }) =>
      servers !== undefined && servers.length > 1
        ? Effect.fail(
            new MemcacheIllegalInputError({
              command: "layer",
              field: "server",
              reason: `MEMCACHE_SERVERS lists ${servers.length} servers: use MemcacheCluster.layerEnv for several`
            })
          )
        : make({ ...options, ...env, ...(servers?.[0] === undefined ? {} : { server: servers[0] }) })
    )
  )
