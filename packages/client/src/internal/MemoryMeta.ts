/**
 * The fake server's meta commands: mg, ms, md, ma, me and mn, their binary keys, the flags they echo, and what a
 * quiet (`q`) command leaves unsaid.
 *
 * @internal
 */
import type * as Command from "@effect-memcache/protocol/Command"
import * as Key from "@effect-memcache/protocol/Key"
import type * as Meta from "@effect-memcache/protocol/Meta"
import * as Reply from "@effect-memcache/protocol/Reply"
import { arithmetic, counterDigits, parseCounter } from "./MemoryArithmetic.ts"
import * as MemoryLease from "./MemoryLease.ts"
import type { Item, MemoryStore } from "./MemoryStore.ts"

/** The reply flags, while a reply is being put together. */
type Flags = { -readonly [K in keyof Reply.MetaFlags]: Reply.MetaFlags[K] }

const utf8 = new TextDecoder("utf-8", { fatal: true })
const latin1 = new TextDecoder("latin1")

const EMPTY_FLAGS: Reply.MetaFlags = {}

const metaReply = (code: Reply.Meta["code"], flags: Reply.MetaFlags, value?: Uint8Array): Reply.Meta => ({
  _tag: "Meta",
  code,
  flags,
  value
})

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

const metaKey = (key: string | Uint8Array): [key: string, length: number] =>
  typeof key === "string" ? [key, Key.byteLength(key)] : [keyOf(key), key.length]

/** The `k`, `b` and `O` flags every meta reply echoes when asked. */
const echo = (
  command: {
    readonly key: string | Uint8Array
    readonly returnKey?: boolean | undefined
    readonly opaque?: string | undefined
  },
  flags: Flags
): Reply.MetaFlags => {
  if (command.returnKey === true) {
    if (typeof command.key === "string") flags.key = command.key
    else {
      flags.key = latin1.decode(command.key)
      flags.base64Key = true
    }
  }
  if (command.opaque !== undefined) flags.opaque = command.opaque
  return flags
}

const ttlOf = (item: Item, now: number): number => {
  if (item.expiresAt === 0) return -1
  return Math.max(item.expiresAt - now, -1)
}

/**
 * What the decoder makes of a quiet command's reply: the success (or mg miss) is not sent, so a reply of the
 * `suppressed` code stands in for it.
 *
 * @internal
 */
export const quietReply = (
  command: Command.Command,
  expectation: Extract<Reply.Expectation, { readonly _tag: "Meta" }>,
  reply: Reply.Meta
): Reply.Meta => {
  const hidden =
    expectation.suppressed === "EN"
      ? reply.code === "EN"
      : reply.code === "HD" || (reply.code === "VA" && command._tag === "MetaArithmetic")
  if (!hidden) return reply
  return metaReply(
    expectation.suppressed,
    expectation.opaque === undefined ? EMPTY_FLAGS : { opaque: expectation.opaque }
  )
}

/** @internal */
export const mn = (): Reply.Meta => metaReply("MN", EMPTY_FLAGS)

/**
 * `mg`. The reply's flags are put together in the order the server writes them (the encoder's flag order, then
 * the lease marks), which is also the order the decoder reads them in.
 *
 * @internal
 */
export const mg = (store: MemoryStore, command: Meta.MetaGet, now: number): Reply.Reply => {
  store.stats.bump("cmd_meta")
  const [key, keyLength] = metaKey(command.key)
  store.stats.bump("cmd_get")
  let item = store.live(key, now, true)
  const created = item === undefined && command.vivify !== undefined
  if (item === undefined) {
    if (!created) {
      store.stats.bump("get_misses")
      if (command.touch !== undefined) {
        store.stats.bump("cmd_touch")
        store.stats.bump("touch_misses")
      }
      return metaReply("EN", echo(command, {}))
    }
    item = MemoryLease.vivify(store, key, keyLength, now)
  }
  store.stats.bump("get_hits")
  const flags: Flags = {}
  if (command.size === true) flags.size = item.value.length
  if (command.clientFlags === true) flags.flags = item.flags
  if (command.ttl === true) flags.ttl = ttlOf(item, now)
  if (command.cas === true) flags.cas = item.cas
  if (command.hit === true) flags.hit = item.fetched
  if (command.lastAccess === true) flags.lastAccess = now - item.lastAccess
  echo(command, flags)
  if (command.touch !== undefined) {
    store.stats.bump("cmd_touch")
    store.stats.bump("touch_hits")
  }
  MemoryLease.settle(store, item, created, command, now, flags)
  const value = command.value === true ? item.value.slice() : undefined
  if (command.noBump !== true) {
    // `u`: no bump, and so the item does not count as fetched either.
    item.fetched = true
    store.touchLru(key, item, now)
  }
  return metaReply(value === undefined ? "HD" : "VA", flags, value)
}

