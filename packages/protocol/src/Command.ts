/**
 * Every memcached command as a plain object: built once, validated when the call is made, encoded later into
 * a coalesced write buffer. Nothing is encoded for an input that fails validation (protocol.md §8): an invalid
 * key or a wrong length can make the server execute the data block as a command (protocol.md §5).
 *
 * @since 0.1.0
 */
import { InvalidInput } from "./Errors.ts"
import * as Exptime from "./Exptime.ts"
import * as Key from "./Key.ts"
import * as Meta from "./Meta.ts"
import * as Reply from "./Reply.ts"

/**
 * The text storage verbs that share one syntax.
 *
 * @example
 * ```ts
 * import type { Command } from "@effect-memcache/protocol"
 * const verb: Command.StorageVerb = "add"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type StorageVerb = "set" | "add" | "replace" | "append" | "prepend"

/**
 * `set|add|replace|append|prepend <key> <flags> <exptime> <bytes> [noreply]\r\n<data>\r\n`
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * const c: Command.Store = Command.set("k", new Uint8Array(3))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Store {
  readonly _tag: "Store"
  readonly verb: StorageVerb
  readonly key: string
  readonly flags: number
  readonly exptime: number
  readonly value: Uint8Array
  readonly noreply: boolean
}

/**
 * `cas <key> <flags> <exptime> <bytes> <cas unique> [noreply]\r\n<data>\r\n`
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * const c: Command.Cas = Command.cas("k", new Uint8Array(3), 42n)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Cas {
  readonly _tag: "Cas"
  readonly key: string
  readonly flags: number
  readonly exptime: number
  readonly value: Uint8Array
  readonly cas: bigint
  readonly noreply: boolean
}

/**
 * `get|gets <key>+`
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * const c: Command.Get = Command.get(["a", "b"])
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Get {
  readonly _tag: "Get"
  readonly verb: "get" | "gets"
  readonly keys: ReadonlyArray<string>
}

/**
 * `gat|gats <exptime> <key>+`
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * const c: Command.Gat = Command.gat(60, ["a"])
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Gat {
  readonly _tag: "Gat"
  readonly verb: "gat" | "gats"
  readonly exptime: number
  readonly keys: ReadonlyArray<string>
}

/**
 * `delete <key> [noreply]`
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * const c: Command.Delete = Command.delete("k")
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Delete {
  readonly _tag: "Delete"
  readonly key: string
  readonly noreply: boolean
}

/**
 * `incr|decr <key> <delta> [noreply]`; the delta is an unsigned 64-bit integer.
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * const c: Command.Arithmetic = Command.incr("n", 1n)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Arithmetic {
  readonly _tag: "Arithmetic"
  readonly verb: "incr" | "decr"
  readonly key: string
  readonly delta: bigint
  readonly noreply: boolean
}

/**
 * `touch <key> <exptime> [noreply]`
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * const c: Command.Touch = Command.touch("k", 60)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Touch {
  readonly _tag: "Touch"
  readonly key: string
  readonly exptime: number
  readonly noreply: boolean
}

/**
 * `stats [<args>]`; each argument is printable ASCII without spaces (`items`, `slabs`, `cachedump 1 10`...).
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * const c: Command.Stats = Command.stats(["slabs"])
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Stats {
  readonly _tag: "Stats"
  readonly args: ReadonlyArray<string>
}

/**
 * `version`
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * const c: Command.Version = Command.version
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Version {
  readonly _tag: "Version"
}

/**
 * `verbosity <level> [noreply]`
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * const c: Command.Verbosity = Command.verbosity(1)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Verbosity {
  readonly _tag: "Verbosity"
  readonly level: number
  readonly noreply: boolean
}

/**
 * `flush_all [<delay>] [noreply]`. The delay is read like an exptime (over 30 days it is a unix time).
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * const c: Command.FlushAll = Command.flushAll({ delay: 10 })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface FlushAll {
  readonly _tag: "FlushAll"
  readonly delay: number | undefined
  readonly noreply: boolean
}

/**
 * `cache_memlimit <megabytes> [noreply]`
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * const c: Command.CacheMemlimit = Command.cacheMemlimit(64)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface CacheMemlimit {
  readonly _tag: "CacheMemlimit"
  readonly megabytes: number
  readonly noreply: boolean
}

/**
 * `quit`: the server closes the connection without a reply.
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * const c: Command.Quit = Command.quit
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Quit {
  readonly _tag: "Quit"
}

/**
 * `shutdown [graceful]`: only honoured by a server started with `-A`.
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * const c: Command.Shutdown = Command.shutdown({ graceful: true })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Shutdown {
  readonly _tag: "Shutdown"
  readonly graceful: boolean
}

/**
 * Every command the encoder knows.
 *
 * @example
 * ```ts
 * import { Command, Meta } from "@effect-memcache/protocol"
 * const batch: Array<Command.Command> = [Command.get(["a"]), Meta.get("b", { value: true })]
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Command =
  | Store
  | Cas
  | Get
  | Gat
  | Delete
  | Arithmetic
  | Touch
  | Stats
  | Version
  | Verbosity
  | FlushAll
  | CacheMemlimit
  | Quit
  | Shutdown
  | Meta.MetaCommand

/**
 * Limits the validation enforces.
 *
 * @example
 * ```ts
 * import type { Command } from "@effect-memcache/protocol"
 * const limits: Command.Limits = { itemSizeMax: 1024, allowUnicodeKeys: false }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Limits {
  /**
   * The largest value, in bytes (default 1048576, the server's default `-I`). The server counts the whole item
   * (about 60 bytes of header plus the key), so values close to the limit can still be refused by the server.
   */
  readonly itemSizeMax?: number
  /** Accept non-ASCII text keys (sent as UTF-8). Default `true`. */
  readonly allowUnicodeKeys?: boolean
}

/**
 * The default value size limit (the server's default `-I`, 1 MiB).
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * Command.DEFAULT_ITEM_SIZE_MAX // 1048576
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_ITEM_SIZE_MAX = 1048576

/**
 * The longest command line (with its `\r\n`) the server reads for anything but `get`/`gets`: beyond it the
 * server closes the connection without a reply.
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * Command.MAX_LINE_LENGTH // 2048
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_LINE_LENGTH = 2048

/**
 * The line length {@link splitKeys} keeps `get`/`gets` lines under by default (the server takes any length,
 * but a bounded line keeps one request from monopolising the connection).
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * Command.MAX_GET_LINE_LENGTH // 16384
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_GET_LINE_LENGTH = 16384

// ---------------------------------------------------------------------------------------------------------------
// constructors
// ---------------------------------------------------------------------------------------------------------------

/**
 * Options of the storage constructors.
 *
 * @example
 * ```ts
 * import type { Command } from "@effect-memcache/protocol"
 * const o: Command.StoreOptions = { flags: 1, exptime: 60, noreply: false }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface StoreOptions {
  /** Client flags, an unsigned 32-bit integer. Default 0. */
  readonly flags?: number
  /** Default 0 (never expires). See `Exptime`. */
  readonly exptime?: number
  /** Default false. */
  readonly noreply?: boolean
}

