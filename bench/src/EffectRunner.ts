/**
 * Runs a workload on this project the way its users drive it: one Effect program, `MemcacheClient.layer` for the
 * service (`MemcacheCluster.layer` with its defaults for several servers), `Serializer.bytes` for raw byte values, and the whole closed loop as one
 * `Effect.forEach(items, op, { concurrency: N })` (`"unbounded"` for a burst).
 *
 * @since 0.1.0
 */

import { performance } from "node:perf_hooks"
import { Memcache, MemcacheClient, MemcacheCluster, Serializer } from "@effect-memcache/client"
import { Effect } from "effect"
import { indexOf, type Measurement, needsPopulate, type Plan } from "./Plan.ts"
import { Checks } from "./Values.ts"
import { capCheckEvery, capMillis, sampleEvery } from "./Workload.ts"

const range = (n: number): ReadonlyArray<number> => Array.from({ length: n }, (_, i) => i)

/**
 * The program of one run: stores the keyspace, runs the warmup, then times `ops` operations.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { runEffectWorkload } from "./EffectRunner.ts"
 * import { makePlan } from "./Plan.ts"
 * import { workloads } from "./Workload.ts"
 * const measurement = runEffectWorkload(makePlan("effect-memcache", workloads[0]!), [11211])
 * ```
 *
 * @since 0.1.0
 * @category runners
 */
export const runEffectWorkload = (plan: Plan, ports: ReadonlyArray<number>): Promise<Measurement> => {
  const { workload, keys, values, batches } = plan
  const checks = new Checks()
  const keysOfBatch = batches.map((batch) => batch.map((k) => keys[k]!))

  const program = Effect.gen(function* () {
    const cache = (yield* Memcache.Memcache).withSerializer(Serializer.bytes)
    const noreply = { noreply: workload.noreply }
    const waitForReply = { noreply: false }

    // The time cap, checked when forEach asks for operation i (plain code, outside the operation's effect).
    let deadline = Number.POSITIVE_INFINITY
    let stop = Number.POSITIVE_INFINITY
    const op = (i: number): Effect.Effect<unknown, Memcache.ValueError> => {
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
    const start = performance.now()
    deadline = start + capMillis
    yield* Effect.forEach(timed, op, { concurrency, discard: true })
    // noreply sets are done when written; one round trip on the same connection means the server has them all.
    if (workload.noreply) yield* cache.get(keys[0]!)
    return { elapsedMs: performance.now() - start, done: Math.min(stop, workload.ops) }
  })

  const itemSizeMax = 2 * 1024 * 1024
  const servers = ports.map((port) => `127.0.0.1:${port}`)
  const layer =
    servers.length === 1
      ? MemcacheClient.layer({ server: servers[0]!, itemSizeMax, batching: workload.batching ?? true })
      : MemcacheCluster.layer({ servers, itemSizeMax })
  return Effect.runPromise(Effect.provide(program, layer)).then(
    ({ done, elapsedMs }): Measurement => ({
      ops: workload.kind === "burst" ? done * workload.batch : done,
      capped: done < workload.ops,
      elapsedMs,
      checks: checks.count,
      failures: checks.failures,
      failure: checks.failure
    })
  )
}
