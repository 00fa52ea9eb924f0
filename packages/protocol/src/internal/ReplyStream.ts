/**
 * The framing of the server's reply stream and the queue of requests waiting for it: lines (split across
 * chunks or not) and data blocks read by their declared length. What a line or block means is left to the
 * subclass (`ReplyReader`); this class finds them, carries partial ones between chunks, completes the request
 * at the head, and stops for good at the first protocol error. The commonest reply, `STORED`, is recognized
 * here, in the read loop itself.
 */
import * as Errors from "../Errors.ts"
import * as Reply from "../Reply.ts"
import { decodeText } from "./replyBytes.ts"

const LINE = 0
const DATA = 1
const TRAILER = 2

const EMPTY_DATA = new Uint8Array(0)

interface NodeBuffer {
  readonly allocUnsafeSlow: (size: number) => Uint8Array
}
const NodeBuffer = (globalThis as { readonly Buffer?: NodeBuffer }).Buffer

/**
 * Memory for a value that spans chunks. Every byte is written before the value is handed out (and a failed
 * read drops it), so under Node it comes from `Buffer.allocUnsafeSlow`, which skips the zero fill of
 * `new Uint8Array`; the value is still a plain Uint8Array over that memory. Elsewhere it is a plain
 * `new Uint8Array`.
 */
const allocateUnfilled = (size: number): Uint8Array => {
  if (NodeBuffer === undefined) return new Uint8Array(size)
  const memory = NodeBuffer.allocUnsafeSlow(size)
  return new Uint8Array(memory.buffer, memory.byteOffset, size)
}

/**
 * A request sent in its meta form (see `MetaFormReader`): what its text form would expect, and the opaques its
 * lines carry, `opaque` up to `end` (exclusive). For the `mn` closing a run of quiet requests, `of` is `Sync` and
 * the opaques are the run's. Its own tag keeps it off the text paths.
 */
export class MetaFormExpectation {
  readonly _tag = "MetaForm"
  readonly of: Reply.Expectation
  readonly opaque: number
  readonly end: number
  constructor(of: Reply.Expectation, opaque: number, end: number) {
    this.of = of
    this.opaque = opaque
    this.end = end
  }
}

/** What the reader waits for: a request's expectation, or the expectation of a request sent in its meta form. */
export type Expected = Reply.Expectation | MetaFormExpectation

/**
 * With `reusedChunks`, the values below {@link SLAB_VALUE_MAX} bytes of a chunk shorter than {@link SMALL_CHUNK}
 * (a single get's reply) are copied into a shared slab of {@link SLAB_SIZE} bytes, so that such a value holds at
 * most its slab, as a small Node `Buffer` holds its pool, and the chunk's memory can be read into again.
 */
const SMALL_CHUNK = 2048
const SLAB_VALUE_MAX = 1024
const SLAB_SIZE = 8192

const cut = (text: string): string => (text.length > 200 ? text.slice(0, 200) : text)

export abstract class ReplyStream {
  protected readonly maxValueLength: number
  protected readonly maxLineLength: number
  private readonly onReply: (reply: Reply.Reply) => void
  // Pending expectations: `queue[head..tail)`, compacted when the consumed prefix grows large. Slots outside it
  // hold `undefined`; an emptied queue starts over at 0 in the same array (no length change, no regrowth).
  protected queue: Array<Expected | undefined> = []
  private tail = 0
  protected head = 0
  failure: Errors.ProtocolError | undefined = undefined
  private feeding = false
  /** Whether a fed chunk's memory is reused once `feed` returns (see `DecoderOptions.reusedChunks`). */
  reusedChunks = false
  /** With `reusedChunks`: whether a value handed out, or being read, is a view of the last chunk fed. */
  keptChunk = false
  // Where values copied out of reused chunks go, and how much of it is taken.
  private slab: Uint8Array = EMPTY_DATA
  private slabUsed = 0

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

  constructor(onReply: (reply: Reply.Reply) => void, maxValueLength: number, maxLineLength: number) {
    this.onReply = onReply
    this.maxValueLength = maxValueLength
    this.maxLineLength = maxLineLength
  }