/**
 * Builds a storage command for any of the five verbs.
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * Command.store("append", "log", new TextEncoder().encode("line\n"))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const store = (verb: StorageVerb, key: string, value: Uint8Array, options?: StoreOptions): Store => ({
  _tag: "Store",
  verb,
  key,
  flags: options?.flags ?? 0,
  exptime: options?.exptime ?? 0,
  value,
  noreply: options?.noreply ?? false
})

/**
 * `set`
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * Command.set("k", new TextEncoder().encode("abc"), { flags: 5, exptime: 10 }) // set k 5 10 3
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const set = (key: string, value: Uint8Array, options?: StoreOptions): Store => store("set", key, value, options)

/**
 * `add`: store only if the key is missing.
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * Command.add("k", new Uint8Array(1))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const add = (key: string, value: Uint8Array, options?: StoreOptions): Store => store("add", key, value, options)

/**
 * `replace`: store only if the key exists.
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * Command.replace("k", new Uint8Array(1))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const replace = (key: string, value: Uint8Array, options?: StoreOptions): Store =>
  store("replace", key, value, options)

/**
 * `append`: the server ignores flags and exptime.
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * Command.append("k", new Uint8Array(1))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const append = (key: string, value: Uint8Array, options?: StoreOptions): Store =>
  store("append", key, value, options)

/**
 * `prepend`: the server ignores flags and exptime.
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * Command.prepend("k", new Uint8Array(1))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const prepend = (key: string, value: Uint8Array, options?: StoreOptions): Store =>
  store("prepend", key, value, options)

/**
 * `cas`: store only if the item's CAS unique is still `cas`.
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * Command.cas("k", new Uint8Array(1), 42n, { noreply: false })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const cas = (key: string, value: Uint8Array, unique: bigint, options?: StoreOptions): Cas => ({
  _tag: "Cas",
  key,
  flags: options?.flags ?? 0,
  exptime: options?.exptime ?? 0,
  value,
  cas: unique,
  noreply: options?.noreply ?? false
})

const keyList = (keys: string | ReadonlyArray<string>): ReadonlyArray<string> =>
  typeof keys === "string" ? [keys] : keys

/**
 * `get` of one key or many.
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * Command.get(["a", "b"]) // get a b
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const get = (keys: string | ReadonlyArray<string>): Get => ({ _tag: "Get", verb: "get", keys: keyList(keys) })

/**
 * `gets` (values with their CAS unique) of one key or many.
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * Command.gets("a") // gets a
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const gets = (keys: string | ReadonlyArray<string>): Get => ({
  _tag: "Get",
  verb: "gets",
  keys: keyList(keys)
})

/**
 * `gat` (get and touch) of one key or many.
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * Command.gat(60, ["a", "b"]) // gat 60 a b
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const gat = (exptime: number, keys: string | ReadonlyArray<string>): Gat => ({
  _tag: "Gat",
  verb: "gat",
  exptime,
  keys: keyList(keys)
})

/**
 * `gats` (get and touch, with CAS uniques) of one key or many.
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * Command.gats(60, "a") // gats 60 a
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const gats = (exptime: number, keys: string | ReadonlyArray<string>): Gat => ({
  _tag: "Gat",
  verb: "gats",
  exptime,
  keys: keyList(keys)
})

/**
 * Options of the commands whose only option is `noreply`.
 *
 * @example
 * ```ts
 * import type { Command } from "@effect-memcache/protocol"
 * const o: Command.NoreplyOptions = { noreply: true }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface NoreplyOptions {
  /** Default false. */
  readonly noreply?: boolean
}

const deleteCommand = (key: string, options?: NoreplyOptions): Delete => ({
  _tag: "Delete",
  key,
  noreply: options?.noreply ?? false
})

export {
  /**
   * `delete <key>`
   *
   * @example
   * ```ts
   * import { Command } from "@effect-memcache/protocol"
   * Command.delete("k", { noreply: true }) // delete k noreply
   * ```
   *
   * @since 0.1.0
   * @category constructors
   */
  deleteCommand as delete
}

