/**
 * How each kind of command line is written: bytes straight into a buffer the encoder reserved, no string built on
 * the way, one {@link LineCodec} per kind (text and meta).
 *
 * The writers are module-local on purpose: the codecs call them for every command, and a call through an imported
 * (or exported) binding loads and checks a module cell each time, which shows in the encoding of a small `set`.
 *
 * @internal
 */
import type * as Command from "../Command.ts"
import * as Key from "../Key.ts"
import type { Validated } from "../Validation.ts"

const SP = 0x20

const utf8 = new TextEncoder()

/** The number of characters of `n` written in decimal (sign included). */
export const decimalLength = (n: number): number => {
  if (!Number.isFinite(n)) return String(n).length
  let digits = n < 0 ? 2 : 1
  let v = n < 0 ? -n : n
  while (v >= 10) {
    v = Math.floor(v / 10)
    digits++
  }
  return digits
}

const writeAscii = (buf: Uint8Array, pos: number, s: string): number => {
  for (let i = 0; i < s.length; i++) buf[pos + i] = s.charCodeAt(i)
  return pos + s.length
}

/** Whether a key holds a byte the text protocol cannot carry (a space, a control byte, DEL). */
const hasUnsafeByte = (key: string): boolean => {
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i)
    if (c <= 0x20 || c === 0x7f) return true
  }
  return false
}

/**
 * A text key: ASCII keys (the common case) go through a char loop; the first non-ASCII char hands the rest to
 * encodeInto. A key with a byte the text protocol cannot carry was validated for the meta form only
 * (`Limits.base64Keys`): writing it would split the command line, so this throws instead.
 */
const writeKey = (buf: Uint8Array, pos: number, key: string): number => {
  const length = key.length
  for (let i = 0; i < length; i++) {
    const c = key.charCodeAt(i)
    // Outside `!`..`~`, in one unsigned compare.
    if ((c - 0x21) >>> 0 >= 0x5e) return writeKeyRest(buf, pos, key, i)
    buf[pos + i] = c
  }
  return pos + length
}

const writeKeyRest = (buf: Uint8Array, pos: number, key: string, i: number): number => {
  if (hasUnsafeByte(key)) {
    throw new Error("a key with a space or control byte can only be written in the meta form (Encoder.appendMeta)")
  }
  const rest = i === 0 ? key : key.slice(i)
  return pos + i + utf8.encodeInto(rest, buf.subarray(pos + i)).written
}

/** Whether the last {@link writeMetaKey} wrote the key base64 (so the command needs its `b` flag). */
let metaKeyIsBase64 = false

/**
 * A meta command's key: a binary key base64; a text key as it is, unless it holds a byte the text protocol cannot
 * carry, when its UTF-8 goes base64 (the same item: the server decodes it). {@link metaKeyIsBase64} says which.
 */
const writeMetaKey = (buf: Uint8Array, pos: number, key: string | Uint8Array): number => {
  if (typeof key !== "string") {
    metaKeyIsBase64 = true
    return Key.writeBase64(key, buf, pos)
  }
  const length = key.length
  for (let i = 0; i < length; i++) {
    const c = key.charCodeAt(i)
    if ((c - 0x21) >>> 0 >= 0x5e) return writeUnusualMetaKey(buf, pos, key)
    buf[pos + i] = c
  }
  metaKeyIsBase64 = false
  return pos + length
}

const writeUnusualMetaKey = (buf: Uint8Array, pos: number, key: string): number => {
  metaKeyIsBase64 = hasUnsafeByte(key)
  return metaKeyIsBase64 ? Key.writeBase64(utf8.encode(key), buf, pos) : writeUtf8(buf, pos, key)
}

/** A string of any characters, as UTF-8, in one native call (a joined key line). */
const writeUtf8 = (buf: Uint8Array, pos: number, s: string): number =>
  pos + utf8.encodeInto(s, buf.subarray(pos)).written

/** Integers are written digit by digit from the end: no string is built. */
const writeInt = (buf: Uint8Array, pos: number, n: number): number => {
  // The numbers of a small command (flags, exptime, a length) mostly have one to three digits.
  if (n < 10 && n >= 0) {
    buf[pos] = 0x30 + n
    return pos + 1
  }
  if (n < 0) {
    buf[pos++] = 0x2d
    n = -n
  }
  const end = pos + (n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : decimalLength(n))
  let p = end
  do {
    const q = Math.floor(n / 10)
    buf[--p] = 0x30 + (n - q * 10)
    n = q
  } while (n > 0)
  return end
}

