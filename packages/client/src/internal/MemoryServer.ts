/**
 * A fake memcached 1.6.18: the server side of protocol.md, answering validated `Command` objects with the
 * `Reply` objects the decoder would produce for the real server's bytes. Every command runs synchronously, so
 * one command is atomic with respect to every other (linearizable per key, and across keys).
 *
 * Time is whole unix seconds read from Effect's `Clock` by the caller (so `TestClock` drives expiry).
 *
 * @internal
 */
import type * as Command from "@effect-memcache/protocol/Command"
import * as Exptime from "@effect-memcache/protocol/Exptime"
import * as Key from "@effect-memcache/protocol/Key"
import type * as Meta from "@effect-memcache/protocol/Meta"
import * as Reply from "@effect-memcache/protocol/Reply"

/** The per-item overhead memcached 1.6.18 counts against `-I`: item header 48, key NUL 1, CRLF 2, CAS 8. */
const ITEM_HEADER = 59
/** Non-zero client flags take 4 more bytes in the item. */
const FLAGS_SIZE = 4
const U64_MASK = (1n << 64n) - 1n
const I64_SIGN = 1n << 63n
const DEFAULT_MAXBYTES = 64 * 1024 * 1024
/** A stored item's `expiresAt` that is already in the past, whatever the clock says. */
const EXPIRED = -1

/** @internal */
export interface Item {
  value: Uint8Array
  flags: number
  /** Unix seconds; 0 = never. */
  expiresAt: number
  cas: bigint
  /** Unix second of the last write (what a delayed flush compares against). */
  time: number
  lastAccess: number
  fetched: boolean
  /** The item's size as the server counts it (for `-I`, `bytes` and the memory limit). */
  size: number
  keyLength: number
}

/** @internal */
export interface MemoryServerOptions {
  readonly itemSizeMax: number
  /** Bytes; past it the least recently used items are evicted. `undefined`: no limit. */
  readonly memoryLimit: number | undefined
  readonly version: string
}

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
type Counter = (typeof counterNames)[number]

const utf8 = new TextDecoder("utf-8", { fatal: true })
const latin1 = new TextDecoder("latin1")
const encoder = new TextEncoder()

/** The keyspace is bytes: a binary meta key that is valid UTF-8 is the same item as the text key. */
const keyOf = (key: string | Uint8Array): string => {
  if (typeof key === "string") return key
  try {
    return utf8.decode(key)
  } catch {
    // Not UTF-8, so it can never equal a text key; NUL keeps it apart from every text key.
    return `\u0000${latin1.decode(key)}`
  }
}

const isSpace = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d)

/**
 * The stored number, read the way memcached's `safe_strtoull` reads the data (with its CRLF after it): leading
 * whitespace, an optional sign, at least one decimal digit, then whitespace or NUL; out of the u64 range is not a
 * number, and so is a `-` that makes the value negative as a signed 64-bit integer.
 */
export const parseCounter = (bytes: Uint8Array): bigint | undefined => {
  const n = bytes.length
  let i = 0
  while (i < n && isSpace(bytes[i]!)) i++
  let negative = false
  if (i < n && (bytes[i] === 0x2b || bytes[i] === 0x2d)) {
    negative = bytes[i] === 0x2d
    i++
  }
  const digits = i
  let value = 0n
  while (i < n && bytes[i]! >= 0x30 && bytes[i]! <= 0x39) {
    value = value * 10n + BigInt(bytes[i]! - 0x30)
    i++
  }
  if (i === digits) return undefined
  if (value > U64_MASK) return undefined
  const end = i < n ? bytes[i]! : 0x0d
  if (!isSpace(end) && end !== 0) return undefined
  if (!negative) return value
  const wrapped = (U64_MASK + 1n - value) & U64_MASK
  return wrapped >= I64_SIGN ? undefined : wrapped
}

const clientError = (text: string): Reply.ClientErrorReply => ({ _tag: "ClientError", text })
const serverError = (text: string): Reply.ServerErrorReply => ({ _tag: "ServerError", text })
const NON_NUMERIC = clientError("cannot increment or decrement non-numeric value")
const TOO_LARGE = serverError("object too large for cache")
const OUT_OF_MEMORY = serverError("out of memory storing object")
const SHUTDOWN_DISABLED: Reply.ErrorReply = { _tag: "Error", text: "shutdown not enabled" }
const BARE_ERROR: Reply.ErrorReply = { _tag: "Error", text: "" }
const EMPTY_FLAGS: Reply.MetaFlags = {}

