/**
 * What the reply stream's lines and blocks mean: each is matched against the pending request at the head of
 * the queue (see the `Decoder` module's description for the rules), and a finished reply is handed over.
 */
import type * as Errors from "../Errors.ts"
import * as Reply from "../Reply.ts"
import {
  classify,
  isErrorKind,
  isOpaqueMetaKind,
  K_DELETED,
  K_EN,
  K_END,
  K_EXISTS,
  K_ITEM,
  K_ME,
  K_MN,
  K_NOT_FOUND,
  K_NOT_STORED,
  K_NUMBER,
  K_OK,
  K_OTHER,
  K_PREFIX,
  K_RESET,
  K_STAT,
  K_STORED,
  K_TOUCHED,
  K_VA,
  K_VALUE,
  K_VERSION
} from "./lineKinds.ts"
import {
  debugReply,
  errorReply,
  NO_LINES,
  NO_STATS,
  plainMeta,
  type QuietExpectation,
  statusReply,
  suppressedReply,
  versionReply
} from "./lineReplies.ts"
import { MetaFormReader } from "./MetaFormReader.ts"
import { EMPTY_FLAGS, opaqueMatches, parseMetaFlags } from "./metaReplyFlags.ts"
import { BLOCK_META, BLOCK_NUMBER, BLOCK_VALUE, type RetrievalExpectation } from "./RetrievalReader.ts"
import { decodeText, nextSpace, parseU64, parseUint } from "./replyBytes.ts"

export type { ReplyHandlers } from "./MetaFormReader.ts"

export class ReplyReader extends MetaFormReader {
  // The meta reply whose `VA` block is being read: its flags.
  private metaFlags: Reply.MetaFlags = EMPTY_FLAGS
  // The stats reply in progress.
  private stats: Array<readonly [string, string]> | undefined = undefined
  private statLines: Array<string> | undefined = undefined

  protected failed(error: Errors.ProtocolError) {
    this.resetRetrieval()
    this.resetForm()
    this.stats = undefined
    this.statLines = undefined
    this.handlers.onError(error)
  }

  /** An error line completes the head; anything else is a protocol error. */
  private errorOrFail(kind: number, b: Uint8Array, s: number, e: number, what: string) {
    if (isErrorKind(kind)) {
      this.resetRetrieval()
      this.stats = undefined
      this.statLines = undefined
      return this.complete(errorReply(kind, b, s, e))
    }
    this.fail(`unexpected line for ${what}`, b, s, e)
  }

  protected line(b: Uint8Array, s: number, e: number) {
    const kind = classify(b, s, e)
    for (;;) {
      const head = this.queue[this.head]
      if (head === undefined) return this.fail("unsolicited reply: no request is pending", b, s, e)
      switch (head._tag) {
        case "Retrieval":
          return this.retrievalLine(head, kind, b, s, e)
        case "Storage":
          if (kind === K_STORED) return this.complete(Reply.replies.Stored)
          if (kind === K_NOT_STORED) return this.complete(Reply.replies.NotStored)
          if (kind === K_EXISTS) return this.complete(Reply.replies.Exists)
          if (kind === K_NOT_FOUND) return this.complete(Reply.replies.NotFound)
          return this.errorOrFail(kind, b, s, e, "a storage request")
        case "Delete":
          if (kind === K_DELETED) return this.complete(Reply.replies.Deleted)
          if (kind === K_NOT_FOUND) return this.complete(Reply.replies.NotFound)
          return this.errorOrFail(kind, b, s, e, "a delete request")
        case "Touch":
          if (kind === K_TOUCHED) return this.complete(Reply.replies.Touched)
          if (kind === K_NOT_FOUND) return this.complete(Reply.replies.NotFound)
          return this.errorOrFail(kind, b, s, e, "a touch request")
        case "Arithmetic":
          if (kind === K_NUMBER) {
            const value = parseU64(b, s, e)
            if (value === undefined) return this.fail("incr/decr reply above 2^64-1", b, s, e)
            return this.complete({ _tag: "Numeric", value })
          }
          if (kind === K_NOT_FOUND) return this.complete(Reply.replies.NotFound)
          return this.errorOrFail(kind, b, s, e, "an incr/decr request")
        case "Ok":
          if (kind === K_OK) return this.complete(Reply.replies.Ok)
          if (kind === K_OTHER) return this.statusLine(b, s, e)
          return this.errorOrFail(kind, b, s, e, "a request answered by OK")
        case "Stats":
          return this.statsLine(kind, b, s, e)
        case "Version":
          if (kind === K_VERSION) return this.complete(versionReply(b, s, e))
          return this.errorOrFail(kind, b, s, e, "a version request")
        case "Meta":
          if (this.metaAnswer(head, kind, b, s, e)) return
          // Not this quiet request's reply: its answer was suppressed. Try the line on the next request.
          this.complete(suppressedReply(head))
          continue
        case "MetaDebug":
          if (kind === K_ME) return this.debugLine(b, s, e)
          if (kind === K_EN && e - s === 2) return this.complete(plainMeta(K_EN))
          return this.errorOrFail(kind, b, s, e, "a meta debug request")
        case "Sync":
          return this.syncLine(kind, b, s, e)
        case "Shutdown":
          return this.errorOrFail(kind, b, s, e, "a shutdown request")
        case "MetaForm":
          return this.formLine(head, kind, b, s, e)
      }
    }
  }

