/**
 * What the reply stream's lines and blocks mean: each is matched against the pending request at the head of
 * the queue (see the `Decoder` module's description for the rules), and a finished reply is handed over.
 */
import type * as Errors from "../Errors.ts"
import * as Reply from "../Reply.ts"
import {
  asciiKeyAt,
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
  type AnyErrorReply,
  debugReply,
  EMPTY_VALUES,
  errorReply,
  NO_LINES,
  NO_STATS,
  plainMeta,
  type QuietExpectation,
  statusReply,
  suppressedReply,
  versionReply
} from "./lineReplies.ts"
import { EMPTY_FLAGS, opaqueMatches, parseMetaFlags } from "./metaReplyFlags.ts"
import { ReplyStream } from "./ReplyStream.ts"
import { compareAsciiKey, decodeText, digitsEnd, MAX_U32, nextSpace, parseU64, parseUint } from "./replyBytes.ts"

type RetrievalExpectation = Extract<Reply.Expectation, { readonly _tag: "Retrieval" }>

export interface ReplyHandlers {
  readonly onError: (error: Errors.ProtocolError) => void
  readonly onQuietError: ((reply: AnyErrorReply) => void) | undefined
}

export class ReplyReader extends ReplyStream {
  // The retrieval in progress: values so far (unless streamed), how many, the next requested key to match, the
  // VALUE being read.
  private values: Array<Reply.Value> | undefined = undefined
  private valueCount = 0
  private keyIndex = 0
  private valueKey = ""
  private valueFlags = 0
  private valueCas: bigint | undefined = undefined
  // Whether the block being read is a VA reply's, and that reply's flags.
  private blockIsMeta = false
  private metaFlags: Reply.MetaFlags = EMPTY_FLAGS
  // The stats reply in progress.
  private stats: Array<readonly [string, string]> | undefined = undefined
  private statLines: Array<string> | undefined = undefined

  private readonly handlers: ReplyHandlers

  constructor(
    onReply: (reply: Reply.Reply) => void,
    handlers: ReplyHandlers,
    maxValueLength: number,
    maxLineLength: number
  ) {
    super(onReply, maxValueLength, maxLineLength)
    this.handlers = handlers
  }

  protected fastLine(chunk: Uint8Array, p: number, length: number): number {
    if (chunk[p] !== 0x56 /* V */) return -1
    const head = this.queue[this.head]!
    return head._tag === "Retrieval" && !head.cas ? this.plainValueLine(head.keys, chunk, p, length) : -1
  }

  protected failed(error: Errors.ProtocolError) {
    this.values = undefined
    this.valueCount = 0
    this.stats = undefined
    this.statLines = undefined
    this.handlers.onError(error)
  }