const metaReply = (code: Reply.Meta["code"], flags: Reply.MetaFlags, value?: Uint8Array): Reply.Meta => ({
  _tag: "Meta",
  code,
  flags,
  value
})

/**
 * The fake server's state and its command interpreter.
 *
 * @internal
 */
export class MemoryServer {
  private readonly items = new Map<string, Item>()
  private readonly counters: Record<Counter, number>
  private casCounter = 0n
  private totalItems = 0
  private evictions = 0
  private bytes = 0
  private maxbytes: number
  private memoryLimit: number | undefined
  /** A pending or fired delayed flush: items written at or before this second are gone once it has come. */
  private oldestLive: number | undefined = undefined

  readonly options: MemoryServerOptions
  private readonly startedAt: number

  constructor(options: MemoryServerOptions, startedAt: number) {
    this.options = options
    this.startedAt = startedAt
    this.counters = Object.fromEntries(counterNames.map((name) => [name, 0])) as Record<Counter, number>
    this.memoryLimit = options.memoryLimit
    this.maxbytes = options.memoryLimit ?? DEFAULT_MAXBYTES
  }

  /** Items stored, expired ones not reclaimed yet included (as the server's `curr_items`). */
  get size(): number {
    return this.items.size
  }

  /** Runs one command at `now` (unix milliseconds); `undefined` when it gets no reply. */
  execute(
    command: Command.Command,
    expectation: Reply.Expectation | undefined,
    nowMillis: number
  ): Reply.Reply | undefined {
    const now = Math.floor(nowMillis / 1000)
    const reply = this.run(command, now)
    if (expectation === undefined) return undefined
    if (expectation._tag === "Meta" && expectation.quiet && reply._tag === "Meta") {
      // `q`: the success (or mg miss) is not sent; the decoder stands in a reply of the `suppressed` code.
      const hidden =
        expectation.suppressed === "EN"
          ? reply.code === "EN"
          : reply.code === "HD" || (reply.code === "VA" && command._tag === "MetaArithmetic")
      if (hidden) {
        return metaReply(
          expectation.suppressed,
          expectation.opaque === undefined ? EMPTY_FLAGS : { opaque: expectation.opaque }
        )
      }
    }
    return reply
  }

  // ---- items ----------------------------------------------------------------------------------------------

  private bump(counter: Counter, by = 1) {
    this.counters[counter] += by
  }

  private nextCas(): bigint {
    this.casCounter++
    return this.casCounter
  }

  /** The server's `realtime()`: 0 never, 1..30 days relative, larger absolute, negative already expired. */
  private expiresAt(exptime: number, now: number): number {
    if (exptime === 0) return 0
    if (exptime < 0) return EXPIRED
    return exptime <= Exptime.RELATIVE_MAX ? now + exptime : exptime
  }

  private isFlushed(item: Item, now: number): boolean {
    return this.oldestLive !== undefined && this.oldestLive <= now && item.time <= this.oldestLive
  }

  /** The live item under `key`, reclaiming it when expired or flushed (and counting that for fetches). */
  private live(key: string, now: number, fetch: boolean): Item | undefined {
    const item = this.items.get(key)
    if (item === undefined) return undefined
    if (item.expiresAt !== 0 && item.expiresAt <= now) {
      this.unlink(key, item)
      if (fetch) this.bump("get_expired")
      return undefined
    }
    if (this.isFlushed(item, now)) {
      this.unlink(key, item)
      if (fetch) this.bump("get_flushed")
      return undefined
    }
    return item
  }

  /** Moves an item to the most recently used end. */
  private touchLru(key: string, item: Item, now: number) {
    this.items.delete(key)
    this.items.set(key, item)
    item.lastAccess = now
  }

  private unlink(key: string, item: Item) {
    this.items.delete(key)
    this.bytes -= item.size
  }

  private itemSize(keyLength: number, valueLength: number, flags: number): number {
    return ITEM_HEADER + keyLength + valueLength + (flags !== 0 ? FLAGS_SIZE : 0)
  }

  /** Links a new item in place of any old one, evicting least recently used items past the memory limit. */
  private link(key: string, item: Item) {
    const old = this.items.get(key)
    if (old !== undefined) this.unlink(key, old)
    this.items.set(key, item)
    this.bytes += item.size
    this.totalItems++
    if (this.memoryLimit !== undefined) {
      for (const [victimKey, victim] of this.items) {
        if (this.bytes <= this.memoryLimit) break
        if (victim === item) continue
        this.unlink(victimKey, victim)
        this.evictions++
      }
    }
  }

