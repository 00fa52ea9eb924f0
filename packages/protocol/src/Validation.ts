/**
 * The checks every command passes before a byte of it is encoded (protocol.md §8): an invalid key or a wrong
 * length can make the server execute the data block as a command (protocol.md §5). {@link validate} returns the
 * command as {@link Validated}, the only type the encoder takes, so an unchecked command cannot be encoded.
 *
 * @since 0.1.0
 */
import * as Command from "./Command.ts"
import { InvalidInput } from "./Errors.ts"
import * as Exptime from "./Exptime.ts"
import { decimalLength } from "./internal/lineCodecs.ts"
import { arithmeticModeBytes, setModeBytes } from "./internal/metaLineCodecs.ts"
import * as Key from "./Key.ts"
import * as Meta from "./Meta.ts"

/**
 * Limits the validation enforces.
 *
 * @example
 * ```ts
 * import type { Validation } from "@effect-memcache/protocol"
 * const limits: Validation.Limits = { itemSizeMax: 1024, allowUnicodeKeys: false }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Limits {
  /**
   * The server's item size limit (`-I`, item_size_max), in bytes. Default {@link DEFAULT_ITEM_SIZE_MAX} (1048576,
   * the server's default). As memcached 1.6.18 does, it bounds the whole item ({@link itemSize}), not the value
   * alone: the largest value is {@link maxValueSize} (`itemSizeMax - 59 - keyBytes`, 4 bytes less when the flags
   * are not 0), and a value one byte larger is refused before it is sent. A server started with `-C` (no CAS)
   * stores 8 bytes more per item: pass `itemSizeMax + 8` to use them.
   */
  readonly itemSizeMax?: number
  /** Accept non-ASCII text keys (sent as UTF-8). Default `true`. */
  readonly allowUnicodeKeys?: boolean
  /**
   * Accept keys with spaces or control bytes of at most 186 UTF-8 bytes (`Key.ValidateOptions.base64`), for a
   * connection that writes every command in its meta form (`Encoder.appendMeta`), which sends them base64. The
   * text form cannot carry them: `Encoder.append` throws on such a key rather than write it. Default `false`.
   */
  readonly base64Keys?: boolean
}

/**
 * The default value size limit (the server's default `-I`, 1 MiB).
 *
 * @example
 * ```ts
 * import { Validation } from "@effect-memcache/protocol"
 * Validation.DEFAULT_ITEM_SIZE_MAX // 1048576
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_ITEM_SIZE_MAX = 1048576

/**
 * The bytes memcached 1.6.18 counts for an item, besides its key and value: the item header (48 bytes on a
 * 64-bit server), the key's terminating NUL (1), the value's `\r\n` (2) and the CAS unique (8, stored unless the
 * server runs with `-C`).
 *
 * @example
 * ```ts
 * import { Validation } from "@effect-memcache/protocol"
 * Validation.ITEM_OVERHEAD // 59
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const ITEM_OVERHEAD = 59

/** Non-zero client flags are stored in the item: 4 bytes more. */
const FLAGS_BYTES = 4

/**
 * The size of an item as memcached 1.6.18 counts it against `-I` (items.c `item_make_header` and
 * `do_item_alloc`): {@link ITEM_OVERHEAD}, the key's bytes (UTF-8, or a binary key's decoded bytes), the value's
 * bytes, and 4 more when the client flags are not 0. The server refuses an item larger than its `-I` with
 * `SERVER_ERROR object too large for cache`; one of exactly `-I` bytes is stored (slabs.c `slabs_clsid`: an item
 * larger than the largest slab chunk is stored in chunks, so no other bound applies).
 *
 * @example
 * ```ts
 * import { Validation } from "@effect-memcache/protocol"
 * Validation.itemSize(1, 1048516, 0) // 1048576: the largest item of the default -I
 * Validation.itemSize(3, 10, 16) // 59 + 3 + 10 + 4 = 76
 * ```
 *
 * @since 0.1.0
 * @category validation
 */
export const itemSize = (keyBytes: number, valueBytes: number, flags: number): number =>
  ITEM_OVERHEAD + keyBytes + valueBytes + (flags === 0 ? 0 : FLAGS_BYTES)