/**
 * `incr <key> <delta>`; the counter wraps at 2^64.
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * Command.incr("n", 5n) // incr n 5
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const incr = (key: string, delta: bigint, options?: NoreplyOptions): Arithmetic => ({
  _tag: "Arithmetic",
  verb: "incr",
  key,
  delta,
  noreply: options?.noreply ?? false
})

/**
 * `decr <key> <delta>`; the counter stops at 0.
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * Command.decr("n", 1n) // decr n 1
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const decr = (key: string, delta: bigint, options?: NoreplyOptions): Arithmetic => ({
  _tag: "Arithmetic",
  verb: "decr",
  key,
  delta,
  noreply: options?.noreply ?? false
})

/**
 * `touch <key> <exptime>`
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * Command.touch("k", 60) // touch k 60
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const touch = (key: string, exptime: number, options?: NoreplyOptions): Touch => ({
  _tag: "Touch",
  key,
  exptime,
  noreply: options?.noreply ?? false
})

/**
 * `stats` with optional arguments.
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * Command.stats(["cachedump", "1", "10"]) // stats cachedump 1 10
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const stats = (args: ReadonlyArray<string> = []): Stats => ({ _tag: "Stats", args })

/**
 * The `version` command (one shared object).
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * Command.encode(Command.version) // "version\r\n"
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const version: Version = Object.freeze({ _tag: "Version" })

/**
 * `verbosity <level>`
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * Command.verbosity(1) // verbosity 1
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const verbosity = (level: number, options?: NoreplyOptions): Verbosity => ({
  _tag: "Verbosity",
  level,
  noreply: options?.noreply ?? false
})

/**
 * `flush_all`, optionally delayed (see protocol.md §4.5: delayed flushes fire up to ~2 s early).
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * Command.flushAll({ delay: 10 }) // flush_all 10
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const flushAll = (options?: { readonly delay?: number; readonly noreply?: boolean }): FlushAll => ({
  _tag: "FlushAll",
  delay: options?.delay,
  noreply: options?.noreply ?? false
})

/**
 * `cache_memlimit <megabytes>`
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * Command.cacheMemlimit(64) // cache_memlimit 64
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const cacheMemlimit = (megabytes: number, options?: NoreplyOptions): CacheMemlimit => ({
  _tag: "CacheMemlimit",
  megabytes,
  noreply: options?.noreply ?? false
})

/**
 * The `quit` command (one shared object).
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * Command.expectation(Command.quit) // undefined
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const quit: Quit = Object.freeze({ _tag: "Quit" })

/**
 * `shutdown [graceful]`
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * Command.shutdown({ graceful: true }) // shutdown graceful
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const shutdown = (options?: { readonly graceful?: boolean }): Shutdown => ({
  _tag: "Shutdown",
  graceful: options?.graceful ?? false
})

/**
 * `mn`, which always answers `MN`: a client ends every batch of text `noreply` or meta `q` commands with it, so
 * that the replies those commands could still produce (errors, `NS`/`EX`/`NF`) are known to be complete.
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * const batch = [Command.set("a", new Uint8Array(1), { noreply: true }), Command.sync]
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const sync: Meta.MetaNoop = Meta.noop

// ---------------------------------------------------------------------------------------------------------------
// validation
// ---------------------------------------------------------------------------------------------------------------

const U32_MAX = 4294967295
const U64_MAX = 18446744073709551615n

const validateUint32 = (
  value: number,
  field: "flags" | "argument",
  what: string,
  extra: string
): InvalidInput | undefined => {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    return new InvalidInput(field, `${what} must be an integer, got ${String(value)}`)
  }
  if (value < 0 || value > U32_MAX) {
    return new InvalidInput(field, `${what} ${value} is outside [0, ${U32_MAX}]${extra}`)
  }
  return undefined
}

const validateFlags = (flags: number): InvalidInput | undefined =>
  validateUint32(flags, "flags", "client flags", flags > U32_MAX ? " (the server would silently truncate it)" : "")

const validateUint64 = (value: bigint, field: "cas" | "delta" | "initial"): InvalidInput | undefined => {
  if (typeof value !== "bigint") {
    return new InvalidInput(field, `must be a bigint, got ${typeof value} ${String(value)}`)
  }
  if (value < 0n || value > U64_MAX) {
    return new InvalidInput(field, `${value} is outside the unsigned 64-bit range [0, ${U64_MAX}]`)
  }
  return undefined
}

const validateExptime = (exptime: number, flag?: string): InvalidInput | undefined => {
  const error = Exptime.validate(exptime)
  if (error === undefined || flag === undefined) return error
  return new InvalidInput("exptime", `${flag}: ${error.reason}`)
}

const validateValue = (value: Uint8Array, limits: Limits | undefined): InvalidInput | undefined => {
  if (!(value instanceof Uint8Array)) return new InvalidInput("value", "must be a Uint8Array")
  const max = limits?.itemSizeMax ?? DEFAULT_ITEM_SIZE_MAX
  if (value.byteLength > max) {
    return new InvalidInput("value", `is ${value.byteLength} bytes, over the item size limit of ${max}`)
  }
  return undefined
}

const keyOptionsAscii: Key.ValidateOptions = { allowUnicode: false }

const validateTextKey = (key: string, limits: Limits | undefined): InvalidInput | undefined => {
  if (typeof key !== "string") return new InvalidInput("key", "must be a string")
  return Key.validate(key, limits?.allowUnicodeKeys === false ? keyOptionsAscii : undefined)
}

const validateMetaKey = (key: string | Uint8Array, limits: Limits | undefined): InvalidInput | undefined =>
  key instanceof Uint8Array ? Key.validateBinary(key) : validateTextKey(key, limits)

// Seen on memcached 1.6.18: for an item created by `mg <b64> b N<ttl>`, `k` returns the decoded key raw (no
// base64, no `b`), so a key holding CR LF splits the reply line. The client knows its key; opaque matches replies.
const validateReturnKey = (key: string | Uint8Array, returnKey: boolean | undefined): InvalidInput | undefined =>
  returnKey === true && key instanceof Uint8Array
    ? new InvalidInput(
        "argument",
        "returnKey (k) is refused with a binary key: memcached 1.6.18 can return such a key raw instead of base64 (items created by N), which breaks the reply framing; use opaque to match replies"
      )
    : undefined

/** From this many keys on, a key list is checked and written as one joined line. */
const JOIN_KEYS_AT = 8

/**
 * The joined lines of key lists that {@link validateKeyList} checked, for {@link writeKeyList} to write: one join
 * per request instead of two.
 */
const joinedKeys = new WeakMap<ReadonlyArray<string>, string>()

const PRINTABLE_OR_SPACE = /^[\x21-\x7e ]*$/

/**
 * A long list of printable ASCII keys of 1 to 250 characters, joined by spaces; `undefined` when some key needs the
 * per-key check (which names the fault). One native regex scan of the joined line and a count of its spaces (one
 * per separator, so no key holds one) instead of a JavaScript loop over each key's characters: measured 4.5 against
 * 10 us per 100 keys, and the join is reused for writing.
 */
const joinPrintable = (keys: ReadonlyArray<string>): string | undefined => {
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]
    if (typeof key !== "string" || key.length === 0 || key.length > Key.MAX_LENGTH) return undefined
  }
  const line = keys.join(" ")
  if (!PRINTABLE_OR_SPACE.test(line)) return undefined
  let spaces = 0
  for (let p = line.indexOf(" "); p !== -1; p = line.indexOf(" ", p + 1)) spaces++
  return spaces === keys.length - 1 ? line : undefined
}

const validateKeyList = (keys: ReadonlyArray<string>, limits: Limits | undefined): InvalidInput | undefined => {
  if (!Array.isArray(keys) || keys.length === 0) return new InvalidInput("keys", "is empty (at least one key needed)")
  if (keys.length >= JOIN_KEYS_AT) {
    const line = joinPrintable(keys)
    if (line !== undefined) {
      joinedKeys.set(keys, line)
      return undefined
    }
  }
  for (let i = 0; i < keys.length; i++) {
    const error = validateTextKey(keys[i], limits)
    if (error !== undefined) {
      return keys.length === 1 ? error : new InvalidInput("key", `keys[${i}] ${error.reason}`)
    }
  }
  return undefined
}

const validateStatsArg = (arg: string, index: number): InvalidInput | undefined => {
  if (typeof arg !== "string" || arg.length === 0)
    return new InvalidInput("argument", `stats argument ${index} is empty`)
  for (let i = 0; i < arg.length; i++) {
    const c = arg.charCodeAt(i)
    if (c < 0x21 || c > 0x7e) {
      return new InvalidInput(
        "argument",
        `stats argument ${index} contains character U+${c.toString(16).toUpperCase().padStart(4, "0")} at offset ${i} (only [!-~] is allowed)`
      )
    }
  }
  return undefined
}

const checkLine = (length: number, what: string): InvalidInput | undefined =>
  length > MAX_LINE_LENGTH
    ? new InvalidInput(
        "line",
        `the ${what} line would be ${length} bytes with its CRLF, over the server's limit of ${MAX_LINE_LENGTH} (it would close the connection)${what === "gat" || what === "gats" ? "; split the keys with Command.splitKeys" : ""}`
      )
    : undefined

