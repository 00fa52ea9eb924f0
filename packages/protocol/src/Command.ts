/**
 * Every memcached command as a plain object, and the constructors that build them. A command is checked by
 * `Validation.validate` when the call is made, and only then encoded (`Encoder`); what reply it gets is
 * `Reply.expectation`.
 *
 * @since 0.1.0
 */
import * as Meta from "./Meta.ts"

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
const deleteCommand = (key: string, options?: NoreplyOptions): Delete => ({
  _tag: "Delete",
  key,
  noreply: options?.noreply ?? false
})

export { deleteCommand as delete }

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
 * const probe: Command.Command = Command.version // version
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
 * const last: Command.Command = Command.quit // quit
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

const utf8 = new TextEncoder()

/**
 * memcached's ASCII authentication (a server started with `-Y`): a `set` of the key `auth` whose value is
 * `<username> <password>` in UTF-8, answered `STORED` when the credentials are accepted.
 *
 * @example
 * ```ts
 * import { Command } from "@effect-memcache/protocol"
 * Command.auth("app", "secret") // set auth 0 0 10\r\napp secret\r\n
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const auth = (username: string, password: string): Store => set("auth", utf8.encode(`${username} ${password}`))

/**
 * The verb a command is sent with: the text verbs (`flush_all` and `cache_memlimit` as written on the wire), and
 * the meta commands by their two letters.
 *
 * @example
 * ```ts
 * import type { Command } from "@effect-memcache/protocol"
 * const verb: Command.Verb = "gets"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Verb =
  | "get"
  | "gets"
  | "gat"
  | "gats"
  | "set"
  | "add"
  | "replace"
  | "append"
  | "prepend"
  | "cas"
  | "delete"
  | "incr"
  | "decr"
  | "touch"
  | "stats"
  | "version"
  | "verbosity"
  | "flush_all"
  | "cache_memlimit"
  | "quit"
  | "shutdown"
  | "mg"
  | "ms"
  | "md"
  | "ma"
  | "me"
  | "mn"

/**
 * The verb of a command (see {@link Verb}).
 *
 * @example
 * ```ts
 * import { Command, Meta } from "@effect-memcache/protocol"
 * Command.verbOf(Command.gets("a")) // "gets"
 * Command.verbOf(Command.flushAll()) // "flush_all"
 * Command.verbOf(Meta.get("a")) // "mg"
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const verbOf = (command: Command): Verb => {
  switch (command._tag) {
    case "Store":
    case "Get":
    case "Gat":
    case "Arithmetic":
      return command.verb
    case "Cas":
      return "cas"
    case "Delete":
      return "delete"
    case "Touch":
      return "touch"
    case "Stats":
      return "stats"
    case "Version":
      return "version"
    case "Verbosity":
      return "verbosity"
    case "FlushAll":
      return "flush_all"
    case "CacheMemlimit":
      return "cache_memlimit"
    case "Quit":
      return "quit"
    case "Shutdown":
      return "shutdown"
    case "MetaGet":
      return "mg"
    case "MetaSet":
      return "ms"
    case "MetaDelete":
      return "md"
    case "MetaArithmetic":
      return "ma"
    case "MetaDebug":
      return "me"
    case "MetaNoop":
      return "mn"
  }
}
