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
import type * as Meta from "../Meta.ts"
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

/** ASCII keys (the common case) go through a char loop; the first non-ASCII char hands the rest to encodeInto. */
const writeKey = (buf: Uint8Array, pos: number, key: string): number => {
  const length = key.length
  for (let i = 0; i < length; i++) {
    const c = key.charCodeAt(i)
    if (c >= 0x80) {
      const rest = i === 0 ? key : key.slice(i)
      return pos + i + utf8.encodeInto(rest, buf.subarray(pos + i)).written
    }
    buf[pos + i] = c
  }
  return pos + length
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

/** `base` plus a space and up to 3 bytes per UTF-16 unit for each word of a list (keys, stats arguments). */
const wordsBound = (base: number, words: ReadonlyArray<string>): number => {
  let n = base
  for (let i = 0; i < words.length; i++) n += 1 + words[i].length * 3
  return n
}

/** Room for a key: base64 of a binary key (with its ` b`), or 3 bytes per UTF-16 unit of a text key. */
const keyBound = (key: string | Uint8Array): number =>
  key instanceof Uint8Array ? Key.base64Length(key.byteLength) + 2 : key.length * 3

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

// ---------------------------------------------------------------------------------------------------------------
// meta commands
// ---------------------------------------------------------------------------------------------------------------

/** The letter of each `ms` mode (`M<letter>`); validation accepts exactly these. */
export const setModeBytes: Record<Meta.SetMode, number> = {
  set: 0x53,
  add: 0x45,
  append: 0x41,
  prepend: 0x50,
  replace: 0x52
}

/** The letter of each `ma` mode (`M<letter>`); validation accepts exactly these. */
export const arithmeticModeBytes: Record<Meta.ArithmeticMode, number> = { incr: 0x49, decr: 0x44 }

const writeMetaKey = (buf: Uint8Array, pos: number, key: string | Uint8Array): number =>
  key instanceof Uint8Array ? Key.writeBase64(key, buf, pos) : writeKey(buf, pos, key)

const writeFlag = (buf: Uint8Array, pos: number, flag: number): number => {
  buf[pos] = SP
  buf[pos + 1] = flag
  return pos + 2
}

const writeIntFlag = (buf: Uint8Array, pos: number, flag: number, n: number): number =>
  writeInt(buf, writeFlag(buf, pos, flag), n)

const writeBigintFlag = (buf: Uint8Array, pos: number, flag: number, n: bigint): number =>
  writeBigint(buf, writeFlag(buf, pos, flag), n)

const writeOpaque = (buf: Uint8Array, pos: number, opaque: string | undefined): number =>
  opaque === undefined ? pos : writeAscii(buf, writeFlag(buf, pos, 0x4f), opaque)

const metaBound = (command: { readonly key: string | Uint8Array; readonly opaque?: string | undefined }): number =>
  256 + keyBound(command.key) + (command.opaque === undefined ? 0 : command.opaque.length * 3)

/** The line codec of each meta kind. */
export const metaLineCodecs: {
  readonly [T in Meta.MetaCommand["_tag"]]: LineCodec<Validated<Extract<Meta.MetaCommand, { readonly _tag: T }>>>
} = {
  MetaNoop: fixedLine("mn"),
  MetaDebug: {
    bound: keyedBound,
    write: (buf, pos, command) => {
      const p = writeMetaKey(buf, writeAscii(buf, pos, "me "), command.key)
      return command.key instanceof Uint8Array ? writeFlag(buf, p, 0x62) : p
    }
  },
  MetaGet: {
    bound: metaBound,
    write: (buf, pos, command) => {
      let p = writeMetaKey(buf, writeAscii(buf, pos, "mg "), command.key)
      // b v s f t c k h l O q u T N R
      if (command.key instanceof Uint8Array) p = writeFlag(buf, p, 0x62)
      if (command.value === true) p = writeFlag(buf, p, 0x76)
      if (command.size === true) p = writeFlag(buf, p, 0x73)
      if (command.clientFlags === true) p = writeFlag(buf, p, 0x66)
      if (command.ttl === true) p = writeFlag(buf, p, 0x74)
      if (command.cas === true) p = writeFlag(buf, p, 0x63)
      if (command.returnKey === true) p = writeFlag(buf, p, 0x6b)
      if (command.hit === true) p = writeFlag(buf, p, 0x68)
      if (command.lastAccess === true) p = writeFlag(buf, p, 0x6c)
      p = writeOpaque(buf, p, command.opaque)
      if (command.quiet === true) p = writeFlag(buf, p, 0x71)
      if (command.noBump === true) p = writeFlag(buf, p, 0x75)
      if (command.touch !== undefined) p = writeIntFlag(buf, p, 0x54, command.touch)
      if (command.vivify !== undefined) p = writeIntFlag(buf, p, 0x4e, command.vivify)
      if (command.recache !== undefined) p = writeIntFlag(buf, p, 0x52, command.recache)
      return p
    }
  },
  MetaSet: {
    bound: metaBound,
    write: (buf, pos, command) => {
      let p = writeMetaKey(buf, writeAscii(buf, pos, "ms "), command.key)
      buf[p++] = SP
      p = writeInt(buf, p, command.value.byteLength)
      // b c C F I k O q T M
      if (command.key instanceof Uint8Array) p = writeFlag(buf, p, 0x62)
      if (command.returnCas === true) p = writeFlag(buf, p, 0x63)
      if (command.compareCas !== undefined) p = writeBigintFlag(buf, p, 0x43, command.compareCas)
      if (command.clientFlags !== undefined) p = writeIntFlag(buf, p, 0x46, command.clientFlags)
      if (command.invalidate === true) p = writeFlag(buf, p, 0x49)
      if (command.returnKey === true) p = writeFlag(buf, p, 0x6b)
      p = writeOpaque(buf, p, command.opaque)
      if (command.quiet === true) p = writeFlag(buf, p, 0x71)
      if (command.ttl !== undefined) p = writeIntFlag(buf, p, 0x54, command.ttl)
      if (command.mode !== undefined) {
        p = writeFlag(buf, p, 0x4d)
        buf[p++] = setModeBytes[command.mode]
      }
      return p
    }
  },
  MetaDelete: {
    bound: metaBound,
    write: (buf, pos, command) => {
      let p = writeMetaKey(buf, writeAscii(buf, pos, "md "), command.key)
      // b C I T k O q
      if (command.key instanceof Uint8Array) p = writeFlag(buf, p, 0x62)
      if (command.compareCas !== undefined) p = writeBigintFlag(buf, p, 0x43, command.compareCas)
      if (command.invalidate === true) p = writeFlag(buf, p, 0x49)
      if (command.ttl !== undefined) p = writeIntFlag(buf, p, 0x54, command.ttl)
      if (command.returnKey === true) p = writeFlag(buf, p, 0x6b)
      p = writeOpaque(buf, p, command.opaque)
      if (command.quiet === true) p = writeFlag(buf, p, 0x71)
      return p
    }
  },
  MetaArithmetic: {
    bound: metaBound,
    write: (buf, pos, command) => {
      let p = writeMetaKey(buf, writeAscii(buf, pos, "ma "), command.key)
      // b C N J D T M q t c v k O
      if (command.key instanceof Uint8Array) p = writeFlag(buf, p, 0x62)
      if (command.compareCas !== undefined) p = writeBigintFlag(buf, p, 0x43, command.compareCas)
      if (command.vivify !== undefined) p = writeIntFlag(buf, p, 0x4e, command.vivify)
      if (command.initial !== undefined) p = writeBigintFlag(buf, p, 0x4a, command.initial)
      if (command.delta !== undefined) p = writeBigintFlag(buf, p, 0x44, command.delta)
      if (command.ttl !== undefined) p = writeIntFlag(buf, p, 0x54, command.ttl)
      if (command.mode !== undefined) {
        p = writeFlag(buf, p, 0x4d)
        buf[p++] = arithmeticModeBytes[command.mode]
      }
      if (command.quiet === true) p = writeFlag(buf, p, 0x71)
      if (command.returnTtl === true) p = writeFlag(buf, p, 0x74)
      if (command.returnCas === true) p = writeFlag(buf, p, 0x63)
      if (command.returnValue === true) p = writeFlag(buf, p, 0x76)
      if (command.returnKey === true) p = writeFlag(buf, p, 0x6b)
      return writeOpaque(buf, p, command.opaque)
    }
  }
}
