/**
 * The single-server layer: pymemcache's `Client`, pipelined. Connecting is lazy and retried, so building the
 * layer never fails or waits because memcached is away; closing the layer's scope closes every socket and
 * fails every pending request with a `closed` connection error.
 *
 * @since 0.1.0
 */

import type * as Tls from "node:tls"
import * as Validation from "@effect-memcache/protocol/Validation"
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Address from "./internal/Address.ts"
import type { Backend, Target } from "./internal/Backend.ts"
import { type ConnectFailure, Server } from "./internal/Server.ts"
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
  /** `TCP_NODELAY`. Default `true` (writes are already coalesced per tick). */
  readonly noDelay?: boolean | undefined
  /** TCP keep-alive. Default `true`. */
  readonly keepAlive?: boolean | undefined
  /** TLS (`memcached -Z`): `true` for the system's CAs, or node:tls options (`ca`, `servername`, ...). Default off. */
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
  /** `host:port`, `[::1]:port`, `host` (port 11211) or `unix:/path`. Default `127.0.0.1:11211`. */
  readonly server?: string | undefined
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
export const defaults = {
  server: "127.0.0.1:11211",
  connectTimeoutMillis: 1000,
  noDelay: true,
  keepAlive: true,
  connections: 1,
  maxInFlight: 1024
} as const

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
export const defaultReconnect: Schedule.Schedule<unknown, ConnectFailure> = Schedule.min([
  Schedule.exponential("50 millis"),
  Schedule.spaced("5 seconds")
]).pipe(Schedule.jittered)

/**
 * Opens (lazily) the connections to one server in the current scope.
 *
 * @internal
 */
export const makeServer = Effect.fnUntraced(function* (
  server: string,
  options: ConnectionOptions & Pick<Memcache.SurfaceOptions, "itemSizeMax">
) {
  const address = Address.parse(server)
  if (typeof address === "string") {
    return yield* new MemcacheIllegalInputError({ command: "layer", field: "server", reason: address })
  }
  if ((options.username === undefined) !== (options.password === undefined)) {
    return yield* new MemcacheIllegalInputError({
      command: "layer",
      field: "username",
      reason: "username and password go together"
    })
  }
  const context = yield* Effect.context<never>()
  const itemSizeMax = options.itemSizeMax ?? Memcache.defaults.itemSizeMax
  const instance = new Server(
    address,
    {
      connectTimeoutMillis:
        options.connectTimeout === undefined
          ? defaults.connectTimeoutMillis
          : Duration.toMillis(Duration.fromInputUnsafe(options.connectTimeout)),
      noDelay: options.noDelay ?? defaults.noDelay,
      keepAlive: options.keepAlive ?? defaults.keepAlive,
      tls: options.tls === undefined || options.tls === false ? undefined : options.tls === true ? {} : options.tls,
      maxInFlight: Math.max(1, options.maxInFlight ?? defaults.maxInFlight),
      // A reply can hold a value up to the server's item size; the decoder refuses anything larger.
      maxValueLength: itemSizeMax + 1024,
      auth:
        options.username === undefined || options.password === undefined
          ? undefined
          : { username: options.username, password: options.password },
      connections: options.connections ?? defaults.connections,
      reconnect: options.reconnect ?? defaultReconnect
    },
    context
  )
  yield* Effect.addFinalizer(() => Effect.sync(() => instance.close()))
  return instance
})

/**
 * The backend of one server.
 *
 * @internal
 */
export const toTarget = (server: Server): Target => ({
  name: server.name,
  request: (command, expectation, timeoutMillis) => server.request(command, expectation, timeoutMillis),
  submit: (request) => server.submit(request),
  quit: server.quit(Validation.quit)
})

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
  Effect.map(makeServer(options.server ?? defaults.server, options), (server) => {
    const target = toTarget(server)
    const backend: Backend = { targets: [target], route: () => target }
    return Memcache.make(backend, options)
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
 * What the environment says: the servers of `MEMCACHE_SERVERS` (comma-separated) and every other option.
 * Shared with `MemcacheCluster.layerEnv`.
 *
 * @internal
 */
export const envSettings: Config.Config<{
  readonly servers: ReadonlyArray<string> | undefined
  readonly options: Options
}> = Config.all({
  servers: Config.option(Config.String("MEMCACHE_SERVERS")),
  timeout: Config.option(Config.Duration("MEMCACHE_TIMEOUT")),
  connectTimeout: Config.option(Config.Duration("MEMCACHE_CONNECT_TIMEOUT")),
  keyPrefix: Config.option(Config.String("MEMCACHE_KEY_PREFIX")),
  defaultNoreply: Config.option(Config.Boolean("MEMCACHE_NOREPLY")),
  ignoreErrors: Config.option(Config.Boolean("MEMCACHE_IGNORE_ERRORS")),
  tls: Config.option(Config.Boolean("MEMCACHE_TLS")),
  username: Config.option(Config.String("MEMCACHE_USERNAME")),
  password: Config.option(Config.Redacted("MEMCACHE_PASSWORD")),
  connections: Config.option(Config.Int("MEMCACHE_CONNECTIONS"))
}).pipe(
  Config.map((c) => {
    const options: Record<string, unknown> = {}
    for (const key of [
      "timeout",
      "connectTimeout",
      "keyPrefix",
      "defaultNoreply",
      "ignoreErrors",
      "tls",
      "username",
      "password",
      "connections"
    ] as const) {
      const value: Option.Option<unknown> = c[key]
      if (Option.isSome(value)) options[key] = value.value
    }
    const servers = Option.isSome(c.servers)
      ? c.servers.value
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s !== "")
      : undefined
    return { servers, options: options as Options }
  })
)

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
export const envConfig: Config.Config<Options> = envSettings.pipe(
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
    Effect.flatMap(envSettings, ({ servers, options: env }) =>
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
