/**
 * Runs a workload inside one Effect program, the way this project's users drive it: the whole closed loop as one
 * `Effect.forEach(items, op, { concurrency: N })` (`"unbounded"` inside a W7 burst).
 *
 * Two clients run this program:
 * - this project: `MemcacheClient.layer` for the service (`MemcacheCluster.layer` with its defaults for several
 *   servers), `Serializer.bytes` for raw byte values;
 * - `reference-effect`: the reference client ({@link RawClient}) with each call wrapped in one `Effect.callback`,
 *   the least any client driven from Effect can cost, so that this project's distance from the reference can be
 *   split into what Effect's own loop costs and what the client adds.
 *
 * @since 0.1.0
 */

import { performance } from "node:perf_hooks"
import { Memcache, MemcacheClient, MemcacheCluster, Serializer } from "@effect-memcache/client"
import { Effect, Option, Tracer } from "effect"
import { identity } from "effect/Function"
import { cpuSince, indexOf, type Measurement, needsPopulate, type Plan } from "./Plan.ts"
import { type Callback, RawClient } from "./RawClient.ts"
import { Checks } from "./Values.ts"
import { capCheckEvery, capMillis, sampleEvery, type Variant } from "./Workload.ts"

const range = (n: number): ReadonlyArray<number> => Array.from({ length: n }, (_, i) => i)

/**
 * The calls the program makes: this project's `Memcache` service (with `Serializer.bytes`) has them, and so does
 * the reference wrapped in Effect.
 *
 * @since 0.1.0
 * @category models
 */
export interface EffectStore<E> {
  readonly get: (key: string) => Effect.Effect<Option.Option<Uint8Array>, E>
  readonly set: (key: string, value: Uint8Array, options: { readonly noreply: boolean }) => Effect.Effect<unknown, E>
  readonly getMany: (keys: ReadonlyArray<string>) => Effect.Effect<ReadonlyMap<string, Uint8Array>, E>
}

/** The program of one run: stores the keyspace, runs the warmup, then times `ops` operations. */
const program = <E>(plan: Plan, cache: EffectStore<E>, checks: Checks) =>
  Effect.gen(function* () {
    const { workload, keys, values, batches } = plan
    const keysOfBatch = batches.map((batch) => batch.map((k) => keys[k]!))
    const noreply = { noreply: workload.noreply }
    const waitForReply = { noreply: false }

    // The time cap, checked when forEach asks for operation i (plain code, outside the operation's effect).
    let deadline = Number.POSITIVE_INFINITY
    let stop = Number.POSITIVE_INFINITY
    const op = (i: number): Effect.Effect<unknown, E> => {
      if (i >= stop) return Effect.void
      if (i % capCheckEvery === 0 && performance.now() > deadline) {
        stop = i
        return Effect.void
      }
      const k = indexOf(plan, i)
      const sampled = i % sampleEvery === 0
      switch (workload.kind) {
        case "get":
          return Effect.map(cache.get(keys[k]!), (value) => {
            if (sampled) checks.check(keys[k]!, values[k]!, value._tag === "Some" ? value.value : undefined)
          })
        case "set":
          return cache.set(keys[k]!, values[k]!, noreply)
        case "getMany":
          return Effect.map(cache.getMany(keysOfBatch[k]!), (hits) => {
            if (sampled) for (const j of batches[k]!) checks.check(keys[j]!, values[j]!, hits.get(keys[j]!))
          })
        case "setGet":
          return Effect.flatMap(cache.set(keys[k]!, values[k]!, waitForReply), () =>
            Effect.map(cache.get(keys[k]!), (value) => {
              if (sampled) checks.check(keys[k]!, values[k]!, value._tag === "Some" ? value.value : undefined)
            })
          )
        case "burst":
          return Effect.forEach(
            keys,
            (key, j) =>
              Effect.map(cache.get(key), (value) => {
                if (sampled) checks.check(key, values[j]!, value._tag === "Some" ? value.value : undefined)
              }),
            { concurrency: "unbounded", discard: true }
          )
      }
    }
    const concurrency = workload.kind === "burst" ? 1 : workload.concurrency

    if (needsPopulate(workload)) {
      yield* Effect.forEach(range(keys.length), (i) => cache.set(keys[i]!, values[i]!, waitForReply), {
        concurrency: 16,
        discard: true
      })
    }
    deadline = performance.now() + capMillis
    yield* Effect.forEach(range(workload.warmup), op, { concurrency, discard: true })
    const timed = range(workload.ops)
    stop = Number.POSITIVE_INFINITY
    const cpuStart = process.cpuUsage()
    const start = performance.now()
    deadline = start + capMillis
    yield* Effect.forEach(timed, op, { concurrency, discard: true })
    // noreply sets are done when written; one round trip on the same connection means the server has them all.
    if (workload.noreply) yield* cache.get(keys[0]!)
    const elapsedMs = performance.now() - start
    return { elapsedMs, cpuMicros: cpuSince(cpuStart), done: Math.min(stop, workload.ops) }
  })