const decimalLength = (n: number): number => {
  if (!Number.isFinite(n)) return String(n).length
  let digits = n < 0 ? 2 : 1
  let v = n < 0 ? -n : n
  while (v >= 10) {
    v = Math.floor(v / 10)
    digits++
  }
  return digits
}

const validateOpaqueQuiet = (opaque: string | undefined, quiet: boolean | undefined): InvalidInput | undefined => {
  if (opaque !== undefined) {
    const error = Meta.validateOpaque(opaque)
    if (error !== undefined) return error
  } else if (quiet === true) {
    return new InvalidInput(
      "opaque",
      "is required with quiet (q): a quiet command's success is suppressed, so only the opaque tells its replies from those of the commands around it"
    )
  }
  return undefined
}

const setModes: Record<Meta.SetMode, number> = { set: 0x53, add: 0x45, append: 0x41, prepend: 0x50, replace: 0x52 }
const arithmeticModes: Record<Meta.ArithmeticMode, number> = { incr: 0x49, decr: 0x44 }
const storageVerbs: Record<StorageVerb, true> = { set: true, add: true, replace: true, append: true, prepend: true }

const optionalExptime = (exptime: number | undefined, flag: string): InvalidInput | undefined =>
  exptime === undefined ? undefined : validateExptime(exptime, flag)

const optionalUint64 = (value: bigint | undefined, field: "cas" | "delta" | "initial"): InvalidInput | undefined =>
  value === undefined ? undefined : validateUint64(value, field)

const validateMode = (
  modes: Record<string, number>,
  mode: string | undefined,
  command: string
): InvalidInput | undefined =>
  mode === undefined || Object.hasOwn(modes, mode)
    ? undefined
    : new InvalidInput("argument", `unknown ${command} mode ${JSON.stringify(mode)}`)

const validateDeleteTtl = (command: Meta.MetaDelete): InvalidInput | undefined =>
  command.ttl === undefined
    ? undefined
    : command.invalidate !== true
      ? new InvalidInput("exptime", "T (ttl) of md only applies together with invalidate (I)")
      : validateExptime(command.ttl, "T (ttl)")

// The lines of all other commands are bounded well below 2048 bytes by their own field limits (a 250-byte key
// plus at most a few dozen bytes of numbers and flags), so only gat/gats and stats need a line-length check.
const validateMeta = (command: Meta.MetaCommand, limits: Limits | undefined): InvalidInput | undefined => {
  switch (command._tag) {
    case "MetaNoop":
      return undefined
    case "MetaDebug":
      return validateMetaKey(command.key, limits)
    case "MetaGet":
      return (
        validateMetaKey(command.key, limits) ??
        validateReturnKey(command.key, command.returnKey) ??
        optionalExptime(command.touch, "T (touch)") ??
        optionalExptime(command.vivify, "N (vivify)") ??
        optionalExptime(command.recache, "R (recache)") ??
        validateOpaqueQuiet(command.opaque, command.quiet)
      )
    case "MetaSet":
      return (
        validateMetaKey(command.key, limits) ??
        validateReturnKey(command.key, command.returnKey) ??
        optionalUint64(command.compareCas, "cas") ??
        (command.clientFlags === undefined ? undefined : validateFlags(command.clientFlags)) ??
        optionalExptime(command.ttl, "T (ttl)") ??
        validateMode(setModes, command.mode, "ms") ??
        validateOpaqueQuiet(command.opaque, command.quiet) ??
        validateValue(command.value, limits)
      )
    case "MetaDelete":
      return (
        validateMetaKey(command.key, limits) ??
        validateReturnKey(command.key, command.returnKey) ??
        optionalUint64(command.compareCas, "cas") ??
        validateDeleteTtl(command) ??
        validateOpaqueQuiet(command.opaque, command.quiet)
      )
    case "MetaArithmetic":
      return (
        validateMetaKey(command.key, limits) ??
        validateReturnKey(command.key, command.returnKey) ??
        optionalUint64(command.compareCas, "cas") ??
        optionalExptime(command.vivify, "N (vivify)") ??
        optionalUint64(command.initial, "initial") ??
        optionalUint64(command.delta, "delta") ??
        optionalExptime(command.ttl, "T (ttl)") ??
        validateMode(arithmeticModes, command.mode, "ma") ??
        validateOpaqueQuiet(command.opaque, command.quiet)
      )
  }
}

const gatLineLength = (command: Gat): number => {
  let length = command.verb.length + 1 + decimalLength(command.exptime) + 2
  for (let i = 0; i < command.keys.length; i++) length += 1 + Key.byteLength(command.keys[i])
  return length
}

const validateStats = (args: ReadonlyArray<string>): InvalidInput | undefined => {
  let length = 5 + 2
  for (let i = 0; i < args.length; i++) {
    const error = validateStatsArg(args[i], i)
    if (error !== undefined) return error
    length += 1 + args[i].length
  }
  return checkLine(length, "stats")
}

/**
 * Checks every input of a command against protocol.md §8; `undefined` when it may be encoded. Keys: 1..250
 * UTF-8 bytes, no byte <= 0x20 or 0x7F (binary meta keys 1..186 bytes); flags an unsigned 32-bit integer;
 * exptimes (and meta `T`/`N`/`R`) integers in `[-2^31, 2^31)`; CAS uniques, deltas and initial values bigints in
 * `[0, 2^64)`; values at most `itemSizeMax` bytes; opaques 1..31 characters of `[!-~]`, and required with `q`;
 * `stats` arguments printable ASCII without spaces; verbosity levels and megabytes unsigned 32-bit integers;
 * get/gets/gat/gats need at least one key; and no line but a `get`/`gets` line may exceed 2048 bytes with its
 * CRLF (so an over-long `gat`/`gats` is refused with field `"line"`: see {@link splitKeys}). A command of a kind
 * this module does not build (an untyped caller's object) is refused with field `"argument"`.
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * Command.validate(Command.set("a b", new Uint8Array(1)))?.reason // "contains a space (byte 0x20 at offset 1)"
 * ```
 *
 * @since 0.1.0
 * @category validation
 */
export const validate = (command: Command, limits?: Limits): InvalidInput | undefined => {
  // A switch of calls, not a lookup in `validators`: optimized, the common kinds' checks are inlined here.
  switch (command._tag) {
    case "Store":
      return validators.Store(command, limits)
    case "Get":
      return validators.Get(command, limits)
    case "Cas":
      return validators.Cas(command, limits)
    case "Gat":
      return validators.Gat(command, limits)
    case "Delete":
      return validators.Delete(command, limits)
    case "Arithmetic":
      return validators.Arithmetic(command, limits)
    case "Touch":
      return validators.Touch(command, limits)
    default:
      // The other kinds, looked up; an own property only, so that an untyped `_tag` such as "constructor" is refused.
      return Object.hasOwn(validators, command._tag)
        ? (validators[command._tag] as Validator<Command>)(command, limits)
        : new InvalidInput("argument", `unknown command ${JSON.stringify(String(command._tag))}`)
  }
}

