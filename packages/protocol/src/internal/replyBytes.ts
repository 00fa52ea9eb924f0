/**
 * Byte-level reading of reply lines: word comparison, decimal and u64 parsing, and text decoding, all straight
 * from the received bytes so the decoder never turns a whole line into a string just to look at it.
 *
 * @since 0.1.0
 */

/** The largest unsigned 64-bit integer: CAS uniques and incr/decr results never exceed it. */
export const MAX_U64 = 18446744073709551615n

/** The largest client flags value (unsigned 32-bit). */
export const MAX_U32 = 4294967295

const utf8 = new TextDecoder()

/**
 * The text of `buf[start, end)`. Short ASCII runs (words, names, numbers) are built from char codes, which is
 * cheaper than a TextDecoder call; anything else is decoded as UTF-8 (invalid sequences become U+FFFD, never a
 * throw).
 */
export const decodeText = (buf: Uint8Array, start: number, end: number): string => {
  if (end - start <= 32) {
    let text = ""
    for (let i = start; i < end; i++) {
      const byte = buf[i]
      if (byte >= 0x80) return utf8.decode(buf.subarray(start, end))
      text += String.fromCharCode(byte)
    }
    return text
  }
  return utf8.decode(buf.subarray(start, end))
}

/** The bytes `buf[start, end)` as latin1 text: one char per byte (for base64 input and numbers). */
export const decodeLatin1 = (buf: Uint8Array, start: number, end: number): string => {
  let text = ""
  for (let i = start; i < end; i++) text += String.fromCharCode(buf[i])
  return text
}

/** Whether `buf[start, end)` begins with the ASCII `word`. */
export const startsWith = (buf: Uint8Array, start: number, end: number, word: string): boolean => {
  const length = word.length
  if (end - start < length) return false
  for (let i = 0; i < length; i++) {
    if (buf[start + i] !== word.charCodeAt(i)) return false
  }
  return true
}

/** Whether `buf[start, end)` is exactly the ASCII `word`. */
export const isExactly = (buf: Uint8Array, start: number, end: number, word: string): boolean =>
  end - start === word.length && startsWith(buf, start, end, word)

/** Whether `buf[start, end)` is `word` alone or `word` followed by a space (a reply word with arguments). */
export const isWord = (buf: Uint8Array, start: number, end: number, word: string): boolean =>
  startsWith(buf, start, end, word) && (end - start === word.length || buf[start + word.length] === 0x20)

/** The index of the next space at or after `from`, or `end`. */
export const nextSpace = (buf: Uint8Array, from: number, end: number): number => {
  let i = from
  while (i < end && buf[i] !== 0x20) i++
  return i
}

/** The index of the first byte at or after `from` that is not a decimal digit, or `end`. */
export const digitsEnd = (buf: Uint8Array, from: number, end: number): number => {
  let i = from
  while (i < end && buf[i] >= 0x30 && buf[i] <= 0x39) i++
  return i
}

/**
 * The unsigned decimal in `buf[start, end)`, or -1 when it is empty, has a non-digit, or exceeds `max`.
 * At most 15 digits, so the number stays exact in a double.
 */
export const parseUint = (buf: Uint8Array, start: number, end: number, max: number): number => {
  const length = end - start
  if (length <= 0 || length > 15) return -1
  let value = 0
  for (let i = start; i < end; i++) {
    const digit = buf[i] - 0x30
    if (digit < 0 || digit > 9) return -1
    value = value * 10 + digit
  }
  return value > max ? -1 : value
}

/** Whether `buf[start, end)` is one or more decimal digits. */
export const isDigits = (buf: Uint8Array, start: number, end: number): boolean => {
  if (end <= start) return false
  for (let i = start; i < end; i++) {
    const byte = buf[i]
    if (byte < 0x30 || byte > 0x39) return false
  }
  return true
}

/**
 * The unsigned 64-bit decimal in `buf[start, end)`, or undefined when it is malformed, longer than 20 digits or
 * above 2^64-1. Up to 15 digits go through a double (exact) to avoid building a string.
 */
export const parseU64 = (buf: Uint8Array, start: number, end: number): bigint | undefined => {
  const length = end - start
  if (length <= 15) {
    const value = parseUint(buf, start, end, Number.MAX_SAFE_INTEGER)
    return value < 0 ? undefined : BigInt(value)
  }
  if (length > 20 || !isDigits(buf, start, end)) return undefined
  const value = BigInt(decodeLatin1(buf, start, end))
  return value > MAX_U64 ? undefined : value
}

/**
 * Compares the key bytes `buf[start, end)` with a requested key without decoding them: 1 when equal, 0 when
 * not, -1 when the key has a non-ASCII char before any difference (then the caller compares decoded text).
 * An ASCII prefix encodes to the same bytes in UTF-8, so a difference found there is final.
 */
export const compareAsciiKey = (buf: Uint8Array, start: number, end: number, key: string): 1 | 0 | -1 => {
  const length = end - start
  const keyLength = key.length
  for (let i = 0; i < keyLength; i++) {
    const code = key.charCodeAt(i)
    if (code >= 0x80) return -1
    if (i >= length || buf[start + i] !== code) return 0
  }
  return keyLength === length ? 1 : 0
}
