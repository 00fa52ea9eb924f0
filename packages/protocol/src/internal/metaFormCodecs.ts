/**
 * The meta form of the text commands that have one: the same effect on the server, written as `ms`, `mg`, `md` or
 * `ma`, every line carrying an opaque (`O<n>`) the decoder checks on its reply. A noreply command goes quiet (`q`).
 * A get/gets/gat/gats is a run of quiet `mg`, one per key with consecutive opaques, closed by its own `mn`: only
 * its hits are answered, then `MN`.
 *
 * | text | meta form | replies, read back as the text replies |
 * | --- | --- | --- |
 * | `set/add/replace/append/prepend` | `ms <key> <n> [F] [T] [M<S/E/R/A/P>]` | `HD` `NS` |
 * | `cas` | `ms <key> <n> [F] [T] C<cas>` | `HD` `EX` `NF` |
 * | `get/gets` | `mg <key> v f [c] q` per key, `mn` | `VA` per hit, `MN` |
 * | `gat/gats` | `mg <key> v f [c] T<exptime> q` per key, `mn` | `VA` per hit, `MN` |
 * | `delete` | `md <key>` | `HD` `NF` |
 * | `incr/decr` | `ma <key> D<delta> [MD] v` | `VA` with the number, `NF` |
 * | `touch` | `mg <key> T<exptime>` | `HD` `EN` |
 *
 * Flags and exptimes of `append`/`prepend` are left out (the server ignores them, in both forms), as are the
 * defaults (`F0`, `T0`, `MS`, `MI`).
 *
 * @internal
 */
import type * as Command from "../Command.ts"
import type { Validated } from "../Validation.ts"
import { type FormCodec, writers } from "./lineCodecs.ts"

const { SP, writeAscii, writeBigintFlag, writeFlag, writeInt, writeIntFlag, writeMetaKey, metaKeyIsBase64 } = writers

/** The kinds that have a meta form. */
export type FormCommand =
  | Command.Store
  | Command.Cas
  | Command.Get
  | Command.Gat
  | Command.Delete
  | Command.Arithmetic
  | Command.Touch

const CR = 0x0d
const LF = 0x0a

/** The `ms` mode letter of each storage verb; `set` is the default and is not written. */
const storeMode: Record<Command.StorageVerb, number> = { set: 0, add: 0x45, replace: 0x52, append: 0x41, prepend: 0x50 }

const formBound = (command: { readonly key: string }): number => 160 + command.key.length * 4

/** ` b` when the key just written went base64. */
const writeBase64Flag = (buf: Uint8Array, pos: number, base64: boolean): number =>
  base64 ? writeFlag(buf, pos, 0x62) : pos

/** ` O<opaque>`, and ` q` for a noreply command. */
const writeTail = (buf: Uint8Array, pos: number, opaque: number, quiet: boolean): number => {
  const p = writeIntFlag(buf, pos, 0x4f, opaque)
  return quiet ? writeFlag(buf, p, 0x71) : p
}

/** `ms <key> <n> [b] [F<flags>] [T<exptime>]`, the line every storage form starts with. */
const writeSetHead = (
  buf: Uint8Array,
  pos: number,
  command: Command.Store | Command.Cas,
  withFlagsAndTtl: boolean
): number => {
  let p = writeMetaKey(buf, writeAscii(buf, pos, "ms "), command.key)
  const base64 = metaKeyIsBase64()
  buf[p++] = SP
  p = writeInt(buf, p, command.value.byteLength)
  p = writeBase64Flag(buf, p, base64)
  if (!withFlagsAndTtl) return p
  if (command.flags !== 0) p = writeIntFlag(buf, p, 0x46, command.flags)
  if (command.exptime !== 0) p = writeIntFlag(buf, p, 0x54, command.exptime)
  return p
}