  private retrievalLine(head: RetrievalExpectation, kind: number, b: Uint8Array, s: number, e: number) {
    if (kind === K_VALUE) return this.valueLine(head, b, s, e)
    if (kind === K_END) return this.complete(this.endRetrieval())
    this.resetRetrieval()
    return this.errorOrFail(kind, b, s, e, "a retrieval request")
  }

  /** Reads the line as the answer of the meta request at the head; false when a quiet head was skipped over. */
  private metaAnswer(head: QuietExpectation, kind: number, b: Uint8Array, s: number, e: number): boolean {
    if (head.quiet) {
      if (isErrorKind(kind)) {
        this.complete(errorReply(kind, b, s, e))
        return true
      }
      if (!isOpaqueMetaKind(kind) || !opaqueMatches(b, s + 3, e, head.opaque)) return false
      this.metaLine(head.opaque, kind, b, s, e)
      return true
    }
    if (!isOpaqueMetaKind(kind)) {
      this.errorOrFail(kind, b, s, e, "a meta request")
    } else if (!opaqueMatches(b, s + 3, e, head.opaque)) {
      const reason =
        head.opaque === undefined
          ? "meta reply carries an opaque the request did not send"
          : `meta reply opaque does not match the request's O${head.opaque}`
      this.fail(reason, b, s, e)
    } else {
      this.metaLine(head.opaque, kind, b, s, e)
    }
    return true
  }

  private syncLine(kind: number, b: Uint8Array, s: number, e: number) {
    if (kind === K_MN) return this.metaLine(undefined, kind, b, s, e)
    if (isErrorKind(kind)) return this.handlers.onQuietError?.(errorReply(kind, b, s, e))
    this.fail("unexpected line before MN", b, s, e)
  }

  protected block(value: Uint8Array) {
    if (this.blockMode === BLOCK_VALUE) return this.valueBlock(value)
    if (this.blockMode === BLOCK_NUMBER) return this.numberBlock(value)
    const flags = this.metaFlags
    this.metaFlags = EMPTY_FLAGS
    this.complete({ _tag: "Meta", code: "VA", flags, value })
  }

  /** A meta reply line (`HD`, `VA <n>`, `EN`, `NF`, `NS`, `EX`, `MN`) that belongs to the head. */
  private metaLine(opaque: string | undefined, kind: number, b: Uint8Array, s: number, e: number) {
    let flagsStart = s + 3
    let size = 0
    if (kind === K_VA) {
      const sizeEnd = nextSpace(b, s + 3, e)
      size = parseUint(b, s + 3, sizeEnd, Number.MAX_SAFE_INTEGER)
      if (size < 0) return this.fail("malformed VA line", b, s, e)
      if (size > this.maxValueLength) return this.fail("VA data block longer than maxValueLength", b, s, e)
      flagsStart = sizeEnd + 1
    }
    let flags = EMPTY_FLAGS
    if (flagsStart < e) {
      const parsed = parseMetaFlags(b, flagsStart, e, opaque)
      if (typeof parsed === "string") return this.fail(parsed, b, s, e)
      flags = parsed
    }
    if (kind === K_VA) {
      this.metaFlags = flags
      this.blockMode = BLOCK_META
      return this.startData(size)
    }
    const plain = plainMeta(kind)
    this.complete(flags === EMPTY_FLAGS ? plain : { _tag: "Meta", code: plain.code, flags, value: undefined })
  }

  private debugLine(b: Uint8Array, s: number, e: number) {
    const reply = debugReply(b, s, e)
    if (reply === undefined) return this.fail("malformed ME line", b, s, e)
    this.complete(reply)
  }

  private statusLine(b: Uint8Array, s: number, e: number) {
    const reply = statusReply(b, s, e)
    if (reply === undefined) return this.fail("unexpected line for a request answered by OK", b, s, e)
    this.complete(reply)
  }

  private statsLine(kind: number, b: Uint8Array, s: number, e: number) {
    const started = this.stats !== undefined || this.statLines !== undefined
    switch (kind) {
      case K_STAT: {
        const nameEnd = nextSpace(b, s + 5, e)
        const pair = [decodeText(b, s + 5, nameEnd), decodeText(b, nameEnd < e ? nameEnd + 1 : e, e)] as const
        if (this.stats === undefined) this.stats = [pair]
        else this.stats.push(pair)
        return
      }
      case K_ITEM:
      case K_PREFIX: {
        const text = decodeText(b, s, e)
        if (this.statLines === undefined) this.statLines = [text]
        else this.statLines.push(text)
        return
      }
      case K_END: {
        const stats = this.stats ?? NO_STATS
        const lines = this.statLines ?? NO_LINES
        this.stats = undefined
        this.statLines = undefined
        return this.complete({ _tag: "Stats", stats, lines })
      }
      case K_OK:
        if (!started) return this.complete(Reply.replies.Ok)
        break
      case K_RESET:
        if (!started) return this.complete(Reply.replies.Reset)
        break
    }
    this.errorOrFail(kind, b, s, e, "a stats request")
  }
}