const writeBigint = (buf: Uint8Array, pos: number, n: bigint): number => writeAscii(buf, pos, n.toString())

/** ` <flag letter>`, of a meta command. */
const writeFlag = (buf: Uint8Array, pos: number, flag: number): number => {
  buf[pos] = SP
  buf[pos + 1] = flag
  return pos + 2
}

const writeIntFlag = (buf: Uint8Array, pos: number, flag: number, n: number): number =>
  writeInt(buf, writeFlag(buf, pos, flag), n)

const writeBigintFlag = (buf: Uint8Array, pos: number, flag: number, n: bigint): number =>
  writeBigint(buf, writeFlag(buf, pos, flag), n)

/**
 * How one kind of command is written: an upper bound of its line's byte length (UTF-16 unit x3 covers UTF-8; 24
 * bytes per number is more than any valid number needs), so the encoder reserves room once and then writes without
 * checks, and the line itself without its CRLF (for storage commands: the line before the data block).
 *
 * One small pair of functions per kind, not one switch over every kind: V8 optimizes a function once it has run
 * its own bytecode a number of times that grows with the function's size, so a switch of which each call runs a
 * sliver stays unoptimized long, while a small writer of its own is optimized early.
 */
export interface LineCodec<C> {
  readonly bound: (command: C) => number
  readonly write: (buf: Uint8Array, pos: number, command: C) => number
}

/** How the meta form of a text command is written: as a {@link LineCodec}, with the first opaque it carries. */
export interface FormCodec<C> {
  readonly bound: (command: C) => number
  readonly write: (buf: Uint8Array, pos: number, command: C, opaque: number) => number
}

/** `base` plus a space and up to 3 bytes per UTF-16 unit for each word of a list (keys, stats arguments). */
const wordsBound = (base: number, words: ReadonlyArray<string>): number => {
  let n = base
  for (let i = 0; i < words.length; i++) n += 1 + words[i].length * 3
  return n
}

/**
 * Room for a key and its ` b`: base64 of a binary key, or 4 bytes per UTF-16 unit of a text key (3 of UTF-8, and a
 * third more should it go base64).
 */
const keyBound = (key: string | Uint8Array): number =>
  typeof key !== "string" ? Key.base64Length(key.byteLength) + 2 : key.length * 4 + 6

/** A one-key command: the key and a few numbers and words. */
const keyedBound = (command: { readonly key: string | Uint8Array }): number => 128 + keyBound(command.key)

const fixedBound = (): number => 64

/** The codec of a command whose line never changes (`version`, `quit`, `mn`). */
const fixedLine = (text: string): LineCodec<unknown> => ({
  bound: fixedBound,
  write: (buf, pos) => writeAscii(buf, pos, text)
})

// ---------------------------------------------------------------------------------------------------------------
// text commands
// ---------------------------------------------------------------------------------------------------------------

/** The kinds of the text protocol (every command but the meta ones). */
type TextCommand = Exclude<Command.Command, { readonly _tag: `Meta${string}` }>

const writeNoreply = (buf: Uint8Array, pos: number, noreply: boolean): number =>
  noreply ? writeAscii(buf, pos, " noreply") : pos

/**
 * ` k1 k2 ...`: a long list (which validation joined) goes through one native `encodeInto` of its joined line,
 * faster than writing each key's characters from JavaScript; a short one is not worth the joined string.
 */
const writeKeyList = (
  buf: Uint8Array,
  pos: number,
  keys: ReadonlyArray<string>,
  joinedKeys: string | undefined
): number => {
  if (joinedKeys === undefined) {
    let p = pos
    for (let i = 0; i < keys.length; i++) {
      buf[p++] = SP
      p = writeKey(buf, p, keys[i]!)
    }
    return p
  }
  buf[pos] = SP
  return writeUtf8(buf, pos + 1, joinedKeys)
}

const keyListBound = (command: { readonly keys: ReadonlyArray<string> }): number => wordsBound(40, command.keys)

