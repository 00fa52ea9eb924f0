import { Command, Errors, Key, Reply } from "@effect-memcache/protocol"
import fc from "fast-check"
import { describe, expect, it } from "vitest"

const utf8 = new TextEncoder()
const bytes = (s: string): Uint8Array => utf8.encode(s)
const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("latin1")

const encoded = (command: Command.Command, limits?: Command.Limits): Uint8Array => {
  const result = Command.encode(command, limits)
  if (result instanceof Errors.InvalidInput) throw result
  return result
}
const text = (command: Command.Command, limits?: Command.Limits): string =>
  new TextDecoder("utf-8", { fatal: true }).decode(encoded(command, limits))

const refused = (command: Command.Command, limits?: Command.Limits): Errors.InvalidInput => {
  const error = Command.validate(command, limits)
  expect(error).toBeInstanceOf(Errors.InvalidInput)
  // nothing is produced on failure: encode returns the same refusal
  const result = Command.encode(command, limits)
  expect(result).toBeInstanceOf(Errors.InvalidInput)
  expect(result).toEqual(error)
  return error!
}

const concat = (chunks: ReadonlyArray<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0))
  let p = 0
  for (const c of chunks) {
    out.set(c, p)
    p += c.byteLength
  }
  return out
}

const abc = bytes("abc")

// it.each titles from the expected bytes (the commands hold bigints, which %j cannot print)
const cases = (rows: ReadonlyArray<readonly [Command.Command, string]>): Array<[string, Command.Command]> =>
  rows.map(([command, expected]) => [expected, command])

describe("text storage encoders", () => {
  it.each(
    cases([
      [Command.set("k", abc, { flags: 5, exptime: 10, noreply: true }), "set k 5 10 3 noreply\r\nabc\r\n"],
      [Command.set("k", abc), "set k 0 0 3\r\nabc\r\n"],
      [Command.add("k", abc, { exptime: -1 }), "add k 0 -1 3\r\nabc\r\n"],
      [Command.replace("k", abc, { flags: 4294967295 }), "replace k 4294967295 0 3\r\nabc\r\n"],
      [Command.append("k", abc, { noreply: true }), "append k 0 0 3 noreply\r\nabc\r\n"],
      [Command.prepend("k", abc), "prepend k 0 0 3\r\nabc\r\n"],
      [Command.store("set", "k", new Uint8Array(0)), "set k 0 0 0\r\n\r\n"],
      [Command.cas("k", abc, 42n), "cas k 0 0 3 42\r\nabc\r\n"],
      [
        Command.cas("k", abc, 18446744073709551615n, { flags: 1, exptime: 2, noreply: true }),
        "cas k 1 2 3 18446744073709551615 noreply\r\nabc\r\n"
      ],
      [Command.set("é", bytes("é")), "set é 0 0 2\r\né\r\n"]
    ])
  )("%j", (expected, command) => {
    expect(text(command)).toBe(expected)
  })

  it("sends the value bytes as they are, CRLF and END included, with a byte length", () => {
    const value = new Uint8Array([0, 13, 10, 0x45, 0x4e, 0x44, 13, 10, 255])
    expect(latin1(encoded(Command.set("bin", value)))).toBe("set bin 0 0 9\r\n\x00\r\nEND\r\n\xff\r\n")
  })

  it("encodes exact bytes for the exptime and flags edges", () => {
    expect(text(Command.set("k", abc, { exptime: -(2 ** 31) }))).toBe("set k 0 -2147483648 3\r\nabc\r\n")
    expect(text(Command.set("k", abc, { exptime: 2 ** 31 - 1 }))).toBe("set k 0 2147483647 3\r\nabc\r\n")
  })
})