const measured =
  (plan: Plan, checks: Checks) =>
  ({ done, elapsedMs, cpuMicros }: { done: number; elapsedMs: number; cpuMicros: number }): Measurement => ({
    ops: plan.workload.kind === "burst" ? done * plan.workload.batch : done,
    capped: done < plan.workload.ops,
    elapsedMs,
    cpuMicros,
    checks: checks.count,
    failures: checks.failures,
    failure: checks.failure
  })

/**
 * Runs a workload on this project through its public API.
 *
 * @example
 * ```ts
 * import { runEffectWorkload } from "./EffectRunner.ts"
 * import { makePlan } from "./Plan.ts"
 * import { workloads } from "./Workload.ts"
 * const measurement = runEffectWorkload(makePlan("effect-memcache", workloads[0]!), [11211])
 * ```
 *
 * @since 0.1.0
 * @category runners
 */
export const runEffectWorkload = (
  plan: Plan,
  ports: ReadonlyArray<number>,
  variant?: Variant | undefined
): Promise<Measurement> => {
  const { workload } = plan
  const checks = new Checks()
  const itemSizeMax = 2 * 1024 * 1024
  const spans = variant !== "nospans"
  const metrics = variant === "metrics"
  const protocol = variant === "meta" ? "meta" : "text"
  const servers = ports.map((port) => `127.0.0.1:${port}`)
  const layer =
    servers.length === 1
      ? MemcacheClient.layer({
          server: servers[0]!,
          itemSizeMax,
          spans,
          metrics,
          protocol,
          batching: workload.batching ?? true
        })
      : MemcacheCluster.layer({ servers, itemSizeMax, spans, metrics, protocol })
  const run = Effect.gen(function* () {
    const service = yield* Memcache.Memcache
    return yield* program(plan, service.withSerializer(Serializer.bytes), checks)
  })
  const traced = variant === "tracer" ? Effect.withTracer(run, memoryTracer()) : run
  return Effect.runPromise(Effect.provide(traced, layer)).then(measured(plan, checks))
}

/**
 * A tracer that keeps spans in memory, as a test's or an exporter's would before sending them: the latest 1,000
 * ended spans (older ones are dropped, so a long run does not grow without bound).
 */
const memoryTracer = (): Tracer.Tracer => {
  const kept: Array<Tracer.Span> = []
  return Tracer.make({
    span: (options) => {
      const span = new Tracer.NativeSpan(options)
      const end = span.end.bind(span)
      span.end = (endTime, exit) => {
        end(endTime, exit)
        if (kept.length === 1000) kept.shift()
        kept.push(span)
      }
      return span
    }
  })
}

/** A reference call as one `Effect.callback`, resumed with `f` of the reference's result (or its error). */
const wrapped = <A, B>(
  call: (callback: (error: Error | undefined, result: A) => void) => void,
  f: (result: A) => B
): Effect.Effect<B, Error> =>
  Effect.callback((resume) =>
    call((error, result) => resume(error === undefined ? Effect.succeed(f(result)) : Effect.fail(error)))
  )

/**
 * Runs a workload on the reference client wrapped in Effect (`reference-effect`, one server): each call is one
 * `Effect.callback`, and the loop is the same program as this project's.
 *
 * @example
 * ```ts
 * import { runReferenceInEffect } from "./EffectRunner.ts"
 * import { makePlan } from "./Plan.ts"
 * import { workloads } from "./Workload.ts"
 * const measurement = runReferenceInEffect(makePlan("reference-effect", workloads[0]!), [11211])
 * ```
 *
 * @since 0.1.0
 * @category runners
 */
export const runReferenceInEffect = async (plan: Plan, ports: ReadonlyArray<number>): Promise<Measurement> => {
  if (ports.length !== 1) throw new Error("reference-effect runs on one server")
  const client = await RawClient.connect(ports[0]!)
  const checks = new Checks()
  const store: EffectStore<Error> = {
    get: (key) =>
      wrapped((callback: Callback<Buffer | undefined>) => client.get(key, callback), Option.fromUndefinedOr),
    set: (key, value, { noreply }) =>
      wrapped((callback: Callback<boolean>) => client.set(key, value, noreply, callback), identity),
    getMany: (keys) => wrapped((callback: Callback<Map<string, Buffer>>) => client.getMany(keys, callback), identity)
  }
  try {
    return measured(plan, checks)(await Effect.runPromise(program(plan, store, checks)))
  } finally {
    client.close()
  }
}