  /**
   * A shortcut for a common whole line at the start of a fresh line (a `VALUE` line): returns where the stream
   * continues, or -1 to take the general path.
   */
  protected abstract fastLine(chunk: Uint8Array, p: number, length: number): number
  /** A complete line `b[s, e)`, without its `\r\n`. */
  protected abstract line(b: Uint8Array, s: number, e: number): void
  /** The data block announced by the last `startData`, with its `\r\n` checked. */
  protected abstract block(value: Uint8Array): void
  /** The stream failed: drop what was being built (the error is reported after). */
  protected abstract failed(error: Errors.ProtocolError): void

  expect(expectation: Reply.Expectation): void {
    this.queue[this.tail++] = expectation
  }

  /** A request sent in its meta form, its lines carrying the opaques `opaque` to `end` (exclusive). */
  expectMeta(expectation: Reply.Expectation, opaque: number, end: number): void {
    this.queue[this.tail++] = new MetaFormExpectation(expectation, opaque, end)
  }

  get pending(): number {
    return this.tail - this.head
  }

  /** Bytes held between feeds: a partial line, or the part of a split data block received so far. */
  get buffered(): number {
    return this.carryLength + (this.dataTarget === undefined ? 0 : this.dataFilled)
  }

  feed(chunk: Uint8Array): void {
    if (this.failure !== undefined) return
    if (this.feeding) throw new Error("Decoder.feed must not be called from a decoder callback")
    this.feeding = true
    this.keptChunk = false
    try {
      const length = chunk.length
      let p = 0
      while (p >= 0 && p < length && this.failure === undefined) {
        if (this.state === LINE) {
          if (this.carryLength === 0 && this.isStored(chunk, p, length)) {
            this.complete(Reply.replies.Stored)
            p += 8
          } else {
            p = this.readLine(chunk, p, length)
          }
        } else if (this.state === DATA) p = this.readData(chunk, p, length)
        else p = this.readTrailer(chunk, p, length)
      }
    } finally {
      this.feeding = false
    }
  }

  /**
   * `STORED\r\n` whole at `p`, answering a storage request: the common reply to a set. Compared byte by byte:
   * a string compare made this check about twice as slow.
   */
  private isStored(chunk: Uint8Array, p: number, length: number): boolean {
    return (
      chunk[p] === 0x53 /* S */ &&
      p + 8 <= length &&
      chunk[p + 6] === 0x0d &&
      chunk[p + 7] === 0x0a &&
      chunk[p + 1] === 0x54 &&
      chunk[p + 2] === 0x4f &&
      chunk[p + 3] === 0x52 &&
      chunk[p + 4] === 0x45 &&
      chunk[p + 5] === 0x44 &&
      this.head < this.tail &&
      this.queue[this.head]!._tag === "Storage" &&
      this.maxLineLength >= 6
    )
  }

  private shift() {
    this.queue[this.head++] = undefined
    if (this.head === this.tail) {
      this.head = 0
      this.tail = 0
    } else if (this.head >= 1024 && this.head * 2 >= this.tail) {
      this.queue = this.queue.slice(this.head, this.tail)
      this.tail -= this.head
      this.head = 0
    }
  }

  /** The request at the head is answered. */
  protected complete(reply: Reply.Reply) {
    this.shift()
    this.onReply(reply)
  }

  /** The quiet request at the head is done; nobody waits for its answer. */
  protected drop() {
    this.shift()
  }

