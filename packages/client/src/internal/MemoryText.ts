/**
 * The fake server's text commands that touch items or settings: storage (set/add/replace/append/prepend), cas,
 * get/gets, gat/gats, delete, incr/decr, touch, flush_all and cache_memlimit.
 *
 * @internal
 */
import type * as Command from "@effect-memcache/protocol/Command"
import * as Key from "@effect-memcache/protocol/Key"
import * as Reply from "@effect-memcache/protocol/Reply"
import { arithmetic, parseCounter } from "./MemoryArithmetic.ts"
import type { MemoryStore } from "./MemoryStore.ts"

const MEMLIMIT_TOO_SMALL: Reply.Reply = {
  _tag: "Status",
  word: "MEMLIMIT_TOO_SMALL",
  text: "cannot set maxbytes to less than 8m"
}
const MEMLIMIT_ADJUST_FAILED: Reply.Reply = {
  _tag: "Status",
  word: "MEMLIMIT_ADJUST_FAILED",
  text: "input value is megabytes not bytes"
}

/** @internal */
export const storage = (store: MemoryStore, command: Command.Store, now: number): Reply.Reply =>
  store.write(
    command.verb,
    command.key,
    Key.byteLength(command.key),
    command.value,
    command.flags,
    command.exptime,
    undefined,
    now
  )[0]

/** @internal */
export const cas = (store: MemoryStore, command: Command.Cas, now: number): Reply.Reply =>
  store.write(
    "set",
    command.key,
    Key.byteLength(command.key),
    command.value,
    command.flags,
    command.exptime,
    command.cas,
    now
  )[0]

/** `get`/`gets`. @internal */
export const get = (store: MemoryStore, command: Command.Get, now: number): Reply.Reply =>
  retrieve(store, command.keys, command.verb === "gets", undefined, now)

/** `gat`/`gats`. @internal */
export const gat = (store: MemoryStore, command: Command.Gat, now: number): Reply.Reply =>
  retrieve(store, command.keys, command.verb === "gats", command.exptime, now)

const retrieve = (
  store: MemoryStore,
  keys: ReadonlyArray<string>,
  withCas: boolean,
  exptime: number | undefined,
  now: number
): Reply.Values => {
  const values: Array<Reply.Value> = []
  for (const key of keys) {
    // gat/gats count as touches, get/gets as gets (as memcached's stats do).
    store.stats.bump(exptime === undefined ? "cmd_get" : "cmd_touch")
    const item = store.live(key, now, true)
    if (item === undefined) {
      store.stats.bump(exptime === undefined ? "get_misses" : "touch_misses")
      continue
    }
    store.stats.bump(exptime === undefined ? "get_hits" : "touch_hits")
    values.push({ key, flags: item.flags, value: item.value.slice(), cas: withCas ? item.cas : undefined })
    item.fetched = true
    store.touchLru(key, item, now)
    // After the value is taken: `gat -1 k` returns the value, then it is gone.
    if (exptime !== undefined) item.expiresAt = store.expiresAt(exptime, now)
  }
  return { _tag: "Values", values }
}

/** `delete`. @internal */
export const remove = (store: MemoryStore, command: Command.Delete, now: number): Reply.Reply => {
  const item = store.live(command.key, now, false)
  if (item === undefined) {
    store.stats.bump("delete_misses")
    return Reply.replies.NotFound
  }
  store.unlink(command.key, item)
  store.stats.bump("delete_hits")
  return Reply.replies.Deleted
}

/** `incr`/`decr`. @internal */
export const incrDecr = (store: MemoryStore, command: Command.Arithmetic, now: number): Reply.Reply => {
  const result = arithmetic(
    store,
    command.key,
    Key.byteLength(command.key),
    command.verb === "incr",
    command.delta,
    undefined,
    now
  )
  return "_tag" in result ? result : { _tag: "Numeric", value: parseCounter(result.value)! }
}

/** @internal */
export const touch = (store: MemoryStore, command: Command.Touch, now: number): Reply.Reply => {
  store.stats.bump("cmd_touch")
  const item = store.live(command.key, now, false)
  if (item === undefined) {
    store.stats.bump("touch_misses")
    return Reply.replies.NotFound
  }
  store.stats.bump("touch_hits")
  item.expiresAt = store.expiresAt(command.exptime, now)
  store.touchLru(command.key, item, now)
  return Reply.replies.Touched
}

/** @internal */
export const flushAll = (store: MemoryStore, command: Command.FlushAll, now: number): Reply.Reply => {
  store.flush(command.delay, now)
  return Reply.replies.Ok
}

/** `cache_memlimit <megabytes>`, with memcached's bounds. @internal */
export const cacheMemlimit = (store: MemoryStore, command: Command.CacheMemlimit): Reply.Reply => {
  if (command.megabytes < 8) return MEMLIMIT_TOO_SMALL
  if (command.megabytes > 1_000_000_000) return MEMLIMIT_ADJUST_FAILED
  store.setMaxbytes(command.megabytes * 1024 * 1024)
  return Reply.replies.Ok
}
