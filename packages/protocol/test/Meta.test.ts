import { Command, Encoder, Meta, Reply } from "@effect-memcache/protocol"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { accepts, cases, checked, encoded, latin1, refused, text } from "./commands.ts"

const utf8 = new TextEncoder()

describe("mg", () => {
  it.each(
    cases([
      [Meta.get("k"), "mg k\r\n"],
      [Meta.get("k", { value: true }), "mg k v\r\n"],
      [Meta.get("k", { size: true }), "mg k s\r\n"],
      [Meta.get("k", { clientFlags: true }), "mg k f\r\n"],
      [Meta.get("k", { ttl: true }), "mg k t\r\n"],
      [Meta.get("k", { cas: true }), "mg k c\r\n"],
      [Meta.get("k", { returnKey: true }), "mg k k\r\n"],
      [Meta.get("k", { hit: true }), "mg k h\r\n"],
      [Meta.get("k", { lastAccess: true }), "mg k l\r\n"],
      [Meta.get("k", { opaque: "abc" }), "mg k Oabc\r\n"],
      [Meta.get("k", { quiet: true, opaque: "1" }), "mg k O1 q\r\n"],
      [Meta.get("k", { noBump: true }), "mg k u\r\n"],
      [Meta.get("k", { touch: 30 }), "mg k T30\r\n"],
      [Meta.get("k", { vivify: 0 }), "mg k N0\r\n"],
      [Meta.get("k", { recache: 15 }), "mg k R15\r\n"],
      [Meta.get("k", { value: false, quiet: false }), "mg k\r\n"],
      [Meta.get(new Uint8Array([0x61]), { value: true }), "mg YQ== b v\r\n"],
      [
        Meta.get("k", {
          recache: 3,
          vivify: 2,
          touch: 1,
          noBump: true,
          quiet: true,
          opaque: "o",
          lastAccess: true,
          hit: true,
          returnKey: true,
          cas: true,
          ttl: true,
          clientFlags: true,
          size: true,
          value: true
        }),
        "mg k v s f t c k h l Oo q u T1 N2 R3\r\n"
      ]
    ])
  )("%j", (expected, command) => {
    expect(text(command)).toBe(expected)
  })

  it("stays within the server's 20-token limit with every flag", () => {
    const line = text(
      Meta.get("k".repeat(250), {
        value: true,
        size: true,
        clientFlags: true,
        ttl: true,
        cas: true,
        returnKey: true,
        hit: true,
        lastAccess: true,
        opaque: "o".repeat(31),
        quiet: true,
        noBump: true,
        touch: -(2 ** 31),
        vivify: 2 ** 31 - 1,
        recache: 1
      })
    )
    expect(line.trimEnd().split(" ").length).toBe(16)
    const binary = text(Meta.get(new Uint8Array(186), { value: true, ttl: true, opaque: "o", quiet: true, touch: 1 }))
    expect(binary.trimEnd().split(" ").length).toBeLessThanOrEqual(20)
  })

  it("validates T, N and R like an exptime", () => {
    const touch = refused(Meta.get("k", { touch: 2 ** 31 }))
    expect(touch.field).toBe("exptime")
    expect(touch.reason).toMatch(/^T \(touch\): 2147483648 is outside/)
    expect(refused(Meta.get("k", { vivify: 1.5 })).reason).toMatch(/^N \(vivify\): must be an integer/)
    expect(refused(Meta.get("k", { recache: -(2 ** 31) - 1 })).reason).toMatch(/^R \(recache\)/)
    accepts(Meta.get("k", { touch: -(2 ** 31), vivify: 2 ** 31 - 1 }))
  })
})

