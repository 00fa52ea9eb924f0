/**
 * The memcached key a store's key is kept under. A key that memcached takes as it is (printable ASCII, short
 * enough once the client's `keyPrefix` is added) is used unchanged; any other key is hashed:
 * `<readable part>#sha256:<64 hex digits>`, where the readable part is the key's start with every byte memcached
 * (or a client with `allowUnicodeKeys: false`) would refuse replaced by `_`, and the digest is SHA-256 over the
 * key's UTF-16 code units (so even strings with lone surrogates, which have no UTF-8 form, hash apart).
 *
 * Why two keys cannot share a memcached key: a key that already ends like a hashed one (`#sha256:` and 64 lower
 * hex digits) is always hashed, so the unchanged keys and the hashed keys are disjoint sets; two unchanged keys
 * are equal only if they are the same key; two hashed keys are equal only if their digests are, which for
 * different keys would be a SHA-256 collision (none is known; finding one by chance takes about 2^128 tries).
 */
import { createHash } from "node:crypto"
import * as Key from "@effect-memcache/protocol/Key"

const MARK = "#sha256:"

/** The bytes a hashed key needs besides its readable part. */
export const HASH_BYTES = MARK.length + 64

const HASHED = /#sha256:[0-9a-f]{64}$/

const isPlain = (c: number): boolean => c > 0x20 && c < 0x7f

/** Whether every character of `key` is printable ASCII (no space): what every memcached client accepts. */
export const allPlain = (key: string): boolean => {
  for (let i = 0; i < key.length; i++) if (!isPlain(key.charCodeAt(i))) return false
  return key.length > 0
}

const readable = (key: string, length: number): string => {
  let out = ""
  for (let i = 0; i < key.length && out.length < length; i++) {
    const c = key.charCodeAt(i)
    out += isPlain(c) ? key[i] : "_"
  }
  return out
}

/** Whether `key` is kept under itself with `budget` bytes (250 minus the client's key prefix). */
export const isUnchanged = (key: string, budget: number): boolean =>
  key.length <= budget && allPlain(key) && !HASHED.test(key)

/** The memcached key of `key`, in at most `budget` bytes (`budget` is at least {@link HASH_BYTES}). */
export const storeKey = (key: string, budget: number): string => {
  if (isUnchanged(key, budget)) return key
  const digest = createHash("sha256").update(Buffer.from(key, "utf16le")).digest("hex")
  return `${readable(key, budget - HASH_BYTES)}${MARK}${digest}`
}

/** The bytes left for a store's keys under a client `keyPrefix`; `undefined` when too few to hash into. */
export const budgetOf = (clientKeyPrefix: string): number | undefined => {
  const budget = Key.MAX_LENGTH - Key.byteLength(clientKeyPrefix)
  return budget >= HASH_BYTES ? budget : undefined
}
