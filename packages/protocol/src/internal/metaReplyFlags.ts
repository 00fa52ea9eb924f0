/**
 * Parsing the flag tokens of a meta reply (`HD c5 t-1 Oabc kfoo b ...`) into {@link Reply.MetaFlags}.
 *
 * @since 0.1.0
 */
import type * as Reply from "../Reply.ts"
import { decodeLatin1, decodeText, MAX_U32, nextSpace, parseU64, parseUint, startsWith } from "./replyBytes.ts"

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/** The flags object of a reply that returned none, shared. */
export const EMPTY_FLAGS: Reply.MetaFlags = Object.freeze({})

/** Where the first `O` token of the flags in `buf[from, end)` starts (at its `O`), or -1 when there is none. */
const opaqueAt = (buf: Uint8Array, from: number, end: number): number => {
  let i = from
  while (i < end) {
    if (buf[i] === 0x20) {
      i++
      continue
    }
    if (buf[i] === 0x4f /* O */) return i
    while (i < end && buf[i] !== 0x20) i++
  }
  return -1
}

/**
 * Whether the reply's `O` token in `buf[from, end)` equals `expected` (compared as bytes; an opaque is ASCII
 * `[!-~]`). No `O` token matches only an `undefined` expectation.
 */
export const opaqueMatches = (buf: Uint8Array, from: number, end: number, expected: string | undefined): boolean => {
  const at = opaqueAt(buf, from, end)
  if (at < 0) return expected === undefined
  const tokenEnd = nextSpace(buf, at, end)
  return expected !== undefined && tokenEnd - at - 1 === expected.length && startsWith(buf, at + 1, end, expected)
}

/**
 * The opaque of a meta-form reply (`O<digits>`) in `buf[from, end)` as a number: -1 when there is no `O` token,
 * -2 when it is not a number of at most 10 digits.
 */
export const opaqueNumber = (buf: Uint8Array, from: number, end: number): number => {
  const at = opaqueAt(buf, from, end)
  if (at < 0) return -1
  const tokenEnd = nextSpace(buf, at, end)
  const value = tokenEnd - at <= 11 ? parseUint(buf, at + 1, tokenEnd, Number.MAX_SAFE_INTEGER) : -1
  return value < 0 ? -2 : value
}

/**
 * The flags in `buf[from, end)`, or a reason string when a known flag carries a malformed value. Unknown flag
 * letters are skipped: servers newer than 1.6.18 return more, and they do not change how the stream is framed.
 * `knownOpaque`, when the `O` token equals it, is reused instead of decoding a new string.
 */
export const parseMetaFlags = (
  buf: Uint8Array,
  from: number,
  end: number,
  knownOpaque: string | undefined
): Reply.MetaFlags | string => {
  const flags: Mutable<Reply.MetaFlags> = {}
  let keyStart = -1
  let keyEnd = -1
  let i = from
  while (i < end) {
    if (buf[i] === 0x20) {
      i++
      continue
    }
    let tokenEnd = i
    while (tokenEnd < end && buf[tokenEnd] !== 0x20) tokenEnd++
    const valueStart = i + 1
    switch (buf[i]) {
      case 0x4f /* O */:
        {
          flags.opaque =
            knownOpaque !== undefined &&
            tokenEnd - valueStart === knownOpaque.length &&
            startsWith(buf, valueStart, tokenEnd, knownOpaque)
              ? knownOpaque
              : decodeText(buf, valueStart, tokenEnd)
          break
        }
      case 0x6b /* k */:
        {
          keyStart = valueStart
          keyEnd = tokenEnd
          break
        }
      case 0x62 /* b */:
        {
          flags.base64Key = true
          break
        }
      case 0x63 /* c */:
        {
          const cas = parseU64(buf, valueStart, tokenEnd)
          if (cas === undefined) return "bad cas flag in a meta reply"
          flags.cas = cas
          break
        }
      case 0x66 /* f */:
        {
          const value = parseUint(buf, valueStart, tokenEnd, MAX_U32)
          if (value < 0) return "bad client flags in a meta reply"
          flags.flags = value
          break
        }
      case 0x74 /* t */:
        {
          if (tokenEnd - valueStart === 2 && buf[valueStart] === 0x2d && buf[valueStart + 1] === 0x31) {
            flags.ttl = -1
          } else {
            const value = parseUint(buf, valueStart, tokenEnd, Number.MAX_SAFE_INTEGER)
            if (value < 0) return "bad ttl flag in a meta reply"
            flags.ttl = value
          }
          break
        }
      case 0x73 /* s */:
        {
          const value = parseUint(buf, valueStart, tokenEnd, Number.MAX_SAFE_INTEGER)
          if (value < 0) return "bad size flag in a meta reply"
          flags.size = value
          break
        }
      case 0x68 /* h */:
        {
          if (tokenEnd - valueStart !== 1 || (buf[valueStart] !== 0x30 && buf[valueStart] !== 0x31)) {
            return "bad hit flag in a meta reply"
          }
          flags.hit = buf[valueStart] === 0x31
          break
        }
      case 0x6c /* l */:
        {
          const value = parseUint(buf, valueStart, tokenEnd, Number.MAX_SAFE_INTEGER)
          if (value < 0) return "bad last-access flag in a meta reply"
          flags.lastAccess = value
          break
        }
      case 0x57 /* W */:
        {
          flags.win = true
          break
        }
      case 0x58 /* X */:
        {
          flags.stale = true
          break
        }
      case 0x5a /* Z */:
        {
          flags.winSent = true
          break
        }
    }
    i = tokenEnd
  }
  if (keyStart >= 0) {
    // `b` comes after `k` in the reply, so the key can only be decoded once every token has been seen.
    if (flags.base64Key === true) {
      try {
        flags.key = atob(decodeLatin1(buf, keyStart, keyEnd))
      } catch {
        return "bad base64 key in a meta reply"
      }
    } else {
      flags.key = decodeText(buf, keyStart, keyEnd)
    }
  }
  return flags
}
