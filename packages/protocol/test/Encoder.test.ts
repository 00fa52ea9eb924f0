import { Command, Encoder } from "@effect-memcache/protocol"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { bytes, cases, checked, concat, encoded, latin1, text } from "./commands.ts"

const utf8 = new TextEncoder()
const abc = bytes("abc")

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
    const encoder = new Encoder.Encoder()
    for (const c of commands) encoder.append(checked(c))
    expect(encoder.size).toBe(expected(commands).byteLength)
    const chunks = encoder.take()
    expect(chunks).toHaveLength(1)
    expect(latin1(chunks[0])).toBe(latin1(expected(commands)))
    expect(encoder.size).toBe(0)
    expect(encoder.take()).toEqual([])
  })

  it("returns a large value as its own chunk, by reference, with the same bytes", () => {
    const big = new Uint8Array(20000).map((_, i) => i % 251)
    const encoder = new Encoder.Encoder()
    const batch = [Command.get("x"), Command.set("big", big), Command.delete("x")]
    for (const c of batch) encoder.append(checked(c))
    expect(encoder.size).toBe(expected(batch).byteLength)
    const chunks = encoder.take()
    expect(chunks.map((c) => c.byteLength)).toEqual([7 + 19, 20000, 2 + 10])
    expect(chunks[1]).toBe(big)
    expect(concat(chunks)).toEqual(expected(batch))
  })

  it("handles a large value as the very first and last thing appended", () => {
    const big = new Uint8Array(16385).fill(7)
    const encoder = new Encoder.Encoder({ copyThreshold: 16384 })
    encoder.append(checked(Command.set("b", big)))
    const chunks = encoder.take()
    expect(chunks).toHaveLength(3)
    expect(chunks[1]).toBe(big)
    expect(concat(chunks)).toEqual(encoded(Command.set("b", big)))
    // at the threshold the value is copied into the shared chunk
    const at = new Uint8Array(16384).fill(9)
    encoder.append(checked(Command.set("b", at)))
    const copied = encoder.take()
    expect(copied).toHaveLength(1)
    expect(copied[0]).toEqual(encoded(Command.set("b", at)))
  })

  it("never overwrites chunks handed out by an earlier take", () => {
    const encoder = new Encoder.Encoder({ initialCapacity: 64 })
    const taken: Array<{ chunks: Array<Uint8Array>; copy: Uint8Array }> = []
    for (let round = 0; round < 50; round++) {
      const batch = [Command.set(`k${round}`, bytes(`value-${round}`.repeat(round % 7))), Command.get(`k${round}`)]
      for (const c of batch) encoder.append(checked(c))
      const chunks = encoder.take()
      // a snapshot of what the socket would have been given
      taken.push({ chunks, copy: concat(chunks).slice() })
      expect(concat(chunks)).toEqual(expected(batch))
    }
    for (const { chunks, copy } of taken) expect(concat(chunks)).toEqual(copy)
  })

  it("writes over its buffer from the start after recycle, and only once everything appended was taken", () => {
    const encoder = new Encoder.Encoder({ initialCapacity: 64 })
    encoder.append(checked(Command.get("a")))
    const [first] = encoder.take()
    encoder.recycle()
    encoder.append(checked(Command.get("b")))
    const [second] = encoder.take()
    // The same memory: the first chunk now shows the second command (its bytes were consumed).
    expect(second!.buffer).toBe(first!.buffer)
    expect(second!.byteOffset).toBe(first!.byteOffset)
    expect(concat([second!])).toEqual(expected([Command.get("b")]))
    expect(concat([first!])).toEqual(expected([Command.get("b")]))
    // Bytes appended and not taken yet are never written over.
    encoder.append(checked(Command.get("c")))
    encoder.recycle()
    encoder.append(checked(Command.get("d")))
    expect(concat(encoder.take())).toEqual(expected([Command.get("c"), Command.get("d")]))
    // Nor are the chunks of a big value passed by reference, or bytes taken after it.
    const big = new Uint8Array(20000).fill(7)
    encoder.append(checked(Command.set("big", big)))
    encoder.recycle()
    const chunks = encoder.take()
    expect(concat(chunks)).toEqual(expected([Command.set("big", big)]))
  })

  it("keeps earlier chunks intact when the buffer grows in the middle of a batch", () => {
    const encoder = new Encoder.Encoder({ initialCapacity: 64 })
    encoder.append(checked(Command.set("first", bytes("1"))))
    const first = encoder.take()
    const firstCopy = concat(first).slice()
    const big = new Uint8Array(20000).fill(1)
    const batch = [
      Command.get("a".repeat(200)),
      Command.set("big", big),
      Command.set("mid", new Uint8Array(1000).fill(2)),
      Command.gets(Array.from({ length: 30 }, (_, i) => `key${i}`))
    ]
    for (const c of batch) encoder.append(checked(c))
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
          const encoder = new Encoder.Encoder({ initialCapacity, copyThreshold })
          const seen: Array<[Array<Uint8Array>, Uint8Array]> = []
          for (const batch of batches) {
            for (const c of batch) encoder.append(checked(c))
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
          const encoder = new Encoder.Encoder()
          encoder.append(checked(Command.set(key, value, { flags, exptime, noreply })))
          expect(concat(encoder.take())).toEqual(want)
        }
      ),
      { numRuns: 500 }
    )
  })
})

describe("long key lists", () => {
  it("get, gets, gat and gats with many keys (ASCII and not) are the keys joined by spaces", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.stringMatching(/^[!-~é中😀]{1,20}$/u).filter((k) => new TextEncoder().encode(k).byteLength <= 250),
          { minLength: 1, maxLength: 40 }
        ),
        (keys) => {
          expect(encoded(Command.get(keys))).toEqual(bytes(`get ${keys.join(" ")}\r\n`))
          expect(encoded(Command.gets(keys))).toEqual(bytes(`gets ${keys.join(" ")}\r\n`))
          const short = keys.slice(0, 20)
          expect(encoded(Command.gat(60, short))).toEqual(bytes(`gat 60 ${short.join(" ")}\r\n`))
          expect(encoded(Command.gats(-1, short))).toEqual(bytes(`gats -1 ${short.join(" ")}\r\n`))
        }
      )
    )
  })

  it("the coalescing Encoder writes the same bytes for a long list", () => {
    const keys = Array.from({ length: 100 }, (_, i) => `clé:${i}`)
    const encoder = new Encoder.Encoder()
    encoder.append(checked(Command.get(keys)))
    encoder.append(checked(Command.get(["a"])))
    const out = Buffer.concat(encoder.take())
    expect(new Uint8Array(out)).toEqual(bytes(`get ${keys.join(" ")}\r\nget a\r\n`))
  })
})

describe("the encoder's input", () => {
  it("is a validated command: an unchecked one is a type error", () => {
    const unchecked: Command.Command = Command.get("a")
    const encoder = new Encoder.Encoder()
    const appendUnchecked = () =>
      // @ts-expect-error: append takes Validation.Validated commands only
      encoder.append(unchecked)
    const encodeUnchecked = () =>
      // @ts-expect-error: encode too
      Encoder.encode(unchecked)
    expect([appendUnchecked, encodeUnchecked]).toHaveLength(2)
    encoder.append(checked(unchecked))
    expect(latin1(concat(encoder.take()))).toBe("get a\r\n")
  })
})