  /** An error line completes the head; anything else is a protocol error. */
  private errorOrFail(kind: number, b: Uint8Array, s: number, e: number, what: string) {
    if (isErrorKind(kind)) {
      this.values = undefined
      this.valueCount = 0
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
      }
    }
  }

  private retrievalLine(head: RetrievalExpectation, kind: number, b: Uint8Array, s: number, e: number) {
    if (kind === K_VALUE) return this.valueLine(head, b, s, e)
    this.keyIndex = 0
    if (kind === K_END) {
      const values = this.values
      this.values = undefined
      this.valueCount = 0
      return this.complete(values === undefined ? EMPTY_VALUES : { _tag: "Values", values })
    }
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

  /**
   * The common line of a get reply, `VALUE <next key asked> <flags> <bytes>\r\n`, read in one pass where it
   * starts (no search for its end first). Returns where the data block starts, or -1 (nothing changed) for any
   * other line, which then takes the general path and its checks and errors.
   */
  private plainValueLine(keys: ReadonlyArray<string>, b: Uint8Array, s: number, end: number): number {
    const i = this.keyIndex
    // `VALUE ` (the V is already known), byte by byte: a string compare here cost 15% of a value's decoding.
    if (
      i >= keys.length ||
      this.valueCount >= keys.length ||
      s + 6 > end ||
      b[s + 1] !== 0x41 ||
      b[s + 2] !== 0x4c ||
      b[s + 3] !== 0x55 ||
      b[s + 4] !== 0x45 ||
      b[s + 5] !== 0x20
    )
      return -1
    const keyEnd = asciiKeyAt(b, s + 6, end, keys[i]!)
    if (keyEnd < 0) return -1
    const flagsEnd = digitsEnd(b, keyEnd + 1, end)
    const bytesEnd = digitsEnd(b, flagsEnd + 1, end)
    if (b[flagsEnd] !== 0x20 || bytesEnd + 1 >= end || b[bytesEnd] !== 0x0d || b[bytesEnd + 1] !== 0x0a) return -1
    const flags = parseUint(b, keyEnd + 1, flagsEnd, MAX_U32)
    const bytes = parseUint(b, flagsEnd + 1, bytesEnd, Number.MAX_SAFE_INTEGER)
    if (flags < 0 || bytes < 0 || bytesEnd - s > this.maxLineLength || bytes > this.maxValueLength) return -1
    this.startValue(i, keys[i]!, flags, undefined, bytes)
    return bytesEnd + 2
  }

  private valueLine(head: RetrievalExpectation, b: Uint8Array, s: number, e: number) {
    // VALUE <key> <flags> <bytes>[ <cas>]
    const keyStart = s + 6
    const keys = head.keys
    // The common line answers the next key asked for: one pass finds where that key ends, and the walk below
    // starts (and stops) on it.
    let i = this.keyIndex
    let keyEnd = i < keys.length ? asciiKeyAt(b, keyStart, e, keys[i]!) : -1
    const matched = keyEnd >= 0
    if (!matched) keyEnd = nextSpace(b, keyStart, e)
    const flagsEnd = nextSpace(b, keyEnd + 1, e)
    const bytesEnd = nextSpace(b, flagsEnd + 1, e)
    if (keyEnd === keyStart || flagsEnd >= e) return this.fail("malformed VALUE line", b, s, e)
    const flags = parseUint(b, keyEnd + 1, flagsEnd, MAX_U32)
    const bytes = parseUint(b, flagsEnd + 1, bytesEnd, Number.MAX_SAFE_INTEGER)
    if (flags < 0 || bytes < 0) return this.fail("malformed VALUE line", b, s, e)
    let cas: bigint | undefined
    if (bytesEnd < e) {
      if (!head.cas) return this.fail("VALUE line has a cas unique but get/gat did not ask for one", b, s, e)
      cas = parseU64(b, bytesEnd + 1, e)
      if (cas === undefined) return this.fail("malformed cas unique in VALUE line", b, s, e)
    } else if (head.cas) {
      return this.fail("VALUE line lacks the cas unique gets/gats asked for", b, s, e)
    }
    if (bytes > this.maxValueLength) return this.fail("VALUE data block longer than maxValueLength", b, s, e)
    // Each key asked is answered at most once per time it was asked, in whatever order.
    if (this.valueCount >= keys.length) {
      return this.fail("more VALUE lines than keys requested", b, s, e)
    }
    if (!matched) i = this.requestedIndex(keys, i, b, keyStart, keyEnd)
    if (i === keys.length) return this.fail("VALUE for a key that was not requested", b, s, e)
    this.startValue(i, keys[i]!, flags, cas, bytes)
  }

  /**
   * Where the key `b[start, end)` is in `keys`, searched from `from` (memcached answers in request order and
   * skips misses), then from the start: a proxy that merges the replies of several servers (twemproxy) may put
   * its hits in another order. `keys.length` when it was not requested at all.
   */
  private requestedIndex(keys: ReadonlyArray<string>, from: number, b: Uint8Array, start: number, end: number) {
    const decoded = { text: undefined as string | undefined }
    for (let i = from; i < keys.length; i++) if (this.sameKey(keys[i]!, b, start, end, decoded)) return i
    for (let i = 0; i < from && i < keys.length; i++) if (this.sameKey(keys[i]!, b, start, end, decoded)) return i
    return keys.length
  }

  /** Whether `b[start, end)` is `key` (decoded once, into `decoded`, when it is not plain ASCII). */
  private sameKey(key: string, b: Uint8Array, start: number, end: number, decoded: { text: string | undefined }) {
    const same = compareAsciiKey(b, start, end, key)
    if (same === 1) return true
    if (same === -1) {
      decoded.text ??= decodeText(b, start, end)
      return decoded.text === key
    }
    return false
  }

  private startValue(index: number, key: string, flags: number, cas: bigint | undefined, bytes: number) {
    this.keyIndex = index + 1
    this.valueKey = key
    this.valueFlags = flags
    this.valueCas = cas
    this.blockIsMeta = false
    this.startData(bytes)
  }

  protected block(value: Uint8Array) {
    if (this.blockIsMeta) {
      const flags = this.metaFlags
      this.metaFlags = EMPTY_FLAGS
      return this.complete({ _tag: "Meta", code: "VA", flags, value })
    }
    const item: Reply.Value = { key: this.valueKey, flags: this.valueFlags, value, cas: this.valueCas }
    this.valueCount++
    // A streamed retrieval hands each value over at once (the head is the retrieval this value belongs to).
    const onValue = (this.queue[this.head] as RetrievalExpectation).onValue
    if (onValue !== undefined) onValue(item)
    else if (this.values === undefined) this.values = [item]
    else this.values.push(item)
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
      this.blockIsMeta = true
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