  private newItem(keyLength: number, value: Uint8Array, flags: number, expiresAt: number, now: number): Item {
    return {
      value,
      flags,
      expiresAt,
      cas: this.nextCas(),
      time: now,
      lastAccess: now,
      fetched: false,
      size: this.itemSize(keyLength, value.length, flags),
      keyLength
    }
  }

  /** Why an item of this size cannot be stored, if it cannot. */
  private refuse(size: number): Reply.ServerErrorReply | undefined {
    if (size > this.options.itemSizeMax) {
      this.bump("store_too_large")
      return TOO_LARGE
    }
    if (this.memoryLimit !== undefined && size > this.memoryLimit) {
      this.bump("store_no_memory")
      return OUT_OF_MEMORY
    }
    return undefined
  }

  // ---- storage ----------------------------------------------------------------------------------------------

  /**
   * set/add/replace/append/prepend/cas, text or meta. `compare` is the CAS unique to match (cas, ms C).
   * Returns Stored / NotStored / Exists / NotFound or an error, and the item stored.
   */
  private store(
    mode: Meta.SetMode,
    key: string,
    keyLength: number,
    value: Uint8Array,
    flags: number,
    exptime: number,
    compare: bigint | undefined,
    now: number
  ): [Reply.Reply, Item | undefined] {
    const size = this.itemSize(keyLength, value.length, flags)
    const refused = this.refuse(size)
    if (refused !== undefined) {
      // A failed set must not leave the old value behind (memcached unlinks it); add/replace/cas keep it.
      if (mode === "set" && compare === undefined) {
        const old = this.items.get(key)
        if (old !== undefined) this.unlink(key, old)
      }
      return [refused, undefined]
    }
    this.bump("cmd_set")
    const old = this.live(key, now, false)
    if (compare !== undefined) {
      if (old === undefined) {
        this.bump("cas_misses")
        return [Reply.replies.NotFound, undefined]
      }
      if (old.cas !== compare) {
        this.bump("cas_badval")
        return [Reply.replies.Exists, undefined]
      }
      this.bump("cas_hits")
    }
    switch (mode) {
      case "add":
        if (old !== undefined) {
          this.touchLru(key, old, now)
          return [Reply.replies.NotStored, undefined]
        }
        break
      case "replace":
        if (old === undefined) return [Reply.replies.NotStored, undefined]
        break
      case "append":
      case "prepend": {
        if (old === undefined) return [Reply.replies.NotStored, undefined]
        // The old item's flags and exptime are kept; the combined item must fit, else NOT_STORED.
        const joined = new Uint8Array(old.value.length + value.length)
        joined.set(mode === "append" ? old.value : value, 0)
        joined.set(mode === "append" ? value : old.value, mode === "append" ? old.value.length : value.length)
        if (this.itemSize(keyLength, joined.length, old.flags) > this.options.itemSizeMax) {
          return [Reply.replies.NotStored, undefined]
        }
        const item = this.newItem(keyLength, joined, old.flags, old.expiresAt, now)
        this.link(key, item)
        return [Reply.replies.Stored, item]
      }
      case "set":
        break
    }
    const item = this.newItem(keyLength, value.slice(), flags, this.expiresAt(exptime, now), now)
    this.link(key, item)
    return [Reply.replies.Stored, item]
  }

  /** incr/decr, text or meta: the new value, or why not. Keeps flags and exptime; pads a shorter number. */
  private arithmetic(
    key: string,
    keyLength: number,
    incr: boolean,
    delta: bigint,
    compare: bigint | undefined,
    now: number
  ): Item | Reply.Reply {
    const item = this.live(key, now, false)
    if (item === undefined) {
      this.bump(incr ? "incr_misses" : "decr_misses")
      return Reply.replies.NotFound
    }
    if (compare !== undefined && compare !== 0n && item.cas !== compare) return Reply.replies.Exists
    const current = parseCounter(item.value)
    if (current === undefined) return NON_NUMERIC
    const next = incr ? (current + delta) & U64_MASK : delta > current ? 0n : current - delta
    this.bump(incr ? "incr_hits" : "decr_hits")
    const digits = encoder.encode(next.toString())
    if (digits.length <= item.value.length) {
      // In place: the old length is kept and the rest padded with spaces (memcached does exactly this).
      const padded = new Uint8Array(item.value.length).fill(0x20)
      padded.set(digits)
      item.value = padded
      item.cas = this.nextCas()
      this.touchLru(key, item, now)
      return item
    }
    const grown = this.newItem(keyLength, digits, item.flags, item.expiresAt, now)
    this.link(key, grown)
    return grown
  }

