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
  buf[pos] = SP
  buf[pos + 1] = 0x4f
  const p = writeOpaque(buf, pos + 2, opaque)
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

/**
 * An opaque (0 to 2^31-1) in decimal: the digits counted by comparison and written from the end with integer
 * division, as every line of a get run carries one.
 */
const writeOpaque = (buf: Uint8Array, pos: number, n: number): number => {
  const end =
    pos +
    (n < 10
      ? 1
      : n < 100
        ? 2
        : n < 1e3
          ? 3
          : n < 1e4
            ? 4
            : n < 1e5
              ? 5
              : n < 1e6
                ? 6
                : n < 1e7
                  ? 7
                  : n < 1e8
                    ? 8
                    : n < 1e9
                      ? 9
                      : 10)
  let p = end
  do {
    const q = (n / 10) | 0
    buf[--p] = 0x30 + n - q * 10
    n = q
  } while (n > 0)
  return end
}

/**
 * One quiet `mg` of a get run, `mg <key> [b] v f [c] [T<exptime>] O<opaque> q\r\n`, byte by byte: it is written
 * once per key.
 */
const writeRunLine = (
  buf: Uint8Array,
  pos: number,
  key: string,
  cas: boolean,
  exptime: number | undefined,
  opaque: number
): number => {
  buf[pos] = 0x6d
  buf[pos + 1] = 0x67
  buf[pos + 2] = SP
  let p = writeMetaKey(buf, pos + 3, key)
  if (metaKeyIsBase64()) p = writeFlag(buf, p, 0x62)
  buf[p] = SP
  buf[p + 1] = 0x76
  buf[p + 2] = SP
  buf[p + 3] = 0x66
  p += 4
  if (cas) p = writeFlag(buf, p, 0x63)
  if (exptime !== undefined) p = writeIntFlag(buf, p, 0x54, exptime)
  buf[p] = SP
  buf[p + 1] = 0x4f
  p = writeOpaque(buf, p + 2, opaque)
  buf[p] = SP
  buf[p + 1] = 0x71
  buf[p + 2] = CR
  buf[p + 3] = LF
  return p + 4
}

const runBound = (command: { readonly keys: ReadonlyArray<string> }): number => {
  // Per key: `mg ` and ` b v f c T<11> O<10> q\r\n` take 48 bytes at most, the key 4 per UTF-16 unit.
  let n = 16
  for (let i = 0; i < command.keys.length; i++) n += 48 + command.keys[i]!.length * 4
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
