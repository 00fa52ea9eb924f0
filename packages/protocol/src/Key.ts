/**
 * Key rules. memcached itself accepts almost any byte in a key (TAB, lone CR, control bytes, invalid UTF-8), so
 * the client enforces the documented rule: 1..250 bytes after UTF-8 encoding, no byte <= 0x20 and no 0x7F.
 * Binary keys go through the meta `b` (base64) flag instead.
 *
 * @since 0.1.0
 */
import { InvalidInput } from "./Errors.ts"

/**
 * The longest key the server accepts, in bytes (`KEY_MAX_LENGTH`).
 *
 * @example
 * ```ts
 * import { Key } from "@effect-memcache/protocol"
 * Key.MAX_LENGTH // 250
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_LENGTH = 250

/**
 * The longest raw binary key for the meta `b` flag: the server checks the 250-byte limit on the base64 text,
 * and 186 bytes encode to 248 characters (187 would need 252).
 *
 * @example
 * ```ts
 * import { Key } from "@effect-memcache/protocol"
 * Key.MAX_BINARY_LENGTH // 186
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_BINARY_LENGTH = 186

/**
 * Options of {@link validate}.
 *
 * @example
 * ```ts
 * import type { Key } from "@effect-memcache/protocol"
 * const asciiOnly: Key.ValidateOptions = { allowUnicode: false }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface ValidateOptions {
  /** Accept non-ASCII characters (sent as UTF-8). Default `true`. */
  readonly allowUnicode?: boolean
  /**
   * Accept keys that hold a space, a control byte or DEL, when their UTF-8 form has at most
   * {@link MAX_BINARY_LENGTH} bytes: the meta form of a command (`Encoder.appendMeta`) sends such a key base64
   * (`b`), which reaches the item of the same bytes. Only the meta form can send them. Default `false`.
   */
  readonly base64?: boolean
}

const hex = (n: number): string => `0x${n.toString(16).padStart(2, "0")}`

const controlName = (c: number): string => {
  switch (c) {
    case 0x00:
      return "NUL"
    case 0x09:
      return "TAB"
    case 0x0a:
      return "LF"
    case 0x0d:
      return "CR"
    case 0x20:
      return "space"
    case 0x7f:
      return "DEL"
    default:
      return "control byte"
  }
}

/**
 * Checks a text key; `undefined` when it may be sent. The reason of a refusal names the offending byte and its
 * byte offset, or the byte length and the limit.
 *
 * No allocation on success: UTF-8 lead and continuation bytes are all >= 0x80, so the forbidden bytes can only
 * come from ASCII characters and one char loop checks both the bytes and the encoded length. Lone surrogates
 * (which have no UTF-8 form) are refused.
 *
 * @example
 * ```ts
 * import { Key } from "@effect-memcache/protocol"
 * Key.validate("user:1") // undefined
 * Key.validate("a b")?.reason // "contains a space (byte 0x20 at offset 1)"
 * ```
 *
 * @since 0.1.0
 * @category validation
 */
export const validate = (key: string, options?: ValidateOptions): InvalidInput | undefined => {
  const length = key.length
  if (length === 0) return new InvalidInput("key", "is empty (a key needs 1 to 250 bytes)")
  // The common key is printable ASCII and short: one range check per char, no byte counting.
  if (length <= MAX_LENGTH) {
    let i = 0
    while (i < length) {
      const c = key.charCodeAt(i)
      if (c <= 0x20 || c >= 0x7f) break
      i++
    }
    if (i === length) return undefined
  }
  const allowUnicode = options?.allowUnicode !== false
  const base64 = options?.base64 === true
  let bytes = 0
  let unsafe: string | undefined
  for (let i = 0; i < length; i++) {
    const c = key.charCodeAt(i)
    if (c < 0x80) {
      if ((c <= 0x20 || c === 0x7f) && unsafe === undefined) {
        const what = controlName(c)
        unsafe =
          what === "space"
            ? `contains a space (byte 0x20 at offset ${bytes})`
            : `contains ${what === "control byte" ? "a control byte" : `a ${what}`} (byte ${hex(c)} at offset ${bytes})`
        if (!base64) return new InvalidInput("key", unsafe)
      }
      bytes += 1
      continue
    }
    if (!allowUnicode) {
      return new InvalidInput(
        "key",
        `contains the non-ASCII character U+${c.toString(16).toUpperCase().padStart(4, "0")} at offset ${bytes} (Unicode keys are disabled)`
      )
    }
    if (c < 0x800) bytes += 2
    else if (c >= 0xd800 && c <= 0xdbff) {
      const next = i + 1 < length ? key.charCodeAt(i + 1) : 0
      if (next < 0xdc00 || next > 0xdfff) {
        return new InvalidInput("key", `contains a lone surrogate U+${c.toString(16).toUpperCase()} at offset ${bytes}`)
      }
      bytes += 4
      i++
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return new InvalidInput("key", `contains a lone surrogate U+${c.toString(16).toUpperCase()} at offset ${bytes}`)
    } else bytes += 3
  }
  if (unsafe !== undefined && bytes > MAX_BINARY_LENGTH) {
    return new InvalidInput(
      "key",
      `${unsafe}, so it goes base64, which allows at most ${MAX_BINARY_LENGTH} bytes; it has ${bytes} after UTF-8 encoding`
    )
  }
  if (bytes > MAX_LENGTH) {
    return new InvalidInput(
      "key",
      `is ${bytes} bytes after UTF-8 encoding, over the limit of ${MAX_LENGTH}${bytes !== length ? ` (${length} UTF-16 code units)` : ""}`
    )
  }
  return undefined
}

