/**
 * Turning values into the bytes and the 32-bit `flags` a memcached item stores, and back.
 *
 * A {@link Serializer} is two synchronous functions returning a `Result`: serialization runs on every get and
 * set, so it allocates no `Effect` per call. Readers are strict: bytes stored with flags a serializer did not
 * write (or does not understand) fail with a `MemcacheSerializationError` naming the key and the flags,
 * instead of being misread.
 *
 * The flag values follow pymemcache and python-memcache (see {@link Flags}), so items can be shared with
 * Python clients through {@link pymemcache}.
 *
 * @since 0.1.0
 */
import { constants as bufferConstants } from "node:buffer"
import * as zlib from "node:zlib"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type * as SchemaIssue from "effect/SchemaIssue"
import * as SchemaParser from "effect/SchemaParser"
import { MemcacheSerializationError } from "./MemcacheError.ts"

/**
 * What a value becomes in memcached: its bytes and the client flags stored next to them.
 *
 * @example
 * ```ts
 * import type { Serializer } from "@effect-memcache/client"
 * const item: Serializer.Serialized = { bytes: new TextEncoder().encode("hi"), flags: 16 }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Serialized {
  readonly bytes: Uint8Array
  readonly flags: number
}

/**
 * How values of type `A` are written to and read from memcached. Both directions are synchronous and fail
 * with a typed `MemcacheSerializationError`; `key` is only used to say which item failed.
 *
 * @example
 * ```ts
 * import { Result } from "effect"
 * import { Serializer } from "@effect-memcache/client"
 * const written = Serializer.string.serialize("greeting", "hello")
 * if (Result.isSuccess(written)) {
 *   const { bytes, flags } = written.success
 *   Serializer.string.deserialize("greeting", bytes, flags) // Result.succeed("hello")
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Serializer<A> {
  /** The bytes and flags stored for `value`. */
  readonly serialize: (key: string, value: A) => Result.Result<Serialized, MemcacheSerializationError>
  /** The value read back from an item's bytes and flags. */
  readonly deserialize: (key: string, bytes: Uint8Array, flags: number) => Result.Result<A, MemcacheSerializationError>
}

