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
 *   fed chunk is returned as a view of that chunk, so the caller must not reuse a chunk's memory after feeding
 *   it, unless it says so (`reusedChunks`); a block split across chunks is copied once into an array of its
 *   exact length. The two bytes after a block must be `\r\n`.
 * - A retrieval expected with `onValue` ({@link Reply.retrieval}) is streamed: each `VALUE` is handed to
 *   `onValue` as soon as its block and `\r\n` have been read, inside `feed` and before the rest of the reply
 *   has arrived, and `END` then completes it with a `Values` reply that carries none. The same checks apply
 *   (each key asked at most once per time asked, no key not asked).
 * - ERROR / CLIENT_ERROR / SERVER_ERROR answer any pending request, except while `mn` (`Sync`) is at the head:
 *   there they belong to earlier `noreply`/quiet commands, go to `onQuietError` (or are dropped), and `MN`
 *   then completes the Sync as a `Meta` reply with code `"MN"`.
 * - A quiet meta request at the head whose reply is not the next line (another opaque, or the `MN` of the
 *   Sync) was answered with silence: it completes with a `Meta` reply of its `suppressed` code, with
 *   `flags: { opaque }`, and the line is tried against the next request. An error line completes it.
 *
 * @since 0.1.0
 */
import type * as Errors from "./Errors.ts"
import { ReplyReader } from "./internal/ReplyReader.ts"
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
  /**
   * The caller reuses a chunk's memory once `feed` returns, unless {@link Decoder.keptChunk} says a value still
   * views it (a socket that reads into one buffer). The values below 1 KiB of a chunk shorter than 2 KiB (a
   * single get's reply) are then copied into a shared 8 KiB slab, which such a value holds as a small Node
   * `Buffer` holds its pool; every other value is a view of its chunk, as without this option. Default `false`.
   */
  readonly reusedChunks?: boolean
}

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
  // The work is done by an internal reader; this class is the documented surface over it.
  private readonly reader: ReplyReader

  constructor(options: DecoderOptions) {
    this.reader = new ReplyReader(
      options.onReply,
      { onError: options.onError, onQuietError: options.onQuietError },
      options.maxValueLength ?? DEFAULT_MAX_VALUE_LENGTH,
      options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH
    )
    this.reader.reusedChunks = options.reusedChunks === true
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
    this.reader.expect(expectation)
  }

  /**
   * Queues what the next request produces when it was sent in its meta form (`Encoder.appendMeta` with the same
   * `opaque`, and not quiet): `expectation` is the command's text expectation (`Reply.expectation`, a retrieval's
   * with its `onValue` if it streams), and the reply is handed over as the text form's would be. Every reply line
   * must carry the request's opaque (a get's hits, one of its keys'): another one, or none, is a protocol error.
   * A command without a meta form is expected with {@link expect}; quiet ones with {@link expectMetaSync}.
   *
   * @example
   * ```ts
   * import { Command, Decoder, Encoder, Reply, Validation } from "@effect-memcache/protocol"
   * const decoder = new Decoder.Decoder({ onReply: console.log, onError: console.error })
   * const get = Validation.validate(Command.get(["a", "b"]))
   * if (!Validation.isInvalid(get)) {
   *   Encoder.encodeMeta(get, 1) // "mg a v f O1 q\r\nmg b v f O2 q\r\nmn\r\n"
   *   decoder.expectMeta(Reply.retrieval(get.keys, false), 1)
   *   decoder.feed(new TextEncoder().encode("VA 2 f0 O2\r\nhi\r\nMN\r\n"))
   *   // { _tag: "Values", values: [{ key: "b", flags: 0, value: <68 69>, cas: undefined }] }
   * }
   * ```
   *
   * @since 0.1.0
   */
  expectMeta(expectation: Reply.Expectation, opaque: number): void {
    const end = opaque + (expectation._tag === "Retrieval" ? expectation.keys.length : 1)
    this.reader.expectMeta(expectation, opaque, end)
  }

  /**
   * Queues the `mn` (`Validation.sync`) that closes a run of quiet meta-form requests (noreply commands written
   * with `Encoder.appendMeta`), whose opaques go from `first` up to `end` (exclusive; `end` below `first` when
   * the count wrapped around to 0). The quiet requests are not expected one by one: the server answers one only
   * when it fails (`NS`, `EX`, `NF`, `EN`, or an error line), and such an answer, which must carry an opaque of the
   * run, is read and dropped before the `MN`, an error line going to `onQuietError`. `MN` completes it as a
   * `Sync` would. Text noreply commands in the same run are covered too, as by a `Sync`.
   *
   * @example
   * ```ts
   * import { Command, Decoder, Encoder, Validation } from "@effect-memcache/protocol"
   * const decoder = new Decoder.Decoder({ onReply: console.log, onError: console.error })
   * const add = Validation.validate(Command.add("k", new Uint8Array(1), { noreply: true }))
   * if (!Validation.isInvalid(add)) {
   *   const encoder = new Encoder.Encoder()
   *   encoder.appendMeta(add, 5) // "ms k 1 ME O5 q"
   *   encoder.append(Validation.sync)
   *   decoder.expectMetaSync(5, 6)
   *   decoder.feed(new TextEncoder().encode("NS O5\r\nMN\r\n")) // { _tag: "Meta", code: "MN", ... }
   * }
   * ```
   *
   * @since 0.1.0
   */
  expectMetaSync(first: number, end: number): void {
    this.reader.expectMeta(Reply.expect.Sync, first, end)
  }

  /** Expectations not yet answered (including one whose reply is partly decoded). @since 0.1.0 */
  get pending(): number {
    return this.reader.pending
  }

  /** The protocol error that stopped the decoder, if any. @since 0.1.0 */
  get failed(): Errors.ProtocolError | undefined {
    return this.reader.failure
  }

  /**
   * With `reusedChunks`: whether a value handed out, or being read, views the last chunk fed, so that the chunk's
   * memory must not be reused. Always `false` without `reusedChunks`.
   *
   * @since 0.1.0
   */
  get keptChunk(): boolean {
    return this.reader.keptChunk
  }

  /** Bytes held between feeds: a partial line, or the part of a split data block received so far. @since 0.1.0 */
  get buffered(): number {
    return this.reader.buffered
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
    this.reader.feed(chunk)
  }
}
