/**
 * How each meta command's line is written (`mg`, `ms`, `md`, `ma`, `me`, `mn`), with the writers of
 * `lineCodecs.ts`. A text key that holds a space or control byte goes base64, like a binary key.
 *
 * @internal
 */
import type * as Meta from "../Meta.ts"
import type { Validated } from "../Validation.ts"
import { type LineCodec, writers } from "./lineCodecs.ts"

const {
  fixedLine,
  keyBound,
  keyedBound,
  SP,
  writeAscii,
  writeBigintFlag,
  writeFlag,
  writeInt,
  writeIntFlag,
  writeMetaKey,
  metaKeyIsBase64
} = writers

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
      return metaKeyIsBase64() ? writeFlag(buf, p, 0x62) : p
    }
  },
  MetaGet: {
    bound: metaBound,
    write: (buf, pos, command) => {
      let p = writeMetaKey(buf, writeAscii(buf, pos, "mg "), command.key)
      // b v s f t c k h l O q u T N R
      if (metaKeyIsBase64()) p = writeFlag(buf, p, 0x62)
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
      const base64 = metaKeyIsBase64()
      buf[p++] = SP
      p = writeInt(buf, p, command.value.byteLength)
      // b c C F I k O q T M
      if (base64) p = writeFlag(buf, p, 0x62)
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
      if (metaKeyIsBase64()) p = writeFlag(buf, p, 0x62)
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
      if (metaKeyIsBase64()) p = writeFlag(buf, p, 0x62)
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