describe("ms", () => {
  const v = utf8.encode("hi")
  it.each(
    cases([
      [Meta.set("k", v), "ms k 2\r\nhi\r\n"],
      [Meta.set("k", v, { returnCas: true }), "ms k 2 c\r\nhi\r\n"],
      [Meta.set("k", v, { compareCas: 18446744073709551615n }), "ms k 2 C18446744073709551615\r\nhi\r\n"],
      [Meta.set("k", v, { clientFlags: 4294967295 }), "ms k 2 F4294967295\r\nhi\r\n"],
      [Meta.set("k", v, { invalidate: true }), "ms k 2 I\r\nhi\r\n"],
      [Meta.set("k", v, { returnKey: true }), "ms k 2 k\r\nhi\r\n"],
      [Meta.set("k", v, { opaque: "x" }), "ms k 2 Ox\r\nhi\r\n"],
      [Meta.set("k", v, { quiet: true, opaque: "x" }), "ms k 2 Ox q\r\nhi\r\n"],
      [Meta.set("k", v, { ttl: -1 }), "ms k 2 T-1\r\nhi\r\n"],
      [Meta.set("k", v, { mode: "set" }), "ms k 2 MS\r\nhi\r\n"],
      [Meta.set("k", v, { mode: "add" }), "ms k 2 ME\r\nhi\r\n"],
      [Meta.set("k", v, { mode: "append" }), "ms k 2 MA\r\nhi\r\n"],
      [Meta.set("k", v, { mode: "prepend" }), "ms k 2 MP\r\nhi\r\n"],
      [Meta.set("k", v, { mode: "replace" }), "ms k 2 MR\r\nhi\r\n"],
      [Meta.set("k", new Uint8Array(0)), "ms k 0\r\n\r\n"],
      [Meta.set(new Uint8Array([0x61, 0x62]), v, { returnCas: true }), "ms YWI= 2 b c\r\nhi\r\n"],
      [
        Meta.set("k", v, {
          mode: "add",
          ttl: 60,
          quiet: true,
          opaque: "op",
          returnKey: true,
          invalidate: true,
          clientFlags: 7,
          compareCas: 5n,
          returnCas: true
        }),
        "ms k 2 c C5 F7 I k Oop q T60 ME\r\nhi\r\n"
      ]
    ])
  )("%j", (expected, command) => {
    expect(text(command)).toBe(expected)
  })

  it("sends binary data with its byte length", () => {
    const data = new Uint8Array([13, 10, 0, 255])
    const out = encoded(Meta.set("é", data))
    expect(out).toEqual(new Uint8Array([...utf8.encode("ms é 4\r\n"), 13, 10, 0, 255, 13, 10]))
    expect(latin1(out).endsWith("\r\n")).toBe(true)
  })

  it("refuses bad flags, cas, ttl, mode and oversized values", () => {
    const v1 = new Uint8Array(1)
    expect(refused(Meta.set("k", v1, { clientFlags: 2 ** 32 })).field).toBe("flags")
    expect(refused(Meta.set("k", v1, { compareCas: 2n ** 64n })).field).toBe("cas")
    expect(refused(Meta.set("k", v1, { compareCas: -1n })).field).toBe("cas")
    expect(refused(Meta.set("k", v1, { ttl: 2 ** 31 })).field).toBe("exptime")
    expect(refused(Meta.set("k", v1, { mode: "cas" as Meta.SetMode })).reason).toBe('unknown ms mode "cas"')
    const big = refused(Meta.set("k", new Uint8Array(965)), { itemSizeMax: 1024 })
    expect(big.field).toBe("value")
    expect(big.reason).toBe(
      "is 965 bytes, over the 964 that fit under a 1-byte key with flags 0: memcached counts the whole item (59 bytes of header, the key, the value) against the item size limit of 1024"
    )
  })
})

describe("md", () => {
  it.each(
    cases([
      [Meta.delete("k"), "md k\r\n"],
      [Meta.delete("k", { compareCas: 9n }), "md k C9\r\n"],
      [Meta.delete("k", { invalidate: true }), "md k I\r\n"],
      [Meta.delete("k", { invalidate: true, ttl: 30 }), "md k I T30\r\n"],
      [Meta.delete("k", { returnKey: true }), "md k k\r\n"],
      [Meta.delete("k", { opaque: "7" }), "md k O7\r\n"],
      [Meta.delete("k", { quiet: true, opaque: "7" }), "md k O7 q\r\n"],
      [Meta.delete(new Uint8Array([0xff]), { quiet: true, opaque: "7" }), "md /w== b O7 q\r\n"],
      [
        Meta.delete("k", { quiet: true, opaque: "z", returnKey: true, ttl: 5, invalidate: true, compareCas: 1n }),
        "md k C1 I T5 k Oz q\r\n"
      ]
    ])
  )("%j", (expected, command) => {
    expect(text(command)).toBe(expected)
  })

  it("refuses T without I, and bad cas", () => {
    const error = refused(Meta.delete("k", { ttl: 30 }))
    expect(error.field).toBe("exptime")
    expect(error.reason).toBe("T (ttl) of md only applies together with invalidate (I)")
    expect(refused(Meta.delete("k", { invalidate: true, ttl: 2 ** 31 })).field).toBe("exptime")
    expect(refused(Meta.delete("k", { compareCas: 2n ** 64n })).field).toBe("cas")
  })
})

