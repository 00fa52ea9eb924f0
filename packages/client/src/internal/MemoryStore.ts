/**
 * The fake server's item store: items by key in least recently used order, their expiry (exptime and delayed
 * flush), CAS uniques, the byte accounting behind `-I` and the memory limit, and the storage modes every write
 * goes through (set/add/replace/append/prepend, with or without a CAS unique to compare), text or meta.
 *
 * Time is whole unix seconds.
 *
 * @internal
 */
import * as Exptime from "@effect-memcache/protocol/Exptime"
import type * as Meta from "@effect-memcache/protocol/Meta"
import * as Reply from "@effect-memcache/protocol/Reply"
import { itemSize } from "@effect-memcache/protocol/Validation"
import { MemoryStats } from "./MemoryStats.ts"

const DEFAULT_MAXBYTES = 64 * 1024 * 1024

const TOO_LARGE: Reply.ServerErrorReply = { _tag: "ServerError", text: "object too large for cache" }
const OUT_OF_MEMORY: Reply.ServerErrorReply = { _tag: "ServerError", text: "out of memory storing object" }

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
  /** The item's size as the server counts it (`Validation.itemSize`: for `-I`, `bytes` and the memory limit). */
  size: number
  keyLength: number
  /** Marked stale (`md I`, or `ms I` with a lower CAS): mg answers `X` (memcached's `ITEM_STALE`). */
  stale: boolean
  /** The recache win (`W`) was handed out: mg answers `Z` (memcached's `ITEM_TOKEN_SENT`). */
  winSent: boolean
}

/** How a CAS unique given to a write compares with the item's (memcached's `cas_res`). */
type CasMatch = "none" | "match" | "stale" | "mismatch"

/** A unique of 0 compares with nothing; a lower one is "stale" only for ms I. */
const casMatch = (compare: bigint | undefined, cas: bigint, invalidate: boolean): CasMatch => {
  if (compare === undefined || compare === 0n) return "none"
  if (compare === cas) return "match"
  return invalidate && compare < cas ? "stale" : "mismatch"
}

/**
 * The items and everything the server counts about them.
 *
 * @internal
 */
export class MemoryStore {
  /** Insertion order is recency: the first entry is the least recently used. */
  private readonly items = new Map<string, Item>()
  readonly stats: MemoryStats
  readonly itemSizeMax: number
  private casCounter = 0n
  private storedBytes = 0
  private maxbytesSetting: number
  /** Bytes; past it the least recently used items are evicted. `undefined`: no limit. */
  private memoryLimit: number | undefined
  /** A pending or fired delayed flush: items written at or before this second are gone once it has come. */
  private oldestLive: number | undefined = undefined

  constructor(itemSizeMax: number, memoryLimit: number | undefined, startedAt: number) {
    this.itemSizeMax = itemSizeMax
    this.memoryLimit = memoryLimit
    this.maxbytesSetting = memoryLimit ?? DEFAULT_MAXBYTES
    this.stats = new MemoryStats(startedAt)
  }

  /** Items stored, expired ones not reclaimed yet included (as the server's `curr_items`). */
  get size(): number {
    return this.items.size
  }

  /** Bytes of the items stored, as the server counts them (`bytes`). */
  get bytes(): number {
    return this.storedBytes
  }

  /** The server's `maxbytes` setting (`-m`, or `cache_memlimit`). */
  get maxbytes(): number {
    return this.maxbytesSetting
  }

  /** `cache_memlimit`: the new setting, which is enforced only when the server was given a memory limit. */
  setMaxbytes(bytes: number) {
    this.maxbytesSetting = bytes
    if (this.memoryLimit !== undefined) this.memoryLimit = bytes
  }

  nextCas(): bigint {
    this.casCounter++
    return this.casCounter
  }

  /** The server's `realtime()`: 0 never, 1..30 days relative, larger absolute, negative already expired. */
  expiresAt(exptime: number, now: number): number {
    return Exptime.expiresAt(exptime, now)
  }

  /** The live item under `key`, reclaiming it when expired or flushed (and counting that for fetches). */
  live(key: string, now: number, fetch: boolean): Item | undefined {
    const item = this.items.get(key)
    if (item === undefined) return undefined
    if (item.expiresAt !== 0 && item.expiresAt <= now) {
      this.unlink(key, item)
      if (fetch) this.stats.bump("get_expired")
      return undefined
    }
    if (this.isFlushed(item, now)) {
      this.unlink(key, item)
      if (fetch) this.stats.bump("get_flushed")
      return undefined
    }
    return item
  }

  private isFlushed(item: Item, now: number): boolean {
    return this.oldestLive !== undefined && this.oldestLive <= now && item.time <= this.oldestLive
  }

  /** Moves an item to the most recently used end. */
  touchLru(key: string, item: Item, now: number) {
    this.items.delete(key)
    this.items.set(key, item)
    item.lastAccess = now
  }

  unlink(key: string, item: Item) {
    this.items.delete(key)
    this.storedBytes -= item.size
  }

  /** Links a new item in place of any old one, evicting least recently used items past the memory limit. */
  link(key: string, item: Item) {
    const old = this.items.get(key)
    if (old !== undefined) this.unlink(key, old)
    this.items.set(key, item)
    this.storedBytes += item.size
    this.stats.totalItems++
    if (this.memoryLimit !== undefined) {
      for (const [victimKey, victim] of this.items) {
        if (this.storedBytes <= this.memoryLimit) break
        if (victim === item) continue
        this.unlink(victimKey, victim)
        this.stats.evictions++
      }
    }
  }