  // ---- the interpreter ------------------------------------------------------------------------------------

  private run(command: Command.Command, now: number): Reply.Reply {
    switch (command._tag) {
      case "Store":
        return this.store(
          command.verb,
          command.key,
          Key.byteLength(command.key),
          command.value,
          command.flags,
          command.exptime,
          undefined,
          now
        )[0]
      case "Cas":
        return this.store(
          "set",
          command.key,
          Key.byteLength(command.key),
          command.value,
          command.flags,
          command.exptime,
          command.cas,
          now
        )[0]
      case "Get":
        return this.retrieve(command.keys, command.verb === "gets", undefined, now)
      case "Gat":
        return this.retrieve(command.keys, command.verb === "gats", command.exptime, now)
      case "Delete": {
        const item = this.live(command.key, now, false)
        if (item === undefined) {
          this.bump("delete_misses")
          return Reply.replies.NotFound
        }
        this.unlink(command.key, item)
        this.bump("delete_hits")
        return Reply.replies.Deleted
      }
      case "Arithmetic": {
        const result = this.arithmetic(
          command.key,
          Key.byteLength(command.key),
          command.verb === "incr",
          command.delta,
          undefined,
          now
        )
        return "_tag" in result ? result : { _tag: "Numeric", value: parseCounter(result.value)! }
      }
      case "Touch": {
        this.bump("cmd_touch")
        const item = this.live(command.key, now, false)
        if (item === undefined) {
          this.bump("touch_misses")
          return Reply.replies.NotFound
        }
        this.bump("touch_hits")
        item.expiresAt = this.expiresAt(command.exptime, now)
        this.touchLru(command.key, item, now)
        return Reply.replies.Touched
      }
      case "Stats":
        return this.stats(command.args, now)
      case "Version":
        return { _tag: "Version", version: this.options.version }
      case "Verbosity":
        return Reply.replies.Ok
      case "FlushAll":
        return this.flush(command.delay, now)
      case "CacheMemlimit":
        if (command.megabytes < 8) {
          return { _tag: "Status", word: "MEMLIMIT_TOO_SMALL", text: "cannot set maxbytes to less than 8m" }
        }
        if (command.megabytes > 1_000_000_000) {
          return { _tag: "Status", word: "MEMLIMIT_ADJUST_FAILED", text: "input value is megabytes not bytes" }
        }
        this.maxbytes = command.megabytes * 1024 * 1024
        if (this.memoryLimit !== undefined) this.memoryLimit = this.maxbytes
        return Reply.replies.Ok
      case "Quit":
        return Reply.replies.Ok
      case "Shutdown":
        return SHUTDOWN_DISABLED
      case "MetaNoop":
        return metaReply("MN", EMPTY_FLAGS)
      case "MetaDebug":
        return this.metaDebug(command, now)
      case "MetaGet":
        return this.metaGet(command, now)
      case "MetaSet":
        return this.metaSet(command, now)
      case "MetaDelete":
        return this.metaDelete(command, now)
      case "MetaArithmetic":
        return this.metaArithmetic(command, now)
    }
  }

  private retrieve(keys: ReadonlyArray<string>, withCas: boolean, exptime: number | undefined, now: number) {
    const values: Array<Reply.Value> = []
    for (const key of keys) {
      // gat/gats count as touches, get/gets as gets (as memcached's stats do).
      this.bump(exptime === undefined ? "cmd_get" : "cmd_touch")
      const item = this.live(key, now, true)
      if (item === undefined) {
        this.bump(exptime === undefined ? "get_misses" : "touch_misses")
        continue
      }
      this.bump(exptime === undefined ? "get_hits" : "touch_hits")
      values.push({ key, flags: item.flags, value: item.value.slice(), cas: withCas ? item.cas : undefined })
      item.fetched = true
      this.touchLru(key, item, now)
      // After the value is taken: `gat -1 k` returns the value, then it is gone.
      if (exptime !== undefined) item.expiresAt = this.expiresAt(exptime, now)
    }
    return { _tag: "Values", values } as Reply.Values
  }