/** The line codec of each text kind. */
export const textLineCodecs: {
  readonly [T in TextCommand["_tag"]]: LineCodec<Validated<Extract<TextCommand, { readonly _tag: T }>>>
} = {
  Store: {
    bound: keyedBound,
    write: (buf, pos, command) => {
      let p = writeAscii(buf, pos, command.verb)
      buf[p++] = SP
      p = writeKey(buf, p, command.key)
      buf[p++] = SP
      p = writeInt(buf, p, command.flags)
      buf[p++] = SP
      p = writeInt(buf, p, command.exptime)
      buf[p++] = SP
      p = writeInt(buf, p, command.value.byteLength)
      return writeNoreply(buf, p, command.noreply)
    }
  },
  Cas: {
    bound: keyedBound,
    write: (buf, pos, command) => {
      let p = writeAscii(buf, pos, "cas ")
      p = writeKey(buf, p, command.key)
      buf[p++] = SP
      p = writeInt(buf, p, command.flags)
      buf[p++] = SP
      p = writeInt(buf, p, command.exptime)
      buf[p++] = SP
      p = writeInt(buf, p, command.value.byteLength)
      buf[p++] = SP
      p = writeBigint(buf, p, command.cas)
      return writeNoreply(buf, p, command.noreply)
    }
  },
  Get: {
    bound: keyListBound,
    write: (buf, pos, command) =>
      writeKeyList(buf, writeAscii(buf, pos, command.verb), command.keys, command.joinedKeys)
  },
  Gat: {
    bound: keyListBound,
    write: (buf, pos, command) => {
      let p = writeAscii(buf, pos, command.verb)
      buf[p++] = SP
      p = writeInt(buf, p, command.exptime)
      return writeKeyList(buf, p, command.keys, command.joinedKeys)
    }
  },
  Delete: {
    bound: keyedBound,
    write: (buf, pos, command) =>
      writeNoreply(buf, writeKey(buf, writeAscii(buf, pos, "delete "), command.key), command.noreply)
  },
  Arithmetic: {
    bound: keyedBound,
    write: (buf, pos, command) => {
      let p = writeAscii(buf, pos, command.verb)
      buf[p++] = SP
      p = writeKey(buf, p, command.key)
      buf[p++] = SP
      p = writeBigint(buf, p, command.delta)
      return writeNoreply(buf, p, command.noreply)
    }
  },
  Touch: {
    bound: keyedBound,
    write: (buf, pos, command) => {
      let p = writeAscii(buf, pos, "touch ")
      p = writeKey(buf, p, command.key)
      buf[p++] = SP
      p = writeInt(buf, p, command.exptime)
      return writeNoreply(buf, p, command.noreply)
    }
  },
  Stats: {
    bound: (command) => wordsBound(16, command.args),
    write: (buf, pos, command) => {
      let p = writeAscii(buf, pos, "stats")
      for (let i = 0; i < command.args.length; i++) {
        buf[p++] = SP
        p = writeAscii(buf, p, command.args[i])
      }
      return p
    }
  },
  Version: fixedLine("version"),
  Verbosity: {
    bound: fixedBound,
    write: (buf, pos, command) =>
      writeNoreply(buf, writeInt(buf, writeAscii(buf, pos, "verbosity "), command.level), command.noreply)
  },
  FlushAll: {
    bound: fixedBound,
    write: (buf, pos, command) => {
      let p = writeAscii(buf, pos, "flush_all")
      if (command.delay !== undefined) {
        buf[p++] = SP
        p = writeInt(buf, p, command.delay)
      }
      return writeNoreply(buf, p, command.noreply)
    }
  },
  CacheMemlimit: {
    bound: fixedBound,
    write: (buf, pos, command) =>
      writeNoreply(buf, writeInt(buf, writeAscii(buf, pos, "cache_memlimit "), command.megabytes), command.noreply)
  },
  Quit: fixedLine("quit"),
  Shutdown: {
    bound: fixedBound,
    write: (buf, pos, command) => writeAscii(buf, pos, command.graceful ? "shutdown graceful" : "shutdown")
  }
}

/**
 * The writers, for the meta commands' codecs (`metaLineCodecs.ts`, `metaFormCodecs.ts`), which take them into
 * module-local constants. Not the functions themselves exported: an exported binding is read through a module cell
 * on every call, here too, which showed in the text codecs' throughput.
 */
export const writers = {
  SP,
  writeAscii,
  writeMetaKey,
  /** Whether the last `writeMetaKey` wrote the key base64 (so the command needs its `b` flag). */
  metaKeyIsBase64: (): boolean => metaKeyIsBase64,
  writeInt,
  writeFlag,
  writeIntFlag,
  writeBigintFlag,
  keyBound,
  keyedBound,
  fixedLine
} as const
