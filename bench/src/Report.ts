/**
 * The benchmark's report: medians per workload and client, the ratio to the reference, peak RSS, and the
 * runs behind them, as markdown.
 *
 * @since 0.1.0
 */

import type { ClientId, Workload } from "./Workload.ts"
import type { RunResult } from "./worker.ts"

/**
 * Every run's result, by workload id then client.
 *
 * @example
 * ```ts
 * import type { Results } from "./Report.ts"
 * const results: Results = new Map()
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Results = Map<string, Map<ClientId, Array<RunResult>>>

/**
 * What the report says about the machine and the run.
 *
 * @example
 * ```ts
 * import type { Environment } from "./Report.ts"
 * const e: Environment = {
 *   date: "2026-01-01", cpu: "AMD EPYC", cores: 2, node: "v20.20.2", memcached: "1.6.18",
 *   memcachedCommand: "memcached -t 1", source: "abc1234", rounds: 3, loadAverage: "0.1", durationSeconds: 1, notes: []
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Environment {
  readonly date: string
  readonly cpu: string
  readonly cores: number
  readonly node: string
  readonly memcached: string
  readonly memcachedCommand: string
  /** The commit measured (and whether packages/ had uncommitted changes). */
  readonly source: string
  readonly rounds: number
  readonly loadAverage: string
  readonly durationSeconds: number
  readonly notes: ReadonlyArray<string>
}

/**
 * The median of some numbers (the mean of the middle two for an even count).
 *
 * @example
 * ```ts
 * import { median } from "./Report.ts"
 * median([3, 1, 2]) // 2
 * ```
 *
 * @since 0.1.0
 * @category math
 */