/**
 * The largest value memcached 1.6.18 stores under a key of `keyBytes` bytes with these client flags:
 * `itemSizeMax - 59 - keyBytes`, 4 less when the flags are not 0 (see {@link itemSize}). `itemSizeMax` defaults to
 * {@link DEFAULT_ITEM_SIZE_MAX}.
 *
 * @example
 * ```ts
 * import { Validation } from "@effect-memcache/protocol"
 * Validation.maxValueSize(1, 0) // 1048516
 * Validation.maxValueSize(250, 1) // 1048263
 * Validation.maxValueSize(10, 0, 2 * 1024 * 1024) // 2097083
 * ```
 *
 * @since 0.1.0
 * @category validation
 */
export const maxValueSize = (keyBytes: number, flags: number, itemSizeMax: number = DEFAULT_ITEM_SIZE_MAX): number =>
  itemSizeMax - itemSize(keyBytes, 0, flags)

/** The most {@link itemSize} adds to a value: the longest key (250 bytes) and non-zero flags. */
const MOST_OVERHEAD = ITEM_OVERHEAD + Key.MAX_LENGTH + FLAGS_BYTES

/**
 * The longest command line (with its `\r\n`) the server reads for anything but `get`/`gets`: beyond it the
 * server closes the connection without a reply.
 *
 * @example
 * ```ts
 * import { Validation } from "@effect-memcache/protocol"
 * Validation.MAX_LINE_LENGTH // 2048
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_LINE_LENGTH = 2048

/**
 * The line length `KeyList.splitKeys` keeps `get`/`gets` lines under by default (the server takes any length,
 * but a bounded line keeps one request from monopolising the connection).
 *
 * @example
 * ```ts
 * import { Validation } from "@effect-memcache/protocol"
 * Validation.MAX_GET_LINE_LENGTH // 16384
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_GET_LINE_LENGTH = 16384

declare const ValidatedTypeId: unique symbol

/** The mark of a validated command: a type only, so marking a command allocates nothing. */
interface ValidatedMark {
  readonly [ValidatedTypeId]: typeof ValidatedTypeId
}

/**
 * A command that passed {@link validate}: the only input `Encoder.encode` and `Encoder.Encoder` take. Most kinds
 * are the very object that was validated (the mark exists only for the type checker). A get/gets/gat/gats of 8
 * or more keys is a copy that also carries `joinedKeys`, its keys joined by spaces as validation checked them,
 * which the encoder writes as they are: the line is joined once per request, not twice. A command's fields are
 * read-only: they must not change between validation and encoding.
 *
 * @example
 * ```ts
 * import { Command, Validation } from "@effect-memcache/protocol"
 * const checked = Validation.validate(Command.get("a"))
 * if (!Validation.isInvalid(checked)) {
 *   const command: Validation.Validated<Command.Get> = checked
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Validated<C extends Command.Command = Command.Command> = C extends Command.Get | Command.Gat
  ? C & ValidatedMark & { readonly joinedKeys?: string }
  : C & ValidatedMark

// Where a command becomes `Validated`: the mark is a type only, so the object is returned as it is, or (below, for
// a long key list) copied with the joined line of its keys.
const mark = <C extends Command.Command>(command: C): Validated<C> => command as Validated<C>

/**
 * Whether {@link validate} refused the command.
 *
 * @example
 * ```ts
 * import { Command, Validation } from "@effect-memcache/protocol"
 * const checked = Validation.validate(Command.set("a b", new Uint8Array(1)))
 * if (Validation.isInvalid(checked)) console.log(checked.reason) // "contains a space (byte 0x20 at offset 1)"
 * ```
 *
 * @since 0.1.0
 * @category validation
 */
export const isInvalid = <C extends Command.Command>(result: Validated<C> | InvalidInput): result is InvalidInput =>
  result instanceof InvalidInput

// ---------------------------------------------------------------------------------------------------------------
// fields
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