/**
 * The UTF-8 byte length of a string, without allocating. A lone surrogate counts 3 bytes (the replacement
 * character `TextEncoder` writes for it).
 *
 * @example
 * ```ts
 * import { Key } from "@effect-memcache/protocol"
 * Key.byteLength("é") // 2
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const byteLength = (key: string): number => {
  const length = key.length
  let bytes = length
  for (let i = 0; i < length; i++) {
    const c = key.charCodeAt(i)
    if (c < 0x80) continue
    if (c < 0x800) bytes += 1
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < length) {
      const next = key.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        // two code units -> four bytes
        bytes += 2
        i++
      } else bytes += 2
    } else bytes += 2
  }
  return bytes
}

/**
 * Checks a raw binary key for the meta `b` flag: 1..186 bytes (any byte values).
 *
 * @example
 * ```ts
 * import { Key } from "@effect-memcache/protocol"
 * Key.validateBinary(new Uint8Array([0, 255])) // undefined
 * Key.validateBinary(new Uint8Array(187))?.reason
 * ```
 *
 * @since 0.1.0
 * @category validation
 */
export const validateBinary = (key: Uint8Array): InvalidInput | undefined => {
  if (key.byteLength === 0) return new InvalidInput("key", "is empty (a binary key needs 1 to 186 bytes)")
  if (key.byteLength > MAX_BINARY_LENGTH) {
    return new InvalidInput(
      "key",
      `is ${key.byteLength} bytes, over the binary key limit of ${MAX_BINARY_LENGTH} (its base64 form of ${base64Length(key.byteLength)} bytes would exceed ${MAX_LENGTH})`
    )
  }
  return undefined
}

/**
 * The length of the padded base64 form of `n` bytes.
 *
 * @example
 * ```ts
 * import { Key } from "@effect-memcache/protocol"
 * Key.base64Length(186) // 248
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const base64Length = (n: number): number => Math.ceil(n / 3) * 4

const alphabet = Uint8Array.from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", (c) =>
  c.charCodeAt(0)
)
const PAD = 0x3d

/**
 * Writes the padded base64 form of `key` into `target` at `offset` (which must have room for
 * {@link base64Length} bytes) and returns the offset after it. The server requires the padding.
 *
 * @example
 * ```ts
 * import { Key } from "@effect-memcache/protocol"
 * const out = new Uint8Array(4)
 * Key.writeBase64(new Uint8Array([0x61]), out, 0) // 4; out holds "YQ=="
 * ```
 *
 * @since 0.1.0
 * @category encoding
 */
export const writeBase64 = (key: Uint8Array, target: Uint8Array, offset: number): number => {
  const n = key.byteLength
  const whole = n - (n % 3)
  let o = offset
  for (let i = 0; i < whole; i += 3) {
    const v = (key[i] << 16) | (key[i + 1] << 8) | key[i + 2]
    target[o++] = alphabet[v >>> 18]
    target[o++] = alphabet[(v >>> 12) & 63]
    target[o++] = alphabet[(v >>> 6) & 63]
    target[o++] = alphabet[v & 63]
  }
  const rest = n - whole
  if (rest === 1) {
    const v = key[whole] << 16
    target[o++] = alphabet[v >>> 18]
    target[o++] = alphabet[(v >>> 12) & 63]
    target[o++] = PAD
    target[o++] = PAD
  } else if (rest === 2) {
    const v = (key[whole] << 16) | (key[whole + 1] << 8)
    target[o++] = alphabet[v >>> 18]
    target[o++] = alphabet[(v >>> 12) & 63]
    target[o++] = alphabet[(v >>> 6) & 63]
    target[o++] = PAD
  }
  return o
}

/**
 * The padded base64 text of a binary key, as the server expects it with the `b` flag.
 *
 * @example
 * ```ts
 * import { Key } from "@effect-memcache/protocol"
 * Key.toBase64(new Uint8Array([0x61])) // "YQ=="
 * ```
 *
 * @since 0.1.0
 * @category encoding
 */
export const toBase64 = (key: Uint8Array): string => {
  const out = new Uint8Array(base64Length(key.byteLength))
  writeBase64(key, out, 0)
  return String.fromCharCode(...out)
}
