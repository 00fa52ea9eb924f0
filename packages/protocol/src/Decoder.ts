/**
 * The incremental reply decoder: fed the server's bytes in chunks of any size, it hands over one
 * {@link Reply.Reply} per pending request, in request order, or one {@link Errors.ProtocolError} after which it
 * decodes nothing more.
 *
 * How it reads:
 * - Lines are found by scanning for `\n` only while a line is expected; a line split across chunks is kept in
 *   a small carry buffer. Reply words are compared as bytes, so a `STORED` or `HD` reply decodes no text and
 *   allocates nothing (the shared `Reply.replies.*` objects are handed out).
 * - Data blocks (`VALUE`, `VA`) are read by their declared length, never scanned. A block that lies inside one
 *   fed chunk is returned as a `subarray` view of that chunk (so the caller must not reuse a chunk's memory
 *   after feeding it; socket reads give fresh buffers); a block split across chunks is copied once into an
 *   array of its exact length. The two bytes after a block must be `\r\n`.
 * - ERROR / CLIENT_ERROR / SERVER_ERROR answer any pending request, except while `mn` (`Sync`) is at the head:
 *   there they belong to earlier `noreply`/quiet commands, go to `onQuietError` (or are dropped), and `MN`
 *   then completes the Sync as a `Meta` reply with code `"MN"`.
 * - A quiet meta request at the head whose reply is not the next line (another opaque, or the `MN` of the
 *   Sync) was answered with silence: it completes with a `Meta` reply of its `suppressed` code, with
 *   `flags: { opaque }`, and the line is tried against the next request. An error line completes it.
 *
 * @since 0.1.0
 */
import * as Errors from "./Errors.ts"
import { EMPTY_FLAGS, opaqueMatches, parseMetaFlags } from "./internal/metaReplyFlags.ts"
import {
  compareAsciiKey,
  decodeText,
  digitsEnd,
  isDigits,
  isExactly,
  isWord,
  MAX_U32,
  nextSpace,
  parseU64,
  parseUint,
  startsWith
} from "./internal/replyBytes.ts"
import * as Reply from "./Reply.ts"

/**
 * The default limit on a data block: 1 MiB, memcached's default item size (`-I`). No value can be longer than
 * its item, so a longer block means the stream is broken. Raise it along with a server's `-I`.
 *
 * @example
 * ```ts
 * import { Decoder } from "@effect-memcache/protocol"
 * Decoder.DEFAULT_MAX_VALUE_LENGTH // 1048576
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_MAX_VALUE_LENGTH = 1048576

/**
 * The default limit on a reply line (without its `\r\n`): 8192 bytes. The longest line memcached sends is a
 * `VALUE`, `ME` or meta line with a 250-byte key, far below it.
 *
 * @example
 * ```ts
 * import { Decoder } from "@effect-memcache/protocol"
 * Decoder.DEFAULT_MAX_LINE_LENGTH // 8192
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_MAX_LINE_LENGTH = 8192

/**
 * Callbacks and limits of a {@link Decoder}. The callbacks run synchronously inside `feed`; they may call
 * `expect` but must not call `feed` (that throws) and should not throw.
 *
 * @example
 * ```ts
 * import type { Decoder } from "@effect-memcache/protocol"
 * const options: Decoder.DecoderOptions = {
 *   onReply: (reply) => console.log(reply._tag),
 *   onError: (error) => console.error(error.message),
 *   maxValueLength: 2 * 1048576
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface DecoderOptions {
  /** Called once per completed reply, in request (FIFO) order. */
  readonly onReply: (reply: Reply.Reply) => void
  /** Called at most once; the decoder is dead afterwards. */
  readonly onError: (error: Errors.ProtocolError) => void
  /**
   * Error lines that arrive while a `Sync` (`mn`) is at the head: they are the failures of earlier `noreply`
   * or quiet commands, which have no expectation of their own. Dropped when absent.
   */
  readonly onQuietError?: (reply: Reply.ErrorReply | Reply.ClientErrorReply | Reply.ServerErrorReply) => void
  /** Longest accepted `VALUE`/`VA` data block, in bytes. Default {@link DEFAULT_MAX_VALUE_LENGTH}. */
  readonly maxValueLength?: number
  /** Longest accepted reply line, without `\r\n`. Default {@link DEFAULT_MAX_LINE_LENGTH}. */
  readonly maxLineLength?: number
}

