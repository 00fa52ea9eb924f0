/**
 * Validated commands to bytes: {@link encode} for one command, the coalescing {@link Encoder} for a connection's
 * writes. Both take only `Validation.Validated` commands, so nothing unchecked is ever encoded.
 *
 * @since 0.1.0
 */
import { type FormCodec, type LineCodec, textLineCodecs } from "./internal/lineCodecs.ts"
import { formCodecs } from "./internal/metaFormCodecs.ts"
import { metaLineCodecs } from "./internal/metaLineCodecs.ts"
import type { Validated } from "./Validation.ts"

// Module-local, like the table below: see internal/lineCodecs.ts on imported bindings in the hot path.
const CR = 0x0d
const LF = 0x0a

const lineCodecs: { readonly [T in Validated["_tag"]]: LineCodec<Extract<Validated, { readonly _tag: T }>> } = {
  ...textLineCodecs,
  ...metaLineCodecs
}

const lineCodecOf = (command: Validated): LineCodec<Validated> => lineCodecs[command._tag] as LineCodec<Validated>

const metaForms: { readonly [T in Validated["_tag"]]?: FormCodec<Extract<Validated, { readonly _tag: T }>> } =
  formCodecs

/** The codec of a command's meta form; `undefined` for a command that has none (admin and meta commands). */
const formCodecOf = (command: Validated): FormCodec<Validated> | undefined =>
  metaForms[command._tag] as FormCodec<Validated> | undefined

// Writes the command line, CRLF included. The text codecs take no opaque: only the meta form's do.
const writeLine = (codec: LineCodec<Validated>, buf: Uint8Array, pos: number, command: Validated): number => {
  let p = codec.write(buf, pos, command)
  buf[p++] = CR
  buf[p++] = LF
  return p
}

// Writes the meta form's line(s), CRLF included.
const writeFormLine = (
  codec: FormCodec<Validated>,
  buf: Uint8Array,
  pos: number,
  command: Validated,
  opaque: number
): number => {
  let p = codec.write(buf, pos, command, opaque)
  buf[p++] = CR
  buf[p++] = LF
  return p
}

const dataOf = (command: Validated): Uint8Array | undefined =>
  command._tag === "Store" || command._tag === "Cas" || command._tag === "MetaSet" ? command.value : undefined

let scratch = new Uint8Array(1024)

/**
 * The exact bytes of a validated command (line, and data block with its CRLF) in an array of their own. For
 * batches, {@link Encoder} avoids the per-command allocation.
 *
 * @example
 * ```ts
 * import { Command, Encoder, Validation } from "@effect-memcache/protocol"
 * const checked = Validation.validate(Command.set("k", new TextEncoder().encode("abc"), { flags: 5, exptime: 10 }))
 * if (!Validation.isInvalid(checked)) Encoder.encode(checked) // "set k 5 10 3\r\nabc\r\n"
 * ```
 *
 * @since 0.1.0
 * @category encoding
 */
export const encode = (command: Validated): Uint8Array => {
  const codec = lineCodecOf(command)
  return encodeWith(codec.bound(command), command, (buf) => writeLine(codec, buf, 0, command))
}

/**
 * The exact bytes of the meta form of a validated command, its opaques starting at `opaque` (see
 * {@link Encoder.appendMeta}).
 *
 * @example
 * ```ts
 * import { Command, Encoder, Validation } from "@effect-memcache/protocol"
 * const checked = Validation.validate(Command.get(["a", "b"]))
 * if (!Validation.isInvalid(checked)) Encoder.encodeMeta(checked, 7) // "mg a v f O7 q\r\nmg b v f O8 q\r\nmn\r\n"
 * ```
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeMeta = (command: Validated, opaque: number): Uint8Array => {
  const codec = formCodecOf(command)
  if (codec === undefined) return encode(command)
  return encodeWith(codec.bound(command), command, (buf) => writeFormLine(codec, buf, 0, command, opaque))
}

const encodeWith = (bound: number, command: Validated, write: (buf: Uint8Array) => number): Uint8Array => {
  if (scratch.byteLength < bound) scratch = new Uint8Array(Math.max(bound, scratch.byteLength * 2))
  const lineLength = write(scratch)
  const data = dataOf(command)
  const out = new Uint8Array(data === undefined ? lineLength : lineLength + data.byteLength + 2)
  out.set(scratch.subarray(0, lineLength))
  if (data !== undefined) {
    out.set(data, lineLength)
    out[out.length - 2] = CR
    out[out.length - 1] = LF
  }
  return out
}

/**
 * Options of {@link Encoder}.
 *
 * @example
 * ```ts
 * import type { Encoder } from "@effect-memcache/protocol"
 * const o: Encoder.EncoderOptions = { initialCapacity: 8192, copyThreshold: 32768 }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface EncoderOptions {
  /** The first buffer's size in bytes (default 16384). */
  readonly initialCapacity?: number
  /** Values larger than this many bytes are passed on by reference as their own chunk (default 16384). */
  readonly copyThreshold?: number
}