type Validator<C extends Command> = (command: C, limits: Limits | undefined) => InvalidInput | undefined

const valid = (): undefined => undefined

// One function per kind, for the reason given at `LineCodec`.
const validators: { readonly [T in Command["_tag"]]: Validator<Extract<Command, { readonly _tag: T }>> } = {
  Store: (command, limits) =>
    (Object.hasOwn(storageVerbs, command.verb)
      ? undefined
      : new InvalidInput("argument", `unknown storage verb ${JSON.stringify(command.verb)}`)) ??
    validateTextKey(command.key, limits) ??
    validateFlags(command.flags) ??
    validateExptime(command.exptime) ??
    validateValue(command.value, limits),
  Cas: (command, limits) =>
    validateTextKey(command.key, limits) ??
    validateFlags(command.flags) ??
    validateExptime(command.exptime) ??
    validateUint64(command.cas, "cas") ??
    validateValue(command.value, limits),
  Get: (command, limits) => validateKeyList(command.keys, limits),
  Gat: (command, limits) =>
    validateExptime(command.exptime) ??
    validateKeyList(command.keys, limits) ??
    checkLine(gatLineLength(command), command.verb),
  Delete: (command, limits) => validateTextKey(command.key, limits),
  Arithmetic: (command, limits) => validateTextKey(command.key, limits) ?? validateUint64(command.delta, "delta"),
  Touch: (command, limits) => validateTextKey(command.key, limits) ?? validateExptime(command.exptime),
  Stats: (command) => validateStats(command.args),
  Verbosity: (command) => validateUint32(command.level, "argument", "verbosity level", ""),
  FlushAll: (command) => (command.delay === undefined ? undefined : validateExptime(command.delay, "flush_all delay")),
  CacheMemlimit: (command) => validateUint32(command.megabytes, "argument", "cache_memlimit megabytes", ""),
  Version: valid,
  Quit: valid,
  Shutdown: valid,
  MetaNoop: validateMeta,
  MetaDebug: validateMeta,
  MetaGet: validateMeta,
  MetaSet: validateMeta,
  MetaDelete: validateMeta,
  MetaArithmetic: validateMeta
}

// ---------------------------------------------------------------------------------------------------------------
// expectations
// ---------------------------------------------------------------------------------------------------------------

const metaExpectation = (
  opaque: string | undefined,
  quiet: boolean | undefined,
  suppressed: "EN" | "HD"
): Reply.Expectation =>
  opaque === undefined && quiet !== true
    ? Reply.expect.Meta
    : { _tag: "Meta", opaque, quiet: quiet === true, suppressed }

/**
 * What the decoder must expect for a command, or `undefined` when the command gets no reply (text `noreply`
 * commands, `quit`). Quiet meta commands still get their `Meta` expectation (the server still returns their
 * errors, `NS`/`EX`/`NF` and mg hits; a suppressed answer is inferred from the next reply), which is why a
 * quiet batch must end with {@link sync} (`mn`), expected as `Sync`.
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * Command.expectation(Command.get(["a"])) // { _tag: "Retrieval", keys: ["a"], cas: false }
 * Command.expectation(Command.delete("a", { noreply: true })) // undefined
 * ```
 *
 * @since 0.1.0
 * @category expectations
 */
export const expectation = (command: Command): Reply.Expectation | undefined => {
  switch (command._tag) {
    case "Store":
    case "Cas":
      return command.noreply ? undefined : Reply.expect.Storage
    case "Get":
      return Reply.retrieval(command.keys, command.verb === "gets")
    case "Gat":
      return Reply.retrieval(command.keys, command.verb === "gats")
    case "Delete":
      return command.noreply ? undefined : Reply.expect.Delete
    case "Arithmetic":
      return command.noreply ? undefined : Reply.expect.Arithmetic
    case "Touch":
      return command.noreply ? undefined : Reply.expect.Touch
    case "Stats":
      return Reply.expect.Stats
    case "Version":
      return Reply.expect.Version
    case "Verbosity":
    case "FlushAll":
    case "CacheMemlimit":
      return command.noreply ? undefined : Reply.expect.Ok
    case "Quit":
      return undefined
    case "Shutdown":
      return Reply.expect.Shutdown
    case "MetaNoop":
      return Reply.expect.Sync
    case "MetaDebug":
      return Reply.expect.MetaDebug
    case "MetaGet":
      return metaExpectation(command.opaque, command.quiet, "EN")
    case "MetaSet":
    case "MetaDelete":
    case "MetaArithmetic":
      return metaExpectation(command.opaque, command.quiet, "HD")
  }
}

// ---------------------------------------------------------------------------------------------------------------
// encoding
// ---------------------------------------------------------------------------------------------------------------

const SP = 0x20
const CR = 0x0d
const LF = 0x0a
const utf8 = new TextEncoder()

const writeAscii = (buf: Uint8Array, pos: number, s: string): number => {
  for (let i = 0; i < s.length; i++) buf[pos + i] = s.charCodeAt(i)
  return pos + s.length
}

// ASCII keys (the common case) go through a char loop; the first non-ASCII char hands the rest to encodeInto.
const writeKey = (buf: Uint8Array, pos: number, key: string): number => {
  const length = key.length
  for (let i = 0; i < length; i++) {
    const c = key.charCodeAt(i)
    if (c >= 0x80) {
      const rest = i === 0 ? key : key.slice(i)
      return pos + i + utf8.encodeInto(rest, buf.subarray(pos + i)).written
    }
    buf[pos + i] = c
  }
  return pos + length
}

/**
 * ` k1 k2 ...`: a long list goes through one native `encodeInto` of the joined line, measured twice as fast as
 * writing each key's characters from JavaScript; a short one is not worth the joined string.
 */
const writeKeyList = (buf: Uint8Array, pos: number, keys: ReadonlyArray<string>): number => {
  if (keys.length < JOIN_KEYS_AT) {
    let p = pos
    for (let i = 0; i < keys.length; i++) {
      buf[p++] = SP
      p = writeKey(buf, p, keys[i]!)
    }
    return p
  }
  buf[pos] = SP
  return pos + 1 + utf8.encodeInto(joinedKeys.get(keys) ?? keys.join(" "), buf.subarray(pos + 1)).written
}

const writeMetaKey = (buf: Uint8Array, pos: number, key: string | Uint8Array): number =>
  key instanceof Uint8Array ? Key.writeBase64(key, buf, pos) : writeKey(buf, pos, key)