/** One quiet `mg` of a get run: `mg <key> [b] v f [c] [T<exptime>] O<opaque> q\r\n`. */
const writeRunLine = (
  buf: Uint8Array,
  pos: number,
  key: string,
  cas: boolean,
  exptime: number | undefined,
  opaque: number
): number => {
  let p = writeMetaKey(buf, writeAscii(buf, pos, "mg "), key)
  p = writeBase64Flag(buf, p, metaKeyIsBase64())
  p = writeAscii(buf, p, cas ? " v f c" : " v f")
  if (exptime !== undefined) p = writeIntFlag(buf, p, 0x54, exptime)
  p = writeTail(buf, p, opaque, true)
  buf[p++] = CR
  buf[p++] = LF
  return p
}

const runBound = (command: { readonly keys: ReadonlyArray<string> }): number => {
  let n = 16
  for (let i = 0; i < command.keys.length; i++) n += 64 + command.keys[i]!.length * 4
  return n
}

/** The meta form's codec of each kind that has one (the line ends without its CRLF, as every codec's). */
export const formCodecs: {
  readonly [T in FormCommand["_tag"]]: FormCodec<Validated<Extract<FormCommand, { readonly _tag: T }>>>
} = {
  Store: {
    bound: formBound,
    write: (buf, pos, command, opaque) => {
      const mode = storeMode[command.verb]
      let p = writeSetHead(buf, pos, command, mode !== 0x41 && mode !== 0x50)
      if (mode !== 0) {
        p = writeFlag(buf, p, 0x4d)
        buf[p++] = mode
      }
      return writeTail(buf, p, opaque, command.noreply)
    }
  },
  Cas: {
    bound: formBound,
    write: (buf, pos, command, opaque) =>
      writeTail(
        buf,
        writeBigintFlag(buf, writeSetHead(buf, pos, command, true), 0x43, command.cas),
        opaque,
        command.noreply
      )
  },
  Get: {
    bound: runBound,
    write: (buf, pos, command, opaque) => {
      const cas = command.verb === "gets"
      let p = pos
      for (let i = 0; i < command.keys.length; i++)
        p = writeRunLine(buf, p, command.keys[i]!, cas, undefined, opaque + i)
      return writeAscii(buf, p, "mn")
    }
  },
  Gat: {
    bound: runBound,
    write: (buf, pos, command, opaque) => {
      const cas = command.verb === "gats"
      let p = pos
      for (let i = 0; i < command.keys.length; i++) {
        p = writeRunLine(buf, p, command.keys[i]!, cas, command.exptime, opaque + i)
      }
      return writeAscii(buf, p, "mn")
    }
  },
  Delete: {
    bound: formBound,
    write: (buf, pos, command, opaque) => {
      const p = writeMetaKey(buf, writeAscii(buf, pos, "md "), command.key)
      return writeTail(buf, writeBase64Flag(buf, p, metaKeyIsBase64()), opaque, command.noreply)
    }
  },
  Arithmetic: {
    bound: formBound,
    write: (buf, pos, command, opaque) => {
      let p = writeMetaKey(buf, writeAscii(buf, pos, "ma "), command.key)
      p = writeBigintFlag(buf, writeBase64Flag(buf, p, metaKeyIsBase64()), 0x44, command.delta)
      if (command.verb === "decr") p = writeAscii(buf, p, " MD")
      // A quiet `ma` answers nothing even with `v`: the value is asked for only when it is read.
      if (!command.noreply) p = writeFlag(buf, p, 0x76)
      return writeTail(buf, p, opaque, command.noreply)
    }
  },
  Touch: {
    bound: formBound,
    write: (buf, pos, command, opaque) => {
      const p = writeMetaKey(buf, writeAscii(buf, pos, "mg "), command.key)
      return writeTail(
        buf,
        writeIntFlag(buf, writeBase64Flag(buf, p, metaKeyIsBase64()), 0x54, command.exptime),
        opaque,
        command.noreply
      )
    }
  }
}

/** How many opaques the meta form of a command takes: one per key of a get run, one for the others, 0 if none. */
export const opaquesOf = (command: Command.Command): number => {
  switch (command._tag) {
    case "Get":
    case "Gat":
      return command.keys.length
    case "Store":
    case "Cas":
    case "Delete":
    case "Arithmetic":
    case "Touch":
      return 1
    default:
      return 0
  }
}