// Called after the key and flags passed. The common value is far below the limit whatever the key and flags, so
// the key's UTF-8 length is measured only for a value within 313 bytes of the limit.
const validateValue = (
  value: Uint8Array,
  key: string | Uint8Array,
  flags: number,
  limits: Limits | undefined
): InvalidInput | undefined => {
  if (!(value instanceof Uint8Array)) return new InvalidInput("value", "must be a Uint8Array")
  const max = limits?.itemSizeMax ?? DEFAULT_ITEM_SIZE_MAX
  const length = value.byteLength
  if (length <= max - MOST_OVERHEAD) return undefined
  const keyBytes = typeof key === "string" ? Key.byteLength(key) : key.byteLength
  const largest = maxValueSize(keyBytes, flags, max)
  return length > largest
    ? new InvalidInput(
        "value",
        `is ${length} bytes, over the ${largest} that fit under a ${keyBytes}-byte key with flags ${flags}: memcached counts the whole item (${ITEM_OVERHEAD} bytes of header, the key, the value${flags === 0 ? "" : ", 4 bytes for the flags"}) against the item size limit of ${max}`
      )
    : undefined
}

const keyOptionsAscii: Key.ValidateOptions = { allowUnicode: false }
const keyOptionsBase64: Key.ValidateOptions = { base64: true }
const keyOptionsAsciiBase64: Key.ValidateOptions = { allowUnicode: false, base64: true }

const keyOptionsOf = (limits: Limits | undefined): Key.ValidateOptions | undefined =>
  limits === undefined
    ? undefined
    : limits.base64Keys === true
      ? limits.allowUnicodeKeys === false
        ? keyOptionsAsciiBase64
        : keyOptionsBase64
      : limits.allowUnicodeKeys === false
        ? keyOptionsAscii
        : undefined

const validateTextKey = (key: string, limits: Limits | undefined): InvalidInput | undefined => {
  if (typeof key !== "string") return new InvalidInput("key", "must be a string")
  return Key.validate(key, keyOptionsOf(limits))
}

const checkLine = (length: number, what: string): InvalidInput | undefined =>
  length > MAX_LINE_LENGTH
    ? new InvalidInput(
        "line",
        `the ${what} line would be ${length} bytes with its CRLF, over the server's limit of ${MAX_LINE_LENGTH} (it would close the connection)${what === "gat" || what === "gats" ? "; split the keys with KeyList.splitKeys" : ""}`
      )
    : undefined

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

const validateStats = (args: ReadonlyArray<string>): InvalidInput | undefined => {
  let length = 5 + 2
  for (let i = 0; i < args.length; i++) {
    const error = validateStatsArg(args[i], i)
    if (error !== undefined) return error
    length += 1 + args[i].length
  }
  return checkLine(length, "stats")
}

// ---------------------------------------------------------------------------------------------------------------
// key lists
// ---------------------------------------------------------------------------------------------------------------

/** From this many keys on, a key list is checked and written as one joined line. */
const JOIN_KEYS_AT = 8

const PRINTABLE_OR_SPACE = /^[\x21-\x7e ]*$/

/**
 * A long list of printable ASCII keys of 1 to 250 characters, joined by spaces; `undefined` when some key needs the
 * per-key check (which names the fault). One native regex scan of the joined line and a count of its spaces (one
 * per separator, so no key holds one) instead of a slower JavaScript loop over each key's characters, and the join is
 * reused for writing.
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

/** The refusal of a key list, or its joined line (from {@link JOIN_KEYS_AT} keys on), or `undefined` (valid). */
const validateKeyList = (
  keys: ReadonlyArray<string>,
  limits: Limits | undefined
): InvalidInput | string | undefined => {
  if (!Array.isArray(keys) || keys.length === 0) return new InvalidInput("keys", "is empty (at least one key needed)")
  // The meta form writes a line per key, and a key that goes base64 must never reach a joined text line.
  const join = keys.length >= JOIN_KEYS_AT && limits?.base64Keys !== true
  if (join) {
    const line = joinPrintable(keys)
    if (line !== undefined) return line
  }
  for (let i = 0; i < keys.length; i++) {
    const error = validateTextKey(keys[i], limits)
    if (error !== undefined) {
      return keys.length === 1 ? error : new InvalidInput("key", `keys[${i}] ${error.reason}`)
    }
  }
  return join ? keys.join(" ") : undefined
}

