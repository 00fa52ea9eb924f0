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
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Distribution from "./Distribution.ts"
import * as Address from "./internal/Address.ts"
import type { Backend, Target } from "./internal/Backend.ts"
import { ClusterMember } from "./internal/ClusterMember.ts"
import * as Memcache from "./Memcache.ts"
import * as MemcacheClient from "./MemcacheClient.ts"
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
  /** `host:port`, `[::1]:port`, `host` (port 11211) or `unix:/path`. */
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

const toMillis = (input: Duration.Input): number => Duration.toMillis(Duration.fromInputUnsafe(input))

const nodeOf = (spec: ServerSpec, weight: number): Distribution.Node | string => {
  const address = Address.parse(spec.hashAs ?? spec.address)
  if (typeof address === "string") return address
  return address._tag === "Tcp"
    ? { host: address.host, port: address.port, weight }
    : { host: address.path, port: undefined, weight }
}

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
  Effect.map(makeBackend(options), (backend) => Memcache.make(backend, options))

const makeBackend = Effect.fnUntraced(function* (options: Options) {
  const distribution =
    typeof options.distribution === "string"
      ? Distribution.byName[options.distribution]
      : (options.distribution ?? Distribution.byName[defaults.distribution])
  if (distribution === undefined) {
    return yield* illegal("distribution", `"${String(options.distribution)}" is not one of rendezvous, ketama, modula`)
  }
  const specs = options.servers.map((s): ServerSpec => (typeof s === "string" ? { address: s } : s))
  if (specs.length === 0) return yield* illegal("servers", "at least one server is needed")
  const retryAttempts = options.retryAttempts ?? defaults.retryAttempts
  if (!Number.isInteger(retryAttempts) || retryAttempts < 0) {
    return yield* illegal("retryAttempts", `${retryAttempts} is not a non-negative integer`)
  }
  const dead = options.deadTimeout
  const deadSchedule: Schedule.Schedule<unknown, TransportError> = Schedule.isSchedule(dead)
    ? (dead as Schedule.Schedule<unknown, TransportError>)
    : Schedule.spaced(dead === undefined ? defaults.deadTimeoutMillis : toMillis(dead as Duration.Input))
  const health = {
    retryAttempts,
    retryTimeoutMillis:
      options.retryTimeout === undefined ? defaults.retryTimeoutMillis : toMillis(options.retryTimeout),
    deadSchedule
  }

  let version = 0
  const onChange = () => {
    version++
  }
  const members: Array<ClusterMember> = []
  const names = new Set<string>()
  for (const spec of specs) {
    if (spec.weight !== undefined && (!Number.isInteger(spec.weight) || spec.weight < 1)) {
      return yield* illegal("weight", `${spec.address}: ${spec.weight} is not a positive integer`)
    }
    if (spec.weight !== undefined && spec.weight !== 1 && !distribution.weighted) {
      return yield* illegal("weight", `${spec.address}: the ${distribution.name} distribution has no weights`)
    }
    const node = nodeOf(spec, spec.weight ?? 1)
    if (typeof node === "string") return yield* illegal("hashAs", node)
    const server = yield* MemcacheClient.makeServer(spec.address, options)
    if (names.has(server.name)) return yield* illegal("servers", `${server.name} is listed twice`)
    names.add(server.name)
    members.push(new ClusterMember(MemcacheClient.toTarget(server), node, health, onChange))
  }

  const pick = (ring: ReadonlyArray<ClusterMember>, route: Distribution.Router, key: string): Target => {
    const index = route(key)
    const member = ring[index]
    // A custom scheme's bug: a defect of the call, not a silent misroute.
    if (member === undefined || !Number.isInteger(index)) {
      throw new RangeError(`the ${distribution.name} distribution chose server ${index} of ${ring.length}`)
    }
    return member.target
  }

  const fixed = distribution.make(members.map((m) => m.node))
  const targets = members.map((m) => m.target)
  if ((options.deadServers ?? defaults.deadServers) === "keep") {
    return { targets, route: (key) => pick(members, fixed, key) } satisfies Backend
  }

  // deadServers "remove": the ring of the servers not dead, rebuilt when one changes state or a dead one's
  // probe falls due; the routers of the live sets seen are kept (a flapping server does not rebuild them).
  const routers = new Map<string, Distribution.Router>()
  let ring = { version: -1, validUntil: 0, members: members as ReadonlyArray<ClusterMember>, route: fixed }
  const current = (now: number) => {
    if (ring.version === version && now < ring.validUntil) return ring
    const live = members.filter((m) => m.inRing(now))
    let validUntil = Infinity
    for (const m of members) validUntil = Math.min(validUntil, m.nextChangeAt)
    if (live.length === 0 || live.length === members.length) {
      // Nothing alive: keep the fixed ring, whose calls fail fast.
      ring = { version, validUntil, members, route: fixed }
    } else {
      const signature = live.map((m) => members.indexOf(m)).join(",")
      let route = routers.get(signature)
      if (route === undefined) {
        route = distribution.make(live.map((m) => m.node))
        // Bounded: many servers failing in turn must not keep a router for every combination.
        if (routers.size >= 64) routers.clear()
        routers.set(signature, route)
      }
      ring = { version, validUntil, members: live, route }
    }
    return ring
  }
  return {
    targets,
    route: (key) => {
      const { members: live, route } = current(Date.now())
      return pick(live, route, key)
    }
  } satisfies Backend
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
        env: MemcacheClient.envSettings,
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