describe("retrieval encoders", () => {
  it.each(
    cases([
      [Command.get("a"), "get a\r\n"],
      [Command.get(["a", "b", "a"]), "get a b a\r\n"],
      [Command.gets("a"), "gets a\r\n"],
      [Command.gets(["a", "b"]), "gets a b\r\n"],
      [Command.gat(60, "a"), "gat 60 a\r\n"],
      [Command.gat(-1, ["a", "b"]), "gat -1 a b\r\n"],
      [Command.gats(0, "a"), "gats 0 a\r\n"],
      [Command.gats(100, ["a", "b"]), "gats 100 a b\r\n"]
    ])
  )("%j", (expected, command) => {
    expect(text(command)).toBe(expected)
  })

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
          const error = Command.validate(Command.get(keys))
          if (first === -1) {
            expect(error).toBeUndefined()
            expect(text(Command.get(keys))).toBe(`get ${keys.join(" ")}\r\n`)
          } else {
            expect(error?.reason).toBe(`keys[${first}] ${Key.validate(keys[first]!)!.reason}`)
          }
        }
      )
    )
  })

  it("the Encoder writes a long key list as validate checked it, and an unchecked one as it is", () => {
    const checked = Array.from({ length: 10 }, (_, i) => `k${i}`)
    const line = `get ${checked.join(" ")}\r\n`
    expect(Command.validate(Command.get(checked))).toBeUndefined()
    ;(checked as Array<string>)[3] = "bad key\r\nflush_all"
    const unchecked = Array.from({ length: 10 }, (_, i) => `u${i}`)
    const encoder = new Command.Encoder()
    encoder.append(Command.get(checked))
    encoder.append(Command.get(unchecked))
    expect(latin1(concat(encoder.take()))).toBe(`${line}get ${unchecked.join(" ")}\r\n`)
  })

  it("accepts a gat line of exactly 2048 bytes and refuses 2049", () => {
    // "gat 0" (5) + 8 x (" " + 250) (2008) + " " + 32 + "\r\n" = 2048
    const keys = [...Array.from({ length: 8 }, (_, i) => String(i).repeat(250)), "x".repeat(32)]
    expect(encoded(Command.gat(0, keys)).byteLength).toBe(2048)
    const error = refused(Command.gat(0, [...keys.slice(0, 8), "x".repeat(33)]))
    expect(error.field).toBe("line")
    expect(error.reason).toBe(
      "the gat line would be 2049 bytes with its CRLF, over the server's limit of 2048 (it would close the connection); split the keys with Command.splitKeys"
    )
    expect(refused(Command.gats(0, [...keys.slice(0, 8), "x".repeat(33)])).field).toBe("line")
  })

  it("lets get lines be longer than 2048 bytes", () => {
    const keys = Array.from({ length: 100 }, (_, i) => `key-${i}`.padEnd(100, "x"))
    expect(Command.validate(Command.get(keys))).toBeUndefined()
    expect(encoded(Command.gets(keys)).byteLength).toBe(4 + 100 * 101 + 2)
  })
})

describe("other keyed encoders", () => {
  it.each(
    cases([
      [Command.delete("k"), "delete k\r\n"],
      [Command.delete("k", { noreply: true }), "delete k noreply\r\n"],
      [Command.incr("n", 1n), "incr n 1\r\n"],
      [Command.incr("n", 18446744073709551615n, { noreply: true }), "incr n 18446744073709551615 noreply\r\n"],
      [Command.decr("n", 0n), "decr n 0\r\n"],
      [Command.decr("n", 7n, { noreply: true }), "decr n 7 noreply\r\n"],
      [Command.touch("k", 10), "touch k 10\r\n"],
      [Command.touch("k", -1, { noreply: true }), "touch k -1 noreply\r\n"]
    ])
  )("%j", (expected, command) => {
    expect(text(command)).toBe(expected)
  })
})