// Integers are written digit by digit from the end: no string is built.
const writeInt = (buf: Uint8Array, pos: number, n: number): number => {
  // The numbers of a small command (flags, exptime, a length) mostly have one to three digits.
  if (n < 10 && n >= 0) {
    buf[pos] = 0x30 + n
    return pos + 1
  }
  if (n < 0) {
    buf[pos++] = 0x2d
    n = -n
  }
  const end = pos + (n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : decimalLength(n))
  let p = end
  do {
    const q = Math.floor(n / 10)
    buf[--p] = 0x30 + (n - q * 10)
    n = q
  } while (n > 0)
  return end
}

const writeBigint = (buf: Uint8Array, pos: number, n: bigint): number => writeAscii(buf, pos, n.toString())

const writeNoreply = (buf: Uint8Array, pos: number, noreply: boolean): number =>
  noreply ? writeAscii(buf, pos, " noreply") : pos

const writeFlag = (buf: Uint8Array, pos: number, flag: number): number => {
  buf[pos] = SP
  buf[pos + 1] = flag
  return pos + 2
}

const writeIntFlag = (buf: Uint8Array, pos: number, flag: number, n: number): number =>
  writeInt(buf, writeFlag(buf, pos, flag), n)

const writeBigintFlag = (buf: Uint8Array, pos: number, flag: number, n: bigint): number =>
  writeBigint(buf, writeFlag(buf, pos, flag), n)

const writeOpaque = (buf: Uint8Array, pos: number, opaque: string | undefined): number =>
  opaque === undefined ? pos : writeAscii(buf, writeFlag(buf, pos, 0x4f), opaque)

const keyBound = (key: string | Uint8Array): number =>
  key instanceof Uint8Array ? Key.base64Length(key.byteLength) + 2 : key.length * 3

/**
 * How one kind of command is written: an upper bound of its line's byte length (UTF-16 unit x3 covers UTF-8; 24
 * bytes per number is more than any valid number needs), so the encoder reserves room once and then writes without
 * checks, and the line itself without its CRLF (for storage commands: the line before the data block).
 *
 * One small pair of functions per kind, not one switch over every kind: V8 optimizes a function once it has run
 * its own bytecode a number of times that grows with the function's size, so a switch of which each call runs a
 * sliver stays unoptimized long. In the 512 KB benchmark (one set and one get per pair) the one switch was
 * optimized after 3,000 pairs; the set writer is optimized within the first 1,500.
 */
interface LineCodec<C extends Command> {
  readonly bound: (command: C) => number
  readonly write: (buf: Uint8Array, pos: number, command: C) => number
}

const keyedBound = (command: { readonly key: string | Uint8Array }): number => 128 + keyBound(command.key)

const metaBound = (command: { readonly key: string | Uint8Array; readonly opaque?: string | undefined }): number =>
  256 + keyBound(command.key) + (command.opaque === undefined ? 0 : command.opaque.length * 3)

/** `base` plus a space and up to 3 bytes per UTF-16 unit for each word of a list (keys, stats arguments). */
const wordsBound = (base: number, words: ReadonlyArray<string>): number => {
  let n = base
  for (let i = 0; i < words.length; i++) n += 1 + words[i].length * 3
  return n
}

const keyListBound = (command: { readonly keys: ReadonlyArray<string> }): number => wordsBound(40, command.keys)

const fixedBound = (): number => 64

const fixedLine = (text: string): LineCodec<Command> => ({
  bound: fixedBound,
  write: (buf, pos) => writeAscii(buf, pos, text)
})