/**
 * The client flags pymemcache and python-memcache give their values. `compressed` is a bit set on top of
 * another flag; the others are exclusive.
 *
 * @example
 * ```ts
 * import { Serializer } from "@effect-memcache/client"
 * const isCompressed = (flags: number) => (flags & Serializer.Flags.compressed) !== 0
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const Flags = {
  bytes: 0,
  pickle: 1,
  integer: 2,
  long: 4,
  compressed: 8,
  text: 16
} as const

/**
 * Builds a {@link Serializer} from its two directions.
 *
 * @example
 * ```ts
 * import { Result } from "effect"
 * import { MemcacheError, Serializer } from "@effect-memcache/client"
 * // A boolean stored as one byte, flags 0.
 * const boolean = Serializer.make<boolean>(
 *   (_key, value) => Result.succeed({ bytes: Uint8Array.of(value ? 1 : 0), flags: 0 }),
 *   (key, bytes, flags) =>
 *     flags === 0 && bytes.length === 1 && bytes[0]! <= 1
 *       ? Result.succeed(bytes[0] === 1)
 *       : Result.fail(new MemcacheError.MemcacheSerializationError({ key, flags, reason: "not a boolean" }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <A>(
  serialize: Serializer<A>["serialize"],
  deserialize: Serializer<A>["deserialize"]
): Serializer<A> => ({ serialize, deserialize })

// ---------------------------------------------------------------------------------------------------------------
// shared pieces
// ---------------------------------------------------------------------------------------------------------------

const encoder = new TextEncoder()
// `fatal` turns invalid UTF-8 into an exception instead of U+FFFD; `ignoreBOM` keeps a leading U+FEFF that the
// writer put there, so every string round-trips.
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })

const fail = (key: string, flags: number | undefined, reason: string, cause?: unknown) =>
  Result.fail(
    new MemcacheSerializationError(
      cause === undefined
        ? flags === undefined
          ? { key, reason }
          : { key, flags, reason }
        : flags === undefined
          ? { key, reason, cause }
          : { key, flags, reason, cause }
    )
  )

const unexpectedFlags = (key: string, flags: number, expected: string) =>
  fail(key, flags, `unexpected flags ${flags} (expected ${expected})`)

// `String.prototype.isWellFormed` (Node 20+) is not in the ES2022 lib this package compiles against.
const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed()

const serializeText = (key: string, value: string): Result.Result<Serialized, MemcacheSerializationError> =>
  // TextEncoder would silently turn a lone surrogate into U+FFFD and the value read back would differ.
  isWellFormed(value)
    ? Result.succeed({ bytes: encoder.encode(value), flags: Flags.text })
    : fail(key, undefined, "the string is not well-formed UTF-16 (it has a lone surrogate)")

const decodeUtf8 = (
  key: string,
  bytes: Uint8Array,
  flags: number
): Result.Result<string, MemcacheSerializationError> => {
  try {
    return Result.succeed(decoder.decode(bytes))
  } catch (cause) {
    return fail(key, flags, "the value is not valid UTF-8", cause)
  }
}

// A Buffer is a Uint8Array subclass; hand out plain Uint8Array views so results compare and print like any other.
const asUint8Array = (buffer: Buffer): Uint8Array => new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)

const inflate = (
  key: string,
  bytes: Uint8Array,
  flags: number,
  maxInflatedBytes: number
): Result.Result<Uint8Array, MemcacheSerializationError> => {
  try {
    return Result.succeed(asUint8Array(zlib.inflateSync(bytes, { maxOutputLength: maxInflatedBytes })))
  } catch (cause) {
    return (cause as { readonly code?: unknown }).code === "ERR_BUFFER_TOO_LARGE"
      ? fail(key, flags, `the compressed value inflates to more than ${maxInflatedBytes} bytes`, cause)
      : fail(
          key,
          flags,
          `the compressed value is corrupt: ${cause instanceof Error ? cause.message : String(cause)}`,
          cause
        )
  }
}

/**
 * Default for {@link CompressedOptions.maxInflatedBytes}: 64 MiB.
 *
 * @example
 * ```ts
 * import { Serializer } from "@effect-memcache/client"
 * const limit = Serializer.defaultMaxInflatedBytes // 67108864
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultMaxInflatedBytes = 64 * 1024 * 1024

const checkMaxInflatedBytes = (n: number | undefined): number => {
  if (n === undefined) return defaultMaxInflatedBytes
  // zlib refuses a maxOutputLength above the largest Buffer this Node can allocate.
  if (!Number.isSafeInteger(n) || n < 1 || n > bufferConstants.MAX_LENGTH) {
    throw new RangeError(`maxInflatedBytes must be an integer from 1 to ${bufferConstants.MAX_LENGTH}, got ${n}`)
  }
  return n
}

// ---------------------------------------------------------------------------------------------------------------
// bytes, string, json
// ---------------------------------------------------------------------------------------------------------------

/**
 * Raw bytes, stored as they are with flags 0 (pymemcache's `FLAG_BYTES`). The array is neither copied on write
 * nor on read.
 *
 * Reading is strict: only flags 0 is accepted; any other flags (text, a pickled or compressed value, ...) fail
 * with a `MemcacheSerializationError` carrying the flags, since the bytes would not mean what the caller expects.
 *
 * @example
 * ```ts
 * import { Serializer } from "@effect-memcache/client"
 * Serializer.bytes.serialize("k", Uint8Array.of(0, 255)) // Result.succeed({ bytes: [0, 255], flags: 0 })
 * Serializer.bytes.deserialize("k", Uint8Array.of(104, 105), 16) // Result.fail(unexpected flags 16)
 * ```
 *
 * @since 0.1.0
 * @category serializers
 */
export const bytes: Serializer<Uint8Array> = {
  serialize: (_key, value) => Result.succeed({ bytes: value, flags: Flags.bytes }),
  deserialize: (key, bytes, flags) =>
    flags === Flags.bytes ? Result.succeed(bytes) : unexpectedFlags(key, flags, "0 (bytes)")
}