describe("admin encoders", () => {
  it.each(
    cases([
      [Command.stats(), "stats\r\n"],
      [Command.stats(["slabs"]), "stats slabs\r\n"],
      [Command.stats(["cachedump", "1", "10"]), "stats cachedump 1 10\r\n"],
      [Command.version, "version\r\n"],
      [Command.verbosity(1), "verbosity 1\r\n"],
      [Command.verbosity(0, { noreply: true }), "verbosity 0 noreply\r\n"],
      [Command.flushAll(), "flush_all\r\n"],
      [Command.flushAll({ delay: 10 }), "flush_all 10\r\n"],
      [Command.flushAll({ noreply: true }), "flush_all noreply\r\n"],
      [Command.flushAll({ delay: 0, noreply: true }), "flush_all 0 noreply\r\n"],
      [Command.cacheMemlimit(64), "cache_memlimit 64\r\n"],
      [Command.cacheMemlimit(100, { noreply: true }), "cache_memlimit 100 noreply\r\n"],
      [Command.quit, "quit\r\n"],
      [Command.shutdown(), "shutdown\r\n"],
      [Command.shutdown({ graceful: true }), "shutdown graceful\r\n"],
      [Command.sync, "mn\r\n"]
    ])
  )("%j", (expected, command) => {
    expect(text(command)).toBe(expected)
  })

  it("refuses bad stats arguments and over-long stats lines", () => {
    expect(refused(Command.stats(["a b"])).reason).toBe(
      "stats argument 0 contains character U+0020 at offset 1 (only [!-~] is allowed)"
    )
    expect(refused(Command.stats(["items", ""])).reason).toBe("stats argument 1 is empty")
    expect(refused(Command.stats(["x\r\nflush_all"])).field).toBe("argument")
    // "stats" + " " + 2040 + CRLF = 2048
    expect(Command.validate(Command.stats(["x".repeat(2040)]))).toBeUndefined()
    expect(refused(Command.stats(["x".repeat(2041)])).field).toBe("line")
  })

  it("refuses bad verbosity levels, megabytes and flush delays", () => {
    expect(refused(Command.verbosity(-1)).reason).toBe("verbosity level -1 is outside [0, 4294967295]")
    expect(refused(Command.verbosity(1.5)).reason).toBe("verbosity level must be an integer, got 1.5")
    expect(refused(Command.cacheMemlimit(2 ** 32)).field).toBe("argument")
    expect(Command.validate(Command.cacheMemlimit(2 ** 32 - 1))).toBeUndefined()
    const delay = refused(Command.flushAll({ delay: 2 ** 31 }))
    expect(delay.field).toBe("exptime")
    expect(delay.reason).toContain("flush_all delay: 2147483648 is outside")
  })
})

describe("validation of storage inputs", () => {
  it("accepts the edges", () => {
    expect(Command.validate(Command.set("k".repeat(250), abc))).toBeUndefined()
    expect(Command.validate(Command.set("é".repeat(125), abc))).toBeUndefined()
    expect(Command.validate(Command.set("k", abc, { flags: 2 ** 32 - 1 }))).toBeUndefined()
    expect(Command.validate(Command.set("k", abc, { exptime: -(2 ** 31) }))).toBeUndefined()
    expect(Command.validate(Command.set("k", abc, { exptime: 2 ** 31 - 1 }))).toBeUndefined()
    expect(Command.validate(Command.cas("k", abc, 2n ** 64n - 1n))).toBeUndefined()
    expect(Command.validate(Command.cas("k", abc, 0n))).toBeUndefined()
    expect(Command.validate(Command.incr("k", 2n ** 64n - 1n))).toBeUndefined()
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
    expect(Command.validate(Command.get("e"), { allowUnicodeKeys: false })).toBeUndefined()
  })

  it("enforces the configurable item size limit", () => {
    expect(Command.validate(Command.set("k", new Uint8Array(1024)), { itemSizeMax: 1024 })).toBeUndefined()
    const error = refused(Command.set("k", new Uint8Array(1025)), { itemSizeMax: 1024 })
    expect(error.field).toBe("value")
    expect(error.reason).toBe("is 1025 bytes, over the item size limit of 1024")
    expect(Command.validate(Command.set("k", new Uint8Array(1048576)))).toBeUndefined()
    expect(refused(Command.cas("k", new Uint8Array(1048577), 1n)).field).toBe("value")
  })

  it("refuses an unknown storage verb", () => {
    expect(refused(Command.store("cas" as Command.StorageVerb, "k", abc)).field).toBe("argument")
  })

  it("refuses a command of an unknown kind, including names an object inherits", () => {
    for (const tag of ["Bogus", "constructor", "toString", "__proto__"]) {
      const command = { _tag: tag, key: "k" } as unknown as Command.Command
      expect(refused(command).field).toBe("argument")
      expect(Command.encode(command)).toBeInstanceOf(Errors.InvalidInput)
    }
  })
})

