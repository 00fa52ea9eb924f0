import * as zlib from "node:zlib"
import { describe, expect, it } from "@effect/vitest"
import { Serializer } from "@effect-memcache/client"
import { MemcacheSerializationError } from "@effect-memcache/client/MemcacheError"
import { Result, Schema } from "effect"
import * as fc from "fast-check"

const hex = (s: string) => Uint8Array.from(Buffer.from(s, "hex"))
const utf8 = (s: string) => new TextEncoder().encode(s)
// Compare bytes by content whatever the concrete class (Uint8Array or Buffer).
const plain = (bytes: Uint8Array) => Array.from(bytes)

const ok = <A>(result: Result.Result<A, MemcacheSerializationError>): A => {
  if (Result.isFailure(result)) throw new Error(`expected a success, got: ${result.failure.message}`)
  return result.success
}

const err = <A>(result: Result.Result<A, MemcacheSerializationError>): MemcacheSerializationError => {
  if (Result.isSuccess(result)) throw new Error(`expected a failure, got: ${String(result.success)}`)
  expect(result.failure).toBeInstanceOf(MemcacheSerializationError)
  expect(result.failure._tag).toBe("MemcacheSerializationError")
  return result.failure
}

const roundTrip = <A>(serializer: Serializer.Serializer<A>, value: A): A => {
  const { bytes, flags } = ok(serializer.serialize("k", value))
  return ok(serializer.deserialize("k", bytes, flags))
}

// Vectors: what pymemcache's python_memcache_serializer writes (bytes and flags), per its serde.py:
// str -> value.encode("utf8") with FLAG_TEXT, int -> "%d" % value with FLAG_INTEGER, bytes as is with 0.
// The compressed vector is CompressedSerde's output for a 540-byte str: zlib.compress(...) from CPython 3.11's
// zlib, with FLAG_TEXT | FLAG_COMPRESSED.
const quickFox = "the quick brown fox jumps over the lazy dog; ".repeat(12)
const quickFoxZlib = hex(
  "789c2bc94855282ccd4cce56482aca2fcf5348cbaf50c82acd2d2856c82f4b2d5228014ae72456552aa4e4a75b8379a38a478c62008f3dc3f1"
)

describe("Serializer.make", () => {
  it("builds a serializer from its two directions", () => {
    const boolean = Serializer.make<boolean>(
      (_key, value) => Result.succeed({ bytes: Uint8Array.of(value ? 1 : 0), flags: 0 }),
      (key, bytes, flags) =>
        flags === 0 && bytes.length === 1
          ? Result.succeed(bytes[0] === 1)
          : Result.fail(new MemcacheSerializationError({ key, flags, reason: "not a boolean" }))
    )
    expect(roundTrip(boolean, true)).toBe(true)
    expect(roundTrip(boolean, false)).toBe(false)
    expect(err(boolean.deserialize("b", Uint8Array.of(1, 2), 0)).reason).toBe("not a boolean")
  })
})

describe("Serializer.bytes", () => {
  it("writes flags 0 and the bytes unchanged", () => {
    const value = Uint8Array.of(0, 255, 10, 13)
    const written = ok(Serializer.bytes.serialize("k", value))
    expect(written.flags).toBe(0)
    expect(written.bytes).toBe(value)
    expect(roundTrip(Serializer.bytes, value)).toBe(value)
  })

  it.each([1, 2, 8, 16, 0xffffffff])("rejects flags %i with a typed error naming key and flags", (flags) => {
    const e = err(Serializer.bytes.deserialize("blob", Uint8Array.of(1), flags))
    expect(e.key).toBe("blob")
    expect(e.flags).toBe(flags)
    expect(e.reason).toContain(`unexpected flags ${flags}`)
  })
})

describe("Serializer.raw", () => {
  it.each([0, 1, 16, 2 ** 31, 2 ** 32 - 1])("writes and reads flags %i and the bytes as they are", (flags) => {
    const bytes = Uint8Array.of(0, 255, 13, 10)
    const item = { bytes, flags }
    const written = ok(Serializer.raw.serialize("k", item))
    expect(written).toEqual({ bytes, flags })
    expect(written.bytes).toBe(bytes)
    const read = ok(Serializer.raw.deserialize("k", bytes, flags))
    expect(read).toEqual({ bytes, flags })
    expect(read.bytes).toBe(bytes)
  })

  it("reads what the typed serializers write, with their flags, where Serializer.bytes refuses", () => {
    const text = ok(Serializer.string.serialize("k", "héllo"))
    expect(ok(Serializer.raw.deserialize("k", text.bytes, text.flags))).toEqual({ bytes: text.bytes, flags: 16 })
    expect(err(Serializer.bytes.deserialize("k", text.bytes, text.flags)).flags).toBe(16)
    const number = ok(Serializer.pymemcache.serialize("n", 42))
    expect(plain(ok(Serializer.raw.deserialize("n", number.bytes, number.flags)).bytes)).toEqual(plain(utf8("42")))
  })
})

