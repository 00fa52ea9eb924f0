/**
 * One run in a fresh process: `node bench/dist/worker.js <client> <workload> <port>[,<port>...]` (several ports
 * for a cluster workload). Prints one JSON line (a {@link RunResult}) on stdout and exits.
 *
 * Every worker loads `effect` whatever its client, so that every process carries the same heap ballast; only
 * the client under test is loaded on top.
 *
 * @since 0.1.0
 */

import { Effect } from "effect"
import { type Measurement, makePlan, type Plan } from "./Plan.ts"
import type { PromiseDriver } from "./PromiseRunner.ts"
import { runPromiseWorkload } from "./PromiseRunner.ts"
import { promised, RawClient } from "./RawClient.ts"
import { mismatch } from "./Values.ts"
import { type ClientId, clients, variantOf, workloads } from "./Workload.ts"

/**
 * What a worker reports.
 *
 * @example
 * ```ts
 * import type { RunResult } from "./worker.ts"
 * const ok = (r: RunResult) => r.error === undefined && r.invalid === undefined
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface RunResult {
  readonly client: ClientId
  readonly workload: string
  readonly ops: number
  /** Whether the time cap stopped the run early (its rate is over the operations it did). */
  readonly capped: boolean
  readonly elapsedMs: number
  readonly opsPerSec: number
  /**
   * Client CPU per operation: the worker's user + system CPU time during the timed phase, divided by the
   * operations done (microseconds).
   */
  readonly cpuPerOpUs: number
  /** Peak resident set size of the worker process (`process.resourceUsage().maxRSS`). */
  readonly maxRssMB: number
  /** Sampled reply comparisons made, and the number that failed. */
  readonly checks: number
  readonly failures: number
  /** Set when a value came back (or was stored) wrong: what was wrong. */
  readonly invalid?: string | undefined
  /** Set when the run failed or timed out. */
  readonly error?: string | undefined
}

/** A whole run may take this long before the worker gives up and reports an error. */
const WATCHDOG_MILLIS = 60_000

// The heap ballast every worker carries: effect, loaded and used.
const ballast = Effect.runSync(Effect.succeed("effect"))

const report = (result: RunResult): never => {
  process.stdout.write(`${JSON.stringify(result)}\n`)
  // Some clients keep timers or sockets alive; the result is out, so leave.
  process.exit(0)
}

const maxRssMB = () => process.resourceUsage().maxRSS / 1024

const driverOf = async (client: ClientId, ports: ReadonlyArray<number>): Promise<PromiseDriver> => {
  switch (client) {
    case "memjs":
      return (await import("./MemjsDriver.ts")).make(ports)
    case "memcache-client":
      return (await import("./MemcacheClientDriver.ts")).make(ports)
    case "memcached":
      return (await import("./MemcachedDriver.ts")).make(ports)
    case "reference":
      return (await import("./ReferenceDriver.ts")).make(ports)
    case "reference-meta":
      return (await import("./ReferenceDriver.ts")).make(ports, true)
    case "effect-memcache":
    case "effect-memcache-nospans":
    case "effect-memcache-tracer":
    case "effect-memcache-metrics":
    case "effect-memcache-meta":
    case "reference-effect":
      throw new Error("driven through EffectRunner")
  }
}

/**
 * Reads the whole keyspace back from every server through separate reference connections and compares what the
 * servers hold with what was meant to be stored: catches a client that stores different bytes than it was given
 * (say, a binary value re-encoded as UTF-8), even if it reads them back consistently. Each key must be on some
 * server, and every copy must be right; a cluster's keys must be spread over more than one server.
 */
const verifyStored = async (plan: Plan, ports: ReadonlyArray<number>): Promise<string | undefined> => {
  const servers = await Promise.all(ports.map(async (port) => promised(await RawClient.connect(port))))
  const used = new Set<number>()
  try {
    for (let start = 0; start < plan.keys.length; start += 100) {
      const keys = plan.keys.slice(start, start + 100)
      const hits = await Promise.all(servers.map((server) => server.getMany(keys)))
      for (let j = 0; j < keys.length; j++) {
        const key = keys[j]!
        const expected = plan.values[start + j]!
        let found = false
        for (let s = 0; s < hits.length; s++) {
          const held = hits[s]!.get(key)
          if (held === undefined) continue
          found = true
          used.add(s)
          const wrong = mismatch(expected, held)
          if (wrong !== undefined) return `server ${ports[s]} holds wrong bytes for ${key}: ${wrong}`
        }
        if (!found) return `no server holds ${key}`
      }
    }
    if (ports.length > 1 && used.size < 2) return `every key is on one server of ${ports.length}`
    return undefined
  } finally {
    for (const server of servers) server.close()
  }
}

const main = async () => {
  const [clientArg, workloadArg, portArg] = process.argv.slice(2)
  const client = clients.find((c) => c === clientArg)
  const workload = workloads.find((w) => w.id === workloadArg)
  const ports = (portArg ?? "").split(",").map(Number)
  if (client === undefined || workload === undefined || !ports.every(Number.isInteger) || ballast !== "effect") {
    process.stderr.write(
      `usage: worker.js <${clients.join("|")}> <${workloads.map((w) => w.id).join("|")}> <port>[,<port>...]\n`
    )
    process.exit(2)
  }
  const failed = (error: string): RunResult => ({
    client,
    workload: workload.id,
    ops: 0,
    capped: false,
    elapsedMs: 0,
    opsPerSec: 0,
    cpuPerOpUs: 0,
    maxRssMB: maxRssMB(),
    checks: 0,
    failures: 0,
    error
  })
  setTimeout(() => report(failed(`no result after ${WATCHDOG_MILLIS / 1000} s`)), WATCHDOG_MILLIS).unref()
  process.on("uncaughtException", (e) => report(failed(`uncaught: ${String(e)}`)))
  process.on("unhandledRejection", (e) => report(failed(`unhandled rejection: ${String(e)}`)))

  const plan = makePlan(client, workload)
  let measurement: Measurement
  try {
    if (client === "effect-memcache" || variantOf(client) !== undefined) {
      measurement = await (await import("./EffectRunner.ts")).runEffectWorkload(plan, ports, variantOf(client))
    } else if (client === "reference-effect") {
      measurement = await (await import("./EffectRunner.ts")).runReferenceInEffect(plan, ports)
    } else {
      const driver = await driverOf(client, ports)
      measurement = await runPromiseWorkload(driver, plan)
      await driver.close()
    }
  } catch (e) {
    return report(failed(e instanceof Error ? `${e.name}: ${e.message}` : String(e)))
  }
  const rss = maxRssMB()
  const stored = await verifyStored(plan, ports)
  const invalid =
    measurement.failure !== undefined
      ? `${measurement.failures}/${measurement.checks} sampled replies wrong, first ${measurement.failure}`
      : stored
  report({
    client,
    workload: workload.id,
    ops: measurement.ops,
    capped: measurement.capped,
    elapsedMs: measurement.elapsedMs,
    opsPerSec: measurement.ops / (measurement.elapsedMs / 1000),
    cpuPerOpUs: measurement.cpuMicros / measurement.ops,
    maxRssMB: rss,
    checks: measurement.checks,
    failures: measurement.failures,
    invalid
  })
}

void main()