// Line kinds, found from the first bytes of a line.
const K_OTHER = 0
const K_VALUE = 1
const K_END = 2
const K_STORED = 3
const K_NOT_STORED = 4
const K_EXISTS = 5
const K_NOT_FOUND = 6
const K_DELETED = 7
const K_TOUCHED = 8
const K_OK = 9
const K_RESET = 10
const K_NUMBER = 11
const K_STAT = 12
const K_ITEM = 13
const K_PREFIX = 14
const K_VERSION = 15
const K_ERROR = 16
const K_CLIENT_ERROR = 17
const K_SERVER_ERROR = 18
const K_HD = 19
const K_VA = 20
const K_EN = 21
const K_NF = 22
const K_NS = 23
const K_EX = 24
const K_MN = 25
const K_ME = 26

interface NodeBuffer {
  readonly allocUnsafeSlow: (size: number) => Uint8Array
}
const NodeBuffer = (globalThis as { readonly Buffer?: NodeBuffer }).Buffer

/**
 * Memory for a value that spans chunks. Every byte is written before the value is handed out (and a failed
 * read drops it), so under Node it comes from `Buffer.allocUnsafeSlow`, which skips the zero fill of
 * `new Uint8Array` (measured: 6 us instead of 26 us for 512 KiB); the value is still a plain Uint8Array over
 * that memory. Elsewhere it is a plain `new Uint8Array`.
 */
const allocateUnfilled = (size: number): Uint8Array => {
  if (NodeBuffer === undefined) return new Uint8Array(size)
  const memory = NodeBuffer.allocUnsafeSlow(size)
  return new Uint8Array(memory.buffer, memory.byteOffset, size)
}

/** `chunk` as a plain Uint8Array (the same memory), so that its `subarray` views are plain too. */
const plainBytes = (chunk: Uint8Array): Uint8Array =>
  Object.getPrototypeOf(chunk) === Uint8Array.prototype
    ? chunk
    : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)

/**
 * When `b[start, end)` begins with the ASCII `key` followed by a space: the index of that space; otherwise -1
 * (also for a key with a non-ASCII char, whose bytes the caller compares after decoding).
 */
const asciiKeyAt = (b: Uint8Array, start: number, end: number, key: string): number => {
  const n = key.length
  if (start + n >= end) return -1
  for (let i = 0; i < n; i++) {
    const c = key.charCodeAt(i)
    if (c >= 0x80 || b[start + i] !== c) return -1
  }
  return b[start + n] === 0x20 ? start + n : -1
}

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

const classify = (b: Uint8Array, s: number, e: number): number => (e <= s ? K_OTHER : byFirstByte[b[s]!]!(b, s, e))

const isErrorKind = (kind: number): boolean => kind === K_ERROR || kind === K_CLIENT_ERROR || kind === K_SERVER_ERROR

const META_CODES = ["HD", "VA", "EN", "NF", "NS", "EX", "MN"] as const
type MetaCode = (typeof META_CODES)[number]

const metaReply = (code: MetaCode): Reply.Meta =>
  Object.freeze({ _tag: "Meta", code, flags: EMPTY_FLAGS, value: undefined }) as Reply.Meta

// Shared flag-less meta replies, indexed by kind - K_HD.
const META_PLAIN: ReadonlyArray<Reply.Meta> = META_CODES.map(metaReply)

const EMPTY_VALUES: Reply.Values = Object.freeze({ _tag: "Values", values: Object.freeze([]) }) as Reply.Values
const BARE_ERROR: Reply.ErrorReply = Object.freeze({ _tag: "Error", text: "" }) as Reply.ErrorReply
const EMPTY_DATA = new Uint8Array(0)
const NO_STATS: ReadonlyArray<readonly [string, string]> = Object.freeze([])
const NO_LINES: ReadonlyArray<string> = Object.freeze([])

// Words that have a reply kind of their own: with extra text after them they are not a `Status` line.
const RESERVED_WORDS = new Set([
  "STORED",
  "NOT_STORED",
  "EXISTS",
  "NOT_FOUND",
  "DELETED",
  "TOUCHED",
  "OK",
  "END",
  "VALUE",
  "STAT",
  "ITEM",
  "PREFIX",
  "VERSION",
  "RESET",
  "ERROR",
  "CLIENT_ERROR",
  "SERVER_ERROR",
  "HD",
  "VA",
  "EN",
  "NF",
  "NS",
  "EX",
  "MN",
  "ME"
])

