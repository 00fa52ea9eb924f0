/**
 * Runs a workload on a promise-based client: `concurrency` lanes, each awaiting one operation after another,
 * until the count is reached (a closed loop with N in flight).
 *
 * @since 0.1.0
 */

import { performance } from "node:perf_hooks"
import { cpuSince, indexOf, type Measurement, needsPopulate, type Plan } from "./Plan.ts"
import { Checks } from "./Values.ts"
import { capCheckEvery, capMillis, sampleEvery } from "./Workload.ts"

/**
 * A client as the loops drive it. `get` resolves to the value (bytes or string) or a miss (`null`/`undefined`);
 * `getMany` resolves to a lookup of the hits.
 *
 * @example
 * ```ts
 * import type { PromiseDriver } from "./PromiseRunner.ts"
 * const none: PromiseDriver = {
 *   get: async () => undefined,
 *   set: async () => true,
 *   getMany: async () => () => undefined,
 *   close: () => {}
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface PromiseDriver {
  readonly get: (key: string) => Promise<unknown>
  readonly set: (key: string, value: Buffer, noreply: boolean) => Promise<unknown>
  readonly getMany: (keys: ReadonlyArray<string>) => Promise<(key: string) => unknown>
  readonly close: () => void | Promise<void>
}

/**
 * Runs `count` operations with `concurrency` in flight; stops starting new ones once `deadline` (a
 * `performance.now()` time) has passed. Resolves to the number of operations started (all completed).
 */
const lanes = async (
  count: number,
  concurrency: number,
  op: (i: number) => Promise<void>,
  deadline = Number.POSITIVE_INFINITY
): Promise<number> => {
  let next = 0
  let stop = count
  const lane = async () => {
    while (next < stop) {
      const i = next++
      if (i % capCheckEvery === 0 && performance.now() > deadline) {
        stop = i
        break
      }
      await op(i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane))
  return stop
}

/**
 * Stores the keyspace, runs the warmup, then times `ops` operations.
 *
 * @example
 * ```ts
 * import { makePlan } from "./Plan.ts"
 * import { runPromiseWorkload, type PromiseDriver } from "./PromiseRunner.ts"
 * import { workloads } from "./Workload.ts"
 * declare const driver: PromiseDriver
 * const measurement = runPromiseWorkload(driver, makePlan("memjs", workloads[0]!))
 * ```
 *
 * @since 0.1.0
 * @category runners
 */
export const runPromiseWorkload = async (driver: PromiseDriver, plan: Plan): Promise<Measurement> => {
  const { workload, keys, values, batches } = plan
  const checks = new Checks()
  const keysOfBatch = batches.map((batch) => batch.map((k) => keys[k]!))

  const op = (i: number): Promise<void> => {
    const k = indexOf(plan, i)
    const sampled = i % sampleEvery === 0
    switch (workload.kind) {
      case "get":
        return driver.get(keys[k]!).then((value) => {
          if (sampled) checks.check(keys[k]!, values[k]!, value)
        })
      case "set":
        return driver.set(keys[k]!, values[k]!, workload.noreply).then(() => {})
      case "getMany":
        return driver.getMany(keysOfBatch[k]!).then((lookup) => {
          if (sampled) for (const j of batches[k]!) checks.check(keys[j]!, values[j]!, lookup(keys[j]!))
        })
      case "setGet":
        return driver
          .set(keys[k]!, values[k]!, false)
          .then(() => driver.get(keys[k]!))
          .then((value) => {
            if (sampled) checks.check(keys[k]!, values[k]!, value)
          })
      case "burst":
        return Promise.all(
          keys.map((key, j) =>
            driver.get(key).then((value) => {
              if (sampled) checks.check(key, values[j]!, value)
            })
          )
        ).then(() => {})
    }
  }

  if (needsPopulate(workload))
    await lanes(keys.length, 16, (i) => driver.set(keys[i]!, values[i]!, false).then(() => {}))
  // A burst is itself `batch` gets at once; bursts follow one another.
  const concurrency = workload.kind === "burst" ? 1 : workload.concurrency
  await lanes(workload.warmup, concurrency, op, performance.now() + capMillis)
  const cpuStart = process.cpuUsage()
  const start = performance.now()
  const done = await lanes(workload.ops, concurrency, op, start + capMillis)
  // noreply sets are done when written; one round trip on the same connection means the server has them all.
  if (workload.noreply) await driver.get(keys[0]!)
  const elapsedMs = performance.now() - start
  const cpuMicros = cpuSince(cpuStart)
  return {
    ops: workload.kind === "burst" ? done * workload.batch : done,
    capped: done < workload.ops,
    elapsedMs,
    cpuMicros,
    checks: checks.count,
    failures: checks.failures,
    failure: checks.failure
  }
}