// The copies that carry a joined key line are written out field by field: an object spread here costs as much as
// the rest of the check.
const joinedGet = (command: Command.Get, joinedKeys: string): Validated<Command.Get> =>
  ({ _tag: "Get", verb: command.verb, keys: command.keys, joinedKeys }) as Validated<Command.Get>

const joinedGat = (command: Command.Gat, joinedKeys: string): Validated<Command.Gat> =>
  ({
    _tag: "Gat",
    verb: command.verb,
    exptime: command.exptime,
    keys: command.keys,
    joinedKeys
  }) as Validated<Command.Gat>

const gatLineLength = (command: Command.Gat): number => {
  let length = command.verb.length + 1 + decimalLength(command.exptime) + 2
  for (let i = 0; i < command.keys.length; i++) length += 1 + Key.byteLength(command.keys[i])
  return length
}

const validateGet = (command: Command.Get, limits: Limits | undefined): Validated<Command.Get> | InvalidInput => {
  const checked = validateKeyList(command.keys, limits)
  return checked === undefined ? mark(command) : typeof checked === "string" ? joinedGet(command, checked) : checked
}

const validateGat = (command: Command.Gat, limits: Limits | undefined): Validated<Command.Gat> | InvalidInput => {
  const checked = validateExptime(command.exptime) ?? validateKeyList(command.keys, limits)
  if (checked instanceof InvalidInput) return checked
  return (
    checkLine(gatLineLength(command), command.verb) ??
    (checked === undefined ? mark(command) : joinedGat(command, checked))
  )
}

// ---------------------------------------------------------------------------------------------------------------
// meta commands
// ---------------------------------------------------------------------------------------------------------------

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
        validateMode(setModeBytes, command.mode, "ms") ??
        validateOpaqueQuiet(command.opaque, command.quiet) ??
        validateValue(command.value, command.key, command.clientFlags ?? 0, limits)
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
        validateMode(arithmeticModeBytes, command.mode, "ma") ??
        validateOpaqueQuiet(command.opaque, command.quiet)
      )
  }
}

// ---------------------------------------------------------------------------------------------------------------
// validate
// ---------------------------------------------------------------------------------------------------------------

const storageVerbs: Record<Command.StorageVerb, true> = {
  set: true,
  add: true,
  replace: true,
  append: true,
  prepend: true
}

/** The kinds whose validated form is the command itself: their check says only whether it passed. */
type Checked = Exclude<Command.Command, Command.Get | Command.Gat>

type Check<C extends Checked> = (command: C, limits: Limits | undefined) => InvalidInput | undefined

const valid = (): undefined => undefined

