/**
 * What the surface adds around a call: a client span by OpenTelemetry's database conventions (only when a tracing
 * backend is installed), metrics (only with `metrics: true`), retries of transport failures by the `retry`
 * schedule, and `ignoreErrors`' misses. Worked out once per layer and command name, not per call.
 *
 * @internal
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import type * as Schedule from "effect/Schedule"
import * as Tracer from "effect/Tracer"
import { isTransportError, type TransportError } from "../MemcacheError.ts"
import { CallServer, CommandMetrics, serverAttributes } from "./Metrics.ts"

/**
 * The span of a call, decided when the call runs: `around` wraps the call in it when `active()` says the running
 * fiber traces.
 *
 * @internal
 */
export interface Span {
  readonly active: () => boolean
  /** The call in its span; `server`, on a cluster, is the server its key went to (found as the call runs). */
  readonly around: <X, E>(effect: Effect.Effect<X, E>, server?: string) => Effect.Effect<X, E>
}

/** @internal */
export interface InstrumentOptions {
  readonly spans: boolean
  readonly metrics: boolean
  /** The one server of a single-server layer (`host:port` as configured), else `undefined`. */
  readonly server: string | undefined
  readonly retry: Schedule.Schedule<unknown, TransportError> | undefined
  readonly retryUnsafe: boolean
  readonly ignoreErrors: boolean
}

/**
 * Whether the running fiber has a tracer that records spans. With Effect's built-in tracer (no tracing backend
 * installed) nothing can observe a span, and making one costs as much as the rest of a small call, so it is
 * skipped, as Tracer.nativeTracer's documentation suggests. The fiber's cache holds the tracer resolved from its
 * context (undefined: the default, nativeTracer).
 */
const tracing = (): boolean => {
  const cache = Fiber.getCurrent()?.cache
  return cache?.tracerEnabled === true && cache.tracer !== undefined && cache.tracer !== Tracer.nativeTracer
}

/** `effect`, after giving the current span the attributes of `server`, when the fiber traces. */
const annotated = <X, E>(server: string, effect: Effect.Effect<X, E>): Effect.Effect<X, E> =>
  tracing() ? Effect.andThen(Effect.annotateCurrentSpan(serverAttributes(server)), effect) : effect

const statusCodes: Record<string, string> = {
  MemcacheClientError: "CLIENT_ERROR",
  MemcacheServerError: "SERVER_ERROR",
  MemcacheUnknownCommandError: "ERROR"
}

/** The failure's `error.type` (its `_tag`) and, for an error reply, its `db.response.status_code`. */
const failureAttributes = (e: unknown): Record<string, string> => {
  const tag = typeof e === "object" && e !== null ? (e as { _tag?: unknown })._tag : undefined
  if (typeof tag !== "string") return { "error.type": "_OTHER" }
  const code = statusCodes[tag]
  return code === undefined ? { "error.type": tag } : { "error.type": tag, "db.response.status_code": code }
}

/** The effect in a span that, on failure, carries the failure's attributes. */
const traced = <X, E, R>(
  effect: Effect.Effect<X, E, R>,
  name: string,
  options: Tracer.SpanOptions
): Effect.Effect<X, E, R> =>
  Effect.withSpan(
    Effect.tapError(effect, (e) => Effect.annotateCurrentSpan(failureAttributes(e))),
    name,
    options
  )

/** @internal */
export class Instrument {
  private readonly options: InstrumentOptions
  // Span options are built once per command name. No stack trace is captured: it costs a large share of a
  // small call, and a span named after the command says where it came from.
  private readonly spanOptions = new Map<string, Tracer.SpanOptions>()
  private readonly metricsOf = new Map<string, CommandMetrics>()
  private readonly server: Record<string, string | number>
  /** ` host:port` after the operation in a span's name: only where one server answers every call. */
  private readonly nameSuffix: string

  constructor(options: InstrumentOptions) {
    this.options = options
    this.server = serverAttributes(options.server)
    this.nameSuffix =
      this.server["server.address"] === undefined
        ? ""
        : ` ${this.server["server.address"]}:${this.server["server.port"]}`
  }

  private metrics(name: string): CommandMetrics {
    let metrics = this.metricsOf.get(name)
    if (metrics === undefined) {
      metrics = new CommandMetrics(name, this.options.server)
      this.metricsOf.set(name, metrics)
    }
    return metrics
  }