  /**
   * `flush_all [delay]`. Immediate: everything goes now, and later writes stay. Delayed: memcached records
   * `oldest_live = now + delay - 1`, and once that second has come every item written at or before it is gone,
   * including items written after the command (and, for the rest of that second, new writes too). This server
   * fires at exactly that second of its clock; the real server's clock ticks once a second at an arbitrary phase,
   * so it fires between `delay - 2` and `delay - 1` seconds after the command.
   */
  private flush(delay: number | undefined, now: number): Reply.Reply {
    this.bump("cmd_flush")
    if (delay === undefined || delay <= 0) {
      this.items.clear()
      this.bytes = 0
      this.oldestLive = undefined
      return Reply.replies.Ok
    }
    this.oldestLive = (delay <= Exptime.RELATIVE_MAX ? now + delay : delay) - 1
    return Reply.replies.Ok
  }

  private stats(args: ReadonlyArray<string>, now: number): Reply.Reply {
    if (args.length === 0) return this.generalStats(now)
    switch (args[0]) {
      case "reset":
        if (args.length > 1) break
        for (const name of counterNames) this.counters[name] = 0
        this.totalItems = 0
        this.evictions = 0
        return Reply.replies.Reset
      case "detail":
        if (args[1] === "on" || args[1] === "off") return Reply.replies.Ok
        if (args[1] === "dump") return { _tag: "Stats", stats: [], lines: [] }
        return clientError("usage: stats detail on|off|dump")
      case "settings":
        return {
          _tag: "Stats",
          stats: [
            ["maxbytes", String(this.maxbytes)],
            ["maxconns", "1024"],
            ["tcpport", "0"],
            ["udpport", "0"],
            ["verbosity", "0"],
            ["evictions", "on"],
            ["item_size_max", String(this.options.itemSizeMax)],
            ["cas_enabled", "yes"]
          ],
          lines: []
        }
      case "items":
      case "slabs":
      case "sizes":
      case "conns":
      case "extstore":
        return { _tag: "Stats", stats: [], lines: [] }
    }
    return BARE_ERROR
  }

  private generalStats(now: number): Reply.Stats {
    const c = this.counters
    const stats: Array<readonly [string, string]> = [
      ["pid", String(globalThis.process?.pid ?? 0)],
      ["uptime", String(Math.max(0, now - this.startedAt))],
      ["time", String(now)],
      ["version", this.options.version],
      ["pointer_size", "64"],
      ["max_connections", "1024"],
      ["curr_connections", "1"],
      ["total_connections", "1"]
    ]
    for (const name of counterNames) stats.push([name, String(c[name])])
    stats.push(
      ["limit_maxbytes", String(this.maxbytes)],
      ["threads", "1"],
      ["bytes", String(this.bytes)],
      ["curr_items", String(this.items.size)],
      ["total_items", String(this.totalItems)],
      ["evictions", String(this.evictions)]
    )
    return { _tag: "Stats", stats, lines: [] }
  }

  // ---- meta -------------------------------------------------------------------------------------------------

  private metaKey(key: string | Uint8Array): [key: string, length: number] {
    return typeof key === "string" ? [key, Key.byteLength(key)] : [keyOf(key), key.length]
  }

  /** The `k`, `b` and `O` flags every meta reply echoes when asked. */
  private echo(
    command: { readonly key: string | Uint8Array; readonly returnKey?: boolean; readonly opaque?: string },
    flags: Record<string, unknown>
  ): Reply.MetaFlags {
    if (command.returnKey === true) {
      if (typeof command.key === "string") flags.key = command.key
      else {
        flags.key = latin1.decode(command.key)
        flags.base64Key = true
      }
    }
    if (command.opaque !== undefined) flags.opaque = command.opaque
    return flags as Reply.MetaFlags
  }

  private ttlOf(item: Item, now: number): number {
    if (item.expiresAt === 0) return -1
    return Math.max(item.expiresAt - now, -1)
  }