/**
 * Items exactly as stored: a value is the item's bytes and client flags ({@link Serialized}), read whatever the
 * flags and written with the flags it carries (any unsigned 32-bit integer; others are refused before sending).
 * The array is neither copied on write nor on read. Use it to read or copy items other clients wrote, or whose
 * flags a typed serializer refuses: `client.withSerializer(Serializer.raw)`.
 *
 * A call's `flags` option, when given, still overrides the flags of the value written.
 *
 * @example
 * ```ts
 * import { Serializer } from "@effect-memcache/client"
 * Serializer.raw.serialize("k", { bytes: Uint8Array.of(1), flags: 2 ** 31 }) // Result.succeed(that item)
 * Serializer.raw.deserialize("k", Uint8Array.of(104, 105), 8) // Result.succeed({ bytes: [104, 105], flags: 8 })
 * ```
 *
 * @since 0.1.0
 * @category serializers
 */
export const raw: Serializer<Serialized> = {
  serialize: (_key, item) => Result.succeed(item),
  deserialize: (_key, bytes, flags) => Result.succeed({ bytes, flags })
}

/**
 * Text as UTF-8, written with flags 16 (pymemcache's `FLAG_TEXT`). Reads flags 16 and also 0, which is what
 * clients that store plain strings without flags (and `memcached`'s own `set` from a terminal) write.
 *
 * Writing a string with a lone surrogate fails (it has no UTF-8 form); reading bytes that are not valid UTF-8
 * fails. Neither is silently replaced with U+FFFD.
 *
 * @example
 * ```ts
 * import { Serializer } from "@effect-memcache/client"
 * Serializer.string.serialize("k", "héllo") // Result.succeed({ bytes: [104, 195, 169, 108, 108, 111], flags: 16 })
 * Serializer.string.deserialize("k", Uint8Array.of(104, 105), 0) // Result.succeed("hi")
 * ```
 *
 * @since 0.1.0
 * @category serializers
 */
export const string: Serializer<string> = {
  serialize: (key, value) => {
    return serializeText(key, value)
  },
  deserialize: (key, bytes, flags) =>
    flags === Flags.text || flags === Flags.bytes
      ? decodeUtf8(key, bytes, flags)
      : unexpectedFlags(key, flags, "16 (text) or 0 (bytes)")
}

/**
 * Values of a schema, stored as UTF-8 JSON with flags 16 (readable as text by other clients). The codec is
 * `Schema.fromJsonString(Schema.toCodecJson(schema))`, built once here, so types JSON lacks (`Date`,
 * `bigint`, `Option`, classes, ...) round-trip through their canonical JSON form.
 *
 * Reads flags 16 or 0. Invalid UTF-8, invalid JSON and values the schema rejects fail with a
 * `MemcacheSerializationError` whose `reason` holds the schema's issue text (and whose `cause` is the
 * `SchemaError`). Only schemas that need no services are accepted.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Serializer } from "@effect-memcache/client"
 * const User = Schema.Struct({ name: Schema.String, createdAt: Schema.Date })
 * const users = Serializer.json(User)
 * users.serialize("user:1", { name: "Ada", createdAt: new Date(0) })
 * // Result.succeed({ bytes: '{"name":"Ada","createdAt":"1970-01-01T00:00:00.000Z"}', flags: 16 })
 * ```
 *
 * @since 0.1.0
 * @category serializers
 */