  /** The next `length` bytes, then `\r\n`, are a data block. */
  protected startData(length: number) {
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

  /** Reads a line at `p`; returns where the stream continues, or -1 when the chunk is used up or failed. */
  private readLine(chunk: Uint8Array, p: number, length: number): number {
    if (this.carryLength === 0) {
      if (this.head === this.tail) {
        const nl = chunk.indexOf(0x0a, p)
        this.fail("unsolicited data: no request is pending", chunk, p, nl < 0 ? length : Math.max(p, nl - 1))
        return -1
      }
      const next = this.fastLine(chunk, p, length)
      if (next >= 0) return next
    }
    const nl = chunk.indexOf(0x0a, p)
    if (nl < 0) {
      this.carryBytes(chunk, p, length)
      return -1
    }
    if (this.carryLength === 0) {
      if (nl === p || chunk[nl - 1] !== 0x0d) return this.fail("reply line ends in a bare \\n", chunk, p, nl)
      if (nl - 1 - p > this.maxLineLength) return this.fail("reply line longer than maxLineLength", chunk, p, nl)
      this.line(chunk, p, nl - 1)
      return nl + 1
    }
    if (!this.carryBytes(chunk, p, nl + 1)) return -1
    const carry = this.carry
    const end = this.carryLength - 2
    this.carryLength = 0
    if (end < 0 || carry[end] !== 0x0d) return this.fail("reply line ends in a bare \\n", carry, 0, end + 1)
    this.line(carry, 0, end)
    return nl + 1
  }

  private readData(chunk: Uint8Array, p: number, length: number): number {
    const need = this.dataLength - this.dataFilled
    const available = length - p
    if (this.dataTarget === undefined && available >= need) {
      this.dataValue = this.wholeValue(chunk, p, need)
      p += need
      // The trailer is usually right there too: finish the item without a pass through TRAILER.
      if (available >= need + 2 && chunk[p] === 0x0d && chunk[p + 1] === 0x0a) {
        this.endData()
        return p + 2
      }
      this.state = TRAILER
      this.trailerSeen = 0
      return p
    }
    if (this.dataTarget === undefined) this.dataTarget = allocateUnfilled(this.dataLength)
    const take = Math.min(available, need)
    this.dataTarget.set(chunk.subarray(p, p + take), this.dataFilled)
    this.dataFilled += take
    if (this.dataFilled === this.dataLength) {
      this.dataValue = this.dataTarget
      this.dataTarget = undefined
      this.state = TRAILER
      this.trailerSeen = 0
    }
    return p + take
  }

  /**
   * A block that lies whole in the chunk: a view of it, no copy, except a small value of a small reused chunk.
   * The views are plain Uint8Arrays made over the chunk's memory: `subarray` on a Node Buffer would make a Buffer
   * through its species constructor, handing Buffers to callers who asked for bytes.
   */
  private wholeValue(chunk: Uint8Array, p: number, length: number): Uint8Array {
    const view = new Uint8Array(chunk.buffer, chunk.byteOffset + p, length)
    if (!this.reusedChunks) return view
    if (chunk.length >= SMALL_CHUNK || length >= SLAB_VALUE_MAX) {
      this.keptChunk = true
      return view
    }
    if (this.slabUsed + length > this.slab.length) {
      this.slab = allocateUnfilled(SLAB_SIZE)
      this.slabUsed = 0
    }
    const at = this.slabUsed
    this.slab.set(view, at)
    this.slabUsed = at + length
    return new Uint8Array(this.slab.buffer, this.slab.byteOffset + at, length)
  }

  private readTrailer(chunk: Uint8Array, p: number, length: number): number {
    if (chunk[p] !== (this.trailerSeen === 0 ? 0x0d : 0x0a)) {
      return this.fail("data block not followed by \\r\\n", chunk, p, Math.min(length, p + 16))
    }
    if (++this.trailerSeen === 2) this.endData()
    return p + 1
  }

  private endData() {
    const value = this.dataValue
    this.dataValue = EMPTY_DATA
    this.state = LINE
    this.block(value)
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

  /** Stops the stream with a protocol error quoting `buf[start, end)`; returns -1 for `readLine`'s callers. */
  protected fail(reason: string, buf?: Uint8Array, start?: number, end?: number): -1 {
    if (this.failure !== undefined) return -1
    const line = buf === undefined ? undefined : cut(decodeText(buf, start!, Math.min(end!, start! + 200)))
    const error = new Errors.ProtocolError(reason, line)
    this.failure = error
    this.carryLength = 0
    this.dataTarget = undefined
    this.dataValue = EMPTY_DATA
    this.failed(error)
    return -1
  }
}
