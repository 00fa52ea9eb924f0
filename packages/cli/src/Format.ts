/**
 * What the `memcache` command prints: the `stats` table, and the figures of `top` computed from two `stats`
 * samples. Pure functions, so that the commands only fetch and print.
 *
 * @since 0.1.0
 */
import type { Memcache } from "@effect-memcache/client"

/**
 * One `stats` reply, and when it was taken (milliseconds of the local clock).
 *
 * @since 0.1.0
 * @category models
 */
export interface Sample {
  readonly at: number
  readonly stats: ReadonlyMap<string, Memcache.StatValue>
}

/**
 * What `top` shows for the interval between two samples. `hitRatio` is `undefined` when no get was served in it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Figures {
  /** Gets that hit, of all gets served in the interval, between 0 and 1. */
  readonly hitRatio: number | undefined
  /** Commands served per second: gets, sets, deletes, incr/decr, touches and CAS. */
  readonly opsPerSecond: number
  readonly getsPerSecond: number
  readonly setsPerSecond: number
  /** Open connections (`curr_connections`) at the second sample. */
  readonly connections: number
  /** Items evicted since the server started (`evictions`), at the second sample. */
  readonly evictions: number
  readonly evictionsPerSecond: number
}

/**
 * The stats that count commands, summed for `opsPerSecond`.
 *
 * @since 0.1.0
 * @category constants
 */
export const operationStats: ReadonlyArray<string> = [
  "cmd_get",
  "cmd_set",
  "cmd_touch",
  "delete_hits",
  "delete_misses",
  "incr_hits",
  "incr_misses",
  "decr_hits",
  "decr_misses",
  "cas_hits",
  "cas_misses",
  "cas_badval"
]

const numberOf = (stats: ReadonlyMap<string, Memcache.StatValue>, name: string): number => {
  const value = stats.get(name)
  if (typeof value === "number") return value
  if (typeof value === "bigint") return Number(value)
  return 0
}

/**
 * The figures of the interval from `before` to `after`. Counters are differences, divided by the seconds between
 * the samples (at least a millisecond, so a repeated sample gives zeros, not infinities).
 *
 * @since 0.1.0
 * @category figures
 */
export const figures = (before: Sample, after: Sample): Figures => {
  const seconds = Math.max(after.at - before.at, 1) / 1000
  const delta = (name: string) => Math.max(numberOf(after.stats, name) - numberOf(before.stats, name), 0)
  const hits = delta("get_hits")
  const misses = delta("get_misses")
  return {
    hitRatio: hits + misses === 0 ? undefined : hits / (hits + misses),
    opsPerSecond: operationStats.reduce((sum, name) => sum + delta(name), 0) / seconds,
    getsPerSecond: delta("cmd_get") / seconds,
    setsPerSecond: delta("cmd_set") / seconds,
    connections: numberOf(after.stats, "curr_connections"),
    evictions: numberOf(after.stats, "evictions"),
    evictionsPerSecond: delta("evictions") / seconds
  }
}

const rate = (n: number) => n.toFixed(1)
const ratio = (r: number | undefined) => (r === undefined ? "-" : `${(r * 100).toFixed(1)}%`)

/**
 * The figures as `name value` pairs, in the order `top` prints them.
 *
 * @since 0.1.0
 * @category formatting
 */
export const figurePairs = (f: Figures): ReadonlyArray<readonly [string, string]> => [
  ["hit_ratio", ratio(f.hitRatio)],
  ["ops/s", rate(f.opsPerSecond)],
  ["get/s", rate(f.getsPerSecond)],
  ["set/s", rate(f.setsPerSecond)],
  ["connections", String(f.connections)],
  ["evictions", String(f.evictions)],
  ["evictions/s", rate(f.evictionsPerSecond)]
]

/**
 * One plain line of `top`: `hit_ratio=75.0% ops/s=12.0 ... evictions/s=0.0`.
 *
 * @since 0.1.0
 * @category formatting
 */
export const figuresLine = (f: Figures): string =>
  figurePairs(f)
    .map(([name, value]) => `${name}=${value}`)
    .join(" ")

/**
 * Rows as a table, under `header` when given: the first column padded to its widest cell, the second right-aligned
 * when every row's cell is a number (or `-`), left-aligned otherwise; columns two spaces apart.
 *
 * @since 0.1.0
 * @category formatting
 */
export const table = (
  rows: ReadonlyArray<readonly [string, string]>,
  header?: readonly [string, string] | undefined
): string => {
  const all = header === undefined ? rows : [header, ...rows]
  const nameWidth = Math.max(0, ...all.map(([name]) => name.length))
  const valueWidth = Math.max(0, ...all.map(([, value]) => value.length))
  const numeric = rows.length > 0 && rows.every(([, value]) => /^(-|-?[0-9.]+%?)$/.test(value))
  return all
    .map(([name, value]) => `${name.padEnd(nameWidth)}  ${numeric ? value.padStart(valueWidth) : value}`.trimEnd())
    .join("\n")
}

/**
 * A `stats` reply as an aligned two-column table (`STAT`, `VALUE`), in the server's order.
 *
 * @since 0.1.0
 * @category formatting
 */
export const statsTable = (stats: ReadonlyMap<string, Memcache.StatValue>): string =>
  table(
    [...stats].map(([name, value]) => [name, String(value)] as const),
    ["STAT", "VALUE"]
  )