describe("expectation", () => {
  it("maps each command to its reply form", () => {
    expect(Command.expectation(Command.set("k", abc))).toBe(Reply.expect.Storage)
    expect(Command.expectation(Command.cas("k", abc, 1n))).toBe(Reply.expect.Storage)
    expect(Command.expectation(Command.set("k", abc, { noreply: true }))).toBeUndefined()
    expect(Command.expectation(Command.get(["a", "b"]))).toEqual({ _tag: "Retrieval", keys: ["a", "b"], cas: false })
    expect(Command.expectation(Command.gets("a"))).toEqual({ _tag: "Retrieval", keys: ["a"], cas: true })
    expect(Command.expectation(Command.gat(1, "a"))).toEqual({ _tag: "Retrieval", keys: ["a"], cas: false })
    expect(Command.expectation(Command.gats(1, "a"))).toEqual({ _tag: "Retrieval", keys: ["a"], cas: true })
    expect(Command.expectation(Command.delete("k"))).toBe(Reply.expect.Delete)
    expect(Command.expectation(Command.delete("k", { noreply: true }))).toBeUndefined()
    expect(Command.expectation(Command.incr("k", 1n))).toBe(Reply.expect.Arithmetic)
    expect(Command.expectation(Command.decr("k", 1n, { noreply: true }))).toBeUndefined()
    expect(Command.expectation(Command.touch("k", 1))).toBe(Reply.expect.Touch)
    expect(Command.expectation(Command.touch("k", 1, { noreply: true }))).toBeUndefined()
    expect(Command.expectation(Command.stats())).toBe(Reply.expect.Stats)
    expect(Command.expectation(Command.version)).toBe(Reply.expect.Version)
    expect(Command.expectation(Command.verbosity(1))).toBe(Reply.expect.Ok)
    expect(Command.expectation(Command.flushAll({ noreply: true }))).toBeUndefined()
    expect(Command.expectation(Command.flushAll())).toBe(Reply.expect.Ok)
    expect(Command.expectation(Command.cacheMemlimit(64))).toBe(Reply.expect.Ok)
    expect(Command.expectation(Command.quit)).toBeUndefined()
    expect(Command.expectation(Command.shutdown())).toBe(Reply.expect.Shutdown)
    expect(Command.expectation(Command.sync)).toBe(Reply.expect.Sync)
  })
})

describe("splitKeys", () => {
  const keys = Array.from({ length: 40 }, (_, i) => `${i}`.padStart(3, "0").padEnd(200, "k"))

  it("keeps every gat line within 2048 bytes, in order, losing nothing", () => {
    const groups = Command.splitKeys("gat", keys, { exptime: 3600 })
    expect(groups.flat()).toEqual(keys)
    expect(groups.length).toBeGreaterThan(1)
    for (const group of groups) {
      const line = encoded(Command.gat(3600, group))
      expect(line.byteLength).toBeLessThanOrEqual(2048)
    }
    // greedy: each group but the last could not take the next key
    expect(groups[0].length).toBe(10) // "gat 3600" 8 + 10 x 201 + 2 = 2020; one more is 2221
  })

  it("fills a line to exactly the limit", () => {
    const exact = [...Array.from({ length: 8 }, (_, i) => String(i).repeat(250)), "x".repeat(32), "y"]
    const groups = Command.splitKeys("gat", exact, { exptime: 0 })
    expect(groups.map((g) => g.length)).toEqual([9, 1])
    expect(encoded(Command.gat(0, groups[0])).byteLength).toBe(2048)
  })

  it("uses 16384 for get by default and honours maxLineBytes", () => {
    expect(Command.splitKeys("get", keys)).toEqual([keys])
    const small = Command.splitKeys("gets", ["aaaa", "bbbb", "cccc"], { maxLineBytes: 16 })
    expect(small).toEqual([["aaaa", "bbbb"], ["cccc"]]) // "gets aaaa bbbb\r\n" is 16 bytes
    expect(Command.splitKeys("get", [])).toEqual([])
    expect(Command.splitKeys("get", ["toolong"], { maxLineBytes: 4 })).toEqual([["toolong"]])
  })
})