  newItem(keyLength: number, value: Uint8Array, flags: number, expiresAt: number, now: number): Item {
    return {
      value,
      flags,
      expiresAt,
      cas: this.nextCas(),
      time: now,
      lastAccess: now,
      fetched: false,
      size: itemSize(keyLength, value.length, flags),
      keyLength,
      stale: false,
      winSent: false
    }
  }

  /**
   * set/add/replace/append/prepend/cas, text or meta. `compare` is the CAS unique to match (cas, ms C): as in
   * memcached, set and replace with one are a `cas`, while add, append and prepend keep their mode (add ignores
   * it, append/prepend refuse a mismatch). `invalidate` (ms I): a `cas` with a lower unique than the item's
   * stores the value stale, keeping the item's exptime and any recache win handed out.
   * Returns Stored / NotStored / Exists / NotFound or an error, and the item stored.
   */
  write(
    mode: Meta.SetMode,
    key: string,
    keyLength: number,
    value: Uint8Array,
    flags: number,
    exptime: number,
    compare: bigint | undefined,
    now: number,
    invalidate = false
  ): [Reply.Reply, Item | undefined] {
    const refused = this.refuse(itemSize(keyLength, value.length, flags))
    if (refused !== undefined) {
      // A failed set must not leave the old value behind (memcached unlinks it); add/replace/cas keep it.
      if (mode === "set" && compare === undefined) {
        const old = this.items.get(key)
        if (old !== undefined) this.unlink(key, old)
      }
      return [refused, undefined]
    }
    this.stats.bump("cmd_set")
    const old = this.live(key, now, false)
    const isCas = compare !== undefined && (mode === "set" || mode === "replace")
    if (old === undefined) {
      if (isCas) {
        this.stats.bump("cas_misses")
        return [Reply.replies.NotFound, undefined]
      }
      if (mode !== "set" && mode !== "add") return [Reply.replies.NotStored, undefined]
      return this.store(key, keyLength, value, flags, this.expiresAt(exptime, now), now)
    }
    const match = casMatch(compare, old.cas, invalidate)
    if (isCas) {
      if (match !== "match" && match !== "stale") {
        this.stats.bump("cas_badval")
        return [Reply.replies.Exists, undefined]
      }
      this.stats.bump("cas_hits")
      if (match === "match") return this.store(key, keyLength, value, flags, this.expiresAt(exptime, now), now)
      const result = this.store(key, keyLength, value, flags, old.expiresAt, now)
      result[1].stale = true
      result[1].winSent = old.winSent
      return result
    }
    switch (mode) {
      case "add":
        this.touchLru(key, old, now)
        return [Reply.replies.NotStored, undefined]
      case "append":
      case "prepend":
        if (match !== "none" && match !== "match") return [Reply.replies.Exists, undefined]
        return this.join(mode === "append", key, keyLength, old, value, now)
      default:
        return this.store(key, keyLength, value, flags, this.expiresAt(exptime, now), now)
    }
  }

  private store(
    key: string,
    keyLength: number,
    value: Uint8Array,
    flags: number,
    expiresAt: number,
    now: number
  ): [Reply.Reply, Item] {
    const item = this.newItem(keyLength, value.slice(), flags, expiresAt, now)
    this.link(key, item)
    return [Reply.replies.Stored, item]
  }

  /** append/prepend to a live item: its flags and exptime are kept; the joined item must fit, else NOT_STORED. */
  private join(
    append: boolean,
    key: string,
    keyLength: number,
    old: Item,
    value: Uint8Array,
    now: number
  ): [Reply.Reply, Item | undefined] {
    const joined = new Uint8Array(old.value.length + value.length)
    joined.set(append ? old.value : value, 0)
    joined.set(append ? value : old.value, append ? old.value.length : value.length)
    if (itemSize(keyLength, joined.length, old.flags) > this.itemSizeMax) {
      return [Reply.replies.NotStored, undefined]
    }
    const item = this.newItem(keyLength, joined, old.flags, old.expiresAt, now)
    this.link(key, item)
    return [Reply.replies.Stored, item]
  }

  /** Why an item of this size cannot be stored, if it cannot. */
  private refuse(size: number): Reply.ServerErrorReply | undefined {
    if (size > this.itemSizeMax) {
      this.stats.bump("store_too_large")
      return TOO_LARGE
    }
    if (this.memoryLimit !== undefined && size > this.memoryLimit) {
      this.stats.bump("store_no_memory")
      return OUT_OF_MEMORY
    }
    return undefined
  }

  /**
   * `flush_all [delay]`. Immediate: everything goes now, and later writes stay. Delayed: memcached records
   * `oldest_live = now + delay - 1`, and once that second has come every item written at or before it is gone,
   * including items written after the command (and, for the rest of that second, new writes too). This server
   * fires at exactly that second of its clock; the real server's clock ticks once a second at an arbitrary phase,
   * so it fires between `delay - 2` and `delay - 1` seconds after the command.
   */
  flush(delay: number | undefined, now: number) {
    this.stats.bump("cmd_flush")
    if (delay === undefined || delay <= 0) {
      this.items.clear()
      this.storedBytes = 0
      this.oldestLive = undefined
      return
    }
    this.oldestLive = Exptime.expiresAt(delay, now) - 1
  }
}
