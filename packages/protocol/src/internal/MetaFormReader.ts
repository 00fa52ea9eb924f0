/**
 * The replies of requests sent in their meta form (`Encoder.appendMeta`), read back as the text replies the same
 * commands get: `HD` of an `ms` is `Stored`, the `VA` lines of a get run are its `Values`, and so on (the table is
 * in `metaFormCodecs.ts`). Every answer must carry its request's opaque: a reply with another one, or none, is
 * a protocol error, as nothing else can tell that the stream went out of step.
 *
 * - A get run's hits come in the order asked, each with the opaque of its key (so a later key may not answer
 *   before an earlier one); errors inside the run are kept, and the first completes the request at `MN`, once
 *   the whole run is read.
 * - Quiet requests (noreply) are not expected one by one: the `mn` closing their run is, with their opaques, and
 *   their answers (failures only) are read and dropped before its `MN`, an error line going to `onQuietError`.
 */
import * as Reply from "../Reply.ts"
import { isErrorKind, K_EN, K_EX, K_HD, K_MN, K_NF, K_NS, K_VA } from "./lineKinds.ts"
import { type AnyErrorReply, errorReply, plainMeta } from "./lineReplies.ts"
import { opaqueNumber } from "./metaReplyFlags.ts"
import type { MetaFormExpectation } from "./ReplyStream.ts"
import { BLOCK_NUMBER, type RetrievalExpectation, RetrievalReader } from "./RetrievalReader.ts"
import { MAX_U32, nextSpace, parseU64, parseUint } from "./replyBytes.ts"

export interface ReplyHandlers {
  readonly onError: (error: import("../Errors.ts").ProtocolError) => void
  readonly onQuietError: ((reply: AnyErrorReply) => void) | undefined
}

type SingleTag = "Storage" | "Delete" | "Touch" | "Arithmetic"

/** How many opaques there are: 0 to `MetaForm.MAX_OPAQUE`. */
const OPAQUES = 2147483648

/** The numeric reply stands for the `VA` of an `ma`, whose block holds the number. */
const NUMBER = 1

/** The text reply of each meta code (K_HD..K_EX), per kind of request; missing: not a reply it can get. */
const answers: Record<SingleTag, ReadonlyArray<Reply.Reply | typeof NUMBER | undefined>> = {
  Storage: [
    Reply.replies.Stored,
    undefined,
    undefined,
    Reply.replies.NotFound,
    Reply.replies.NotStored,
    Reply.replies.Exists
  ],
  Delete: [Reply.replies.Deleted, undefined, undefined, Reply.replies.NotFound, undefined, undefined],
  Touch: [Reply.replies.Touched, undefined, Reply.replies.NotFound, undefined, undefined, undefined],
  Arithmetic: [undefined, NUMBER, undefined, Reply.replies.NotFound, undefined, undefined]
}

const what: Record<SingleTag, string> = {
  Storage: "a storage command",
  Delete: "a delete",
  Touch: "a touch",
  Arithmetic: "an incr/decr"
}

const CODES = ["HD", "VA", "EN", "NF", "NS", "EX"]

export abstract class MetaFormReader extends RetrievalReader {
  protected readonly handlers: ReplyHandlers
  // The first error reply inside the get run at the head, which completes it at MN.
  private runError: AnyErrorReply | undefined = undefined

  constructor(
    onReply: (reply: Reply.Reply) => void,
    handlers: ReplyHandlers,
    maxValueLength: number,
    maxLineLength: number
  ) {
    super(onReply, maxValueLength, maxLineLength)
    this.handlers = handlers
  }

  protected resetForm() {
    this.runError = undefined
  }

  /** A line for the request at the head, sent in its meta form. */
  protected formLine(expected: MetaFormExpectation, kind: number, b: Uint8Array, s: number, e: number) {
    const head = expected.of
    switch (head._tag) {
      case "Retrieval":
        return this.runLine(head, expected.opaque, kind, b, s, e)
      case "Storage":
      case "Delete":
      case "Touch":
      case "Arithmetic":
        return this.answerLine(head._tag, expected.opaque, kind, b, s, e)
      case "Sync":
        return this.quietRunLine(expected, kind, b, s, e)
      default:
        return this.fail(`a ${head._tag} request has no meta form`, b, s, e)
    }
  }