export const median = (xs: ReadonlyArray<number>): number => {
  if (xs.length === 0) return Number.NaN
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

const rate = (x: number): string => {
  if (!Number.isFinite(x)) return "?"
  if (x >= 100_000) return `${(x / 1000).toFixed(0)}k`
  if (x >= 10_000) return `${(x / 1000).toFixed(1)}k`
  if (x >= 1000) return `${(x / 1000).toFixed(2)}k`
  return x.toFixed(x >= 100 ? 0 : 1)
}

const mb = (x: number) => `${x.toFixed(0)} MB`

/** CPU time per operation, in microseconds with three significant digits. */
const micros = (x: number): string => {
  if (!Number.isFinite(x)) return "?"
  return `${x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)} µs`
}

/**
 * A markdown table with its columns padded to one width, as biome formats markdown (so the written file passes
 * `biome check` as it is).
 */
const table = (
  header: ReadonlyArray<string>,
  right: ReadonlyArray<boolean>,
  rows: ReadonlyArray<ReadonlyArray<string>>
) => {
  const widths = header.map((h, i) => Math.max(3, [...h].length, ...rows.map((r) => [...r[i]!].length)))
  const pad = (cell: string, i: number) => {
    const fill = " ".repeat(widths[i]! - [...cell].length)
    return right[i] ? fill + cell : cell + fill
  }
  const line = (cells: ReadonlyArray<string>) => `| ${cells.map(pad).join(" | ")} |`
  const rule = `| ${widths.map((w, i) => (right[i] ? `${"-".repeat(w - 1)}:` : "-".repeat(w))).join(" | ")} |`
  return [line(header), rule, ...rows.map(line)]
}

/** A cell's verdict over its runs: an error or a wrong value in any run marks the whole cell. */
const verdictOf = (runs: ReadonlyArray<RunResult>) => {
  const error = runs.find((r) => r.error !== undefined)
  const invalid = runs.find((r) => r.invalid !== undefined)
  return { error, invalid, ok: runs.filter((r) => r.error === undefined) }
}

/**
 * The report as markdown: the summary table, footnotes for INVALID/ERROR cells, and every run.
 *
 * @example
 * ```ts
 * import { render } from "./Report.ts"
 * declare const results: import("./Report.ts").Results
 * declare const env: import("./Report.ts").Environment
 * const markdown = render([], ["reference"], results, env)
 * ```
 *
 * @since 0.1.0
 * @category rendering
 */
export const render = (
  workloads: ReadonlyArray<Workload>,
  clients: ReadonlyArray<ClientId>,
  results: Results,
  env: Environment
): string => {
  const lines: Array<string> = []
  const footnotes: Array<string> = []
  const footnote = (text: string) => {
    footnotes.push(text)
    return `[${footnotes.length}]`
  }
  lines.push("# effect-memcache client benchmark", "")
  lines.push(
    `${env.date} · ${env.cpu}, ${env.cores} cores · Node ${env.node} · memcached ${env.memcached} · ` +
      `effect-memcache ${env.source} · ${env.rounds} round(s) · ${env.durationSeconds.toFixed(0)} s · load average at start ${env.loadAverage}`,
    ""
  )
  lines.push(
    "Each cell: median ops/s over the rounds · ratio to the reference · client CPU per operation (user + system " +
      "CPU time of the client's process during the timed phase, divided by the operations; median over the rounds) " +
      "with its ratio to the reference's · peak RSS of the client process (median over the rounds). Every run is a fresh Node process on one connection to one memcached " +
      `(\`${env.memcachedCommand}\`); clients alternate within each round, and each round starts one client later than the one before, so no client always runs first. † = stopped by the 5 s cap on some run ` +
      "(rate over the operations done).",
    ""
  )
  const summary: Array<Array<string>> = []
  for (const workload of workloads) {
    const byClient = results.get(workload.id)
    if (byClient === undefined) continue
    const reference = byClient.get("reference")
    const referenceOk = reference !== undefined && verdictOf(reference).error === undefined
    const referenceRate = referenceOk ? median(reference.map((r) => r.opsPerSec)) : Number.NaN
    const referenceCpu = referenceOk ? median(reference.map((r) => r.cpuPerOpUs)) : Number.NaN
    const cells = clients.map((client) => {
      const runs = byClient.get(client)
      if (runs === undefined || runs.length === 0) return "—"
      const { error, invalid, ok } = verdictOf(runs)
      const rss = mb(median(runs.map((r) => r.maxRssMB)))
      if (error !== undefined) return `**ERROR** ${footnote(`${client}, ${workload.id}: ${error.error}`)}`
      const speed = median(ok.map((r) => r.opsPerSec))
      if (invalid !== undefined) {
        return `**INVALID** ${footnote(
          `${client}, ${workload.id}: ${invalid.invalid} (it ran at ${rate(speed)} ${workload.unit}, not counted)`
        )} · ${rss}`
      }
      const ratio = Number.isFinite(referenceRate) ? `${(speed / referenceRate).toFixed(2)}×` : "?"
      const cpu = median(ok.map((r) => r.cpuPerOpUs))
      const cpuRatio = Number.isFinite(referenceCpu) ? ` (${(cpu / referenceCpu).toFixed(2)}×)` : ""
      const capped = runs.some((r) => r.capped) ? " †" : ""
      return `${rate(speed)}${capped} · ${ratio} · ${micros(cpu)}${cpuRatio} · ${rss}`
    })
    summary.push([`${workload.id} ${workload.title} (${workload.unit})`, ...cells])
  }
  lines.push(...table(["workload", ...clients], [false, ...clients.map(() => true)], summary), "")
  if (footnotes.length > 0) {
    lines.push(...footnotes.map((text, i) => `${i + 1}. ${text}`), "")
  }
  if (env.notes.length > 0) lines.push(...env.notes.map((note) => `- ${note}`), "")
  lines.push("<details><summary>Every run (ops/s, CPU per operation and peak RSS MB per round)</summary>", "")
  const every: Array<Array<string>> = []
  for (const workload of workloads) {
    const byClient = results.get(workload.id)
    if (byClient === undefined) continue
    for (const client of clients) {
      const runs = byClient.get(client)
      if (runs === undefined || runs.length === 0) continue
      const speeds = runs.map((r) => (r.error === undefined ? rate(r.opsPerSec) : "ERROR")).join(", ")
      const cpus = runs.map((r) => (r.error === undefined ? micros(r.cpuPerOpUs) : "ERROR")).join(", ")
      const rss = runs.map((r) => r.maxRssMB.toFixed(0)).join(", ")
      const checks = runs.map((r) => `${r.checks - r.failures}/${r.checks}`).join(", ")
      every.push([workload.id, client, speeds, cpus, rss, checks])
    }
  }
  lines.push(
    ...table(
      ["workload", "client", "ops/s per round", "CPU per op per round", "RSS MB per round", "sampled checks"],
      [false, false, false, false, false, false],
      every
    ),
    "",
    "</details>",
    ""
  )
  return lines.join("\n")
}