  private metaGet(command: Meta.MetaGet, now: number): Reply.Reply {
    this.bump("cmd_meta")
    if (command.vivify !== undefined || command.recache !== undefined) {
      return clientError("invalid flag (N and R are not modelled by the in-memory server)")
    }
    const [key] = this.metaKey(command.key)
    this.bump("cmd_get")
    const item = this.live(key, now, true)
    if (item === undefined) {
      this.bump("get_misses")
      if (command.touch !== undefined) {
        this.bump("cmd_touch")
        this.bump("touch_misses")
      }
      return metaReply("EN", this.echo(command, {}))
    }
    this.bump("get_hits")
    const flags: Record<string, unknown> = {}
    if (command.size === true) flags.size = item.value.length
    if (command.clientFlags === true) flags.flags = item.flags
    if (command.ttl === true) flags.ttl = this.ttlOf(item, now)
    if (command.cas === true) flags.cas = item.cas
    if (command.hit === true) flags.hit = item.fetched
    if (command.lastAccess === true) flags.lastAccess = now - item.lastAccess
    if (command.touch !== undefined) {
      this.bump("cmd_touch")
      this.bump("touch_hits")
      item.expiresAt = this.expiresAt(command.touch, now)
    }
    const value = command.value === true ? item.value.slice() : undefined
    item.fetched = true
    if (command.noBump !== true) this.touchLru(key, item, now)
    return metaReply(value === undefined ? "HD" : "VA", this.echo(command, flags), value)
  }

  private metaSet(command: Meta.MetaSet, now: number): Reply.Reply {
    this.bump("cmd_meta")
    if (command.invalidate === true) {
      return clientError("invalid flag (I is not modelled by the in-memory server)")
    }
    const [key, keyLength] = this.metaKey(command.key)
    const [reply, item] = this.store(
      command.mode ?? "set",
      key,
      keyLength,
      command.value,
      command.clientFlags ?? 0,
      command.ttl ?? 0,
      command.compareCas,
      now
    )
    const flags: Record<string, unknown> = {}
    if (command.returnCas === true && item !== undefined) flags.cas = item.cas
    switch (reply._tag) {
      case "Stored":
        return metaReply("HD", this.echo(command, flags))
      case "NotStored":
        return metaReply("NS", this.echo(command, flags))
      case "Exists":
        return metaReply("EX", this.echo(command, flags))
      case "NotFound":
        return metaReply("NF", this.echo(command, flags))
      default:
        return reply
    }
  }

  private metaDelete(command: Meta.MetaDelete, now: number): Reply.Reply {
    this.bump("cmd_meta")
    if (command.invalidate === true) {
      return clientError("invalid or duplicate flag (I is not modelled by the in-memory server)")
    }
    const [key] = this.metaKey(command.key)
    const item = this.live(key, now, false)
    if (item === undefined) {
      this.bump("delete_misses")
      return metaReply("NF", this.echo(command, {}))
    }
    if (command.compareCas !== undefined && command.compareCas !== item.cas) {
      return metaReply("EX", this.echo(command, {}))
    }
    this.unlink(key, item)
    this.bump("delete_hits")
    return metaReply("HD", this.echo(command, {}))
  }

  private metaArithmetic(command: Meta.MetaArithmetic, now: number): Reply.Reply {
    this.bump("cmd_meta")
    const [key, keyLength] = this.metaKey(command.key)
    const incr = command.mode !== "decr"
    let result = this.arithmetic(key, keyLength, incr, command.delta ?? 1n, command.compareCas, now)
    if (result === Reply.replies.NotFound && command.vivify !== undefined) {
      // Autovivify: the item is created with the initial value, and the delta is not applied.
      const digits = encoder.encode((command.initial ?? 0n).toString())
      const item = this.newItem(keyLength, digits, 0, this.expiresAt(command.vivify, now), now)
      this.link(key, item)
      result = item
    }
    if ("_tag" in result) {
      if (result._tag === "NotFound") return metaReply("NF", this.echo(command, {}))
      if (result._tag === "Exists") return metaReply("EX", this.echo(command, {}))
      return result
    }
    if (command.ttl !== undefined) result.expiresAt = this.expiresAt(command.ttl, now)
    const flags: Record<string, unknown> = {}
    if (command.returnTtl === true) flags.ttl = this.ttlOf(result, now)
    if (command.returnCas === true) flags.cas = result.cas
    if (command.returnValue !== true) return metaReply("HD", this.echo(command, flags))
    return metaReply("VA", this.echo(command, flags), encoder.encode(parseCounter(result.value)!.toString()))
  }

  private metaDebug(command: Meta.MetaDebug, now: number): Reply.Reply {
    const [key] = this.metaKey(command.key)
    const item = this.live(key, now, false)
    if (item === undefined) return metaReply("EN", EMPTY_FLAGS)
    return {
      _tag: "MetaDebug",
      key: typeof command.key === "string" ? command.key : latin1.decode(command.key),
      fields: {
        exp: String(this.ttlOf(item, now)),
        la: String(now - item.lastAccess),
        cas: String(item.cas),
        fetch: item.fetched ? "yes" : "no",
        cls: "1",
        size: String(item.size)
      }
    }
  }
}