describe("Serializer.string", () => {
  it("writes UTF-8 with flags 16", () => {
    const written = ok(Serializer.string.serialize("k", "héllo"))
    expect(written.flags).toBe(16)
    expect(plain(written.bytes)).toEqual(plain(hex("68c3a96c6c6f")))
  })

  it("round-trips, including the empty string and a leading BOM", () => {
    for (const s of ["", "héllo", "\uFEFFbom", "emoji 🎉", "a\r\nb\u0000c"]) {
      expect(roundTrip(Serializer.string, s)).toBe(s)
    }
  })

  it("reads flags 0 as well as 16", () => {
    expect(ok(Serializer.string.deserialize("k", utf8("plain"), 0))).toBe("plain")
    expect(ok(Serializer.string.deserialize("k", utf8("text"), 16))).toBe("text")
  })

  it.each([1, 2, 4, 8, 24, 17])("rejects flags %i", (flags) => {
    const e = err(Serializer.string.deserialize("s", utf8("x"), flags))
    expect(e.key).toBe("s")
    expect(e.flags).toBe(flags)
  })

  it("rejects invalid UTF-8 on read", () => {
    const e = err(Serializer.string.deserialize("s", Uint8Array.of(0x68, 0xc3, 0x28), 16))
    expect(e.key).toBe("s")
    expect(e.flags).toBe(16)
    expect(e.reason).toContain("UTF-8")
  })

  it("rejects a lone surrogate on write instead of storing U+FFFD", () => {
    const e = err(Serializer.string.serialize("s", "a\uD800b"))
    expect(e.key).toBe("s")
    expect(e.reason).toContain("lone surrogate")
  })
})

describe("Serializer.json", () => {
  const Event = Schema.Struct({
    name: Schema.String,
    at: Schema.Date,
    count: Schema.Number,
    tags: Schema.Array(Schema.String)
  })
  const events = Serializer.json(Event)

  it("round-trips a struct with a Date through its canonical JSON, flags 16", () => {
    const value = { name: "deploy", at: new Date("2024-05-01T12:34:56.789Z"), count: 3, tags: ["a", "b"] }
    const written = ok(events.serialize("e", value))
    expect(written.flags).toBe(16)
    expect(JSON.parse(new TextDecoder().decode(written.bytes))).toEqual({
      name: "deploy",
      at: "2024-05-01T12:34:56.789Z",
      count: 3,
      tags: ["a", "b"]
    })
    const read = ok(events.deserialize("e", written.bytes, written.flags))
    expect(read.at).toBeInstanceOf(Date)
    expect(read).toEqual(value)
  })

  it("reads flags 0 and rejects other flags", () => {
    const bytes = utf8('{"name":"n","at":"1970-01-01T00:00:00.000Z","count":0,"tags":[]}')
    expect(ok(events.deserialize("e", bytes, 0)).at.getTime()).toBe(0)
    const e = err(events.deserialize("e", bytes, 2))
    expect(e.flags).toBe(2)
    expect(e.key).toBe("e")
  })

  it("fails to decode a value the schema rejects, with the issue text in reason", () => {
    const bytes = utf8('{"name":"n","at":"1970-01-01T00:00:00.000Z","count":1,"tags":[7]}')
    const e = err(events.deserialize("e", bytes, 16))
    expect(e.key).toBe("e")
    expect(e.flags).toBe(16)
    expect(e.reason).toContain("cannot decode the value")
    expect(e.reason).toContain('Expected string\n  at ["tags"][0]')
    expect(Schema.isSchemaError(e.cause)).toBe(true)
  })

  it("fails on invalid JSON and on invalid UTF-8", () => {
    expect(err(events.deserialize("e", utf8("{not json"), 16)).reason).toContain("valid JSON")
    expect(err(events.deserialize("e", Uint8Array.of(0xff), 16)).reason).toContain("UTF-8")
  })

  it("fails to encode a value the schema rejects", () => {
    const positive = Serializer.json(Schema.Number.check(Schema.isGreaterThan(0)))
    expect(roundTrip(positive, 5)).toBe(5)
    const e = err(positive.serialize("p", -1))
    expect(e.key).toBe("p")
    expect(e.reason).toContain("cannot encode the value")
  })
})