describe("ma", () => {
  it.each(
    cases([
      [Meta.arithmetic("n"), "ma n\r\n"],
      [Meta.arithmetic("n", { compareCas: 3n }), "ma n C3\r\n"],
      [Meta.arithmetic("n", { vivify: 0 }), "ma n N0\r\n"],
      [Meta.arithmetic("n", { initial: 18446744073709551615n }), "ma n J18446744073709551615\r\n"],
      [Meta.arithmetic("n", { delta: 0n }), "ma n D0\r\n"],
      [Meta.arithmetic("n", { ttl: 100 }), "ma n T100\r\n"],
      [Meta.arithmetic("n", { mode: "incr" }), "ma n MI\r\n"],
      [Meta.arithmetic("n", { mode: "decr" }), "ma n MD\r\n"],
      [Meta.arithmetic("n", { quiet: true, opaque: "q1" }), "ma n q Oq1\r\n"],
      [Meta.arithmetic("n", { returnTtl: true }), "ma n t\r\n"],
      [Meta.arithmetic("n", { returnCas: true }), "ma n c\r\n"],
      [Meta.arithmetic("n", { returnValue: true }), "ma n v\r\n"],
      [Meta.arithmetic("n", { returnKey: true }), "ma n k\r\n"],
      [Meta.arithmetic("n", { opaque: "x" }), "ma n Ox\r\n"],
      [Meta.arithmetic(new Uint8Array([1, 2, 3]), { returnValue: true }), "ma AQID b v\r\n"],
      [
        Meta.arithmetic("n", {
          opaque: "o",
          returnKey: true,
          returnValue: true,
          returnCas: true,
          returnTtl: true,
          quiet: true,
          mode: "decr",
          ttl: 9,
          delta: 5n,
          initial: 10n,
          vivify: 60,
          compareCas: 2n
        }),
        "ma n C2 N60 J10 D5 T9 MD q t c v k Oo\r\n"
      ]
    ])
  )("%j", (expected, command) => {
    expect(text(command)).toBe(expected)
  })

  it("refuses u64 overflow and negatives of J, D and C, bad N/T and modes", () => {
    expect(refused(Meta.arithmetic("n", { initial: 2n ** 64n })).field).toBe("initial")
    expect(refused(Meta.arithmetic("n", { initial: -1n })).field).toBe("initial")
    expect(refused(Meta.arithmetic("n", { delta: 2n ** 64n })).field).toBe("delta")
    expect(refused(Meta.arithmetic("n", { delta: -1n })).field).toBe("delta")
    expect(refused(Meta.arithmetic("n", { compareCas: -1n })).field).toBe("cas")
    expect(refused(Meta.arithmetic("n", { vivify: 2 ** 31 })).reason).toMatch(/^N \(vivify\)/)
    expect(refused(Meta.arithmetic("n", { ttl: 0.5 })).reason).toMatch(/^T \(ttl\)/)
    expect(refused(Meta.arithmetic("n", { mode: "mul" as Meta.ArithmeticMode })).field).toBe("argument")
  })
})

describe("me and mn", () => {
  it("encodes exact bytes", () => {
    expect(text(Meta.debug("k"))).toBe("me k\r\n")
    expect(text(Meta.debug(new Uint8Array([0x61])))).toBe("me YQ== b\r\n")
    expect(text(Meta.noop)).toBe("mn\r\n")
    expect(Command.sync).toBe(Meta.noop)
  })
})

describe("meta keys", () => {
  it("accepts a 186-byte binary key (248 base64 bytes) and refuses 187", () => {
    const line = text(Meta.get(new Uint8Array(186).fill(0xfb)))
    expect(line).toBe(`mg ${Buffer.from(new Uint8Array(186).fill(0xfb)).toString("base64")} b\r\n`)
    expect(line.split(" ")[1].length).toBe(248)
    const error = refused(Meta.get(new Uint8Array(187)))
    expect(error.field).toBe("key")
    expect(error.reason).toContain("187 bytes")
    expect(refused(Meta.set(new Uint8Array(0), new Uint8Array(1))).field).toBe("key")
  })

  it.each(["a b", "a\rb", "a\nb", "a\tb", "a\0b", "a\x7fb", "a\r\nflush_all", "", "k".repeat(251), "é".repeat(126)])(
    "refuses the text key %j in every meta command",
    (key) => {
      for (const command of [
        Meta.get(key),
        Meta.set(key, new Uint8Array(1)),
        Meta.delete(key),
        Meta.arithmetic(key),
        Meta.debug(key)
      ]) {
        expect(refused(command).field).toBe("key")
      }
    }
  )

  it("refuses returnKey (k) with a binary key: 1.6.18 can echo it raw, CR LF included", () => {
    const key = new Uint8Array([0x41, 0x0d, 0x0a, 0x42])
    for (const command of [
      Meta.get(key, { returnKey: true, vivify: 30 }),
      Meta.set(key, new Uint8Array(1), { returnKey: true }),
      Meta.delete(key, { returnKey: true }),
      Meta.arithmetic(key, { returnKey: true })
    ]) {
      const error = refused(command)
      expect(error.field).toBe("argument")
      expect(error.reason).toMatch(/^returnKey \(k\) is refused with a binary key/)
    }
    accepts(Meta.get("text", { returnKey: true }))
  })

  it("accepts 250-byte text keys and 125 x é", () => {
    accepts(Meta.get("k".repeat(250)))
    expect(text(Meta.get("é".repeat(125)))).toBe(`mg ${"é".repeat(125)}\r\n`)
    expect(refused(Meta.get("é"), { allowUnicodeKeys: false }).field).toBe("key")
  })

  it("base64-encodes any binary key like Node does", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 186 }), (key) => {
        expect(text(Meta.debug(key))).toBe(`me ${Buffer.from(key).toString("base64")} b\r\n`)
      })
    )
  })
})