describe("Encoder", () => {
  const commands: ReadonlyArray<Command.Command> = [
    Command.set("a", abc, { noreply: true }),
    Command.get(["a", "b"]),
    Command.incr("n", 1n),
    Command.sync
  ]
  const expected = (cs: ReadonlyArray<Command.Command>) => concat(cs.map((c) => encoded(c)))

  it("coalesces several commands into exactly their concatenation", () => {
    const encoder = new Command.Encoder()
    for (const c of commands) encoder.append(c)
    expect(encoder.size).toBe(expected(commands).byteLength)
    const chunks = encoder.take()
    expect(chunks).toHaveLength(1)
    expect(latin1(chunks[0])).toBe(latin1(expected(commands)))
    expect(encoder.size).toBe(0)
    expect(encoder.take()).toEqual([])
  })

  it("returns a large value as its own chunk, by reference, with the same bytes", () => {
    const big = new Uint8Array(20000).map((_, i) => i % 251)
    const encoder = new Command.Encoder()
    const batch = [Command.get("x"), Command.set("big", big), Command.delete("x")]
    for (const c of batch) encoder.append(c)
    expect(encoder.size).toBe(expected(batch).byteLength)
    const chunks = encoder.take()
    expect(chunks.map((c) => c.byteLength)).toEqual([7 + 19, 20000, 2 + 10])
    expect(chunks[1]).toBe(big)
    expect(concat(chunks)).toEqual(expected(batch))
  })

  it("handles a large value as the very first and last thing appended", () => {
    const big = new Uint8Array(16385).fill(7)
    const encoder = new Command.Encoder({ copyThreshold: 16384 })
    encoder.append(Command.set("b", big))
    const chunks = encoder.take()
    expect(chunks).toHaveLength(3)
    expect(chunks[1]).toBe(big)
    expect(concat(chunks)).toEqual(encoded(Command.set("b", big)))
    // at the threshold the value is copied into the shared chunk
    const at = new Uint8Array(16384).fill(9)
    encoder.append(Command.set("b", at))
    const copied = encoder.take()
    expect(copied).toHaveLength(1)
    expect(copied[0]).toEqual(encoded(Command.set("b", at)))
  })

  it("never overwrites chunks handed out by an earlier take", () => {
    const encoder = new Command.Encoder({ initialCapacity: 64 })
    const taken: Array<{ chunks: Array<Uint8Array>; copy: Uint8Array }> = []
    for (let round = 0; round < 50; round++) {
      const batch = [Command.set(`k${round}`, bytes(`value-${round}`.repeat(round % 7))), Command.get(`k${round}`)]
      for (const c of batch) encoder.append(c)
      const chunks = encoder.take()
      // a snapshot of what the socket would have been given
      taken.push({ chunks, copy: concat(chunks).slice() })
      expect(concat(chunks)).toEqual(expected(batch))
    }
    for (const { chunks, copy } of taken) expect(concat(chunks)).toEqual(copy)
  })

  it("writes over its buffer from the start after recycle, and only once everything appended was taken", () => {
    const encoder = new Command.Encoder({ initialCapacity: 64 })
    encoder.append(Command.get("a"))
    const [first] = encoder.take()
    encoder.recycle()
    encoder.append(Command.get("b"))
    const [second] = encoder.take()
    // The same memory: the first chunk now shows the second command (its bytes were consumed).
    expect(second!.buffer).toBe(first!.buffer)
    expect(second!.byteOffset).toBe(first!.byteOffset)
    expect(concat([second!])).toEqual(expected([Command.get("b")]))
    expect(concat([first!])).toEqual(expected([Command.get("b")]))
    // Bytes appended and not taken yet are never written over.
    encoder.append(Command.get("c"))
    encoder.recycle()
    encoder.append(Command.get("d"))
    expect(concat(encoder.take())).toEqual(expected([Command.get("c"), Command.get("d")]))
    // Nor are the chunks of a big value passed by reference, or bytes taken after it.
    const big = new Uint8Array(20000).fill(7)
    encoder.append(Command.set("big", big))
    encoder.recycle()
    const chunks = encoder.take()
    expect(concat(chunks)).toEqual(expected([Command.set("big", big)]))
  })

  it("keeps earlier chunks intact when the buffer grows in the middle of a batch", () => {
    const encoder = new Command.Encoder({ initialCapacity: 64 })
    encoder.append(Command.set("first", bytes("1")))
    const first = encoder.take()
    const firstCopy = concat(first).slice()
    const big = new Uint8Array(20000).fill(1)
    const batch = [
      Command.get("a".repeat(200)),
      Command.set("big", big),
      Command.set("mid", new Uint8Array(1000).fill(2)),
      Command.gets(Array.from({ length: 30 }, (_, i) => `key${i}`))
    ]
    for (const c of batch) encoder.append(c)
    const second = encoder.take()
    expect(concat(second)).toEqual(expected(batch))
    expect(concat(first)).toEqual(firstCopy)
  })

  it("for any batch of commands, the chunks are the concatenation of encode()", () => {
    const key = fc.stringMatching(/^[!-~]{1,20}$/)
    const value = fc.uint8Array({ maxLength: 300 })
    const command: fc.Arbitrary<Command.Command> = fc.oneof(
      fc.tuple(key, value, fc.boolean()).map(([k, v, noreply]) => Command.set(k, v, { noreply })),
      fc.array(key, { minLength: 1, maxLength: 5 }).map((ks) => Command.get(ks)),
      fc.tuple(key, fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })).map(([k, d]) => Command.incr(k, d)),
      fc.constant(Command.sync)
    )
    fc.assert(
      fc.property(
        fc.array(fc.array(command, { maxLength: 8 }), { maxLength: 6 }),
        fc.integer({ min: 64, max: 512 }),
        fc.integer({ min: 0, max: 400 }),
        (batches, initialCapacity, copyThreshold) => {
          const encoder = new Command.Encoder({ initialCapacity, copyThreshold })
          const seen: Array<[Array<Uint8Array>, Uint8Array]> = []
          for (const batch of batches) {
            for (const c of batch) encoder.append(c)
            const want = expected(batch)
            expect(encoder.size).toBe(want.byteLength)
            const chunks = encoder.take()
            expect(concat(chunks)).toEqual(want)
            seen.push([chunks, want])
          }
          for (const [chunks, want] of seen) expect(concat(chunks)).toEqual(want)
        }
      )
    )
  })
})

