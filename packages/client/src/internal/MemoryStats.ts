/**
 * The fake server's statistics: the counters memcached 1.6.18 keeps per command and outcome, and the `stats`
 * command's reports, built from them and from the item store's figures.
 *
 * @internal
 */
import * as Reply from "@effect-memcache/protocol/Reply"

/** In the order `stats` lists them. */
const counterNames = [
  "cmd_get",
  "cmd_set",
  "cmd_flush",
  "cmd_touch",
  "cmd_meta",
  "get_hits",
  "get_misses",
  "get_expired",
  "get_flushed",
  "delete_misses",
  "delete_hits",
  "incr_misses",
  "incr_hits",
  "decr_misses",
  "decr_hits",
  "cas_misses",
  "cas_hits",
  "cas_badval",
  "touch_hits",
  "touch_misses",
  "store_too_large",
  "store_no_memory"
] as const

/** @internal */
export type Counter = (typeof counterNames)[number]

const DETAIL_USAGE: Reply.ClientErrorReply = { _tag: "ClientError", text: "usage: stats detail on|off|dump" }
const BARE_ERROR: Reply.ErrorReply = { _tag: "Error", text: "" }
/** A report with no lines (fresh each time, as the decoder would give). */
const emptyStats = (): Reply.Stats => ({ _tag: "Stats", stats: [], lines: [] })

/**
 * The counters, and the two figures `stats reset` also clears.
 *
 * @internal
 */
export class MemoryStats {
  readonly counters: Record<Counter, number>
  /** Items ever linked (`total_items`). */
  totalItems = 0
  /** Items dropped to stay under the memory limit. */
  evictions = 0
  /** Unix seconds; `uptime` counts from it. */
  readonly startedAt: number

  constructor(startedAt: number) {
    this.startedAt = startedAt
    this.counters = Object.fromEntries(counterNames.map((name) => [name, 0])) as Record<Counter, number>
  }

  bump(counter: Counter) {
    this.counters[counter]++
  }

  reset() {
    for (const name of counterNames) this.counters[name] = 0
    this.totalItems = 0
    this.evictions = 0
  }
}

/**
 * What the reports read besides the counters (the item store has all of it).
 *
 * @internal
 */
export interface StatsSource {
  readonly stats: MemoryStats
  /** Bytes of the items stored, as the server counts them. */
  readonly bytes: number
  /** Items stored (`curr_items`). */
  readonly size: number
  readonly maxbytes: number
  readonly itemSizeMax: number
}

/**
 * `stats [args]`: the general report, `reset`, `settings`, and empty reports for the groups this server does not
 * model; anything else is a bare `ERROR`, as memcached answers it.
 *
 * @internal
 */
export const stats = (source: StatsSource, version: string, args: ReadonlyArray<string>, now: number): Reply.Reply => {
  if (args.length === 0) return generalStats(source, version, now)
  switch (args[0]) {
    case "reset":
      if (args.length > 1) break
      source.stats.reset()
      return Reply.replies.Reset
    case "detail":
      if (args[1] === "on" || args[1] === "off") return Reply.replies.Ok
      if (args[1] === "dump") return emptyStats()
      return DETAIL_USAGE
    case "settings":
      return settings(source)
    case "items":
    case "slabs":
    case "sizes":
    case "conns":
    case "extstore":
      return emptyStats()
  }
  return BARE_ERROR
}

const generalStats = (source: StatsSource, version: string, now: number): Reply.Stats => {
  const { counters } = source.stats
  const lines: Array<readonly [string, string]> = [
    ["pid", String(globalThis.process?.pid ?? 0)],
    ["uptime", String(Math.max(0, now - source.stats.startedAt))],
    ["time", String(now)],
    ["version", version],
    ["pointer_size", "64"],
    ["max_connections", "1024"],
    ["curr_connections", "1"],
    ["total_connections", "1"]
  ]
  for (const name of counterNames) lines.push([name, String(counters[name])])
  lines.push(
    ["limit_maxbytes", String(source.maxbytes)],
    ["threads", "1"],
    ["bytes", String(source.bytes)],
    ["curr_items", String(source.size)],
    ["total_items", String(source.stats.totalItems)],
    ["evictions", String(source.stats.evictions)]
  )
  return { _tag: "Stats", stats: lines, lines: [] }
}

const settings = (source: StatsSource): Reply.Stats => ({
  _tag: "Stats",
  stats: [
    ["maxbytes", String(source.maxbytes)],
    ["maxconns", "1024"],
    ["tcpport", "0"],
    ["udpport", "0"],
    ["verbosity", "0"],
    ["evictions", "on"],
    ["item_size_max", String(source.itemSizeMax)],
    ["cas_enabled", "yes"]
  ],
  lines: []
})
