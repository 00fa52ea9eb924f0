import { Command, Encoder, Key, Meta, Reply, Validation } from "@effect-memcache/protocol"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { accepts, bytes, checked, concat, encoded, latin1, refused, text } from "./commands.ts"

const abc = bytes("abc")

describe("validated commands", () => {
  it("are the commands themselves, except a long key list, which carries its joined line", () => {
    for (const command of [
      Command.set("k", abc),
      Command.get("k"),
      Command.gets(["a", "b", "c", "d", "e", "f", "g"]),
      Command.gat(1, "k"),
      Command.delete("k"),
      Command.stats(),
      Meta.get("k", { value: true }),
      Meta.noop
    ]) {
      accepts(command)
    }
    const long = Command.get(["a", "b", "c", "d", "e", "f", "g", "h"])
    expect(checked(long)).toEqual({ ...long, joinedKeys: "a b c d e f g h" })
  })

  it("include the connection's own commands, validated once", () => {
    expect(Validation.sync).toBe(Command.sync)
    expect(Validation.version).toBe(Command.version)
    expect(Validation.quit).toBe(Command.quit)
    expect(latin1(concat([Validation.sync, Validation.version, Validation.quit].map(Encoder.encode)))).toBe(
      "mn\r\nversion\r\nquit\r\n"
    )
    expect(Reply.expectation(Validation.sync)).toBe(Reply.expect.Sync)
  })

  it("narrow with isInvalid, for any kind of command", () => {
    const some = <C extends Command.Command>(command: C): Validation.Validated<C> | undefined => {
      const result = Validation.validate(command)
      if (Validation.isInvalid(result)) return undefined
      return result
    }
    expect(some(Command.touch("k", 1))).toEqual(Command.touch("k", 1))
    expect(some(Command.touch("a b", 1))).toBeUndefined()
  })
})

describe("validation of key lists", () => {
  it("refuses an empty key list and names the bad key of a list", () => {
    expect(refused(Command.get([])).field).toBe("keys")
    expect(refused(Command.gats(1, [])).field).toBe("keys")
    const error = refused(Command.get(["ok", "bad key"]))
    expect(error.field).toBe("key")
    expect(error.reason).toBe("keys[1] contains a space (byte 0x20 at offset 3)")
  })

  it("a long key list (checked on its joined line) refuses what the per-key check refuses, and names the key", () => {
    const good = fc.stringMatching(/^[!-~]{1,12}$/)
    const faulty = fc.constantFrom(
      "",
      "a b",
      " ",
      "tab\there",
      "cr\r",
      "del\x7f",
      "é",
      "日本",
      "\ud800",
      "x".repeat(251)
    )
    fc.assert(
      fc.property(
        fc.array(fc.oneof({ weight: 9, arbitrary: good }, { weight: 1, arbitrary: faulty }), {
          minLength: 8,
          maxLength: 24
        }),
        (keys) => {
          const first = keys.findIndex((k) => Key.validate(k) !== undefined)
          const result = Validation.validate(Command.get(keys))
          if (first === -1) {
            expect(Validation.isInvalid(result)).toBe(false)
            expect(text(Command.get(keys))).toBe(`get ${keys.join(" ")}\r\n`)
          } else {
            expect(Validation.isInvalid(result) && result.reason).toBe(
              `keys[${first}] ${Key.validate(keys[first]!)!.reason}`
            )
          }
        }
      )
    )
  })

  it("a long key list comes back with the line it checked, which is what the encoder writes", () => {
    const keys = Array.from({ length: 10 }, (_, i) => `k${i}`)
    const line = `get ${keys.join(" ")}\r\n`
    const command = checked(Command.get(keys))
    expect(command.joinedKeys).toBe(keys.join(" "))
    ;(keys as Array<string>)[3] = "bad key\r\nflush_all"
    const encoder = new Encoder.Encoder()
    encoder.append(command)
    expect(latin1(concat(encoder.take()))).toBe(line)
    expect(latin1(Encoder.encode(command))).toBe(line)
  })

  it("joins a long list of non-ASCII keys too, and a short list not at all", () => {
    const keys = Array.from({ length: 8 }, (_, i) => `clé:${i}`)
    expect(checked(Command.gats(60, keys)).joinedKeys).toBe(keys.join(" "))
    const short = Command.get(keys.slice(0, 7))
    expect(checked(short)).toBe(short)
  })

  it("accepts a gat line of exactly 2048 bytes and refuses 2049", () => {
    // "gat 0" (5) + 8 x (" " + 250) (2008) + " " + 32 + "\r\n" = 2048
    const keys = [...Array.from({ length: 8 }, (_, i) => String(i).repeat(250)), "x".repeat(32)]
    expect(encoded(Command.gat(0, keys)).byteLength).toBe(2048)
    const error = refused(Command.gat(0, [...keys.slice(0, 8), "x".repeat(33)]))
    expect(error.field).toBe("line")
    expect(error.reason).toBe(
      "the gat line would be 2049 bytes with its CRLF, over the server's limit of 2048 (it would close the connection); split the keys with KeyList.splitKeys"
    )
    expect(refused(Command.gats(0, [...keys.slice(0, 8), "x".repeat(33)])).field).toBe("line")
  })

  it("lets get lines be longer than 2048 bytes", () => {
    const keys = Array.from({ length: 100 }, (_, i) => `key-${i}`.padEnd(100, "x"))
    expect(Validation.isInvalid(Validation.validate(Command.get(keys)))).toBe(false)
    expect(encoded(Command.gets(keys)).byteLength).toBe(4 + 100 * 101 + 2)
  })
})