/**
 * Coalesces many commands into few write chunks. `append` encodes a validated command straight into an
 * internal buffer; `take` hands over what was appended since the last `take`: small commands share one chunk,
 * and a value larger than `copyThreshold` is its own chunk, the caller's `Uint8Array` itself (never copied).
 *
 * Chunks are views of the internal buffer, not copies: the caller passes them to `socket.write`, which keeps a
 * reference until the bytes are sent. So bytes once handed out are never written again: after a `take` the
 * encoder keeps filling the unused tail of the same buffer, and when that runs out it allocates a fresh buffer
 * (of the current capacity, doubled if one command needs more) instead of wrapping around. That costs one
 * allocation per buffer-full instead of one copy per `take`.
 *
 * @example
 * ```ts
 * import { Command, Encoder, Validation } from "@effect-memcache/protocol"
 * const encoder = new Encoder.Encoder()
 * const get = Validation.validate(Command.get(["a"]))
 * if (!Validation.isInvalid(get)) encoder.append(get)
 * encoder.append(Validation.sync)
 * const chunks = encoder.take() // [ "get a\r\nmn\r\n" ]
 * ```
 *
 * @since 0.1.0
 * @category encoding
 */
export class Encoder {
  private buffer: Uint8Array
  /** Where the next byte goes. */
  private position = 0
  /** Where the chunk being filled starts. */
  private chunkStart = 0
  /** Chunks finished since the last take. */
  private chunks: Array<Uint8Array> = []
  private pending = 0
  private readonly copyThreshold: number

  constructor(options?: EncoderOptions) {
    this.buffer = new Uint8Array(Math.max(64, options?.initialCapacity ?? 16384))
    this.copyThreshold = options?.copyThreshold ?? 16384
  }

  /** Bytes appended and not yet taken. */
  get size(): number {
    return this.pending
  }

  /** Encodes a validated command into the pending bytes. */
  append(command: Validated): void {
    const data = dataOf(command)
    const copyData = data !== undefined && data.byteLength <= this.copyThreshold
    const codec = lineCodecOf(command)
    this.reserve(codec.bound(command) + (data === undefined ? 0 : copyData ? data.byteLength + 2 : 2))
    this.appendData(writeLine(codec, this.buffer, this.position, command), data, copyData)
  }

  /**
   * Encodes the meta form of a validated command into the pending bytes: the text commands with a key (storage,
   * cas, get/gets/gat/gats, delete, incr/decr, touch) as `ms`/`mg`/`md`/`ma` carrying `O<opaque>` (a get
   * takes one opaque per key, from `opaque` on, and is closed by its own `mn`), noreply ones quiet (`q`), and keys
   * the text protocol cannot carry base64; any other command as it is. `MetaForm.opaques` says how many
   * opaques a command takes, and `Decoder.expectMeta` reads its reply back as the text reply.
   *
   * @since 0.1.0
   */
  appendMeta(command: Validated, opaque: number): void {
    const codec = formCodecOf(command)
    if (codec === undefined) {
      this.append(command)
      return
    }
    const data = dataOf(command)
    const copyData = data !== undefined && data.byteLength <= this.copyThreshold
    this.reserve(codec.bound(command) + (data === undefined ? 0 : copyData ? data.byteLength + 2 : 2))
    this.appendData(writeFormLine(codec, this.buffer, this.position, command, opaque), data, copyData)
  }

  // After the line that ends at `p`: the data block (copied, or passed on as its own chunk), and its CRLF.
  private appendData(p: number, data: Uint8Array | undefined, copyData: boolean): void {
    const buffer = this.buffer
    if (data !== undefined) {
      if (copyData) {
        buffer.set(data, p)
        p += data.byteLength
      } else {
        if (p > this.chunkStart) this.chunks.push(this.view(this.chunkStart, p))
        this.chunks.push(data)
        this.chunkStart = p
      }
      buffer[p++] = CR
      buffer[p++] = LF
    }
    this.pending += p - this.position + (data !== undefined && !copyData ? data.byteLength : 0)
    this.position = p
  }

  /** The chunks appended since the last take, in order; afterwards the encoder is empty. */
  take(): Array<Uint8Array> {
    // A view made directly over the memory: `subarray` costs a species lookup on every take.
    if (this.position > this.chunkStart) this.chunks.push(this.view(this.chunkStart, this.position))
    const chunks = this.chunks
    this.chunks = []
    this.chunkStart = this.position
    this.pending = 0
    return chunks
  }

  /**
   * Declares every chunk taken so far consumed (a socket that copied them to the kernel, say): the encoder then
   * writes over its buffer from the start instead of moving on to a fresh one when it fills. Does nothing while
   * appended bytes are not taken.
   */
  recycle(): void {
    if (this.pending !== 0 || this.chunks.length !== 0) return
    this.position = 0
    this.chunkStart = 0
  }

  private view(start: number, end: number): Uint8Array {
    const buffer = this.buffer
    return new Uint8Array(buffer.buffer, buffer.byteOffset + start, end - start)
  }

  // Makes room for `need` more bytes without touching bytes already handed out (or pushed as chunks).
  private reserve(need: number): void {
    if (this.position + need <= this.buffer.byteLength) return
    const open = this.position - this.chunkStart
    let capacity = this.buffer.byteLength
    while (capacity < open + need) capacity *= 2
    const fresh = new Uint8Array(capacity)
    // Only the open chunk moves; finished chunks keep pointing into the old buffer, which is never written again.
    fresh.set(this.buffer.subarray(this.chunkStart, this.position))
    this.buffer = fresh
    this.chunkStart = 0
    this.position = open
  }
}