const LINE = 0
const DATA = 1
const TRAILER = 2

const cut = (text: string): string => (text.length > 200 ? text.slice(0, 200) : text)

type QuietExpectation = Extract<Reply.Expectation, { readonly _tag: "Meta" }>

/**
 * Decodes the server's reply stream against the queue of pending requests.
 *
 * @example
 * ```ts
 * import { Decoder, Reply } from "@effect-memcache/protocol"
 * const decoder = new Decoder.Decoder({
 *   onReply: (reply) => console.log(reply),
 *   onError: (error) => console.error(error.message)
 * })
 * decoder.expect(Reply.expect.Storage)
 * decoder.expect(Reply.retrieval(["a"], false))
 * decoder.feed(new TextEncoder().encode("STORED\r\nVALUE a 0 2\r\nhi\r\nEND\r\n"))
 * // { _tag: "Stored" }, then { _tag: "Values", values: [{ key: "a", flags: 0, value: <68 69>, cas: undefined }] }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export class Decoder {
  private readonly onReply: (reply: Reply.Reply) => void
  private readonly onError: (error: Errors.ProtocolError) => void
  private readonly onQuietError:
    | ((reply: Reply.ErrorReply | Reply.ClientErrorReply | Reply.ServerErrorReply) => void)
    | undefined
  private readonly maxValueLength: number
  private readonly maxLineLength: number

  // Pending expectations: `queue[head..]`, compacted when the consumed prefix grows large.
  private queue: Array<Reply.Expectation | undefined> = []
  private head = 0
  private failure: Errors.ProtocolError | undefined = undefined
  private feeding = false

  // A partial line carried over from the previous chunk.
  private carry = new Uint8Array(256)
  private carryLength = 0

  private state = LINE
  // The data block being read: its length, the array filled so far (when split across chunks) and how many
  // bytes of it (then of its `\r\n`) have arrived.
  private dataLength = 0
  private dataFilled = 0
  private dataTarget: Uint8Array | undefined = undefined
  private dataValue: Uint8Array = EMPTY_DATA
  private trailerSeen = 0
  private dataIsMeta = false

  // The retrieval in progress: values so far, the next requested key to match, the VALUE being read.
  private values: Array<Reply.Value> | undefined = undefined
  private keyIndex = 0
  private valueKey = ""
  private valueFlags = 0
  private valueCas: bigint | undefined = undefined
  // The flags of the VA reply being read.
  private metaFlags: Reply.MetaFlags = EMPTY_FLAGS
  // The stats reply in progress.
  private stats: Array<readonly [string, string]> | undefined = undefined
  private statLines: Array<string> | undefined = undefined

  constructor(options: DecoderOptions) {
    this.onReply = options.onReply
    this.onError = options.onError
    this.onQuietError = options.onQuietError
    this.maxValueLength = options.maxValueLength ?? DEFAULT_MAX_VALUE_LENGTH
    this.maxLineLength = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH
  }

  /**
   * Queues what the next request sent produces; call it in the order the requests are written.
   *
   * @example
   * ```ts
   * import { Decoder, Reply } from "@effect-memcache/protocol"
   * const decoder = new Decoder.Decoder({ onReply: () => {}, onError: () => {} })
   * decoder.expect(Reply.expect.Version)
   * ```
   *
   * @since 0.1.0
   */
  expect(expectation: Reply.Expectation): void {
    this.queue.push(expectation)
  }

  /** Expectations not yet answered (including one whose reply is partly decoded). @since 0.1.0 */
  get pending(): number {
    return this.queue.length - this.head
  }

  /** The protocol error that stopped the decoder, if any. @since 0.1.0 */
  get failed(): Errors.ProtocolError | undefined {
    return this.failure
  }

  /** Bytes held between feeds: a partial line, or the part of a split data block received so far. @since 0.1.0 */
  get buffered(): number {
    return this.carryLength + (this.dataTarget === undefined ? 0 : this.dataFilled)
  }

  /**
   * Decodes as much of `chunk` as possible; the rest of a partial line or value is kept for the next call.
   * Does nothing once a protocol error was reported.
   *
   * @example
   * ```ts
   * import { Decoder, Reply } from "@effect-memcache/protocol"
   * const decoder = new Decoder.Decoder({ onReply: console.log, onError: console.error })
   * decoder.expect(Reply.expect.Storage)
   * decoder.feed(new TextEncoder().encode("STOR"))
   * decoder.feed(new TextEncoder().encode("ED\r\n")) // logs { _tag: "Stored" }
   * ```
   *
   * @since 0.1.0
   */
  feed(chunk: Uint8Array): void {
    if (this.failure !== undefined) return
    if (this.feeding) throw new Error("Decoder.feed must not be called from a decoder callback")
    this.feeding = true
    try {
      this.decode(chunk)
    } finally {
      this.feeding = false
    }
  }

  private decode(chunk: Uint8Array) {
    const length = chunk.length
    let p = 0
    let bytes: Uint8Array | undefined
    while (p < length && this.failure === undefined) {
      if (this.state === LINE) {
        if (this.carryLength === 0 && this.head === this.queue.length) {
          const nl = chunk.indexOf(0x0a, p)
          return this.fail("unsolicited data: no request is pending", chunk, p, nl < 0 ? length : Math.max(p, nl - 1))
        }
        // The common reply to a set: `STORED\r\n` whole at the start of the line.
        // Byte by byte: a string compare (isExactly) made this check take 24 ns instead of 14.
        if (
          this.carryLength === 0 &&
          chunk[p] === 0x53 /* S */ &&
          p + 8 <= length &&
          chunk[p + 6] === 0x0d &&
          chunk[p + 7] === 0x0a &&
          chunk[p + 1] === 0x54 &&
          chunk[p + 2] === 0x4f &&
          chunk[p + 3] === 0x52 &&
          chunk[p + 4] === 0x45 &&
          chunk[p + 5] === 0x44 &&
          this.queue[this.head]!._tag === "Storage" &&
          this.maxLineLength >= 6
        ) {
          p += 8
          this.complete(Reply.replies.Stored)
          continue
        }
        if (this.carryLength === 0 && chunk[p] === 0x56 /* V */) {
          const head = this.queue[this.head]!
          if (head._tag === "Retrieval" && !head.cas) {
            const next = this.plainValueLine(head.keys, chunk, p, length)
            if (next >= 0) {
              p = next
              continue
            }
          }
        }
        const nl = chunk.indexOf(0x0a, p)
        if (nl < 0) {
          this.carryBytes(chunk, p, length)
          return
        }
        if (this.carryLength === 0) {
          if (nl === p || chunk[nl - 1] !== 0x0d) return this.fail("reply line ends in a bare \\n", chunk, p, nl)
          if (nl - 1 - p > this.maxLineLength) return this.fail("reply line longer than maxLineLength", chunk, p, nl)
          const start = p
          p = nl + 1
          this.line(chunk, start, nl - 1)
        } else {
          if (!this.carryBytes(chunk, p, nl + 1)) return
          p = nl + 1
          const carry = this.carry
          const end = this.carryLength - 2
          this.carryLength = 0
          if (end < 0 || carry[end] !== 0x0d) return this.fail("reply line ends in a bare \\n", carry, 0, end + 1)
          this.line(carry, 0, end)
        }
      } else if (this.state === DATA) {
        const need = this.dataLength - this.dataFilled
        const available = length - p
        if (this.dataTarget === undefined && available >= need) {
          // The whole block is in this chunk: hand out a view, no copy. `bytes` is a plain Uint8Array over the
          // chunk: `subarray` on a Node Buffer would make a Buffer through its species constructor, which costs
          // more and hands Buffers to callers who asked for bytes.
          bytes ??= plainBytes(chunk)
          this.dataValue = bytes.subarray(p, p + need)
          p += need
          // The trailer is usually right there too: finish the item without a pass through TRAILER.
          if (available >= need + 2 && chunk[p] === 0x0d && chunk[p + 1] === 0x0a) {
            p += 2
            this.state = LINE
            this.dataDone()
            continue
          }
          this.state = TRAILER
          this.trailerSeen = 0
        } else {
          if (this.dataTarget === undefined) this.dataTarget = allocateUnfilled(this.dataLength)
          const take = Math.min(available, need)
          this.dataTarget.set(chunk.subarray(p, p + take), this.dataFilled)
          this.dataFilled += take
          p += take
          if (this.dataFilled === this.dataLength) {
            this.dataValue = this.dataTarget
            this.dataTarget = undefined
            this.state = TRAILER
            this.trailerSeen = 0
          }
        }
      } else {
        const byte = chunk[p]
        if (byte !== (this.trailerSeen === 0 ? 0x0d : 0x0a)) {
          return this.fail("data block not followed by \\r\\n", chunk, p, Math.min(length, p + 16))
        }
        p++
        if (++this.trailerSeen === 2) {
          this.state = LINE
          this.dataDone()
        }
      }
    }
  }

  /** Appends `chunk[from, to)` to the carried line; false (after failing) when the line gets too long. */
  private carryBytes(chunk: Uint8Array, from: number, to: number): boolean {
    const total = this.carryLength + (to - from)
    // A complete line holds its `\r\n`; a partial one may end in the `\r`.
    const complete = chunk[to - 1] === 0x0a
    if (total - (complete ? 2 : 1) > this.maxLineLength) {
      this.fail("reply line longer than maxLineLength", this.carry, 0, this.carryLength)
      return false
    }
    if (total > this.carry.length) {
      let size = this.carry.length * 2
      while (size < total) size *= 2
      const grown = new Uint8Array(size)
      grown.set(this.carry.subarray(0, this.carryLength))
      this.carry = grown
    }
    this.carry.set(chunk.subarray(from, to), this.carryLength)
    this.carryLength = total
    return true
  }

  private fail(reason: string, buf?: Uint8Array, start?: number, end?: number) {
    if (this.failure !== undefined) return
    const line = buf === undefined ? undefined : cut(decodeText(buf, start!, Math.min(end!, start! + 200)))
    const error = new Errors.ProtocolError(reason, line)
    this.failure = error
    this.carryLength = 0
    this.dataTarget = undefined
    this.dataValue = EMPTY_DATA
    this.values = undefined
    this.stats = undefined
    this.statLines = undefined
    this.onError(error)
  }

  private shift() {
    this.queue[this.head++] = undefined
    if (this.head === this.queue.length) {
      this.queue.length = 0
      this.head = 0
    } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head)
      this.head = 0
    }
  }

  private complete(reply: Reply.Reply) {
    this.shift()
    this.onReply(reply)
  }

  private errorReply(
    kind: number,
    b: Uint8Array,
    s: number,
    e: number
  ): Reply.ErrorReply | Reply.ClientErrorReply | Reply.ServerErrorReply {
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

  /** An error line completes the head; anything else is a protocol error. */
  private errorOrFail(kind: number, b: Uint8Array, s: number, e: number, what: string) {
    if (isErrorKind(kind)) {
      this.values = undefined
      this.stats = undefined
      this.statLines = undefined
      return this.complete(this.errorReply(kind, b, s, e))
    }
    this.fail(`unexpected line for ${what}`, b, s, e)
  }

  private line(b: Uint8Array, s: number, e: number) {
    const kind = classify(b, s, e)
    for (;;) {
      const head = this.queue[this.head]
      if (head === undefined) return this.fail("unsolicited reply: no request is pending", b, s, e)
      switch (head._tag) {
        case "Retrieval":
          if (kind === K_VALUE) return this.valueLine(head, b, s, e)
          if (kind === K_END) {
            const values = this.values
            this.values = undefined
            this.keyIndex = 0
            return this.complete(values === undefined ? EMPTY_VALUES : { _tag: "Values", values })
          }
          this.keyIndex = 0
          return this.errorOrFail(kind, b, s, e, "a retrieval request")
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
          if (kind === K_VERSION) {
            return this.complete({ _tag: "Version", version: decodeText(b, e - s > 8 ? s + 8 : e, e) })
          }
          return this.errorOrFail(kind, b, s, e, "a version request")
        case "Meta":
          if (head.quiet) {
            if (isErrorKind(kind)) return this.complete(this.errorReply(kind, b, s, e))
            if (kind >= K_HD && kind <= K_EX && opaqueMatches(b, s + 3, e, head.opaque)) {
              return this.metaLine(head.opaque, kind, b, s, e)
            }
            // Not this request's reply: its answer was suppressed. Try the line on the next request.
            this.complete(this.suppressed(head))
            continue
          }
          if (kind >= K_HD && kind <= K_EX) {
            if (!opaqueMatches(b, s + 3, e, head.opaque)) {
              return this.fail(
                head.opaque === undefined
                  ? "meta reply carries an opaque the request did not send"
                  : `meta reply opaque does not match the request's O${head.opaque}`,
                b,
                s,
                e
              )
            }
            return this.metaLine(head.opaque, kind, b, s, e)
          }
          return this.errorOrFail(kind, b, s, e, "a meta request")
        case "MetaDebug":
          if (kind === K_ME) return this.debugLine(b, s, e)
          if (kind === K_EN && e - s === 2) return this.complete(META_PLAIN[K_EN - K_HD]!)
          return this.errorOrFail(kind, b, s, e, "a meta debug request")
        case "Sync":
          if (kind === K_MN) return this.metaLine(undefined, kind, b, s, e)
          if (isErrorKind(kind)) {
            this.onQuietError?.(this.errorReply(kind, b, s, e))
            return
          }
          return this.fail("unexpected line before MN", b, s, e)
        case "Shutdown":
          return this.errorOrFail(kind, b, s, e, "a shutdown request")
      }
    }
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
    this.keyIndex = i + 1
    this.valueKey = keys[i]!
    this.valueFlags = flags
    this.valueCas = undefined
    this.startData(bytes, false)
    return bytesEnd + 2
  }

  private suppressed(head: QuietExpectation): Reply.Meta {
    const code = head.suppressed
    if (head.opaque === undefined) return META_PLAIN[code === "EN" ? K_EN - K_HD : 0]!
    return { _tag: "Meta", code, flags: { opaque: head.opaque }, value: undefined }
  }

  private valueLine(head: Extract<Reply.Expectation, { _tag: "Retrieval" }>, b: Uint8Array, s: number, e: number) {
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

    // Replies come in request order, and missing keys are skipped: walk the requested list from the last match.
    let decoded: string | undefined
    for (; !matched && i < keys.length; i++) {
      const key = keys[i]!
      const same = compareAsciiKey(b, keyStart, keyEnd, key)
      if (same === 1) break
      if (same === -1) {
        decoded ??= decodeText(b, keyStart, keyEnd)
        if (decoded === key) break
      }
    }
    if (i === keys.length) return this.fail("VALUE for a key that was not requested (or out of order)", b, s, e)
    this.keyIndex = i + 1
    this.valueKey = keys[i]!
    this.valueFlags = flags
    this.valueCas = cas
    this.startData(bytes, false)
  }

  private startData(length: number, isMeta: boolean) {
    this.dataIsMeta = isMeta
    this.dataLength = length
    this.dataFilled = 0
    this.dataTarget = undefined
    this.trailerSeen = 0
    if (length === 0) {
      this.dataValue = EMPTY_DATA
      this.state = TRAILER
    } else {
      this.state = DATA
    }
  }

  private dataDone() {
    const value = this.dataValue
    this.dataValue = EMPTY_DATA
    if (this.dataIsMeta) {
      const flags = this.metaFlags
      this.metaFlags = EMPTY_FLAGS
      return this.complete({ _tag: "Meta", code: "VA", flags, value })
    }
    const item: Reply.Value = { key: this.valueKey, flags: this.valueFlags, value, cas: this.valueCas }
    if (this.values === undefined) this.values = [item]
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
      return this.startData(size, true)
    }
    const plain = META_PLAIN[kind - K_HD]!
    this.complete(flags === EMPTY_FLAGS ? plain : { _tag: "Meta", code: plain.code, flags, value: undefined })
  }

  /** `ME <key> k=v ...` */
  private debugLine(b: Uint8Array, s: number, e: number) {
    const keyEnd = nextSpace(b, s + 3, e)
    if (keyEnd === s + 3) return this.fail("malformed ME line", b, s, e)
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
    this.complete({ _tag: "MetaDebug", key, fields })
  }

  /** A `Status` line (`MEMLIMIT_TOO_SMALL ...`, `BUSY ...`) answering an `Ok` request. */
  private statusLine(b: Uint8Array, s: number, e: number) {
    const wordEnd = nextSpace(b, s, e)
    let upper = wordEnd > s
    for (let i = s; i < wordEnd && upper; i++) {
      const c = b[i]!
      upper = (c >= 0x41 && c <= 0x5a) || (c === 0x5f && i > s)
    }
    const word = upper ? decodeText(b, s, wordEnd) : ""
    if (!upper || RESERVED_WORDS.has(word)) return this.fail("unexpected line for a request answered by OK", b, s, e)
    let i = wordEnd
    while (i < e && b[i] === 0x20) i++
    this.complete({ _tag: "Status", word, text: decodeText(b, i, e) })
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
