/**
 * The client's metrics, by OpenTelemetry's database conventions where they name one: made with Effect's `Metric`,
 * so they land in whatever registry the program reads (`Metric.snapshot`, effect/observability's OTLP or
 * Prometheus exporters). Recorded only with the layer option `metrics: true`.
 *
 * @internal
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"

/** Buckets of `db.client.operation.duration`, in seconds: 50 µs doubling up to about 3.3 s. */
export const durationBoundaries: ReadonlyArray<number> = Metric.exponentialBoundaries({
  start: 0.00005,
  factor: 2,
  count: 18
})

/** The duration of each call, in seconds (OpenTelemetry's `db.client.operation.duration`). */
export const operationDuration = Metric.histogram("db.client.operation.duration", {
  description: "Duration of memcached client operations, in seconds",
  boundaries: durationBoundaries
})
/** Reads that found their key (get/gets: one per call; multi-key reads: one per key found). */
export const hits = Metric.counter("memcache.client.hits", { description: "Keys found by reads", incremental: true })
/** Reads that did not find their key. */
export const misses = Metric.counter("memcache.client.misses", {
  description: "Keys not found by reads",
  incremental: true
})
/** Failed calls, by `error.type` (the error's `_tag`). */
export const errors = Metric.counter("memcache.client.errors", { description: "Failed calls", incremental: true })
/** Calls sent and not yet answered. */
export const inFlight = Metric.counter("memcache.client.requests_in_flight", {
  description: "Calls in flight"
})

/** Connections open now, by server. */
export const openConnections = Metric.counter("memcache.client.connections.open", {
  description: "Open connections"
})
/** Connections opened to a server that had one before (after a loss). */
export const reconnects = Metric.counter("memcache.client.reconnects", { description: "Reconnects", incremental: true })
/** Cluster servers marked down (failing or dead), by server. */
export const markDowns = Metric.counter("memcache.client.cluster.mark_downs", {
  description: "Cluster servers marked down",
  incremental: true
})
/** Cluster servers back up after a mark-down. */
export const recoveries = Metric.counter("memcache.client.cluster.recoveries", {
  description: "Cluster servers recovered",
  incremental: true
})
/** Error replies to noreply writes (they fail no call: see `noreplyFailures`). */
export const noreplyFailures = Metric.counter("memcache.client.noreply_failures", {
  description: "Error replies to noreply writes",
  incremental: true
})

const events = { openConnections, reconnects, markDowns, recoveries, noreplyFailures }

/** A connection or cluster event counted by server. */
export type Event = keyof typeof events

/** Counts `by` of an event of a server. */
export const record = (event: Event, server: string, by: number): Effect.Effect<void> => {
  const attributes: Record<string, string> = { "db.system.name": "memcached" }
  for (const [k, v] of Object.entries(serverAttributes(server))) attributes[k] = String(v)
  return Metric.update(Metric.withAttributes(events[event], attributes), by)
}

/** The attributes of a server's address `host:port` (none for another form, such as a Unix socket path). */
export const serverAttributes = (name: string | undefined): Record<string, string | number> => {
  const match = name === undefined ? null : /^(.+):(\d+)$/.exec(name)
  if (match === null) return {}
  return { "server.address": match[1]!.replace(/^\[(.*)\]$/, "$1"), "server.port": Number(match[2]) }
}

/** The keys a read's answer found and missed (`undefined`: the answer is not a read's). */
const looked = (value: unknown, keys: number | undefined): readonly [number, number] | undefined => {
  if (Option.isOption(value)) return Option.isSome(value) ? [1, 0] : [0, 1]
  if (keys !== undefined && value instanceof Map) return [value.size, Math.max(0, keys - value.size)]
  return undefined
}

/**
 * Where a measured call on a cluster says which server its key went to (it is routed after the measurement
 * starts): provided around the call by {@link CommandMetrics.around}, filled in by `Instrument.toServer`.
 *
 * @internal
 */
export class CallServer extends Context.Service<CallServer, { server: string | undefined }>()(
  "@effect-memcache/client/internal/CallServer"
) {}

