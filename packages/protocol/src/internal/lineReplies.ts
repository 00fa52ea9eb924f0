/**
 * Replies read from a single line, built without decoder state: error replies, `Status`, `VERSION`, `ME`, and
 * the shared reply objects the decoder hands out instead of allocating (a flag-less meta reply, no values).
 */
import type * as Reply from "../Reply.ts"
import { K_CLIENT_ERROR, K_EN, K_ERROR, K_HD } from "./lineKinds.ts"
import { EMPTY_FLAGS } from "./metaReplyFlags.ts"
import { decodeText, nextSpace } from "./replyBytes.ts"

export type AnyErrorReply = Reply.ErrorReply | Reply.ClientErrorReply | Reply.ServerErrorReply

export type QuietExpectation = Extract<Reply.Expectation, { readonly _tag: "Meta" }>

const META_CODES = ["HD", "VA", "EN", "NF", "NS", "EX", "MN"] as const

/** Shared flag-less meta replies, indexed by kind - K_HD. */
const META_PLAIN: ReadonlyArray<Reply.Meta> = META_CODES.map(
  (code) => Object.freeze({ _tag: "Meta", code, flags: EMPTY_FLAGS, value: undefined }) as Reply.Meta
)

/** The shared flag-less reply of a meta line kind (K_HD..K_MN). */
export const plainMeta = (kind: number): Reply.Meta => META_PLAIN[kind - K_HD]!

const BARE_ERROR: Reply.ErrorReply = Object.freeze({ _tag: "Error", text: "" }) as Reply.ErrorReply
export const NO_STATS: ReadonlyArray<readonly [string, string]> = Object.freeze([])
export const NO_LINES: ReadonlyArray<string> = Object.freeze([])

/** `ERROR[:] [text]`, `CLIENT_ERROR text` or `SERVER_ERROR text` (the kind says which). */
export const errorReply = (kind: number, b: Uint8Array, s: number, e: number): AnyErrorReply => {
  if (kind === K_ERROR) {
    if (e - s === 5) return BARE_ERROR
    // `ERROR <text>` and `ERROR: <text>` (shutdown) both give just the text.
    let i = s + 5
    if (b[i] === 0x3a) i++
    while (i < e && b[i] === 0x20) i++
    return { _tag: "Error", text: decodeText(b, i, e) }
  }
  let i = s + 12 // both CLIENT_ERROR and SERVER_ERROR are 12 bytes
  while (i < e && b[i] === 0x20) i++
  const text = decodeText(b, i, e)
  return kind === K_CLIENT_ERROR ? { _tag: "ClientError", text } : { _tag: "ServerError", text }
}

/** `VERSION <text>`. */
export const versionReply = (b: Uint8Array, s: number, e: number): Reply.Reply => ({
  _tag: "Version",
  version: decodeText(b, e - s > 8 ? s + 8 : e, e)
})

/** What a quiet meta request whose reply was suppressed completes with. */
export const suppressedReply = (head: QuietExpectation): Reply.Meta => {
  const code = head.suppressed
  if (head.opaque === undefined) return plainMeta(code === "EN" ? K_EN : K_HD)
  return { _tag: "Meta", code, flags: { opaque: head.opaque }, value: undefined }
}

// Words that have a reply kind of their own: with extra text after them they are not a `Status` line.
const RESERVED_WORDS = new Set([
  ...["STORED", "NOT_STORED", "EXISTS", "NOT_FOUND", "DELETED", "TOUCHED", "OK", "END", "RESET"],
  ...["VALUE", "STAT", "ITEM", "PREFIX", "VERSION", "ERROR", "CLIENT_ERROR", "SERVER_ERROR"],
  ...META_CODES,
  "ME"
])

/** A `Status` line (`MEMLIMIT_TOO_SMALL ...`, `BUSY ...`): an upper-case word of no other reply; else undefined. */
export const statusReply = (b: Uint8Array, s: number, e: number): Reply.Reply | undefined => {
  const wordEnd = nextSpace(b, s, e)
  let upper = wordEnd > s
  for (let i = s; i < wordEnd && upper; i++) {
    const c = b[i]!
    upper = (c >= 0x41 && c <= 0x5a) || (c === 0x5f && i > s)
  }
  const word = upper ? decodeText(b, s, wordEnd) : ""
  if (!upper || RESERVED_WORDS.has(word)) return undefined
  let i = wordEnd
  while (i < e && b[i] === 0x20) i++
  return { _tag: "Status", word, text: decodeText(b, i, e) }
}

/** `ME <key> k=v ...`; undefined when the key is missing. */
export const debugReply = (b: Uint8Array, s: number, e: number): Reply.Reply | undefined => {
  const keyEnd = nextSpace(b, s + 3, e)
  if (keyEnd === s + 3) return undefined
  const key = decodeText(b, s + 3, keyEnd)
  const fields: Record<string, string> = {}
  let i = keyEnd
  while (i < e) {
    if (b[i] === 0x20) {
      i++
      continue
    }
    const end = nextSpace(b, i, e)
    let eq = i
    while (eq < end && b[eq] !== 0x3d) eq++
    fields[decodeText(b, i, eq)] = eq < end ? decodeText(b, eq + 1, end) : ""
    i = end
  }
  return { _tag: "MetaDebug", key, fields }
}
