/**
 * The values of a retrieval reply being read: the state of the get at the head (values so far, the next key
 * asked for, the value whose block is being read), the `VALUE` lines of the text protocol, and the block modes
 * the reader's `block` tells apart. The meta form's get runs (`MetaFormReader`) add their values through
 * `startValue` as well.
 */
import * as Reply from "../Reply.ts"
import { asciiKeyAt } from "./lineKinds.ts"
import { ReplyStream } from "./ReplyStream.ts"
import { compareAsciiKey, decodeText, digitsEnd, MAX_U32, nextSpace, parseU64, parseUint } from "./replyBytes.ts"

export type RetrievalExpectation = Extract<Reply.Expectation, { readonly _tag: "Retrieval" }>

/** What the data block being read is: a retrieval's value, a meta reply's (`VA`), or the number of an `ma`. */
export const BLOCK_VALUE = 0
export const BLOCK_META = 1
export const BLOCK_NUMBER = 2

export abstract class RetrievalReader extends ReplyStream {
  // The retrieval in progress: values so far (unless streamed), how many, the next requested key to match, the
  // VALUE being read.
  private values: Array<Reply.Value> | undefined = undefined
  private valueCount = 0
  protected keyIndex = 0
  private valueKey = ""
  // The retrieval the value being read belongs to.
  private valueHead: RetrievalExpectation | undefined = undefined
  private valueFlags = 0
  private valueCas: bigint | undefined = undefined
  protected blockMode = BLOCK_VALUE

  protected fastLine(chunk: Uint8Array, p: number, length: number): number {
    if (chunk[p] !== 0x56 /* V */) return -1
    const head = this.queue[this.head]!
    if (head._tag === "Retrieval") return head.cas ? -1 : this.plainValueLine(head, chunk, p, length)
    return head._tag === "MetaForm" && head.of._tag === "Retrieval"
      ? this.runValueLineAt(head.of, head.opaque, chunk, p, length)
      : -1
  }

  /** Drops the retrieval in progress (an error reply or a failure ended it). */
  protected resetRetrieval() {
    this.values = undefined
    this.valueCount = 0
    this.keyIndex = 0
  }

  /** The reply of the retrieval at the head, now complete; the state is reset for the next one. */
  protected endRetrieval(): Reply.Values {
    const values = this.values
    this.resetRetrieval()
    return values === undefined ? Reply.emptyValues : { _tag: "Values", values }
  }

  /**
   * The common line of a get reply, `VALUE <next key asked> <flags> <bytes>\r\n`, read in one pass where it
   * starts (no search for its end first). Returns where the data block starts, or -1 (nothing changed) for any
   * other line, which then takes the general path and its checks and errors.
   */
  private plainValueLine(head: RetrievalExpectation, b: Uint8Array, s: number, end: number): number {
    const keys = head.keys
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
    this.startValue(head, i, flags, undefined, bytes)
    return bytesEnd + 2
  }

  /**
   * The hit of a get run (the meta form), `VA <bytes> f<flags> [c<cas>] O<opaque>\r\n` with the flags in the order
   * asked, read in one pass where it starts. Returns where the data block starts, or -1 (nothing changed) for any
   * other line, which then takes the general path (`MetaFormReader`) and its checks and errors.
   */
  private runValueLineAt(head: RetrievalExpectation, base: number, b: Uint8Array, s: number, end: number): number {
    if (s + 3 > end || b[s + 1] !== 0x41 || b[s + 2] !== 0x20) return -1
    const bytesEnd = digitsEnd(b, s + 3, end)
    if (b[bytesEnd] !== 0x20 || b[bytesEnd + 1] !== 0x66) return -1
    let p = digitsEnd(b, bytesEnd + 2, end)
    const flags = parseUint(b, bytesEnd + 2, p, MAX_U32)
    let cas: bigint | undefined
    if (head.cas) {
      if (b[p] !== 0x20 || b[p + 1] !== 0x63) return -1
      const casEnd = digitsEnd(b, p + 2, end)
      cas = parseU64(b, p + 2, casEnd)
      if (cas === undefined) return -1
      p = casEnd
    }
    if (b[p] !== 0x20 || b[p + 1] !== 0x4f) return -1
    const opaqueEnd = digitsEnd(b, p + 2, end)
    // At most 10 digits, as on the general path.
    if (opaqueEnd - p > 12 || opaqueEnd + 1 >= end || b[opaqueEnd] !== 0x0d || b[opaqueEnd + 1] !== 0x0a) return -1
    const bytes = parseUint(b, s + 3, bytesEnd, Number.MAX_SAFE_INTEGER)
    const index = parseUint(b, p + 2, opaqueEnd, Number.MAX_SAFE_INTEGER) - base
    if (flags < 0 || bytes < 0 || opaqueEnd - s > this.maxLineLength || bytes > this.maxValueLength) return -1
    if (index < this.keyIndex || index >= head.keys.length) return -1
    this.startValue(head, index, flags, cas, bytes)
    return opaqueEnd + 2
  }

  protected valueLine(head: RetrievalExpectation, b: Uint8Array, s: number, e: number) {
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
    this.startValue(head, i, flags, cas, bytes)
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

  /** The value of the key `head` asked for at `index` starts: its block of `bytes` follows. */
  protected startValue(
    head: RetrievalExpectation,
    index: number,
    flags: number,
    cas: bigint | undefined,
    bytes: number
  ) {
    this.keyIndex = index + 1
    this.valueHead = head
    this.valueKey = head.keys[index]!
    this.valueFlags = flags
    this.valueCas = cas
    this.blockMode = BLOCK_VALUE
    this.startData(bytes)
  }

  /** The block of the value started last: kept for the reply, or streamed to the retrieval's `onValue`. */
  protected valueBlock(value: Uint8Array) {
    const item: Reply.Value = { key: this.valueKey, flags: this.valueFlags, value, cas: this.valueCas }
    this.valueCount++
    // A streamed retrieval hands each value over at once.
    const onValue = this.valueHead!.onValue
    if (onValue !== undefined) onValue(item)
    else if (this.values === undefined) this.values = [item]
    else this.values.push(item)
  }
}