describe("validation of admin commands", () => {
  it("refuses bad stats arguments and over-long stats lines", () => {
    expect(refused(Command.stats(["a b"])).reason).toBe(
      "stats argument 0 contains character U+0020 at offset 1 (only [!-~] is allowed)"
    )
    expect(refused(Command.stats(["items", ""])).reason).toBe("stats argument 1 is empty")
    expect(refused(Command.stats(["x\r\nflush_all"])).field).toBe("argument")
    // "stats" + " " + 2040 + CRLF = 2048
    accepts(Command.stats(["x".repeat(2040)]))
    expect(refused(Command.stats(["x".repeat(2041)])).field).toBe("line")
  })

  it("refuses bad verbosity levels, megabytes and flush delays", () => {
    expect(refused(Command.verbosity(-1)).reason).toBe("verbosity level -1 is outside [0, 4294967295]")
    expect(refused(Command.verbosity(1.5)).reason).toBe("verbosity level must be an integer, got 1.5")
    expect(refused(Command.cacheMemlimit(2 ** 32)).field).toBe("argument")
    accepts(Command.cacheMemlimit(2 ** 32 - 1))
    const delay = refused(Command.flushAll({ delay: 2 ** 31 }))
    expect(delay.field).toBe("exptime")
    expect(delay.reason).toContain("flush_all delay: 2147483648 is outside")
  })
})