const isRead = (name: string): boolean => name === "get" || name === "gets" || name.startsWith("getMany")

/**
 * The metrics of one command, their attributes worked out once (per layer and command name).
 *
 * @internal
 */
export class CommandMetrics {
  // Metric attributes are strings (the port too).
  private readonly attributes: Record<string, string>
  private readonly duration: Metric.Metric<number, unknown>
  private readonly hits: Metric.Metric<number, unknown>
  private readonly misses: Metric.Metric<number, unknown>
  private readonly inFlight: Metric.Metric<number, unknown>
  private readonly read: boolean
  private readonly name: string
  /** On a cluster (no server for the layer): the metrics of each server a call went to, made on first use. */
  private readonly routed: Map<string, CommandMetrics> | undefined

  constructor(name: string, server: string | undefined) {
    this.name = name
    this.routed = server === undefined ? new Map() : undefined
    const at = serverAttributes(server)
    this.attributes = { "db.system.name": "memcached", "db.operation.name": name }
    for (const [k, v] of Object.entries(at)) this.attributes[k] = String(v)
    this.duration = Metric.withAttributes(operationDuration, this.attributes)
    this.hits = Metric.withAttributes(hits, this.attributes)
    this.misses = Metric.withAttributes(misses, this.attributes)
    this.inFlight = Metric.withAttributes(inFlight, this.attributes)
    this.read = isRead(name)
  }

  /** The call, measured: its duration, in-flight count, hits and misses (reads), or its error's type. */
  around<X, E, R = never>(effect: Effect.Effect<X, E, R>, keys: number | undefined): Effect.Effect<X, E, R> {
    return Effect.suspend(() => {
      const start = performance.now()
      const slot: { server: string | undefined } | undefined =
        this.routed === undefined ? undefined : { server: undefined }
      const measured = slot === undefined ? effect : Effect.provideService(effect, CallServer, slot)
      return Effect.andThen(
        Metric.update(this.inFlight, 1),
        Effect.onExit(measured, (exit) => {
          const into = slot?.server === undefined ? this : this.forServer(slot.server)
          return into.record(exit, (performance.now() - start) / 1000, keys, this.inFlight)
        })
      )
    })
  }

  /** This command's metrics with the attributes of one server of a cluster. */
  private forServer(server: string): CommandMetrics {
    let metrics = this.routed?.get(server)
    if (metrics === undefined) {
      metrics = new CommandMetrics(this.name, server)
      this.routed?.set(server, metrics)
    }
    return metrics
  }

  /** Records an exit into this command's metrics; `inFlight` is the gauge the call was counted in. */
  private record<X, E>(
    exit: Exit.Exit<X, E>,
    seconds: number,
    keys: number | undefined,
    inFlight: Metric.Metric<number, unknown>
  ): Effect.Effect<void> {
    const done = Metric.update(inFlight, -1)
    if (Exit.isFailure(exit)) {
      const type = errorType(exit)
      const attributes = { ...this.attributes, "error.type": type }
      return Effect.all(
        [
          done,
          Metric.update(Metric.withAttributes(operationDuration, attributes), seconds),
          Metric.update(Metric.withAttributes(errors, attributes), 1)
        ],
        { discard: true }
      )
    }
    const found = this.read ? looked(exit.value, keys) : undefined
    const steps = [done, Metric.update(this.duration, seconds)]
    if (found !== undefined) {
      if (found[0] > 0) steps.push(Metric.update(this.hits, found[0]))
      if (found[1] > 0) steps.push(Metric.update(this.misses, found[1]))
    }
    return Effect.all(steps, { discard: true })
  }
}

/** The `error.type` of a failed exit: the error's `_tag`, else `_OTHER` (OpenTelemetry's fallback). */
export const errorType = <X, E>(exit: Exit.Exit<X, E>): string => {
  const error = Exit.isFailure(exit) ? Option.getOrUndefined(Exit.findErrorOption(exit)) : undefined
  const tag = typeof error === "object" && error !== null ? (error as { _tag?: unknown })._tag : undefined
  return typeof tag === "string" ? tag : Exit.hasInterrupts(exit) ? "interrupted" : "_OTHER"
}
