/**
 * The kind of a reply line, found from its first bytes without decoding any text. The decoder switches on
 * these numbers; a line whose kind does not fit the pending request is an error reply or a protocol error.
 */
import { isDigits, isExactly, isWord, startsWith } from "./replyBytes.ts"

export const K_OTHER = 0
export const K_VALUE = 1
export const K_END = 2
export const K_STORED = 3
export const K_NOT_STORED = 4
export const K_EXISTS = 5
export const K_NOT_FOUND = 6
export const K_DELETED = 7
export const K_TOUCHED = 8
export const K_OK = 9
export const K_RESET = 10
export const K_NUMBER = 11
export const K_STAT = 12
export const K_ITEM = 13
export const K_PREFIX = 14
export const K_VERSION = 15
export const K_ERROR = 16
export const K_CLIENT_ERROR = 17
export const K_SERVER_ERROR = 18
// The meta kinds are contiguous, in the order of `META_CODES` (lineReplies.ts): K_HD..K_EX carry an opaque.
export const K_HD = 19
export const K_VA = 20
export const K_EN = 21
export const K_NF = 22
export const K_NS = 23
export const K_EX = 24
export const K_MN = 25
export const K_ME = 26

type Classifier = (b: Uint8Array, s: number, e: number) => number

const numberOrOther: Classifier = (b, s, e) => (isDigits(b, s, e) ? K_NUMBER : K_OTHER)

/**
 * The reply kind of each first byte of a line. A small function per letter rather than one switch: V8 optimizes a
 * function after running its own bytecode a number of times that grows with its size, and one call of a switch
 * over every reply runs a sliver of it (see `LineCodec` in Command).
 */
const byFirstByte: ReadonlyArray<Classifier> = (() => {
  const table = new Array<Classifier>(256).fill(numberOrOther)
  const letter = (c: string, classifier: Classifier) => {
    table[c.charCodeAt(0)] = classifier
  }
  letter("V", (b, s, e) => {
    if (startsWith(b, s, e, "VALUE ")) return K_VALUE
    if (isWord(b, s, e, "VERSION")) return K_VERSION
    return startsWith(b, s, e, "VA ") ? K_VA : K_OTHER
  })
  letter("E", (b, s, e) => {
    if (isExactly(b, s, e, "END")) return K_END
    if (startsWith(b, s, e, "ERROR") && (e - s === 5 || b[s + 5] === 0x20 || b[s + 5] === 0x3a)) return K_ERROR
    if (isExactly(b, s, e, "EXISTS")) return K_EXISTS
    if (isWord(b, s, e, "EN")) return K_EN
    return isWord(b, s, e, "EX") ? K_EX : K_OTHER
  })
  letter("S", (b, s, e) => {
    if (isExactly(b, s, e, "STORED")) return K_STORED
    if (startsWith(b, s, e, "STAT ")) return K_STAT
    return isWord(b, s, e, "SERVER_ERROR") ? K_SERVER_ERROR : K_OTHER
  })
  letter("N", (b, s, e) => {
    if (isExactly(b, s, e, "NOT_FOUND")) return K_NOT_FOUND
    if (isExactly(b, s, e, "NOT_STORED")) return K_NOT_STORED
    if (isWord(b, s, e, "NF")) return K_NF
    return isWord(b, s, e, "NS") ? K_NS : K_OTHER
  })
  letter("H", (b, s, e) => (isWord(b, s, e, "HD") ? K_HD : K_OTHER))
  letter("D", (b, s, e) => (isExactly(b, s, e, "DELETED") ? K_DELETED : K_OTHER))
  letter("T", (b, s, e) => (isExactly(b, s, e, "TOUCHED") ? K_TOUCHED : K_OTHER))
  letter("O", (b, s, e) => (isExactly(b, s, e, "OK") ? K_OK : K_OTHER))
  letter("R", (b, s, e) => (isExactly(b, s, e, "RESET") ? K_RESET : K_OTHER))
  letter("C", (b, s, e) => (isWord(b, s, e, "CLIENT_ERROR") ? K_CLIENT_ERROR : K_OTHER))
  letter("M", (b, s, e) => {
    if (isWord(b, s, e, "MN")) return K_MN
    return startsWith(b, s, e, "ME ") ? K_ME : K_OTHER
  })
  letter("I", (b, s, e) => (startsWith(b, s, e, "ITEM ") ? K_ITEM : K_OTHER))
  letter("P", (b, s, e) => (startsWith(b, s, e, "PREFIX ") ? K_PREFIX : K_OTHER))
  return table
})()

/** The kind of the line `b[s, e)` (without its `\r\n`). */
export const classify = (b: Uint8Array, s: number, e: number): number =>
  e <= s ? K_OTHER : byFirstByte[b[s]!]!(b, s, e)

export const isErrorKind = (kind: number): boolean =>
  kind === K_ERROR || kind === K_CLIENT_ERROR || kind === K_SERVER_ERROR

/** A meta reply that may carry an opaque (`HD`, `VA`, `EN`, `NF`, `NS`, `EX`). */
export const isOpaqueMetaKind = (kind: number): boolean => kind >= K_HD && kind <= K_EX

/**
 * When `b[start, end)` begins with the ASCII `key` followed by a space: the index of that space; otherwise -1
 * (also for a key with a non-ASCII char, whose bytes the caller compares after decoding).
 */
export const asciiKeyAt = (b: Uint8Array, start: number, end: number, key: string): number => {
  const n = key.length
  if (start + n >= end) return -1
  for (let i = 0; i < n; i++) {
    const c = key.charCodeAt(i)
    if (c >= 0x80 || b[start + i] !== c) return -1
  }
  return b[start + n] === 0x20 ? start + n : -1
}