describe("Serializer.pymemcache", () => {
  const py = Serializer.pymemcache

  describe("byte-exact vectors, both directions", () => {
    const vectors: ReadonlyArray<readonly [string, Serializer.PythonValue, string, number]> = [
      ['"héllo"', "héllo", "68c3a96c6c6f", 16],
      ["42", 42, "3432", 2],
      ["-7", -7, "2d37", 2],
      ['b"\\x00\\xff"', Uint8Array.of(0x00, 0xff), "00ff", 0],
      ["2**70", 2n ** 70n, Buffer.from("1180591620717411303424").toString("hex"), 2]
    ]
    it.each(vectors)("%s", (_name, value, bytesHex, flags) => {
      const written = ok(py.serialize("k", value))
      expect(written.flags).toBe(flags)
      expect(plain(written.bytes)).toEqual(plain(hex(bytesHex)))
      const read = ok(py.deserialize("k", hex(bytesHex), flags))
      if (value instanceof Uint8Array) expect(plain(read as Uint8Array)).toEqual(plain(value))
      else expect(read).toBe(value)
    })

    it("reads CompressedSerde's zlib-compressed text (flags 24)", () => {
      expect(ok(py.deserialize("k", quickFoxZlib, 24))).toBe(quickFox)
    })

    it("compressed(pymemcache) writes what CompressedSerde writes for that value", () => {
      // CompressedSerde compresses values longer than 400 bytes. The deflate stream itself may differ
      // between zlib builds (Node bundles Chromium's), so check the flags, the zlib header, and that it
      // inflates to exactly the bytes Python compressed.
      const compressedPy = Serializer.compressed(py, { threshold: 401 })
      const written = ok(compressedPy.serialize("k", quickFox))
      expect(written.flags).toBe(24)
      expect(plain(written.bytes.subarray(0, 2))).toEqual([0x78, 0x9c])
      expect(plain(zlib.inflateSync(written.bytes))).toEqual(plain(zlib.inflateSync(quickFoxZlib)))
      expect(ok(compressedPy.deserialize("k", quickFoxZlib, 24))).toBe(quickFox)
      // and below the threshold it stays as pymemcache writes it
      expect(ok(compressedPy.serialize("k", "héllo")).flags).toBe(16)
    })
  })

  it("reads integers: safe ones as number, larger ones as bigint, flags 2 and 4", () => {
    expect(ok(py.deserialize("k", utf8("9007199254740991"), 2))).toBe(Number.MAX_SAFE_INTEGER)
    expect(ok(py.deserialize("k", utf8("9007199254740992"), 2))).toBe(9007199254740992n)
    expect(ok(py.deserialize("k", utf8("-9007199254740993"), 4))).toBe(-9007199254740993n)
    expect(ok(py.deserialize("k", utf8("12345678901234567890123"), 4))).toBe(12345678901234567890123n)
    expect(ok(py.deserialize("k", utf8("0"), 2))).toBe(0)
    expect(Object.is(ok(py.deserialize("k", utf8("-0"), 2)), 0)).toBe(true)
    // memcached pads a decr result that got shorter with spaces; Python's int() accepts them
    expect(ok(py.deserialize("k", utf8("99 "), 2))).toBe(99)
    expect(ok(py.deserialize("k", utf8("+5"), 2))).toBe(5)
  })

  it.each(["", " ", "-", "1.5", "1e3", "12a", "0x10", "1_000"])("rejects %j as an integer", (text) => {
    const e = err(py.deserialize("n", utf8(text), 2))
    expect(e.key).toBe("n")
    expect(e.flags).toBe(2)
    expect(e.reason).toContain("not an integer")
  })

  it("writes a safe-integer number or bigint as decimal with flags 2, rejects other numbers", () => {
    expect(ok(py.serialize("k", 2n ** 80n)).flags).toBe(2)
    expect(roundTrip(py, -(2n ** 80n))).toBe(-(2n ** 80n))
    // bigints in the safe range come back as numbers, as documented
    expect(roundTrip(py, 5n)).toBe(5)
    for (const bad of [1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(err(py.serialize("f", bad)).reason).toContain("Python would pickle a float")
    }
    expect(err(py.serialize("f", 2 ** 60)).reason).toContain("pass a bigint")
  })

  it("rejects pickled values, compressed or not", () => {
    for (const flags of [1, 9]) {
      const e = err(py.deserialize("p", Uint8Array.of(0x80, 0x04, 0x4b, 0x2a, 0x2e), flags))
      expect(e.key).toBe("p")
      expect(e.flags).toBe(flags)
      expect(e.reason).toBe("pickled values are not supported")
    }
  })

  it.each([3, 6, 18, 32, 0x10000, 0xffffffff])("rejects unknown flags %i", (flags) => {
    const e = err(py.deserialize("u", utf8("1"), flags))
    expect(e.flags).toBe(flags)
    expect(e.reason).toContain("unknown flags")
  })

  it("inflates flag 8 then reads the remaining flags (bytes, text, integer)", () => {
    const raw = Uint8Array.of(1, 2, 3, 0)
    expect(plain(ok(py.deserialize("k", zlib.deflateSync(raw), 8)) as Uint8Array)).toEqual(plain(raw))
    expect(ok(py.deserialize("k", zlib.deflateSync(utf8("héllo")), 24))).toBe("héllo")
    expect(ok(py.deserialize("k", zlib.deflateSync(utf8("123")), 10))).toBe(123)
    const e = err(py.deserialize("k", utf8("not zlib"), 24))
    expect(e.flags).toBe(24)
    expect(e.reason).toContain("corrupt")
  })

  it("guards against zip bombs", () => {
    const small = Serializer.makePymemcache({ maxInflatedBytes: 1000 })
    const bomb = zlib.deflateSync(new Uint8Array(1001))
    const e = err(small.deserialize("b", bomb, 8))
    expect(e.key).toBe("b")
    expect(e.reason).toContain("more than 1000 bytes")
    expect(plain(ok(small.deserialize("b", zlib.deflateSync(new Uint8Array(1000)), 8)) as Uint8Array)).toEqual(
      plain(new Uint8Array(1000))
    )
  })
})

describe("Serializer.compressed", () => {
  const text = Serializer.compressed(Serializer.string, { threshold: 100 })
  const repetitive = "abcdefgh".repeat(50) // 400 bytes, compresses well

  it("leaves values below the threshold uncompressed", () => {
    const written = ok(text.serialize("k", "short"))
    expect(written.flags).toBe(16)
    expect(plain(written.bytes)).toEqual(plain(utf8("short")))
    expect(roundTrip(text, "short")).toBe("short")
  })

  it("compresses values at or above the threshold, setting flag 8 on top of inner's flags", () => {
    const exact = Serializer.compressed(Serializer.string, { threshold: repetitive.length })
    for (const serializer of [text, exact]) {
      const written = ok(serializer.serialize("k", repetitive))
      expect(written.flags).toBe(24)
      expect(written.bytes.length).toBeLessThan(repetitive.length)
      expect(ok(serializer.deserialize("k", written.bytes, written.flags))).toBe(repetitive)
    }
    const above = Serializer.compressed(Serializer.string, { threshold: repetitive.length + 1 })
    expect(ok(above.serialize("k", repetitive)).flags).toBe(16)
  })

  it("uses the default threshold of 1024 bytes", () => {
    const byDefault = Serializer.compressed(Serializer.string)
    expect(ok(byDefault.serialize("k", "x".repeat(1023))).flags).toBe(16)
    expect(ok(byDefault.serialize("k", "x".repeat(1024))).flags).toBe(24)
  })

  it("honours the level", () => {
    const stored = Serializer.compressed(Serializer.string, { threshold: 0, level: 0 })
    // level 0 only stores: the output is larger, so the value stays uncompressed
    expect(ok(stored.serialize("k", repetitive)).flags).toBe(16)
    const best = Serializer.compressed(Serializer.string, { threshold: 0, level: 9 })
    expect(roundTrip(best, repetitive)).toBe(repetitive)
  })

  it("keeps incompressible data uncompressed", () => {
    const random = Uint8Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24)
    // A deterministic byte sequence that deflate cannot shrink: check it is really incompressible first.
    const noise = Uint8Array.from(zlib.deflateSync(random, { level: 9 }))
    expect(zlib.deflateSync(noise).length).toBeGreaterThanOrEqual(noise.length)
    const blobs = Serializer.compressed(Serializer.bytes, { threshold: 16 })
    const written = ok(blobs.serialize("k", noise))
    expect(written.flags).toBe(0)
    expect(written.bytes).toBe(noise)
  })

  it("reads values stored without compression with inner's flags unchanged", () => {
    expect(ok(text.deserialize("k", utf8("plain"), 0))).toBe("plain")
    const e = err(text.deserialize("k", utf8("plain"), 2))
    expect(e.flags).toBe(2)
  })

  it("passes flags & ~8 to inner after inflating", () => {
    const e = err(text.deserialize("k", zlib.deflateSync(utf8("x")), 8 | 2))
    expect(e.flags).toBe(2)
    expect(ok(text.deserialize("k", zlib.deflateSync(utf8("x")), 8))).toBe("x")
  })

  it("turns corrupt compressed data into a typed error", () => {
    const written = ok(text.serialize("k", repetitive))
    const corrupt = Uint8Array.from(written.bytes)
    corrupt[corrupt.length - 1]! ^= 0xff // break the adler32 checksum
    for (const bytes of [corrupt, written.bytes.subarray(0, 10), utf8("garbage")]) {
      const e = err(text.deserialize("z", bytes, 24))
      expect(e.key).toBe("z")
      expect(e.flags).toBe(24)
      expect(e.reason).toContain("corrupt")
    }
  })

  it("guards against zip bombs with maxInflatedBytes", () => {
    const guarded = Serializer.compressed(Serializer.bytes, { maxInflatedBytes: 1024 * 1024 })
    const bomb = zlib.deflateSync(new Uint8Array(1024 * 1024 + 1), { level: 9 })
    expect(bomb.length).toBeLessThan(2048)
    const e = err(guarded.deserialize("bomb", bomb, 8))
    expect(e.key).toBe("bomb")
    expect(e.flags).toBe(8)
    expect(e.reason).toContain(`more than ${1024 * 1024} bytes`)
    const fits = ok(guarded.deserialize("ok", zlib.deflateSync(new Uint8Array(1024 * 1024)), 8))
    expect(fits.length).toBe(1024 * 1024)
  })

  it("refuses an inner serializer that sets flag 8 itself", () => {
    const sneaky = Serializer.make<string>(
      (_key, value) => Result.succeed({ bytes: utf8(value), flags: 8 }),
      (_key, bytes) => Result.succeed(new TextDecoder().decode(bytes))
    )
    const e = err(Serializer.compressed(sneaky).serialize("k", "x"))
    expect(e.flags).toBe(8)
  })

  it("rejects invalid options at construction", () => {
    expect(() => Serializer.compressed(Serializer.string, { threshold: -1 })).toThrow(RangeError)
    expect(() => Serializer.compressed(Serializer.string, { level: 10 })).toThrow(RangeError)
    expect(() => Serializer.compressed(Serializer.string, { maxInflatedBytes: 0 })).toThrow(RangeError)
    expect(() => Serializer.makePymemcache({ maxInflatedBytes: 1.5 })).toThrow(RangeError)
    expect(() => Serializer.makePymemcache({ maxInflatedBytes: Number.MAX_SAFE_INTEGER })).toThrow(RangeError)
  })

  it("propagates inner's serialize failures", () => {
    expect(err(text.serialize("k", "\uDC00")).reason).toContain("lone surrogate")
  })
})

