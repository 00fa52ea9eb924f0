/**
 * The backend of the cluster layer: a member per server (its connections, behind its health accounting) and the
 * routing of keys to members by the distribution, with dead servers kept in the ring or taken out of it.
 *
 * @internal
 */
import type * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Distribution from "../Distribution.ts"
import { defaults, type Options, type ServerSpec } from "../MemcacheCluster.ts"
import { MemcacheIllegalInputError, type TransportError } from "../MemcacheError.ts"
import * as Address from "./Address.ts"
import type { Background } from "./Background.ts"
import { ClusterMember } from "./ClusterMember.ts"
import * as Servers from "./Servers.ts"
import { toMillis } from "./Settings.ts"
import type { Backend, Target } from "./Transport.ts"

const illegal = (field: string, reason: string) => new MemcacheIllegalInputError({ command: "layer", field, reason })

const nodeOf = (spec: ServerSpec, weight: number): Distribution.Node | string => {
  const address = Address.parse(spec.hashAs ?? spec.address)
  if (typeof address === "string") return address
  return address._tag === "Tcp"
    ? { host: address.host, port: address.port, weight }
    : { host: address.path, port: undefined, weight }
}

const deadScheduleOf = (dead: Options["deadTimeout"]): Schedule.Schedule<unknown, TransportError> =>
  dead === undefined
    ? Schedule.spaced(defaults.deadTimeoutMillis)
    : Schedule.isSchedule(dead)
      ? dead
      : Schedule.spaced(toMillis(dead))

/** The members of the cluster (their servers open lazily), or the first invalid option. */
export const make = Effect.fnUntraced(function* (options: Options, background: Background) {
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
  const health = {
    retryAttempts,
    retryTimeoutMillis:
      options.retryTimeout === undefined ? defaults.retryTimeoutMillis : toMillis(options.retryTimeout),
    deadSchedule: deadScheduleOf(options.deadTimeout)
  }
  const ring = { version: 0 }
  const onChange = () => {
    ring.version++
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
    const server = yield* Servers.make(spec.address, options, background)
    if (names.has(server.name)) return yield* illegal("servers", `${server.name} is listed twice`)
    names.add(server.name)
    members.push(new ClusterMember(server.target, node, health, background, onChange))
  }
  const targets = members.map((m) => m.target)
  const route =
    (options.deadServers ?? defaults.deadServers) === "keep"
      ? fixedRoute(members, distribution)
      : liveRoute(members, distribution, ring, background.clock)
  return { targets, route } satisfies Backend
})

/** The member a router picks; a custom scheme's out-of-range answer is a defect of the call, not a misroute. */
const pick = (
  ring: ReadonlyArray<ClusterMember>,
  route: Distribution.Router,
  distribution: Distribution.Distribution,
  key: string
): Target => {
  const index = route(key)
  const member = ring[index]
  if (member === undefined || !Number.isInteger(index)) {
    throw new RangeError(`the ${distribution.name} distribution chose server ${index} of ${ring.length}`)
  }
  return member.target
}

/** `deadServers: "keep"`: every key always goes to the same server, up or down. */
const fixedRoute = (members: ReadonlyArray<ClusterMember>, distribution: Distribution.Distribution) => {
  const router = distribution.make(members.map((m) => m.node))
  return (key: string): Target => pick(members, router, distribution, key)
}

/**
 * `deadServers: "remove"`: the ring of the servers not dead, rebuilt when one changes state or a dead one's probe
 * falls due (by the layer's clock); the routers of the live sets seen are kept, so a flapping server does not
 * rebuild them.
 */
const liveRoute = (
  members: ReadonlyArray<ClusterMember>,
  distribution: Distribution.Distribution,
  changes: { readonly version: number },
  clock: Clock.Clock
) => {
  const fixed = distribution.make(members.map((m) => m.node))
  const routers = new Map<string, Distribution.Router>()
  let ring = { version: -1, validUntil: 0, members, route: fixed }
  const current = (now: number) => {
    if (ring.version === changes.version && now < ring.validUntil) return ring
    const live = members.filter((m) => m.inRing(now))
    let validUntil = Infinity
    for (const m of members) validUntil = Math.min(validUntil, m.nextChangeAt)
    if (live.length === 0 || live.length === members.length) {
      // Nothing alive: keep the fixed ring, whose calls fail fast.
      ring = { version: changes.version, validUntil, members, route: fixed }
      return ring
    }
    const signature = live.map((m) => members.indexOf(m)).join(",")
    let route = routers.get(signature)
    if (route === undefined) {
      route = distribution.make(live.map((m) => m.node))
      // Bounded: many servers failing in turn must not keep a router for every combination.
      if (routers.size >= 64) routers.clear()
      routers.set(signature, route)
    }
    ring = { version: changes.version, validUntil, members: live, route }
    return ring
  }
  return (key: string): Target => {
    const { members: live, route } = current(clock.currentTimeMillisUnsafe())
    return pick(live, route, distribution, key)
  }
}