const lineCodecs: { readonly [T in Command["_tag"]]: LineCodec<Extract<Command, { readonly _tag: T }>> } = {
  Store: {
    bound: keyedBound,
    write: (buf, pos, command) => {
      let p = writeAscii(buf, pos, command.verb)
      buf[p++] = SP
      p = writeKey(buf, p, command.key)
      buf[p++] = SP
      p = writeInt(buf, p, command.flags)
      buf[p++] = SP
      p = writeInt(buf, p, command.exptime)
      buf[p++] = SP
      p = writeInt(buf, p, command.value.byteLength)
      return writeNoreply(buf, p, command.noreply)
    }
  },
  Cas: {
    bound: keyedBound,
    write: (buf, pos, command) => {
      let p = writeAscii(buf, pos, "cas ")
      p = writeKey(buf, p, command.key)
      buf[p++] = SP
      p = writeInt(buf, p, command.flags)
      buf[p++] = SP
      p = writeInt(buf, p, command.exptime)
      buf[p++] = SP
      p = writeInt(buf, p, command.value.byteLength)
      buf[p++] = SP
      p = writeBigint(buf, p, command.cas)
      return writeNoreply(buf, p, command.noreply)
    }
  },
  Get: {
    bound: keyListBound,
    write: (buf, pos, command) => writeKeyList(buf, writeAscii(buf, pos, command.verb), command.keys)
  },
  Gat: {
    bound: keyListBound,
    write: (buf, pos, command) => {
      let p = writeAscii(buf, pos, command.verb)
      buf[p++] = SP
      p = writeInt(buf, p, command.exptime)
      return writeKeyList(buf, p, command.keys)
    }
  },
  Delete: {
    bound: keyedBound,
    write: (buf, pos, command) =>
      writeNoreply(buf, writeKey(buf, writeAscii(buf, pos, "delete "), command.key), command.noreply)
  },
  Arithmetic: {
    bound: keyedBound,
    write: (buf, pos, command) => {
      let p = writeAscii(buf, pos, command.verb)
      buf[p++] = SP
      p = writeKey(buf, p, command.key)
      buf[p++] = SP
      p = writeBigint(buf, p, command.delta)
      return writeNoreply(buf, p, command.noreply)
    }
  },
  Touch: {
    bound: keyedBound,
    write: (buf, pos, command) => {
      let p = writeAscii(buf, pos, "touch ")
      p = writeKey(buf, p, command.key)
      buf[p++] = SP
      p = writeInt(buf, p, command.exptime)
      return writeNoreply(buf, p, command.noreply)
    }
  },
  Stats: {
    bound: (command) => wordsBound(16, command.args),
    write: (buf, pos, command) => {
      let p = writeAscii(buf, pos, "stats")
      for (let i = 0; i < command.args.length; i++) {
        buf[p++] = SP
        p = writeAscii(buf, p, command.args[i])
      }
      return p
    }
  },
  Version: fixedLine("version"),
  Verbosity: {
    bound: fixedBound,
    write: (buf, pos, command) =>
      writeNoreply(buf, writeInt(buf, writeAscii(buf, pos, "verbosity "), command.level), command.noreply)
  },
  FlushAll: {
    bound: fixedBound,
    write: (buf, pos, command) => {
      let p = writeAscii(buf, pos, "flush_all")
      if (command.delay !== undefined) {
        buf[p++] = SP
        p = writeInt(buf, p, command.delay)
      }
      return writeNoreply(buf, p, command.noreply)
    }
  },
  CacheMemlimit: {
    bound: fixedBound,
    write: (buf, pos, command) =>
      writeNoreply(buf, writeInt(buf, writeAscii(buf, pos, "cache_memlimit "), command.megabytes), command.noreply)
  },
  Quit: fixedLine("quit"),
  Shutdown: {
    bound: fixedBound,
    write: (buf, pos, command) => writeAscii(buf, pos, command.graceful ? "shutdown graceful" : "shutdown")
  },
  MetaNoop: fixedLine("mn"),
  MetaDebug: {
    bound: keyedBound,
    write: (buf, pos, command) => {
      const p = writeMetaKey(buf, writeAscii(buf, pos, "me "), command.key)
      return command.key instanceof Uint8Array ? writeFlag(buf, p, 0x62) : p
    }
  },
  MetaGet: {
    bound: metaBound,
    write: (buf, pos, command) => {
      let p = writeMetaKey(buf, writeAscii(buf, pos, "mg "), command.key)
      // b v s f t c k h l O q u T N R
      if (command.key instanceof Uint8Array) p = writeFlag(buf, p, 0x62)
      if (command.value === true) p = writeFlag(buf, p, 0x76)
      if (command.size === true) p = writeFlag(buf, p, 0x73)
      if (command.clientFlags === true) p = writeFlag(buf, p, 0x66)
      if (command.ttl === true) p = writeFlag(buf, p, 0x74)
      if (command.cas === true) p = writeFlag(buf, p, 0x63)
      if (command.returnKey === true) p = writeFlag(buf, p, 0x6b)
      if (command.hit === true) p = writeFlag(buf, p, 0x68)
      if (command.lastAccess === true) p = writeFlag(buf, p, 0x6c)
      p = writeOpaque(buf, p, command.opaque)
      if (command.quiet === true) p = writeFlag(buf, p, 0x71)
      if (command.noBump === true) p = writeFlag(buf, p, 0x75)
      if (command.touch !== undefined) p = writeIntFlag(buf, p, 0x54, command.touch)
      if (command.vivify !== undefined) p = writeIntFlag(buf, p, 0x4e, command.vivify)
      if (command.recache !== undefined) p = writeIntFlag(buf, p, 0x52, command.recache)
      return p
    }
  },
  MetaSet: {
    bound: metaBound,
    write: (buf, pos, command) => {
      let p = writeMetaKey(buf, writeAscii(buf, pos, "ms "), command.key)
      buf[p++] = SP
      p = writeInt(buf, p, command.value.byteLength)
      // b c C F I k O q T M
      if (command.key instanceof Uint8Array) p = writeFlag(buf, p, 0x62)
      if (command.returnCas === true) p = writeFlag(buf, p, 0x63)
      if (command.compareCas !== undefined) p = writeBigintFlag(buf, p, 0x43, command.compareCas)
      if (command.clientFlags !== undefined) p = writeIntFlag(buf, p, 0x46, command.clientFlags)
      if (command.invalidate === true) p = writeFlag(buf, p, 0x49)
      if (command.returnKey === true) p = writeFlag(buf, p, 0x6b)
      p = writeOpaque(buf, p, command.opaque)
      if (command.quiet === true) p = writeFlag(buf, p, 0x71)
      if (command.ttl !== undefined) p = writeIntFlag(buf, p, 0x54, command.ttl)
      if (command.mode !== undefined) {
        p = writeFlag(buf, p, 0x4d)
        buf[p++] = setModes[command.mode]
      }
      return p
    }
  },
  MetaDelete: {
    bound: metaBound,
    write: (buf, pos, command) => {
      let p = writeMetaKey(buf, writeAscii(buf, pos, "md "), command.key)
      // b C I T k O q
      if (command.key instanceof Uint8Array) p = writeFlag(buf, p, 0x62)
      if (command.compareCas !== undefined) p = writeBigintFlag(buf, p, 0x43, command.compareCas)
      if (command.invalidate === true) p = writeFlag(buf, p, 0x49)
      if (command.ttl !== undefined) p = writeIntFlag(buf, p, 0x54, command.ttl)
      if (command.returnKey === true) p = writeFlag(buf, p, 0x6b)
      p = writeOpaque(buf, p, command.opaque)
      if (command.quiet === true) p = writeFlag(buf, p, 0x71)
      return p
    }
  },
  MetaArithmetic: {
    bound: metaBound,
    write: (buf, pos, command) => {
      let p = writeMetaKey(buf, writeAscii(buf, pos, "ma "), command.key)
      // b C N J D T M q t c v k O
      if (command.key instanceof Uint8Array) p = writeFlag(buf, p, 0x62)
      if (command.compareCas !== undefined) p = writeBigintFlag(buf, p, 0x43, command.compareCas)
      if (command.vivify !== undefined) p = writeIntFlag(buf, p, 0x4e, command.vivify)
      if (command.initial !== undefined) p = writeBigintFlag(buf, p, 0x4a, command.initial)
      if (command.delta !== undefined) p = writeBigintFlag(buf, p, 0x44, command.delta)
      if (command.ttl !== undefined) p = writeIntFlag(buf, p, 0x54, command.ttl)
      if (command.mode !== undefined) {
        p = writeFlag(buf, p, 0x4d)
        buf[p++] = arithmeticModes[command.mode]
      }
      if (command.quiet === true) p = writeFlag(buf, p, 0x71)
      if (command.returnTtl === true) p = writeFlag(buf, p, 0x74)
      if (command.returnCas === true) p = writeFlag(buf, p, 0x63)
      if (command.returnValue === true) p = writeFlag(buf, p, 0x76)
      if (command.returnKey === true) p = writeFlag(buf, p, 0x6b)
      return writeOpaque(buf, p, command.opaque)
    }
  }
}

const lineCodecOf = (command: Command): LineCodec<Command> => lineCodecs[command._tag] as LineCodec<Command>

// Writes the command line, CRLF included.
const writeLine = (codec: LineCodec<Command>, buf: Uint8Array, pos: number, command: Command): number => {
  let p = codec.write(buf, pos, command)
  buf[p++] = CR
  buf[p++] = LF
  return p
}

const dataOf = (command: Command): Uint8Array | undefined =>
  command._tag === "Store" || command._tag === "Cas" || command._tag === "MetaSet" ? command.value : undefined

let scratch = new Uint8Array(1024)

/**
 * Validates a command and returns its exact bytes (line, and data block with its CRLF), or the
 * {@link InvalidInput} that refused it (then nothing is encoded). For batches, {@link Encoder} avoids the
 * per-command allocation.
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * const bytes = Command.encode(Command.set("k", new TextEncoder().encode("abc"), { flags: 5, exptime: 10 }))
 * // "set k 5 10 3\r\nabc\r\n"
 * ```
 *
 * @since 0.1.0
 * @category encoding
 */
