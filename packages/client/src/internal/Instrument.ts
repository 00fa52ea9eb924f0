/**
 * What the surface adds around a call: a client span (only when a tracing backend is installed), retries of
 * transport failures by the `retry` schedule, and `ignoreErrors`' misses. Worked out once per layer and command
 * name, not per call.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import type * as Schedule from "effect/Schedule"
import * as Tracer from "effect/Tracer"
import { isTransportError, type TransportError } from "../MemcacheError.ts"

/**
 * The span of a call, decided when the call runs: `around` wraps the call in it when `active()` says the running
 * fiber traces.
 *
 * @internal
 */
export interface Span {
  readonly active: () => boolean
  readonly around: <X, E>(effect: Effect.Effect<X, E>) => Effect.Effect<X, E>
}

/** @internal */
export interface InstrumentOptions {
  readonly spans: boolean
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

/** @internal */
export class Instrument {
  private readonly options: InstrumentOptions
  // Span options are built once per command name. No stack trace is captured: it costs a large share of a
  // small call, and a span named after the command says where it came from.
  private readonly spanOptions = new Map<string, Tracer.SpanOptions>()

  constructor(options: InstrumentOptions) {
    this.options = options
  }

  private spanOf(name: string): Tracer.SpanOptions {
    let options = this.spanOptions.get(name)
    if (options === undefined) {
      options = {
        kind: "client",
        captureStackTrace: false,
        attributes: { "db.system.name": "memcached", "db.operation.name": name }
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
    if (this.retries(safe)) return undefined
    if (!this.options.spans) return null
    const options = this.spanOf(name)
    const spanName = `memcache.${name}`
    return { active: tracing, around: (effect) => Effect.withSpan(effect, spanName, options) }
  }

  /** The call with its retries and span; `keys` is the number of keys of a multi-key call. */
  around<X, E>(name: string, safe: boolean, effect: Effect.Effect<X, E>, keys?: number): Effect.Effect<X, E> {
    const out = this.retrying(safe, effect)
    if (!this.options.spans) return out
    const options = this.spanOf(name)
    const spanName = `memcache.${name}`
    return Effect.suspend(() =>
      tracing()
        ? Effect.withSpan(
            out,
            spanName,
            keys === undefined
              ? options
              : { ...options, attributes: { ...options.attributes, "db.memcached.key_count": keys } }
          )
        : out
    )
  }

  /** Retries transport failures by the `retry` schedule (safe calls only, unless `retryUnsafe`). */
  retrying<X, E>(safe: boolean, effect: Effect.Effect<X, E>): Effect.Effect<X, E> {
    const schedule = this.options.retry
    if (schedule === undefined || !this.retries(safe)) return effect
    // Only transport failures reach the schedule: with `retry({ while })` the user's schedule would still be
    // stepped (its taps and logs run) for a reply error that is never retried.
    const attempt: Effect.Effect<Effect.Effect<X, E>, E & TransportError> = Effect.matchEffect(effect, {
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
