import { Key } from "@effect-memcache/protocol"
import fc from "fast-check"
import { describe, expect, it } from "vitest"

const utf8 = new TextEncoder()

// The rule written out independently of Key.validate: encode, then look at the bytes.
const expectedValid = (key: string): boolean => {
  const bytes = utf8.encode(key)
  // ignoreBOM: a leading U+FEFF is part of the key, not a byte order mark
  const wellFormed = new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes) === key
  return wellFormed && bytes.length >= 1 && bytes.length <= 250 && bytes.every((b) => b > 0x20 && b !== 0x7f)
}

const anyChar = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c))

describe("Key.validate", () => {
  it("accepts the edges: 1 byte, 250 ASCII bytes, 125 x é (250 bytes), 62 x 4-byte emoji", () => {
    expect(Key.validate("a")).toBeUndefined()
    expect(Key.validate("k".repeat(250))).toBeUndefined()
    expect(Key.validate("é".repeat(125))).toBeUndefined()
    expect(Key.validate("😀".repeat(62))).toBeUndefined()
    expect(Key.validate("!~")).toBeUndefined()
  })

  it("refuses one past the edge with the byte length and the limit", () => {
    const long = Key.validate("k".repeat(251))
    expect(long?.field).toBe("key")
    expect(long?.reason).toBe("is 251 bytes after UTF-8 encoding, over the limit of 250")
    const accents = Key.validate("é".repeat(126))
    expect(accents?.reason).toBe("is 252 bytes after UTF-8 encoding, over the limit of 250 (126 UTF-16 code units)")
    expect(Key.validate("😀".repeat(63))?.reason).toContain("is 252 bytes")
  })

  it("refuses the empty key", () => {
    expect(Key.validate("")?.reason).toBe("is empty (a key needs 1 to 250 bytes)")
  })

  it.each([
    ["a b", "contains a space (byte 0x20 at offset 1)"],
    ["ab\r", "contains a CR (byte 0x0d at offset 2)"],
    ["a\nb", "contains a LF (byte 0x0a at offset 1)"],
    ["\tb", "contains a TAB (byte 0x09 at offset 0)"],
    ["a\0b", "contains a NUL (byte 0x00 at offset 1)"],
    ["a\x7fb", "contains a DEL (byte 0x7f at offset 1)"],
    ["a\x01", "contains a control byte (byte 0x01 at offset 1)"],
    ["a\r\nflush_all", "contains a CR (byte 0x0d at offset 1)"],
    ["éé x", "contains a space (byte 0x20 at offset 4)"]
  ])("refuses the injection key %j", (key, reason) => {
    const error = Key.validate(key)
    expect(error?._tag).toBe("InvalidInput")
    expect(error?.field).toBe("key")
    expect(error?.reason).toBe(reason)
  })

  it("refuses every byte <= 0x20 and 0x7F, accepts every other ASCII byte", () => {
    for (let c = 0; c < 0x80; c++) {
      const error = Key.validate(`x${String.fromCharCode(c)}`)
      if (c <= 0x20 || c === 0x7f) expect(error, `byte ${c}`).toBeDefined()
      else expect(error, `byte ${c}`).toBeUndefined()
    }
  })

  it("refuses lone surrogates", () => {
    expect(Key.validate("\ud800")?.reason).toBe("contains a lone surrogate U+D800 at offset 0")
    expect(Key.validate("ab\udc00")?.reason).toBe("contains a lone surrogate U+DC00 at offset 2")
    expect(Key.validate("a\ud800b")?.reason).toBe("contains a lone surrogate U+D800 at offset 1")
  })

  it("refuses non-ASCII with allowUnicode: false", () => {
    expect(Key.validate("é", { allowUnicode: false })?.reason).toBe(
      "contains the non-ASCII character U+00E9 at offset 0 (Unicode keys are disabled)"
    )
    expect(Key.validate("abc", { allowUnicode: false })).toBeUndefined()
    expect(Key.validate("é", { allowUnicode: true })).toBeUndefined()
  })

  it("agrees with the rule applied to the UTF-8 bytes, for any string", () => {
    fc.assert(
      fc.property(fc.string({ unit: anyChar, minLength: 0, maxLength: 260 }), (key) => {
        expect(Key.validate(key) === undefined).toBe(expectedValid(key))
      }),
      { numRuns: 2000 }
    )
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", minLength: 1, maxLength: 130 }), (key) => {
        expect(Key.validate(key) === undefined).toBe(expectedValid(key))
      })
    )
  })
})

describe("Key.byteLength", () => {
  it("counts UTF-8 bytes", () => {
    expect(Key.byteLength("")).toBe(0)
    expect(Key.byteLength("abc")).toBe(3)
    expect(Key.byteLength("é")).toBe(2)
    expect(Key.byteLength("€")).toBe(3)
    expect(Key.byteLength("😀")).toBe(4)
    expect(Key.byteLength("\ud800")).toBe(3)
    expect(Key.byteLength("\ud800x")).toBe(4)
  })

  it("equals TextEncoder's length for any string", () => {
    fc.assert(
      fc.property(fc.string({ unit: anyChar, maxLength: 50 }), (s) => {
        expect(Key.byteLength(s)).toBe(utf8.encode(s).length)
      }),
      { numRuns: 2000 }
    )
  })
})

describe("Key.validateBinary", () => {
  it("accepts 1 and 186 bytes of any value, refuses 0 and 187", () => {
    expect(Key.validateBinary(new Uint8Array([0]))).toBeUndefined()
    expect(Key.validateBinary(new Uint8Array(186).fill(0xff))).toBeUndefined()
    expect(Key.validateBinary(new Uint8Array(0))?.reason).toBe("is empty (a binary key needs 1 to 186 bytes)")
    const error = Key.validateBinary(new Uint8Array(187))
    expect(error?.field).toBe("key")
    expect(error?.reason).toBe(
      "is 187 bytes, over the binary key limit of 186 (its base64 form of 252 bytes would exceed 250)"
    )
  })
})

describe("Key base64", () => {
  it("pads as the server requires", () => {
    expect(Key.toBase64(new Uint8Array([0x61]))).toBe("YQ==")
    expect(Key.toBase64(new Uint8Array([0x61, 0x62]))).toBe("YWI=")
    expect(Key.toBase64(new Uint8Array([0x61, 0x62, 0x63]))).toBe("YWJj")
    expect(Key.base64Length(186)).toBe(248)
    expect(Key.base64Length(187)).toBe(252)
  })

  it("matches Node's base64 for any bytes, written at an offset", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 186 }), fc.nat(8), (bytes, offset) => {
        const out = new Uint8Array(offset + Key.base64Length(bytes.length) + 1).fill(0x2e)
        const end = Key.writeBase64(bytes, out, offset)
        expect(end).toBe(offset + Key.base64Length(bytes.length))
        expect(Buffer.from(out.subarray(offset, end)).toString("latin1")).toBe(Buffer.from(bytes).toString("base64"))
        expect(out[end]).toBe(0x2e)
      })
    )
  })
})