  /**
   * A line while the `mn` closing a run of quiet requests is at the head: the server answers a quiet request only
   * when it fails (`NS`, `EX`, `NF`, `EN`, or an error line; a touch's hit too, `HD`), each carrying an opaque of
   * the run. Those are dropped, error lines going to `onQuietError`; `MN` completes the `mn`.
   */
  private quietRunLine(run: MetaFormExpectation, kind: number, b: Uint8Array, s: number, e: number) {
    if (kind === K_MN) return this.complete(plainMeta(K_MN))
    if (isErrorKind(kind)) return this.handlers.onQuietError?.(errorReply(kind, b, s, e))
    if (kind < K_HD || kind > K_EX || kind === K_VA) return this.fail("unexpected line before MN", b, s, e)
    const opaque = opaqueNumber(b, s + 3, e)
    // The run's opaques may wrap around to 0: compared as distances from its first.
    const at = opaque - run.opaque + (opaque < run.opaque ? OPAQUES : 0)
    const size = run.end - run.opaque + (run.end < run.opaque ? OPAQUES : 0)
    if (opaque < 0 || at >= size) return this.fail("meta reply opaque is none of the quiet requests before mn", b, s, e)
  }

  private answerLine(tag: SingleTag, opaque: number, kind: number, b: Uint8Array, s: number, e: number) {
    if (isErrorKind(kind)) return this.complete(errorReply(kind, b, s, e))
    if (kind < K_HD || kind > K_EX) return this.fail(`unexpected line for ${what[tag]} sent as a meta command`, b, s, e)
    const got = opaqueNumber(b, s + 3, e)
    if (got !== opaque) {
      const reason =
        got === -1
          ? `meta reply lacks the request's opaque O${opaque}`
          : `meta reply opaque does not match the request's O${opaque}`
      return this.fail(reason, b, s, e)
    }
    const answer = answers[tag][kind - K_HD]
    if (answer === undefined) return this.fail(`unexpected ${CODES[kind - K_HD]} for ${what[tag]}`, b, s, e)
    if (answer !== NUMBER) return this.complete(answer)
    const sizeEnd = nextSpace(b, s + 3, e)
    const size = parseUint(b, s + 3, sizeEnd, 20)
    if (size <= 0) return this.fail("malformed VA line for an incr/decr", b, s, e)
    this.blockMode = BLOCK_NUMBER
    this.startData(size)
  }

  /** The block of an `ma` reply: the new value. */
  protected numberBlock(value: Uint8Array) {
    const number = parseU64(value, 0, value.length)
    if (number === undefined) return this.fail("incr/decr value is not a number below 2^64", value, 0, value.length)
    this.complete({ _tag: "Numeric", value: number })
  }

  private runLine(head: RetrievalExpectation, base: number, kind: number, b: Uint8Array, s: number, e: number) {
    if (kind === K_VA) return this.runValueLine(head, base, b, s, e)
    if (kind === K_MN && e - s === 2) {
      const error = this.runError
      this.runError = undefined
      const values = this.endRetrieval()
      return this.complete(error ?? values)
    }
    if (isErrorKind(kind)) {
      this.runError ??= errorReply(kind, b, s, e)
      return
    }
    this.fail(
      kind === K_EN || kind === K_HD || kind === K_NF || kind === K_NS
        ? "unexpected answer in a get run: only hits are answered"
        : "unexpected line in the reply to a get sent as meta commands",
      b,
      s,
      e
    )
  }

  /** `VA <bytes> f<flags> [c<cas>] O<opaque>`: the hit of the key the opaque stands for. */
  private runValueLine(head: RetrievalExpectation, base: number, b: Uint8Array, s: number, e: number) {
    const sizeEnd = nextSpace(b, s + 3, e)
    const bytes = parseUint(b, s + 3, sizeEnd, Number.MAX_SAFE_INTEGER)
    if (bytes < 0) return this.fail("malformed VA line", b, s, e)
    if (bytes > this.maxValueLength) return this.fail("VA data block longer than maxValueLength", b, s, e)
    let flags = -1
    let cas: bigint | undefined
    let opaque = -1
    let opaqueSeen = false
    let i = sizeEnd
    while (i < e) {
      if (b[i] === 0x20) {
        i++
        continue
      }
      let end = i + 1
      while (end < e && b[end] !== 0x20) end++
      const letter = b[i]
      if (letter === 0x66 /* f */) flags = parseUint(b, i + 1, end, MAX_U32)
      else if (letter === 0x63 /* c */) cas = parseU64(b, i + 1, end) ?? -1n
      else if (letter === 0x4f /* O */ && !opaqueSeen) {
        // The first `O` token counts, as for every other meta answer (`opaqueNumber`).
        opaqueSeen = true
        opaque = end - i <= 11 ? parseUint(b, i + 1, end, Number.MAX_SAFE_INTEGER) : -1
      }
      i = end
    }
    const index = opaque - base
    if (opaque < 0 || index < this.keyIndex || index >= head.keys.length) {
      return this.fail("VA opaque answers no key of the get still to be answered", b, s, e)
    }
    if (flags < 0) return this.fail("VA line lacks the client flags the get asked for", b, s, e)
    if (cas === -1n || (cas !== undefined) !== head.cas) {
      return this.fail(head.cas ? "VA line lacks a valid cas the gets asked for" : "VA line has a cas", b, s, e)
    }
    this.startValue(head, index, flags, cas, bytes)
  }
}