describe("opaque", () => {
  it("accepts 1 and 31 printable characters", () => {
    expect(text(Meta.get("k", { opaque: "!" }))).toBe("mg k O!\r\n")
    expect(text(Meta.get("k", { opaque: "~".repeat(31) }))).toBe(`mg k O${"~".repeat(31)}\r\n`)
  })

  it("refuses empty, 32 characters, spaces, control and non-ASCII characters", () => {
    expect(refused(Meta.get("k", { opaque: "" })).reason).toBe(
      "is empty (an opaque needs 1 to 31 printable ASCII characters)"
    )
    const long = refused(Meta.set("k", new Uint8Array(1), { opaque: "x".repeat(32) }))
    expect(long.field).toBe("opaque")
    expect(long.reason).toBe("is 32 characters, over the limit of 31")
    expect(refused(Meta.delete("k", { opaque: "a b" })).reason).toBe(
      "contains character U+0020 at offset 1 (only [!-~] is allowed)"
    )
    expect(refused(Meta.arithmetic("k", { opaque: "a\r\n" })).field).toBe("opaque")
    expect(refused(Meta.get("k", { opaque: "é" })).reason).toContain("U+00E9")
    expect(refused(Meta.get("k", { opaque: "\x7f" })).field).toBe("opaque")
  })

  it("is required with quiet", () => {
    for (const command of [
      Meta.get("k", { quiet: true }),
      Meta.set("k", new Uint8Array(1), { quiet: true }),
      Meta.delete("k", { quiet: true }),
      Meta.arithmetic("k", { quiet: true })
    ]) {
      const error = refused(command)
      expect(error.field).toBe("opaque")
      expect(error.reason).toMatch(/^is required with quiet \(q\)/)
    }
  })
})

describe("meta expectations", () => {
  it("uses the shared Meta expectation without opaque or quiet", () => {
    expect(Reply.expectation(Meta.get("k", { value: true }))).toBe(Reply.expect.Meta)
    expect(Reply.expectation(Meta.set("k", new Uint8Array(1)))).toBe(Reply.expect.Meta)
    expect(Reply.expectation(Meta.delete("k"))).toBe(Reply.expect.Meta)
    expect(Reply.expectation(Meta.arithmetic("k"))).toBe(Reply.expect.Meta)
  })

  it("carries the opaque, quiet and what a suppressed answer means (EN for mg, HD otherwise)", () => {
    expect(Reply.expectation(Meta.get("k", { opaque: "a" }))).toEqual({
      _tag: "Meta",
      opaque: "a",
      quiet: false,
      suppressed: "EN"
    })
    expect(Reply.expectation(Meta.get("k", { opaque: "a", quiet: true }))).toEqual({
      _tag: "Meta",
      opaque: "a",
      quiet: true,
      suppressed: "EN"
    })
    for (const command of [
      Meta.set("k", new Uint8Array(1), { opaque: "b", quiet: true }),
      Meta.delete("k", { opaque: "b", quiet: true }),
      Meta.arithmetic("k", { opaque: "b", quiet: true, returnValue: true })
    ]) {
      expect(Reply.expectation(command)).toEqual({ _tag: "Meta", opaque: "b", quiet: true, suppressed: "HD" })
    }
  })

  it("expects MetaDebug for me and Sync for mn", () => {
    expect(Reply.expectation(Meta.debug("k"))).toBe(Reply.expect.MetaDebug)
    expect(Reply.expectation(Meta.noop)).toBe(Reply.expect.Sync)
  })
})

describe("meta commands in the Encoder", () => {
  it("coalesce with text commands into the concatenation of encode()", () => {
    const batch: Array<Command.Command> = [
      Meta.set(new Uint8Array([1]), utf8.encode("v"), { quiet: true, opaque: "1" }),
      Meta.get("k", { value: true, opaque: "2" }),
      Command.get("k"),
      Meta.arithmetic("n", { delta: 2n, quiet: true, opaque: "3" }),
      Meta.noop
    ]
    const encoder = new Encoder.Encoder()
    for (const c of batch) encoder.append(checked(c))
    const chunks = encoder.take()
    expect(chunks).toHaveLength(1)
    expect(latin1(chunks[0])).toBe("ms AQ== 1 b O1 q\r\nv\r\nmg k v O2\r\nget k\r\nma n D2 q O3\r\nmn\r\n")
  })
})