// One function per kind, for the reason given at the encoder's line codecs.
const checks: { readonly [T in Checked["_tag"]]: Check<Extract<Checked, { readonly _tag: T }>> } = {
  Store: (command, limits) =>
    (Object.hasOwn(storageVerbs, command.verb)
      ? undefined
      : new InvalidInput("argument", `unknown storage verb ${JSON.stringify(command.verb)}`)) ??
    validateTextKey(command.key, limits) ??
    validateFlags(command.flags) ??
    validateExptime(command.exptime) ??
    validateValue(command.value, command.key, command.flags, limits),
  Cas: (command, limits) =>
    validateTextKey(command.key, limits) ??
    validateFlags(command.flags) ??
    validateExptime(command.exptime) ??
    validateUint64(command.cas, "cas") ??
    validateValue(command.value, command.key, command.flags, limits),
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

const validateCommand = (command: Command.Command, limits?: Limits): Validated | InvalidInput => {
  // A switch of calls, not a lookup in `checks`: optimized, the common kinds' checks are inlined here.
  switch (command._tag) {
    case "Store":
      return checks.Store(command, limits) ?? mark(command)
    case "Get":
      return validateGet(command, limits)
    case "Cas":
      return checks.Cas(command, limits) ?? mark(command)
    case "Gat":
      return validateGat(command, limits)
    case "Delete":
      return checks.Delete(command, limits) ?? mark(command)
    case "Arithmetic":
      return checks.Arithmetic(command, limits) ?? mark(command)
    case "Touch":
      return checks.Touch(command, limits) ?? mark(command)
    default:
      // The other kinds, looked up; an own property only, so that an untyped `_tag` such as "constructor" is refused.
      return Object.hasOwn(checks, command._tag)
        ? ((checks[command._tag] as Check<Checked>)(command, limits) ?? mark(command))
        : new InvalidInput("argument", `unknown command ${JSON.stringify(String(command._tag))}`)
  }
}

/**
 * Checks every input of a command against protocol.md §8, and returns it as {@link Validated} (ready for the
 * encoder), or the {@link InvalidInput} that refuses it. Keys: 1..250 UTF-8 bytes, no byte <= 0x20 or 0x7F
 * (binary meta keys 1..186 bytes); flags an unsigned 32-bit integer; exptimes (and meta `T`/`N`/`R`) integers in
 * `[-2^31, 2^31)`; CAS uniques, deltas and initial values bigints in `[0, 2^64)`; values at most
 * {@link maxValueSize} bytes (the whole item within `itemSizeMax`); opaques 1..31 characters of `[!-~]`, and required with `q`; `stats` arguments printable ASCII without
 * spaces; verbosity levels and megabytes unsigned 32-bit integers; get/gets/gat/gats need at least one key; and no
 * line but a `get`/`gets` line may exceed 2048 bytes with its CRLF (so an over-long `gat`/`gats` is refused with
 * field `"line"`: see `KeyList.splitKeys`). A command of a kind this module does not build (an untyped caller's
 * object) is refused with field `"argument"`.
 *
 * @example
 * ```ts
 * import { Command, Encoder, Validation } from "@effect-memcache/protocol"
 * const refused = Validation.validate(Command.set("a b", new Uint8Array(1)))
 * if (Validation.isInvalid(refused)) refused.reason // "contains a space (byte 0x20 at offset 1)"
 * const checked = Validation.validate(Command.get(["a", "b"]))
 * if (!Validation.isInvalid(checked)) Encoder.encode(checked) // "get a b\r\n"
 * ```
 *
 * @since 0.1.0
 * @category validation
 */
export const validate: <C extends Command.Command>(command: C, limits?: Limits) => Validated<C> | InvalidInput =
  // Each kind comes back as the same kind, only marked (or with its joined key line). The function itself, not a
  // wrapper around it: one call less on every command.
  validateCommand as <C extends Command.Command>(command: C, limits?: Limits) => Validated<C> | InvalidInput

/**
 * `mn`, validated: what a connection appends to close a batch of noreply or quiet commands.
 *
 * @example
 * ```ts
 * import { Encoder, Validation } from "@effect-memcache/protocol"
 * Encoder.encode(Validation.sync) // "mn\r\n"
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const sync: Validated<Meta.MetaNoop> = mark(Command.sync)

/**
 * `version`, validated (a connection's health probe).
 *
 * @example
 * ```ts
 * import { Encoder, Validation } from "@effect-memcache/protocol"
 * Encoder.encode(Validation.version) // "version\r\n"
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const version: Validated<Command.Version> = mark(Command.version)

/**
 * `quit`, validated (how a connection is closed).
 *
 * @example
 * ```ts
 * import { Encoder, Validation } from "@effect-memcache/protocol"
 * Encoder.encode(Validation.quit) // "quit\r\n"
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const quit: Validated<Command.Quit> = mark(Command.quit)

/**
 * The command with its reply asked for: a command sent with `noreply` becomes the same command without it (a new
 * object); any other command is returned as it is. For a path that must answer every request, such as a proxy
 * that cannot be sent the `mn` closing a noreply run.
 *
 * @example
 * ```ts
 * import { Command, Encoder, Validation } from "@effect-memcache/protocol"
 * const checked = Validation.validate(Command.delete("k", { noreply: true }))
 * if (!Validation.isInvalid(checked)) Encoder.encode(Validation.answered(checked)) // "delete k\r\n"
 * ```
 *
 * @since 0.1.0
 * @category validation
 */
export const answered = <C extends Command.Command>(command: Validated<C>): Validated<C> =>
  "noreply" in command && command.noreply ? mark({ ...command, noreply: false }) : command