  private spanOf(name: string): Tracer.SpanOptions {
    let options = this.spanOptions.get(name)
    if (options === undefined) {
      options = {
        kind: "client",
        captureStackTrace: false,
        attributes: { "db.system.name": "memcached", "db.operation.name": name, ...this.server }
      }
      this.spanOptions.set(name, options)
    }
    return options
  }

  private retries(safe: boolean): boolean {
    return this.options.retry !== undefined && (safe || this.options.retryUnsafe)
  }

  /**
   * How a hot call may skip {@link around}: with a Span (spans on, no retry for it; the span is decided when the
   * call runs), with `null` (nothing to add), or not at all (`undefined`: a retry applies, so `around` wraps it).
   */
  hotPath(name: string, safe: boolean): Span | null | undefined {
    // With metrics on, every call goes through `around`: metrics off leaves the hot path as it was.
    if (this.retries(safe) || this.options.metrics) return undefined
    if (!this.options.spans) return null
    const options = this.spanOf(name)
    const spanName = name + this.nameSuffix
    const routed = this.options.server === undefined
    return {
      active: tracing,
      around: (effect, server) =>
        traced(routed && server !== undefined ? annotated(server, effect) : effect, spanName, options)
    }
  }

  /**
   * `effect`, a call of a cluster routed to `server` as it runs (its span and metrics were opened before): the
   * span gets the server's attributes when the fiber traces, and the metrics record under it (see
   * `Metrics.CallServer`). A single-server layer's spans and metrics name their server already: nothing to do.
   */
  toServer<X, E>(server: string, effect: Effect.Effect<X, E>): Effect.Effect<X, E> {
    if (this.options.server !== undefined) return effect
    if (this.options.metrics) {
      const fiber = Fiber.getCurrent()
      const slot = fiber === undefined ? undefined : Context.getOrUndefined(fiber.context, CallServer)
      if (slot !== undefined) slot.server = server
    }
    return this.options.spans ? annotated(server, effect) : effect
  }

  /**
   * The call with its retries, metrics and span; `keys` is the number of keys of a multi-key call (its span's
   * `db.operation.batch.size` when there are several).
   */
  around<X, E, R = never>(
    name: string,
    safe: boolean,
    effect: Effect.Effect<X, E, R>,
    keys?: number
  ): Effect.Effect<X, E, R> {
    const retried = this.retrying(safe, effect)
    const out = this.options.metrics ? this.metrics(name).around(retried, keys) : retried
    if (!this.options.spans) return out
    const options = this.spanOf(name)
    const spanName = name + this.nameSuffix
    return Effect.suspend(() =>
      tracing()
        ? traced(
            out,
            spanName,
            keys === undefined || keys < 2
              ? options
              : { ...options, attributes: { ...options.attributes, "db.operation.batch.size": keys } }
          )
        : out
    )
  }

  /** Retries transport failures by the `retry` schedule (safe calls only, unless `retryUnsafe`). */
  retrying<X, E, R = never>(safe: boolean, effect: Effect.Effect<X, E, R>): Effect.Effect<X, E, R> {
    const schedule = this.options.retry
    if (schedule === undefined || !this.retries(safe)) return effect
    // Only transport failures reach the schedule: with `retry({ while })` the user's schedule would still be
    // stepped (its taps and logs run) for a reply error that is never retried.
    const attempt: Effect.Effect<Effect.Effect<X, E>, E & TransportError, R> = Effect.matchEffect(effect, {
      onSuccess: (x) => Effect.succeed(Effect.succeed(x)),
      onFailure: (e) => (isTransportError(e) ? Effect.fail(e) : Effect.succeed(Effect.fail(e)))
    })
    return Effect.flatten(Effect.retry(attempt, schedule))
  }

  /** `ignoreErrors`: a failed read is a miss (logged), except a refused input. */
  orMiss<X, E extends { readonly _tag: string; readonly message: string }>(
    name: string,
    miss: X,
    effect: Effect.Effect<X, E>
  ): Effect.Effect<X, E> {
    if (!this.options.ignoreErrors) return effect
    // One line, naming the server once (in the error's message).
    return Effect.catch(effect, (e) =>
      e._tag === "MemcacheIllegalInputError"
        ? Effect.fail(e)
        : Effect.as(
            Effect.logWarning(`memcache ${name} failed, treated as a miss (ignoreErrors): ${e._tag}: ${e.message}`),
            miss
          )
    )
  }
}