export const encode = (command: Command, limits?: Limits): Uint8Array | InvalidInput => {
  const error = validate(command, limits)
  if (error !== undefined) return error
  const codec = lineCodecOf(command)
  const bound = codec.bound(command)
  if (scratch.byteLength < bound) scratch = new Uint8Array(Math.max(bound, scratch.byteLength * 2))
  const lineLength = writeLine(codec, scratch, 0, command)
  const data = dataOf(command)
  const out = new Uint8Array(data === undefined ? lineLength : lineLength + data.byteLength + 2)
  out.set(scratch.subarray(0, lineLength))
  if (data !== undefined) {
    out.set(data, lineLength)
    out[out.length - 2] = CR
    out[out.length - 1] = LF
  }
  return out
}

/**
 * Options of {@link Encoder}.
 *
 * @example
 * ```ts
 * import type { Command } from "@effect-memcache/protocol"
 * const o: Command.EncoderOptions = { initialCapacity: 8192, copyThreshold: 32768 }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface EncoderOptions {
  /** The first buffer's size in bytes (default 16384). */
  readonly initialCapacity?: number
  /** Values larger than this many bytes are passed on by reference as their own chunk (default 16384). */
  readonly copyThreshold?: number
}

/**
 * Coalesces many commands into few write chunks. `append` encodes a (validated) command straight into an
 * internal buffer; `take` hands over what was appended since the last `take`: small commands share one chunk,
 * and a value larger than `copyThreshold` is its own chunk, the caller's `Uint8Array` itself (never copied).
 * A list of 8 or more keys is written as {@link validate} joined it when it checked the list, so the list must
 * not change in between (its type is read-only).
 *
 * Chunks are views of the internal buffer, not copies: the caller passes them to `socket.write`, which keeps a
 * reference until the bytes are sent. So bytes once handed out are never written again: after a `take` the
 * encoder keeps filling the unused tail of the same buffer, and when that runs out it allocates a fresh buffer
 * (of the current capacity, doubled if one command needs more) instead of wrapping around. That costs one
 * allocation per buffer-full instead of one copy per `take`.
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * const encoder = new Command.Encoder()
 * encoder.append(Command.get(["a"]))
 * encoder.append(Command.sync)
 * const chunks = encoder.take() // [ "get a\r\nmn\r\n" ]
 * ```
 *
 * @since 0.1.0
 * @category encoding
 */
export class Encoder {
  private buffer: Uint8Array
  /** Where the next byte goes. */
  private position = 0
  /** Where the chunk being filled starts. */
  private chunkStart = 0
  /** Chunks finished since the last take. */
  private chunks: Array<Uint8Array> = []
  private pending = 0
  private readonly copyThreshold: number

  constructor(options?: EncoderOptions) {
    this.buffer = new Uint8Array(Math.max(64, options?.initialCapacity ?? 16384))
    this.copyThreshold = options?.copyThreshold ?? 16384
  }

  /** Bytes appended and not yet taken. */
  get size(): number {
    return this.pending
  }

  /**
   * Encodes a command into the pending bytes. The command must have passed {@link validate}: `append` does not
   * check it again.
   */
  append(command: Command): void {
    const data = dataOf(command)
    const copyData = data !== undefined && data.byteLength <= this.copyThreshold
    const codec = lineCodecOf(command)
    const need = codec.bound(command) + (data === undefined ? 0 : copyData ? data.byteLength + 2 : 2)
    this.reserve(need)
    const buffer = this.buffer
    let p = writeLine(codec, buffer, this.position, command)
    if (data !== undefined) {
      if (copyData) {
        buffer.set(data, p)
        p += data.byteLength
      } else {
        if (p > this.chunkStart) this.chunks.push(buffer.subarray(this.chunkStart, p))
        this.chunks.push(data)
        this.chunkStart = p
      }
      buffer[p++] = CR
      buffer[p++] = LF
    }
    this.pending += p - this.position + (data !== undefined && !copyData ? data.byteLength : 0)
    this.position = p
  }

  /** The chunks appended since the last take, in order; afterwards the encoder is empty. */
  take(): Array<Uint8Array> {
    if (this.position > this.chunkStart) this.chunks.push(this.buffer.subarray(this.chunkStart, this.position))
    const chunks = this.chunks
    this.chunks = []
    this.chunkStart = this.position
    this.pending = 0
    return chunks
  }

  /**
   * Declares every chunk taken so far consumed (a socket that copied them to the kernel, say): the encoder then
   * writes over its buffer from the start instead of moving on to a fresh one when it fills. Does nothing while
   * appended bytes are not taken.
   */
  recycle(): void {
    if (this.pending !== 0 || this.chunks.length !== 0) return
    this.position = 0
    this.chunkStart = 0
  }

  // Makes room for `need` more bytes without touching bytes already handed out (or pushed as chunks).
  private reserve(need: number): void {
    if (this.position + need <= this.buffer.byteLength) return
    const open = this.position - this.chunkStart
    let capacity = this.buffer.byteLength
    while (capacity < open + need) capacity *= 2
    const fresh = new Uint8Array(capacity)
    // Only the open chunk moves; finished chunks keep pointing into the old buffer, which is never written again.
    fresh.set(this.buffer.subarray(this.chunkStart, this.position))
    this.buffer = fresh
    this.chunkStart = 0
    this.position = open
  }
}

/**
 * Splits a key list into groups whose `get`/`gets`/`gat`/`gats` line (with its CRLF) stays within
 * `maxLineBytes`: default 2048 for `gat`/`gats` (the server's limit for non-get lines) and 16384 for
 * `get`/`gets` (which the server reads at any length, but a bounded line keeps requests interleavable). Order is
 * kept; a key too long to share a line gets a group of its own. Keys are not validated here.
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * const groups = Command.splitKeys("gat", manyKeys, { exptime: 60 })
 * const commands = groups.map((keys) => Command.gat(60, keys))
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const splitKeys = (
  verb: "get" | "gets" | "gat" | "gats",
  keys: ReadonlyArray<string>,
  options?: { readonly exptime?: number; readonly maxLineBytes?: number }
): Array<ReadonlyArray<string>> => {
  const touch = verb === "gat" || verb === "gats"
  const max = options?.maxLineBytes ?? (touch ? MAX_LINE_LENGTH : MAX_GET_LINE_LENGTH)
  const header = verb.length + (touch ? 1 + decimalLength(options?.exptime ?? 0) : 0) + 2
  const groups: Array<ReadonlyArray<string>> = []
  let group: Array<string> = []
  let length = header
  for (let i = 0; i < keys.length; i++) {
    const cost = 1 + Key.byteLength(keys[i])
    if (group.length > 0 && length + cost > max) {
      groups.push(group)
      group = []
      length = header
    }
    group.push(keys[i])
    length += cost
  }
  if (group.length > 0) groups.push(group)
  return groups
}