describe("properties: deserialize(serialize(x)) == x", () => {
  const anyString = fc.oneof(fc.string({ unit: "binary" }), fc.string({ unit: "grapheme", maxLength: 3000 }))
  const anyBytes = fc.uint8Array({ maxLength: 3000 })

  it("string", () => {
    fc.assert(fc.property(anyString, (s) => roundTrip(Serializer.string, s) === s))
  })

  it("bytes", () => {
    fc.assert(fc.property(anyBytes, (b) => plain(roundTrip(Serializer.bytes, b)).join() === plain(b).join()))
  })

  it("pymemcache", () => {
    fc.assert(
      fc.property(fc.oneof(anyString, anyBytes, fc.maxSafeInteger(), fc.bigInt()), (value) => {
        const read = roundTrip(Serializer.pymemcache, value)
        if (value instanceof Uint8Array) return read instanceof Uint8Array && plain(read).join() === plain(value).join()
        if (typeof value === "bigint") return BigInt(read as number | bigint) === value
        return Object.is(read, value === 0 ? 0 : value) // -0 is written as "0"
      })
    )
  })

  it("compressed(string)", () => {
    const compressedText = Serializer.compressed(Serializer.string, { threshold: 32 })
    const repetitiveString = fc.tuple(anyString, fc.integer({ min: 1, max: 200 })).map(([s, n]) => s.repeat(n))
    fc.assert(fc.property(fc.oneof(anyString, repetitiveString), (s) => roundTrip(compressedText, s) === s))
  })

  it("compressed(pymemcache)", () => {
    const compressedPy = Serializer.compressed(Serializer.pymemcache, { threshold: 0 })
    fc.assert(
      fc.property(fc.oneof(anyString, anyBytes), (value) => {
        const read = roundTrip(compressedPy, value)
        return typeof value === "string" ? read === value : plain(read as Uint8Array).join() === plain(value).join()
      })
    )
  })
})