export const json = <A, I>(schema: Schema.Codec<A, I>): Serializer<A> => {
  const codec = Schema.fromJsonString(Schema.toCodecJson(schema))
  const encode = SchemaParser.encodeResult(codec)
  const decode = SchemaParser.decodeUnknownResult(codec)
  const schemaFailure = (key: string, flags: number | undefined, what: string, issue: SchemaIssue.Issue) => {
    const error = new Schema.SchemaError(issue)
    return fail(key, flags, `${what}: ${error.message}`, error)
  }
  return {
    serialize: (key, value) => {
      let encoded: Result.Result<string, SchemaIssue.Issue>
      try {
        encoded = encode(value)
      } catch (cause) {
        // The parser throws for defects (a throwing transformation, an asynchronous check).
        return fail(key, undefined, "the schema failed while encoding", cause)
      }
      if (Result.isFailure(encoded)) return schemaFailure(key, undefined, "cannot encode the value", encoded.failure)
      return Result.succeed({ bytes: encoder.encode(encoded.success), flags: Flags.text })
    },
    deserialize: (key, bytes, flags) => {
      if (flags !== Flags.text && flags !== Flags.bytes) return unexpectedFlags(key, flags, "16 (text) or 0 (bytes)")
      const text = decodeUtf8(key, bytes, flags)
      if (Result.isFailure(text)) return Result.fail(text.failure)
      let decoded: Result.Result<A, SchemaIssue.Issue>
      try {
        decoded = decode(text.success)
      } catch (cause) {
        return fail(key, flags, "the schema failed while decoding", cause)
      }
      return Result.isFailure(decoded)
        ? schemaFailure(key, flags, "cannot decode the value", decoded.failure)
        : Result.succeed(decoded.success)
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// pymemcache
// ---------------------------------------------------------------------------------------------------------------

/**
 * What {@link pymemcache} reads and writes: Python's `bytes`, `str` and `int`.
 *
 * @example
 * ```ts
 * import type { Serializer } from "@effect-memcache/client"
 * const values: ReadonlyArray<Serializer.PythonValue> = [Uint8Array.of(0), "héllo", 42, 2n ** 70n]
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type PythonValue = Uint8Array | string | number | bigint

const isAsciiSpace = (byte: number) => byte === 0x20 || (byte >= 0x09 && byte <= 0x0d)

// Python's `int(bytes)` on what python-memcache and pymemcache write ("%d"): optional surrounding ASCII
// whitespace (memcached pads a `decr` result that got shorter with trailing spaces), an optional sign, digits.
const parseInteger = (
  key: string,
  bytes: Uint8Array,
  flags: number
): Result.Result<number | bigint, MemcacheSerializationError> => {
  let start = 0
  let end = bytes.length
  while (start < end && isAsciiSpace(bytes[start]!)) start++
  while (end > start && isAsciiSpace(bytes[end - 1]!)) end--
  let digitsStart = start
  if (digitsStart < end && (bytes[digitsStart] === 0x2d || bytes[digitsStart] === 0x2b)) digitsStart++
  if (digitsStart === end) return fail(key, flags, "the value is not an integer")
  let value = 0
  for (let i = digitsStart; i < end; i++) {
    const digit = bytes[i]! - 0x30
    if (digit < 0 || digit > 9) return fail(key, flags, "the value is not an integer")
    value = value * 10 + digit
  }
  const negative = bytes[start] === 0x2d
  if (Number.isSafeInteger(value)) return Result.succeed(negative ? -value || 0 : value)
  // Past 2^53 the running double lost precision: redo it exactly.
  let exact = 0n
  for (let i = digitsStart; i < end; i++) exact = exact * 10n + BigInt(bytes[i]! - 0x30)
  return Result.succeed(negative ? -exact : exact)
}

/**
 * The options of {@link pymemcache}.
 *
 * @example
 * ```ts
 * import { Serializer } from "@effect-memcache/client"
 * const options: Serializer.PymemcacheOptions = { maxInflatedBytes: 1024 * 1024 }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface PymemcacheOptions {
  /** Largest value a compressed item may inflate to; larger ones fail. Default {@link defaultMaxInflatedBytes}. */
  readonly maxInflatedBytes?: number | undefined
}

/**
 * A serializer compatible with pymemcache's `python_memcache_serializer` / `python_memcache_deserializer`
 * (and python-memcache's flags), for sharing items with Python clients. Use {@link pymemcache} for the
 * default options.
 *
 * Writing (never compressed; wrap it in {@link compressed} for that, as pymemcache's `CompressedSerde` does):
 * - `Uint8Array` → as is, flags 0 (`bytes`);
 * - `string` → UTF-8, flags 16 (`str`);
 * - a safe-integer `number`, or a `bigint` → ASCII decimal, flags 2 (`int`);
 * - any other `number` fails: Python would pickle a `float`, and pickle is not supported. An integer past
 *   `Number.MAX_SAFE_INTEGER` fails too (its digits are already lost); pass a `bigint`.
 *
 * Reading, strictly by flags:
 * - 0 → `Uint8Array`; 16 → `string` (invalid UTF-8 fails);
 * - 2 and 4 (Python 2's `long`) → a `number` when the value is a safe integer, else a `bigint`;
 * - 1 (pickle) fails with "pickled values are not supported";
 * - the 8 bit (compressed, as pymemcache's `CompressedSerde` and python-memcache set it on top of the others)
 *   → zlib-inflated (at most `maxInflatedBytes`), then read by the remaining flags;
 * - anything else fails with "unknown flags".
 *
 * @example
 * ```ts
 * import { Serializer } from "@effect-memcache/client"
 * const python = Serializer.makePymemcache({ maxInflatedBytes: 16 * 1024 * 1024 })
 * python.deserialize("n", new TextEncoder().encode("42"), 2) // Result.succeed(42)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const makePymemcache = (options?: PymemcacheOptions): Serializer<PythonValue> => {
  const maxInflatedBytes = checkMaxInflatedBytes(options?.maxInflatedBytes)
  const read = (key: string, bytes: Uint8Array, type: number, flags: number) => {
    switch (type) {
      case Flags.bytes:
        return Result.succeed(bytes)
      case Flags.text:
        return decodeUtf8(key, bytes, flags)
      default:
        // only integer and long are left: the caller vetted `type`
        return parseInteger(key, bytes, flags)
    }
  }
  return {
    serialize: (key, value) => {
      if (typeof value === "string") {
        return serializeText(key, value)
      }
      if (typeof value === "number") {
        if (Number.isSafeInteger(value))
          return Result.succeed({ bytes: encoder.encode(String(value)), flags: Flags.integer })
        return fail(
          key,
          undefined,
          Number.isInteger(value)
            ? `${value} is past Number.MAX_SAFE_INTEGER; pass a bigint`
            : `${value} is not an integer (Python would pickle a float, and pickle is not supported)`
        )
      }
      if (typeof value === "bigint")
        return Result.succeed({ bytes: encoder.encode(value.toString()), flags: Flags.integer })
      if (value instanceof Uint8Array) return Result.succeed({ bytes: value, flags: Flags.bytes })
      return fail(key, undefined, `cannot serialize a value of type ${typeof value}`)
    },
    deserialize: (key, bytes, flags) => {
      const type = flags & ~Flags.compressed
      if (type === Flags.pickle) return fail(key, flags, "pickled values are not supported")
      if (type !== Flags.bytes && type !== Flags.text && type !== Flags.integer && type !== Flags.long) {
        return fail(key, flags, `unknown flags ${flags}`)
      }
      if ((flags & Flags.compressed) === 0) return read(key, bytes, type, flags)
      const inflated = inflate(key, bytes, flags, maxInflatedBytes)
      return Result.isFailure(inflated) ? Result.fail(inflated.failure) : read(key, inflated.success, type, flags)
    }
  }
}

/**
 * {@link makePymemcache} with its default options: the pymemcache / python-memcache compatible serializer.
 *
 * @example
 * ```ts
 * import { Serializer } from "@effect-memcache/client"
 * Serializer.pymemcache.serialize("n", 42) // Result.succeed({ bytes: "42", flags: 2 })
 * Serializer.pymemcache.serialize("s", "héllo") // Result.succeed({ bytes: "héllo" as UTF-8, flags: 16 })
 * Serializer.pymemcache.deserialize("p", Uint8Array.of(0x80, 0x05), 1) // Result.fail(pickled values are not supported)
 * ```
 *
 * @since 0.1.0
 * @category serializers
 */
export const pymemcache: Serializer<PythonValue> = makePymemcache()

// ---------------------------------------------------------------------------------------------------------------
// compressed
// ---------------------------------------------------------------------------------------------------------------

/**
 * The options of {@link compressed}.
 *
 * @example
 * ```ts
 * import { Serializer } from "@effect-memcache/client"
 * // pymemcache's CompressedSerde compresses values longer than 400 bytes
 * const likePymemcache: Serializer.CompressedOptions = { threshold: 401 }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface CompressedOptions {
  /**
   * Values whose serialized form has at least this many bytes are compressed. Default 1024: below about a
   * kilobyte the bytes saved rarely pay for the time spent compressing.
   */
  readonly threshold?: number | undefined
  /** zlib level, -1 (zlib's default, 6) or 0 (store) to 9 (smallest). Default -1. */
  readonly level?: number | undefined
  /**
   * Largest value a compressed item may inflate to; larger ones fail instead of exhausting memory (a few
   * kilobytes of zlib can inflate to gigabytes). Default {@link defaultMaxInflatedBytes} (64 MiB); at most
   * `buffer.constants.MAX_LENGTH`.
   */
  readonly maxInflatedBytes?: number | undefined
}

/**
 * Wraps a serializer with zlib compression, compatible with pymemcache's `CompressedSerde` and
 * python-memcache.
 *
 * Writing: serialize with `inner`; when the bytes are at least `threshold` long, deflate them (zlib format, as
 * Python's `zlib.compress`) and keep the compressed form only if it is smaller, adding flag 8 (`compressed`) to
 * inner's flags. Incompressible values are stored as inner wrote them. `inner` must not use flag 8 itself;
 * if it does, serialization fails.
 *
 * Reading: when flag 8 is set, inflate (at most `maxInflatedBytes`, else a typed error) and pass
 * `flags & ~8` to `inner`; otherwise pass the bytes and flags to `inner` unchanged, so values stored before
 * compression was turned on still read. Corrupt compressed data fails with a typed error.
 *
 * Invalid options (a negative threshold, a level outside -1..9, a non-positive `maxInflatedBytes`) throw a
 * `RangeError` here, at construction.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Serializer } from "@effect-memcache/client"
 * const pages = Serializer.compressed(Serializer.string, { threshold: 2048, level: 9 })
 * const reports = Serializer.compressed(Serializer.json(Schema.Array(Schema.Number)))
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const compressed = <A>(inner: Serializer<A>, options?: CompressedOptions): Serializer<A> => {
  const threshold = options?.threshold ?? 1024
  if (!Number.isSafeInteger(threshold) || threshold < 0) {
    throw new RangeError(`threshold must be a non-negative integer, got ${threshold}`)
  }
  const level = options?.level ?? zlib.constants.Z_DEFAULT_COMPRESSION
  if (!Number.isInteger(level) || level < -1 || level > 9) {
    throw new RangeError(`level must be an integer from -1 to 9, got ${level}`)
  }
  const deflateOptions: zlib.ZlibOptions = { level }
  const maxInflatedBytes = checkMaxInflatedBytes(options?.maxInflatedBytes)
  return {
    serialize: (key, value) => {
      const serialized = inner.serialize(key, value)
      if (Result.isFailure(serialized)) return serialized
      const { bytes, flags } = serialized.success
      if ((flags & Flags.compressed) !== 0) {
        return fail(key, flags, "the inner serializer set flag 8, which compression uses")
      }
      if (bytes.length < threshold) return serialized
      let deflated: Buffer
      try {
        deflated = zlib.deflateSync(bytes, deflateOptions)
      } catch (cause) {
        return fail(key, flags, "compression failed", cause)
      }
      return deflated.length < bytes.length
        ? Result.succeed({ bytes: asUint8Array(deflated), flags: flags | Flags.compressed })
        : serialized
    },
    deserialize: (key, bytes, flags) => {
      if ((flags & Flags.compressed) === 0) return inner.deserialize(key, bytes, flags)
      const inflated = inflate(key, bytes, flags, maxInflatedBytes)
      return Result.isFailure(inflated)
        ? Result.fail(inflated.failure)
        : inner.deserialize(key, inflated.success, flags & ~Flags.compressed)
    }
  }
}
