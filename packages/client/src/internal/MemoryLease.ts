/**
 * Recache leases and stale items, as memcached 1.6.18 keeps them (checked against the real server by
 * test/MemoryLeases.test.ts).
 *
 * An item carries two marks. `winSent` (the server's `ITEM_TOKEN_SENT`): the recache win (`W`) was handed out,
 * so every later mg answers `Z` and wins nothing. `stale` (`ITEM_STALE`): `md I` or `ms I` with a lower CAS
 * marked it, so every mg answers `X`, and the first one while no win is out also wins. An mg wins when it
 * vivifies a miss (`N`), when the remaining TTL is below its `R` threshold (and no win is out), or when the item
 * is stale. `md I` marks the item stale, takes the win back (the next mg wins again), bumps the CAS unique and
 * sets the TTL when given one. A new item (any store, an incr/decr that grows the number) carries neither mark;
 * an incr/decr in place keeps them.
 *
 * The server appends the marks after every flag the command asked for, in this order: `Z`, `X`, `W`.
 *
 * @internal
 */
import type * as Meta from "@effect-memcache/protocol/Meta"
import type * as Reply from "@effect-memcache/protocol/Reply"
import type { Item, MemoryStore } from "./MemoryStore.ts"

/** The reply flags, while a reply is being put together. */
type Flags = { -readonly [K in keyof Reply.MetaFlags]: Reply.MetaFlags[K] }

/**
 * `mg N` on a miss: an empty item (0 bytes, client flags 0) that never expires until the N TTL is applied, linked
 * at once, as the server does before it reads the rest of the flags.
 *
 * @internal
 */
export const vivify = (store: MemoryStore, key: string, keyLength: number, now: number): Item => {
  const item = store.newItem(keyLength, new Uint8Array(0), 0, 0, now)
  store.link(key, item)
  return item
}

/**
 * What `T`, `N` and `R` do to the item an mg found or created, in the order the encoder sends them (after every
 * flag that reads the item, so `t` shows the TTL from before them), then the marks the reply carries.
 *
 * @internal
 */
export const settle = (
  store: MemoryStore,
  item: Item,
  created: boolean,
  command: Meta.MetaGet,
  now: number,
  flags: Flags
): void => {
  let won = false
  if (command.touch !== undefined) item.expiresAt = store.expiresAt(command.touch, now)
  if (command.vivify !== undefined && created) {
    item.expiresAt = store.expiresAt(command.vivify, now)
    won = true
  }
  if (command.recache !== undefined && !item.winSent && !created && item.expiresAt !== 0) {
    // The server compares absolute times: R0 is "never", a negative R a time long past.
    const threshold = store.expiresAt(command.recache, now)
    if (threshold > 0 && item.expiresAt < threshold) won = true
  }
  if (item.winSent) flags.winSent = true
  if (item.stale) {
    flags.stale = true
    if (!item.winSent) won = true
  }
  if (won) {
    flags.win = true
    item.winSent = true
  }
}

/**
 * `md I [T<ttl>]` on a live item: marked stale, the win taken back, a new CAS unique, the TTL when given.
 *
 * @internal
 */
export const invalidate = (store: MemoryStore, item: Item, command: Meta.MetaDelete, now: number): void => {
  if (command.ttl !== undefined) item.expiresAt = store.expiresAt(command.ttl, now)
  item.stale = true
  item.winSent = false
  item.cas = store.nextCas()
}