/** @internal */
export const ms = (store: MemoryStore, command: Meta.MetaSet, now: number): Reply.Reply => {
  store.stats.bump("cmd_meta")
  const [key, keyLength] = metaKey(command.key)
  const [reply, item] = store.write(
    command.mode ?? "set",
    key,
    keyLength,
    command.value,
    command.clientFlags ?? 0,
    command.ttl ?? 0,
    command.compareCas,
    now,
    command.invalidate === true
  )
  const flags: Flags = {}
  if (command.returnCas === true && item !== undefined) flags.cas = item.cas
  switch (reply._tag) {
    case "Stored":
      return metaReply("HD", echo(command, flags))
    case "NotStored":
      return metaReply("NS", echo(command, flags))
    case "Exists":
      return metaReply("EX", echo(command, flags))
    case "NotFound":
      return metaReply("NF", echo(command, flags))
    default:
      return reply
  }
}

/**
 * `md`; with `I` the item is marked stale instead of deleted (`MemoryLease.invalidate`).
 *
 * @internal
 */
export const md = (store: MemoryStore, command: Meta.MetaDelete, now: number): Reply.Reply => {
  store.stats.bump("cmd_meta")
  const [key] = metaKey(command.key)
  const item = store.live(key, now, false)
  if (item === undefined) {
    store.stats.bump("delete_misses")
    return metaReply("NF", echo(command, {}))
  }
  if (command.compareCas !== undefined && command.compareCas !== item.cas) {
    store.stats.bump("delete_misses")
    return metaReply("EX", echo(command, {}))
  }
  if (command.invalidate === true) {
    MemoryLease.invalidate(store, item, command, now)
    return metaReply("HD", echo(command, {}))
  }
  store.unlink(key, item)
  store.stats.bump("delete_hits")
  return metaReply("HD", echo(command, {}))
}

/** @internal */
export const ma = (store: MemoryStore, command: Meta.MetaArithmetic, now: number): Reply.Reply => {
  store.stats.bump("cmd_meta")
  const [key, keyLength] = metaKey(command.key)
  const incr = command.mode !== "decr"
  let result = arithmetic(store, key, keyLength, incr, command.delta ?? 1n, command.compareCas, now)
  if (result === Reply.replies.NotFound && command.vivify !== undefined) {
    // Autovivify: the item is created with the initial value, and the delta is not applied.
    const item = store.newItem(
      keyLength,
      counterDigits(command.initial ?? 0n),
      0,
      store.expiresAt(command.vivify, now),
      now
    )
    store.link(key, item)
    result = item
  }
  if ("_tag" in result) {
    if (result._tag === "NotFound") return metaReply("NF", echo(command, {}))
    if (result._tag === "Exists") return metaReply("EX", echo(command, {}))
    return result
  }
  if (command.ttl !== undefined) result.expiresAt = store.expiresAt(command.ttl, now)
  const flags: Flags = {}
  if (command.returnTtl === true) flags.ttl = ttlOf(result, now)
  if (command.returnCas === true) flags.cas = result.cas
  if (command.returnValue !== true) return metaReply("HD", echo(command, flags))
  return metaReply("VA", echo(command, flags), counterDigits(parseCounter(result.value)!))
}

/**
 * `me`: the debug line, with the server's quirks (`exp` is the remaining TTL negated).
 *
 * @internal
 */
export const me = (store: MemoryStore, command: Meta.MetaDebug, now: number): Reply.Reply => {
  const [key] = metaKey(command.key)
  const item = store.live(key, now, false)
  if (item === undefined) return metaReply("EN", EMPTY_FLAGS)
  return {
    _tag: "MetaDebug",
    key: typeof command.key === "string" ? command.key : latin1.decode(command.key),
    fields: {
      // memcached 1.6.18 prints `current_time - exptime`: the TTL negated (and -1 for never).
      exp: String(item.expiresAt === 0 ? -1 : now - item.expiresAt),
      la: String(now - item.lastAccess),
      cas: String(item.cas),
      fetch: item.fetched ? "yes" : "no",
      cls: "1",
      size: String(item.size)
    }
  }
}
