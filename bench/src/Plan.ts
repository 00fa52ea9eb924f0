/**
 * The data of one run, identical for every client: the keys, their values, the key batches of multi-gets, and
 * which key each operation uses.
 *
 * @since 0.1.0
 */

import { makeValues } from "./Values.ts"
import type { ClientId, Workload } from "./Workload.ts"
import { keyOf } from "./Workload.ts"

/**
 * One run's keys and values.
 *
 * @example
 * ```ts
 * import { makePlan } from "./Plan.ts"
 * import { workloads } from "./Workload.ts"
 * const plan = makePlan("reference", workloads[0]!)
 * plan.keys.length // 1000
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Plan {
  readonly workload: Workload
  readonly keys: ReadonlyArray<string>
  readonly values: ReadonlyArray<Buffer>
  /** For `getMany`: the keyspace cut into batches of `workload.batch` consecutive keys (as indices). */
  readonly batches: ReadonlyArray<ReadonlyArray<number>>
}

/**
 * Builds the plan of a client's run of a workload.
 *
 * @example
 * ```ts
 * import { makePlan } from "./Plan.ts"
 * import { workloads } from "./Workload.ts"
 * makePlan("memjs", workloads[0]!).keys[0] // "bench:mj:W1:000000"
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const makePlan = (client: ClientId, workload: Workload): Plan => {
  const keys = Array.from({ length: workload.keyspace }, (_, i) => keyOf(client, workload.id, i))
  const values = makeValues(workload.id, workload.keyspace, workload.valueSize)
  const batches: Array<Array<number>> = []
  if (workload.kind === "getMany") {
    for (let start = 0; start + workload.batch <= workload.keyspace; start += workload.batch) {
      batches.push(Array.from({ length: workload.batch }, (_, j) => start + j))
    }
  }
  return { workload, keys, values, batches }
}

/**
 * The key index operation `i` uses (for `getMany`, the batch index).
 *
 * @example
 * ```ts
 * import { indexOf, makePlan } from "./Plan.ts"
 * import { workloads } from "./Workload.ts"
 * indexOf(makePlan("memjs", workloads[0]!), 1001) // 1
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const indexOf = (plan: Plan, i: number): number =>
  plan.workload.kind === "getMany" ? i % plan.batches.length : i % plan.workload.keyspace

/**
 * Whether the keyspace must be stored before timing (every workload that reads what it did not write itself).
 *
 * @example
 * ```ts
 * import { needsPopulate } from "./Plan.ts"
 * import { workloads } from "./Workload.ts"
 * needsPopulate(workloads[0]!) // true
 * ```
 *
 * @since 0.1.0
 * @category predicates
 */
export const needsPopulate = (workload: Workload): boolean =>
  workload.kind === "get" || workload.kind === "getMany" || workload.kind === "burst"

/**
 * One run's measurement, before the worker adds its memory figures.
 *
 * @example
 * ```ts
 * import type { Measurement } from "./Plan.ts"
 * const m: Measurement = { ops: 10, capped: false, elapsedMs: 1, cpuMicros: 900, checks: 2, failures: 0, failure: undefined }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Measurement {
  /** Operations counted (gets for a burst). */
  readonly ops: number
  /** Whether the time cap stopped the run before all its operations. */
  readonly capped: boolean
  readonly elapsedMs: number
  /** User + system CPU time of the whole worker process during the timed phase, in microseconds. */
  readonly cpuMicros: number
  readonly checks: number
  readonly failures: number
  readonly failure: string | undefined
}

/**
 * The CPU time (user + system, in microseconds) the process has used since `since` (a `process.cpuUsage()`
 * reading): every thread of the worker, so a client's work off the main thread counts too.
 *
 * @example
 * ```ts
 * import { cpuSince } from "./Plan.ts"
 * const start = process.cpuUsage()
 * cpuSince(start) // >= 0
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const cpuSince = (since: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(since)
  return used.user + used.system
}
