/**
 * incr/decr, text (`incr`, `decr`) or meta (`ma`): the stored number as memcached reads it, and its update.
 *
 * @internal
 */
import * as Reply from "@effect-memcache/protocol/Reply"
import type { Item, MemoryStore } from "./MemoryStore.ts"

const U64_MASK = (1n << 64n) - 1n
const I64_SIGN = 1n << 63n

const NON_NUMERIC: Reply.ClientErrorReply = {
  _tag: "ClientError",
  text: "cannot increment or decrement non-numeric value"
}

const encoder = new TextEncoder()

const isSpace = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d)

/**
 * The stored number, read the way memcached's `safe_strtoull` reads the data (with its CRLF after it): leading
 * whitespace, an optional sign, at least one decimal digit, then whitespace or NUL; out of the u64 range is not a
 * number, and so is a `-` that makes the value negative as a signed 64-bit integer.
 *
 * @internal
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

/**
 * A number as its decimal digits, the way it is stored.
 *
 * @internal
 */
export const counterDigits = (value: bigint): Uint8Array => encoder.encode(value.toString())

/**
 * incr/decr, text or meta: the item with its new value, or why not. Keeps flags and exptime; pads a shorter
 * number. `compare` is the CAS unique to match (ma C; 0 matches anything).
 *
 * @internal
 */
export const arithmetic = (
  store: MemoryStore,
  key: string,
  keyLength: number,
  incr: boolean,
  delta: bigint,
  compare: bigint | undefined,
  now: number
): Item | Reply.Reply => {
  const item = store.live(key, now, false)
  if (item === undefined) {
    store.stats.bump(incr ? "incr_misses" : "decr_misses")
    return Reply.replies.NotFound
  }
  if (compare !== undefined && compare !== 0n && item.cas !== compare) return Reply.replies.Exists
  const current = parseCounter(item.value)
  if (current === undefined) return NON_NUMERIC
  const next = incr ? (current + delta) & U64_MASK : delta > current ? 0n : current - delta
  store.stats.bump(incr ? "incr_hits" : "decr_hits")
  const digits = counterDigits(next)
  if (digits.length <= item.value.length) {
    // In place: the old length is kept and the rest padded with spaces (memcached does exactly this).
    const padded = new Uint8Array(item.value.length).fill(0x20)
    padded.set(digits)
    item.value = padded
    item.cas = store.nextCas()
    store.touchLru(key, item, now)
    return item
  }
  const grown = store.newItem(keyLength, digits, item.flags, item.expiresAt, now)
  store.link(key, grown)
  return grown
}