describe("encode(set) property", () => {
  // An independent model of the set line: template string, then TextEncoder.
  const validKey = fc
    .string({
      unit: fc.oneof(
        fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
        fc.constantFrom("é", "€", "😀", "ß", "中")
      ),
      minLength: 1,
      maxLength: 250
    })
    .filter((k) => utf8.encode(k).length <= 250)

  it("equals the expected bytes for any valid key, value, flags, exptime, noreply", () => {
    fc.assert(
      fc.property(
        validKey,
        fc.uint8Array({ maxLength: 2000 }),
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        fc.boolean(),
        (key, value, flags, exptime, noreply) => {
          const line = utf8.encode(`set ${key} ${flags} ${exptime} ${value.length}${noreply ? " noreply" : ""}\r\n`)
          const want = concat([line, value, utf8.encode("\r\n")])
          expect(encoded(Command.set(key, value, { flags, exptime, noreply }))).toEqual(want)
          const encoder = new Command.Encoder()
          encoder.append(Command.set(key, value, { flags, exptime, noreply }))
          expect(concat(encoder.take())).toEqual(want)
        }
      ),
      { numRuns: 500 }
    )
  })
})

describe("long key lists", () => {
  const bytesOf = (text: string) => new TextEncoder().encode(text)
  const encoded = (command: Command.Command) => {
    const result = Command.encode(command)
    if (result instanceof Errors.InvalidInput) throw result
    return result
  }

  it("get, gets, gat and gats with many keys (ASCII and not) are the keys joined by spaces", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.stringMatching(/^[!-~é中😀]{1,20}$/u).filter((k) => new TextEncoder().encode(k).byteLength <= 250),
          { minLength: 1, maxLength: 40 }
        ),
        (keys) => {
          expect(encoded(Command.get(keys))).toEqual(bytesOf(`get ${keys.join(" ")}\r\n`))
          expect(encoded(Command.gets(keys))).toEqual(bytesOf(`gets ${keys.join(" ")}\r\n`))
          const short = keys.slice(0, 20)
          expect(encoded(Command.gat(60, short))).toEqual(bytesOf(`gat 60 ${short.join(" ")}\r\n`))
          expect(encoded(Command.gats(-1, short))).toEqual(bytesOf(`gats -1 ${short.join(" ")}\r\n`))
        }
      )
    )
  })

  it("the coalescing Encoder writes the same bytes for a long list", () => {
    const keys = Array.from({ length: 100 }, (_, i) => `clé:${i}`)
    const encoder = new Command.Encoder()
    encoder.append(Command.get(keys))
    encoder.append(Command.get(["a"]))
    const out = Buffer.concat(encoder.take())
    expect(new Uint8Array(out)).toEqual(bytesOf(`get ${keys.join(" ")}\r\nget a\r\n`))
  })
})