describe("validation of storage inputs", () => {
  it("accepts the edges", () => {
    accepts(Command.set("k".repeat(250), abc))
    accepts(Command.set("é".repeat(125), abc))
    accepts(Command.set("k", abc, { flags: 2 ** 32 - 1 }))
    accepts(Command.set("k", abc, { exptime: -(2 ** 31) }))
    accepts(Command.set("k", abc, { exptime: 2 ** 31 - 1 }))
    accepts(Command.cas("k", abc, 2n ** 64n - 1n))
    accepts(Command.cas("k", abc, 0n))
    accepts(Command.incr("k", 2n ** 64n - 1n))
  })

  it("refuses one past each edge, naming the field", () => {
    expect(refused(Command.set("k".repeat(251), abc)).field).toBe("key")
    expect(refused(Command.set("é".repeat(126), abc)).reason).toContain("252 bytes")
    const flags = refused(Command.set("k", abc, { flags: 2 ** 32 }))
    expect(flags.field).toBe("flags")
    expect(flags.reason).toBe(
      "client flags 4294967296 is outside [0, 4294967295] (the server would silently truncate it)"
    )
    expect(refused(Command.set("k", abc, { flags: -1 })).field).toBe("flags")
    expect(refused(Command.set("k", abc, { flags: 0.5 })).reason).toBe("client flags must be an integer, got 0.5")
    expect(refused(Command.set("k", abc, { exptime: 2 ** 31 })).field).toBe("exptime")
    expect(refused(Command.add("k", abc, { exptime: -(2 ** 31) - 1 })).field).toBe("exptime")
    const cas = refused(Command.cas("k", abc, 2n ** 64n))
    expect(cas.field).toBe("cas")
    expect(cas.reason).toBe("18446744073709551616 is outside the unsigned 64-bit range [0, 18446744073709551615]")
    expect(refused(Command.cas("k", abc, -1n)).field).toBe("cas")
    expect(refused(Command.incr("k", 2n ** 64n)).field).toBe("delta")
    expect(refused(Command.decr("k", -1n)).field).toBe("delta")
    expect(refused(Command.incr("k", 1 as unknown as bigint)).reason).toBe("must be a bigint, got number 1")
    expect(refused(Command.touch("k", 2 ** 31)).field).toBe("exptime")
    expect(refused(Command.gat(2 ** 31, "k")).field).toBe("exptime")
  })

  it.each(["a b", "a\rb", "a\nb", "a\tb", "a\0b", "a\x7fb", "a\r\nflush_all", ""])(
    "refuses the injection key %j in every keyed command",
    (key) => {
      for (const command of [
        Command.set(key, abc),
        Command.cas(key, abc, 1n),
        Command.get(key),
        Command.gats(1, ["ok", key]),
        Command.delete(key),
        Command.incr(key, 1n),
        Command.touch(key, 1)
      ]) {
        expect(refused(command).field).toBe("key")
      }
    }
  )

  it("refuses non-ASCII keys when allowUnicodeKeys is false", () => {
    expect(refused(Command.get("é"), { allowUnicodeKeys: false }).field).toBe("key")
    accepts(Command.get("e"), { allowUnicodeKeys: false })
  })

  it("bounds the whole item by itemSizeMax as memcached counts it: 59 bytes, the key, the value, 4 for flags", () => {
    const limits = { itemSizeMax: 1024 }
    accepts(Command.set("k", new Uint8Array(964)), limits)
    const error = refused(Command.set("k", new Uint8Array(965)), limits)
    expect(error.field).toBe("value")
    expect(error.reason).toBe(
      "is 965 bytes, over the 964 that fit under a 1-byte key with flags 0: memcached counts the whole item (59 bytes of header, the key, the value) against the item size limit of 1024"
    )
    accepts(Command.set("k", new Uint8Array(960), { flags: 1 }), limits)
    expect(refused(Command.set("k", new Uint8Array(961), { flags: 1 }), limits).reason).toBe(
      "is 961 bytes, over the 960 that fit under a 1-byte key with flags 1: memcached counts the whole item (59 bytes of header, the key, the value, 4 bytes for the flags) against the item size limit of 1024"
    )
    // The key counts in UTF-8 bytes: "é" is 2.
    accepts(Command.add("é", new Uint8Array(963)), limits)
    expect(refused(Command.add("é", new Uint8Array(964)), limits).field).toBe("value")
    // The default limit is the server's default -I, 1 MiB.
    accepts(Command.cas("k", new Uint8Array(1048516), 1n))
    expect(refused(Command.cas("k", new Uint8Array(1048517), 1n)).field).toBe("value")
    const key250 = "k".repeat(250)
    accepts(Command.append(key250, new Uint8Array(1048263), { flags: 0xffffffff }))
    expect(refused(Command.append(key250, new Uint8Array(1048264), { flags: 0xffffffff })).field).toBe("value")
  })

  it("bounds ms the same way, a binary key counted by its decoded bytes, flags by F", () => {
    const binary = new Uint8Array(186).fill(0xff)
    accepts(Meta.set(binary, new Uint8Array(1048576 - 59 - 186)))
    expect(refused(Meta.set(binary, new Uint8Array(1048576 - 59 - 186 + 1))).field).toBe("value")
    accepts(Meta.set("ms", new Uint8Array(1048576 - 59 - 2 - 4), { clientFlags: 16 }))
    expect(refused(Meta.set("ms", new Uint8Array(1048576 - 59 - 2 - 3), { clientFlags: 16 })).field).toBe("value")
  })

  it("accepts a value exactly when its item fits: itemSize <= itemSizeMax, maxValueSize its largest value", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 250 }),
        fc.constantFrom(0, 1, 16, 2 ** 31, 2 ** 32 - 1),
        fc.integer({ min: 1024, max: 4096 }),
        fc.integer({ min: -400, max: 400 }),
        (keyBytes, flags, itemSizeMax, offset) => {
          const largest = itemSizeMax - 59 - keyBytes - (flags === 0 ? 0 : 4)
          expect(Validation.maxValueSize(keyBytes, flags, itemSizeMax)).toBe(largest)
          const length = Math.max(0, largest + offset)
          expect(Validation.itemSize(keyBytes, length, flags)).toBe(length + itemSizeMax - largest)
          const result = Validation.validate(Command.set("k".repeat(keyBytes), new Uint8Array(length), { flags }), {
            itemSizeMax
          })
          expect(Validation.isInvalid(result)).toBe(length > largest)
        }
      )
    )
    expect(Validation.maxValueSize(1, 0)).toBe(1048516)
    expect(Validation.ITEM_OVERHEAD).toBe(59)
  })

  it("refuses an unknown storage verb", () => {
    expect(refused(Command.store("cas" as Command.StorageVerb, "k", abc)).field).toBe("argument")
  })

  it("refuses a command of an unknown kind, including names an object inherits", () => {
    for (const tag of ["Bogus", "constructor", "toString", "__proto__"]) {
      const command = { _tag: tag, key: "k" } as unknown as Command.Command
      expect(refused(command).field).toBe("argument")
    }
  })

  it("answered: a noreply command asks for its reply, every other command stays as it is", () => {
    const quiet = checked(Command.set("k", abc, { noreply: true }))
    const loud = Validation.answered(quiet)
    expect(latin1(Encoder.encode(loud))).toBe("set k 0 0 3\r\nabc\r\n")
    expect(Reply.expectation(loud)).toBe(Reply.expect.Storage)
    expect(latin1(Encoder.encode(quiet))).toBe("set k 0 0 3 noreply\r\nabc\r\n")
    expect(latin1(Encoder.encode(Validation.answered(checked(Command.incr("n", 1n, { noreply: true })))))).toBe(
      "incr n 1\r\n"
    )
    const get = checked(Command.get("k"))
    expect(Validation.answered(get)).toBe(get)
  })
})
