import { Decoder, Errors, Reply } from "@effect-memcache/protocol"
import { describe, expect, it } from "vitest"
import { bytes, bytewise, concat, decodeChunks, everyExpectation, latin1 } from "./decoderStreams.ts"

const run = (
  expectations: ReadonlyArray<Reply.Expectation>,
  input: string | Uint8Array,
  options?: { readonly maxLineLength?: number; readonly maxValueLength?: number }
) => {
  const data = typeof input === "string" ? bytes(input) : input
  const whole = decodeChunks(expectations, [data], options)
  // Every test also checks that byte-at-a-time feeding gives the same outcome.
  const split = decodeChunks(expectations, bytewise(data), options)
  expect(split.replies).toEqual(whole.replies)
  expect(split.quietErrors).toEqual(whole.quietErrors)
  expect(split.errors.map((e) => e.reason)).toEqual(whole.errors.map((e) => e.reason))
  return whole
}

const one = (expectation: Reply.Expectation, input: string | Uint8Array): Reply.Reply => {
  const out = run([expectation], input)
  expect(out.errors).toEqual([])
  expect(out.replies).toHaveLength(1)
  expect(out.decoder.pending).toBe(0)
  expect(out.decoder.buffered).toBe(0)
  return out.replies[0]!
}

const protocolError = (
  expectations: ReadonlyArray<Reply.Expectation>,
  input: string | Uint8Array,
  options?: { readonly maxLineLength?: number; readonly maxValueLength?: number }
): Errors.ProtocolError => {
  const out = run(expectations, input, options)
  expect(out.errors).toHaveLength(1)
  const error = out.errors[0]!
  expect(error).toBeInstanceOf(Errors.ProtocolError)
  expect(out.decoder.failed).toBe(error)
  expect(out.decoder.buffered).toBe(0)
  return error
}

const meta = (code: Reply.Meta["code"], flags: Reply.MetaFlags = {}, value?: Uint8Array): Reply.Meta => ({
  _tag: "Meta",
  code,
  flags,
  value
})

const quiet = (opaque: string, suppressed: "EN" | "HD" = "HD"): Reply.Expectation => ({
  _tag: "Meta",
  opaque,
  quiet: true,
  suppressed
})
const withOpaque = (opaque: string): Reply.Expectation => ({ _tag: "Meta", opaque, quiet: false, suppressed: "HD" })

describe("Decoder: storage, delete, touch", () => {
  it("decodes every storage reply to the shared reply objects", () => {
    expect(one(Reply.expect.Storage, "STORED\r\n")).toBe(Reply.replies.Stored)
    expect(one(Reply.expect.Storage, "NOT_STORED\r\n")).toBe(Reply.replies.NotStored)
    expect(one(Reply.expect.Storage, "EXISTS\r\n")).toBe(Reply.replies.Exists)
    expect(one(Reply.expect.Storage, "NOT_FOUND\r\n")).toBe(Reply.replies.NotFound)
  })

  it("decodes delete and touch replies", () => {
    expect(one(Reply.expect.Delete, "DELETED\r\n")).toBe(Reply.replies.Deleted)
    expect(one(Reply.expect.Delete, "NOT_FOUND\r\n")).toBe(Reply.replies.NotFound)
    expect(one(Reply.expect.Touch, "TOUCHED\r\n")).toBe(Reply.replies.Touched)
    expect(one(Reply.expect.Touch, "NOT_FOUND\r\n")).toBe(Reply.replies.NotFound)
  })

  it("refuses a reply of another command, or a known word with extra text", () => {
    expect(protocolError([Reply.expect.Storage], "DELETED\r\n").reason).toBe("unexpected line for a storage request")
    expect(protocolError([Reply.expect.Delete], "STORED\r\n").line).toBe("STORED")
    expect(protocolError([Reply.expect.Touch], "DELETED\r\n").reason).toContain("touch")
    protocolError([Reply.expect.Storage], "STORED x\r\n")
    protocolError([Reply.expect.Storage], "stored\r\n")
    protocolError([Reply.expect.Storage], "\r\n")
    protocolError([Reply.expect.Storage], "STORED\n")
    protocolError([Reply.expect.Storage], "STOREDX\r\n")
    expect(protocolError([Reply.expect.Storage], "STORED\r\n", { maxLineLength: 5 }).reason).toBe(
      "reply line longer than maxLineLength"
    )
  })

  it("decodes a pipeline of replies in FIFO order", () => {
    const out = run(
      [Reply.expect.Storage, Reply.expect.Delete, Reply.expect.Touch, Reply.expect.Storage],
      "STORED\r\nDELETED\r\nNOT_FOUND\r\nEXISTS\r\n"
    )
    expect(out.replies).toEqual([
      Reply.replies.Stored,
      Reply.replies.Deleted,
      Reply.replies.NotFound,
      Reply.replies.Exists
    ])
  })
})

describe("Decoder: incr/decr", () => {
  it("decodes the number as a bigint across the u64 range", () => {
    expect(one(Reply.expect.Arithmetic, "0\r\n")).toEqual({ _tag: "Numeric", value: 0n })
    expect(one(Reply.expect.Arithmetic, "42\r\n")).toEqual({ _tag: "Numeric", value: 42n })
    expect(one(Reply.expect.Arithmetic, "9007199254740993\r\n")).toEqual({ _tag: "Numeric", value: 9007199254740993n })
    expect(one(Reply.expect.Arithmetic, "18446744073709551615\r\n")).toEqual({
      _tag: "Numeric",
      value: 18446744073709551615n
    })
    expect(one(Reply.expect.Arithmetic, "NOT_FOUND\r\n")).toBe(Reply.replies.NotFound)
  })

  it("refuses a number above 2^64-1 or a malformed one", () => {
    expect(protocolError([Reply.expect.Arithmetic], "18446744073709551616\r\n").reason).toBe(
      "incr/decr reply above 2^64-1"
    )
    protocolError([Reply.expect.Arithmetic], "123456789012345678901\r\n")
    protocolError([Reply.expect.Arithmetic], "-1\r\n")
    protocolError([Reply.expect.Arithmetic], "12 \r\n")
    protocolError([Reply.expect.Arithmetic], "STORED\r\n")
  })

  it("refuses a number for any other request", () => {
    protocolError([Reply.expect.Storage], "5\r\n")
  })
})

describe("Decoder: OK, status, version, stats", () => {
  it("decodes OK and the other one-word admin replies as Status", () => {
    expect(one(Reply.expect.Ok, "OK\r\n")).toBe(Reply.replies.Ok)
    expect(one(Reply.expect.Ok, "MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m\r\n")).toEqual({
      _tag: "Status",
      word: "MEMLIMIT_TOO_SMALL",
      text: "cannot set maxbytes to less than 8m"
    })
    expect(one(Reply.expect.Ok, "BUSY currently processing reassign request\r\n")).toEqual({
      _tag: "Status",
      word: "BUSY",
      text: "currently processing reassign request"
    })
    expect(one(Reply.expect.Ok, "NOSPARE\r\n")).toEqual({ _tag: "Status", word: "NOSPARE", text: "" })
  })

  it("refuses reserved words, lower-case words and other replies for OK", () => {
    protocolError([Reply.expect.Ok], "STORED\r\n")
    protocolError([Reply.expect.Ok], "OK then\r\n")
    protocolError([Reply.expect.Ok], "STAT pid 1\r\n")
    protocolError([Reply.expect.Ok], "END\r\n")
    protocolError([Reply.expect.Ok], "busy x\r\n")
    protocolError([Reply.expect.Ok], "RESET\r\n")
    protocolError([Reply.expect.Ok], "_X\r\n")
  })

  it("decodes VERSION with the rest of the line", () => {
    expect(one(Reply.expect.Version, "VERSION 1.6.18\r\n")).toEqual({ _tag: "Version", version: "1.6.18" })
    expect(one(Reply.expect.Version, "VERSION 1.4.14 (Ubuntu)\r\n")).toEqual({
      _tag: "Version",
      version: "1.4.14 (Ubuntu)"
    })
    expect(one(Reply.expect.Version, "VERSION\r\n")).toEqual({ _tag: "Version", version: "" })
    protocolError([Reply.expect.Version], "VERSIONS 1\r\n")
    protocolError([Reply.expect.Version], "OK\r\n")
  })

  it("decodes STAT lines up to END, with free-form values", () => {
    const reply = one(
      Reply.expect.Stats,
      "STAT pid 1234\r\nSTAT version 1.6.18\r\nSTAT domain_socket NULL\r\nSTAT ssl_chain_cert (null)\r\nSTAT empty \r\nSTAT bare\r\nEND\r\n"
    )
    expect(reply).toEqual({
      _tag: "Stats",
      stats: [
        ["pid", "1234"],
        ["version", "1.6.18"],
        ["domain_socket", "NULL"],
        ["ssl_chain_cert", "(null)"],
        ["empty", ""],
        ["bare", ""]
      ],
      lines: []
    })
    expect(one(Reply.expect.Stats, "END\r\n")).toEqual({ _tag: "Stats", stats: [], lines: [] })
  })

  it("keeps ITEM and PREFIX lines of stats sub-commands whole", () => {
    expect(one(Reply.expect.Stats, "ITEM foo [5 b; 0 s]\r\nITEM bar [1 b; 1700000000 s]\r\nEND\r\n")).toEqual({
      _tag: "Stats",
      stats: [],
      lines: ["ITEM foo [5 b; 0 s]", "ITEM bar [1 b; 1700000000 s]"]
    })
    expect(one(Reply.expect.Stats, "PREFIX user get 2 hit 1 set 1 del 0\r\nEND\r\n")).toEqual({
      _tag: "Stats",
      stats: [],
      lines: ["PREFIX user get 2 hit 1 set 1 del 0"]
    })
  })

  it("decodes OK (stats detail on) and RESET (stats reset), but only as the whole reply", () => {
    expect(one(Reply.expect.Stats, "OK\r\n")).toBe(Reply.replies.Ok)
    expect(one(Reply.expect.Stats, "RESET\r\n")).toBe(Reply.replies.Reset)
    protocolError([Reply.expect.Stats], "STAT a 1\r\nOK\r\n")
    protocolError([Reply.expect.Stats], "ITEM a\r\nRESET\r\n")
    protocolError([Reply.expect.Stats], "STAT a 1\r\nSTORED\r\n")
    protocolError([Reply.expect.Stats], "VALUE a 0 1\r\n")
  })
})

describe("Decoder: retrieval", () => {
  const value = (key: string, data: string | Uint8Array, flags = 0, cas?: bigint): Reply.Value => ({
    key,
    flags,
    value: typeof data === "string" ? bytes(data) : data,
    cas
  })

  it("decodes a miss (END alone) and hits", () => {
    expect(one(Reply.retrieval(["a"], false), "END\r\n")).toEqual({ _tag: "Values", values: [] })
    // Nothing to hand back: the shared instance, for this retrieval as for a streamed one.
    expect(one(Reply.retrieval(["a"], false), "END\r\n")).toBe(Reply.emptyValues)
    expect(
      one(
        Reply.retrieval(["a"], false, () => {}),
        "VALUE a 0 1\r\nx\r\nEND\r\n"
      )
    ).toBe(Reply.emptyValues)
    expect(one(Reply.retrieval(["a", "b", "c"], false), "VALUE a 5 2\r\nhi\r\nVALUE c 0 0\r\n\r\nEND\r\n")).toEqual({
      _tag: "Values",
      values: [value("a", "hi", 5), value("c", "")]
    })
  })

  it("decodes gets/gats replies with their cas unique (u64)", () => {
    expect(
      one(
        Reply.retrieval(["a", "b"], true),
        "VALUE a 4294967295 1 18446744073709551615\r\nx\r\nVALUE b 0 1 7\r\ny\r\nEND\r\n"
      )
    ).toEqual({
      _tag: "Values",
      values: [value("a", "x", 4294967295, 18446744073709551615n), value("b", "y", 0, 7n)]
    })
  })

  it("answers duplicate keys once per time requested, skipping misses", () => {
    const reply = one(
      Reply.retrieval(["a", "a", "nokey", "a"], false),
      "VALUE a 0 1\r\n1\r\nVALUE a 0 1\r\n2\r\nVALUE a 0 1\r\n3\r\nEND\r\n"
    )
    expect(reply).toEqual({ _tag: "Values", values: [value("a", "1"), value("a", "2"), value("a", "3")] })
    protocolError(
      [Reply.retrieval(["a", "a"], false)],
      "VALUE a 0 1\r\n1\r\nVALUE a 0 1\r\n2\r\nVALUE a 0 1\r\n3\r\nEND\r\n"
    )
  })

  it("matches UTF-8 keys and keys of 250 bytes", () => {
    const long = "k".repeat(250)
    expect(
      one(
        Reply.retrieval(["ключ", "é", long], false),
        `VALUE ключ 0 1\r\nx\r\nVALUE é 0 1\r\ny\r\nVALUE ${long} 0 1\r\nz\r\nEND\r\n`
      )
    ).toEqual({ _tag: "Values", values: [value("ключ", "x"), value("é", "y"), value(long, "z")] })
    // "Ã©" has the char codes 0xC3 0xA9, which are the UTF-8 bytes of "é": a char-by-byte match would take the
    // answer for "é" as the answer for "Ã©".
    expect(one(Reply.retrieval(["Ã©", "é"], false), "VALUE é 0 1\r\ny\r\nEND\r\n")).toEqual({
      _tag: "Values",
      values: [value("é", "y")]
    })
  })

  it("refuses a VALUE for a key not requested", () => {
    const notRequested = protocolError([Reply.retrieval(["a"], false)], "VALUE b 0 1\r\nx\r\nEND\r\n")
    expect(notRequested.reason).toBe("VALUE for a key that was not requested")
    expect(notRequested.line).toBe("VALUE b 0 1")
    protocolError([Reply.retrieval(["a", "c"], false)], "VALUE c 0 1\r\nx\r\nVALUE b 0 1\r\ny\r\nEND\r\n")
    // A prefix or an extension of a requested key is another key.
    protocolError([Reply.retrieval(["ab"], false)], "VALUE a 0 1\r\nx\r\nEND\r\n")
    protocolError([Reply.retrieval(["a"], false)], "VALUE ab 0 1\r\nx\r\nEND\r\n")
    protocolError([Reply.retrieval(["ключ"], false)], "VALUE ключи 0 1\r\nx\r\nEND\r\n")
    protocolError([Reply.retrieval(["é"], false)], latin1("VALUE \xe9 0 1\r\nx\r\nEND\r\n"))
  })

  it("takes the hits of requested keys out of order, as twemproxy merges them, in the order they came", () => {
    expect(
      one(Reply.retrieval(["a", "b", "c", "d"], false), "VALUE c 0 1\r\nx\r\nVALUE a 0 1\r\ny\r\nEND\r\n")
    ).toEqual({ _tag: "Values", values: [value("c", "x"), value("a", "y")] })
    expect(one(Reply.retrieval(["é", "b"], false), "VALUE b 0 1\r\nx\r\nVALUE é 0 1\r\ny\r\nEND\r\n")).toEqual({
      _tag: "Values",
      values: [value("b", "x"), value("é", "y")]
    })
  })

  it("refuses a cas unique for get, and its absence for gets", () => {
    expect(protocolError([Reply.retrieval(["a"], false)], "VALUE a 0 1 5\r\nx\r\nEND\r\n").reason).toContain(
      "did not ask"
    )
    expect(protocolError([Reply.retrieval(["a"], true)], "VALUE a 0 1\r\nx\r\nEND\r\n").reason).toContain("lacks")
    protocolError([Reply.retrieval(["a"], true)], "VALUE a 0 1 18446744073709551616\r\nx\r\nEND\r\n")
  })

  it("refuses malformed VALUE lines", () => {
    const e = [Reply.retrieval(["a"], false)]
    protocolError(e, "VALUE a 0\r\n")
    protocolError(e, "VALUE a\r\n")
    protocolError(e, "VALUE  0 1\r\n")
    protocolError(e, "VALUE a x 1\r\nx\r\nEND\r\n")
    protocolError(e, "VALUE a 4294967296 1\r\nx\r\nEND\r\n")
    protocolError(e, "VALUE a 0 -1\r\nx\r\nEND\r\n")
    protocolError(e, "VALUE a 0 1 \r\nx\r\nEND\r\n")
    protocolError(e, "VALUE a 0 1 2 3\r\nx\r\nEND\r\n")
  })

  it("refuses a data block longer than maxValueLength, before reading it", () => {
    const error = protocolError([Reply.retrieval(["a"], false)], "VALUE a 0 11\r\n", { maxValueLength: 10 })
    expect(error.reason).toBe("VALUE data block longer than maxValueLength")
    expect(one(Reply.retrieval(["a"], false), "VALUE a 0 10\r\n0123456789\r\nEND\r\n")).toEqual({
      _tag: "Values",
      values: [value("a", "0123456789")]
    })
  })

  it("refuses a data block not followed by \\r\\n", () => {
    const e = [Reply.retrieval(["a"], false)]
    expect(protocolError(e, "VALUE a 0 1\r\nxy\r\nEND\r\n").reason).toBe("data block not followed by \\r\\n")
    protocolError(e, "VALUE a 0 2\r\nx\r\nEND\r\n")
    protocolError(e, "VALUE a 0 1\r\nx\nEND\r\n")
    protocolError(e, "VALUE a 0 1\r\nx\r\rEND\r\n")
  })

  it("reads values by length: \\r\\nEND\\r\\n, VALUE lines and every byte inside values", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i)
    const tricky1 = latin1("\r\nEND\r\n")
    const tricky2 = latin1("VALUE x 0 1\r\n")
    const input = concat([
      latin1(`VALUE a 1 ${tricky1.length}\r\n`),
      tricky1,
      latin1(`\r\nVALUE x 2 ${tricky2.length}\r\n`),
      tricky2,
      latin1("\r\nVALUE b 3 256\r\n"),
      all,
      latin1("\r\nEND\r\n")
    ])
    expect(one(Reply.retrieval(["a", "x", "b"], false), input)).toEqual({
      _tag: "Values",
      values: [value("a", tricky1, 1), value("x", tricky2, 2), value("b", all, 3)]
    })
  })

  it("reads 1 MiB of random bytes, whole and in uneven chunks", () => {
    const data = new Uint8Array(1048576)
    for (let offset = 0; offset < data.length; offset += 65536)
      crypto.getRandomValues(data.subarray(offset, offset + 65536))
    const input = concat([latin1(`VALUE big 0 ${data.length}\r\n`), data, latin1("\r\nEND\r\n")])
    const expected = { _tag: "Values", values: [value("big", data)] }
    const whole = decodeChunks([Reply.retrieval(["big"], false)], [input])
    expect(whole.errors).toEqual([])
    expect(whole.replies).toEqual([expected])
    const chunks: Array<Uint8Array> = []
    for (let offset = 0, size = 1; offset < input.length; offset += size, size = (size * 7 + 3) % 70000) {
      chunks.push(input.subarray(offset, offset + size))
    }
    const split = decodeChunks([Reply.retrieval(["big"], false)], chunks)
    expect(split.errors).toEqual([])
    expect(split.replies).toEqual([expected])
    expect(split.maxBuffered).toBeLessThanOrEqual(data.length)
  })

  it("returns a view of the chunk for a value inside one chunk, and one fresh copy for a split value", () => {
    const input = bytes("VALUE a 0 5\r\nhello\r\nEND\r\n")
    const whole = decodeChunks([Reply.retrieval(["a"], false)], [input])
    const inside = (whole.replies[0] as Reply.Values).values[0]!.value
    expect(inside.buffer).toBe(input.buffer)
    expect(inside.byteOffset).toBe(13)
    expect(inside).toEqual(bytes("hello"))

    // The line in one chunk, the whole block in the next: still a view of that chunk.
    const line = bytes("VALUE a 0 5\r\n")
    const block = bytes("hello\r\nEND\r\n")
    const viewed = decodeChunks([Reply.retrieval(["a"], false)], [line, block])
    expect((viewed.replies[0] as Reply.Values).values[0]!.value.buffer).toBe(block.buffer)

    const first = bytes("VALUE a 0 5\r\nhel")
    const second = bytes("lo\r\nEND\r\n")
    const split = decodeChunks([Reply.retrieval(["a"], false)], [first, second])
    const copied = (split.replies[0] as Reply.Values).values[0]!.value
    expect(copied).toEqual(bytes("hello"))
    expect(copied.buffer).not.toBe(first.buffer)
    // Its own memory, all of it the value (no shared pool whose other bytes `.buffer` would expose), as plain bytes.
    expect(copied.buffer.byteLength).toBe(5)
    expect(Object.getPrototypeOf(copied)).toBe(Uint8Array.prototype)
    expect(copied.buffer).not.toBe(second.buffer)
    expect(copied.byteOffset).toBe(0)
    expect(copied.buffer.byteLength).toBe(5)
  })

  it("drops the values read so far when an error line replaces the rest of the reply", () => {
    expect(
      one(Reply.retrieval(["a", "b"], false), "VALUE a 0 1\r\nx\r\nSERVER_ERROR out of memory writing get response\r\n")
    ).toEqual({ _tag: "ServerError", text: "out of memory writing get response" })
    // The next retrieval starts afresh.
    const out = run(
      [Reply.retrieval(["a", "b"], false), Reply.retrieval(["a"], false)],
      "VALUE a 0 1\r\nx\r\nCLIENT_ERROR bad command line format\r\nVALUE a 0 1\r\ny\r\nEND\r\n"
    )
    expect(out.errors).toEqual([])
    expect(out.replies).toEqual([
      { _tag: "ClientError", text: "bad command line format" },
      { _tag: "Values", values: [value("a", "y")] }
    ])
  })

  it("refuses other replies inside a retrieval", () => {
    protocolError([Reply.retrieval(["a"], false)], "STORED\r\n")
    protocolError([Reply.retrieval(["a"], false)], "VALUE a 0 1\r\nx\r\nSTORED\r\n")
    protocolError([Reply.retrieval(["a"], false)], "HD\r\n")
  })
})

describe("Decoder: error replies", () => {
  const errorLines: ReadonlyArray<readonly [string, Reply.Reply]> = [
    ["ERROR", { _tag: "Error", text: "" }],
    ["ERROR Too many open connections", { _tag: "Error", text: "Too many open connections" }],
    ["ERROR: shutdown not enabled", { _tag: "Error", text: "shutdown not enabled" }],
    ["CLIENT_ERROR bad data chunk", { _tag: "ClientError", text: "bad data chunk" }],
    [
      "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]",
      { _tag: "ClientError", text: "bad command line format.  Usage: delete <key> [noreply]" }
    ],
    ["SERVER_ERROR object too large for cache", { _tag: "ServerError", text: "object too large for cache" }]
  ]

  for (const expectation of everyExpectation.filter((e) => e._tag !== "Sync")) {
    it(`ERROR / CLIENT_ERROR / SERVER_ERROR complete a ${expectation._tag} expectation`, () => {
      for (const [line, reply] of errorLines) {
        expect(one(expectation, `${line}\r\n`)).toEqual(reply)
      }
    })
  }

  it("does not take words that merely start like an error word", () => {
    protocolError([Reply.expect.Storage], "ERRORS\r\n")
    protocolError([Reply.expect.Storage], "CLIENT_ERRORS x\r\n")
    protocolError([Reply.expect.Storage], "SERVER_ERROR_X\r\n")
  })

  it("accepts only an error line for shutdown", () => {
    expect(one(Reply.expect.Shutdown, "ERROR: shutdown not enabled\r\n")).toEqual({
      _tag: "Error",
      text: "shutdown not enabled"
    })
    protocolError([Reply.expect.Shutdown], "OK\r\n")
  })
})

describe("Decoder: meta replies", () => {
  it("decodes every meta code, flag-less ones without allocating", () => {
    for (const code of ["HD", "EN", "NF", "NS", "EX"] as const) {
      const first = one(Reply.expect.Meta, `${code}\r\n`)
      expect(first).toEqual(meta(code))
      expect(one(Reply.expect.Meta, `${code}\r\n`)).toBe(first)
    }
    expect(one(Reply.expect.Meta, "VA 2\r\nhi\r\n")).toEqual(meta("VA", {}, bytes("hi")))
    expect(one(Reply.expect.Meta, "VA 0\r\n\r\n")).toEqual(meta("VA", {}, new Uint8Array(0)))
  })

  it("parses every flag a meta reply returns", () => {
    expect(one(Reply.expect.Meta, "HD c18446744073709551615 f4294967295 t-1 s5 h1 l30 kfoo Z X W\r\n")).toEqual(
      meta("HD", {
        cas: 18446744073709551615n,
        flags: 4294967295,
        ttl: -1,
        size: 5,
        hit: true,
        lastAccess: 30,
        key: "foo",
        winSent: true,
        stale: true,
        win: true
      })
    )
    expect(one(Reply.expect.Meta, "VA 1 t30 c112 X W\r\nx\r\n")).toEqual(
      meta("VA", { ttl: 30, cas: 112n, stale: true, win: true }, bytes("x"))
    )
    expect(one(Reply.expect.Meta, "HD h0 t0\r\n")).toEqual(meta("HD", { hit: false, ttl: 0 }))
    expect(one(Reply.expect.Meta, "EN kключ\r\n")).toEqual(meta("EN", { key: "ключ" }))
  })

  it("decodes a base64 key (k with b) to latin1 text", () => {
    expect(one(Reply.expect.Meta, "HD kYQ== b\r\n")).toEqual(meta("HD", { key: "a", base64Key: true }))
    expect(one(Reply.expect.Meta, "VA 1 k/+AA b c3\r\nz\r\n")).toEqual(
      meta("VA", { key: "\xff\xe0\x00", base64Key: true, cas: 3n }, bytes("z"))
    )
    expect(protocolError([Reply.expect.Meta], "HD k!!!! b\r\n").reason).toBe("bad base64 key in a meta reply")
  })

  it("skips unknown flags and refuses malformed known ones", () => {
    expect(one(Reply.expect.Meta, "HD Pproxy Lx s3\r\n")).toEqual(meta("HD", { size: 3 }))
    protocolError([Reply.expect.Meta], "HD cabc\r\n")
    protocolError([Reply.expect.Meta], "HD c18446744073709551616\r\n")
    protocolError([Reply.expect.Meta], "HD f4294967296\r\n")
    protocolError([Reply.expect.Meta], "HD t-2\r\n")
    protocolError([Reply.expect.Meta], "HD h2\r\n")
    protocolError([Reply.expect.Meta], "HD s\r\n")
    protocolError([Reply.expect.Meta], "HD l1x\r\n")
  })

  it("matches the opaque and reuses the requested string", () => {
    const reply = one(withOpaque("abc"), "HD Oabc c5\r\n") as Reply.Meta
    expect(reply).toEqual(meta("HD", { opaque: "abc", cas: 5n }))
    expect(one(withOpaque("x"), "EN Ox\r\n")).toEqual(meta("EN", { opaque: "x" }))
  })

  it("refuses a meta opaque that does not match", () => {
    expect(protocolError([withOpaque("abc")], "HD Oabd\r\n").reason).toContain("does not match")
    protocolError([withOpaque("abc")], "HD\r\n")
    protocolError([withOpaque("abc")], "HD Oab\r\n")
    protocolError([withOpaque("abc")], "HD Oabcd\r\n")
    expect(protocolError([Reply.expect.Meta], "HD Ozz\r\n").reason).toContain("did not send")
  })

  it("refuses malformed VA lines and over-long VA blocks", () => {
    protocolError([Reply.expect.Meta], "VA\r\n")
    protocolError([Reply.expect.Meta], "VA x\r\nx\r\n")
    expect(protocolError([Reply.expect.Meta], "VA 11 c1\r\n", { maxValueLength: 10 }).reason).toBe(
      "VA data block longer than maxValueLength"
    )
    protocolError([Reply.expect.Meta], "VA 1\r\nxx\r\n")
  })

  it("refuses MN, ME and text replies for a meta request", () => {
    protocolError([Reply.expect.Meta], "MN\r\n")
    protocolError([Reply.expect.Meta], "ME a exp=1\r\n")
    protocolError([Reply.expect.Meta], "STORED\r\n")
    protocolError([Reply.expect.Meta], "HDX\r\n")
  })

  it("decodes ME debug lines and EN for me", () => {
    expect(one(Reply.expect.MetaDebug, "ME cnt exp=-1 la=0 cas=120 fetch=yes cls=1 size=64\r\n")).toEqual({
      _tag: "MetaDebug",
      key: "cnt",
      fields: { exp: "-1", la: "0", cas: "120", fetch: "yes", cls: "1", size: "64" }
    })
    expect(one(Reply.expect.MetaDebug, "EN\r\n")).toEqual(meta("EN"))
    protocolError([Reply.expect.MetaDebug], "HD\r\n")
    protocolError([Reply.expect.MetaDebug], "ME \r\n")
  })
})

describe("Decoder: Sync and quiet meta (amendments 1 and 2)", () => {
  it("completes a Sync with MN as a Meta reply", () => {
    expect(one(Reply.expect.Sync, "MN\r\n")).toEqual(meta("MN"))
  })

  it("passes error lines before MN to onQuietError, without completing the Sync", () => {
    const out = run([Reply.expect.Sync], "ERROR\r\nCLIENT_ERROR bad data chunk\r\nSERVER_ERROR out of memory\r\n")
    expect(out.replies).toEqual([])
    expect(out.decoder.pending).toBe(1)
    expect(out.quietErrors).toEqual([
      { _tag: "Error", text: "" },
      { _tag: "ClientError", text: "bad data chunk" },
      { _tag: "ServerError", text: "out of memory" }
    ])
    out.decoder.feed(bytes("MN\r\n"))
    expect(out.replies).toEqual([meta("MN")])
    expect(out.decoder.pending).toBe(0)
  })

  it("drops the quiet errors when there is no onQuietError", () => {
    const replies: Array<Reply.Reply> = []
    const decoder = new Decoder.Decoder({ onReply: (r) => replies.push(r), onError: () => expect.unreachable() })
    decoder.expect(Reply.expect.Sync)
    decoder.feed(bytes("ERROR\r\nMN\r\n"))
    expect(replies).toEqual([meta("MN")])
  })

  it("refuses anything but errors and MN while a Sync is at the head", () => {
    expect(protocolError([Reply.expect.Sync], "STORED\r\n").reason).toBe("unexpected line before MN")
    protocolError([Reply.expect.Sync], "HD\r\n")
    protocolError([Reply.expect.Sync], "HD Oq\r\n")
  })

  it("completes a quiet request whose answer was suppressed when MN arrives", () => {
    const out = run([quiet("a", "EN"), quiet("b"), Reply.expect.Sync], "MN\r\n")
    expect(out.errors).toEqual([])
    expect(out.replies).toEqual([meta("EN", { opaque: "a" }), meta("HD", { opaque: "b" }), meta("MN")])
  })

  it("matches a returned quiet reply by opaque, suppressing the requests before it", () => {
    const out = run(
      [quiet("1", "EN"), quiet("2", "EN"), quiet("3"), quiet("4"), Reply.expect.Sync],
      "VA 2 O2 f3\r\nhi\r\nNS O4\r\nMN\r\n"
    )
    expect(out.errors).toEqual([])
    expect(out.replies).toEqual([
      meta("EN", { opaque: "1" }),
      meta("VA", { opaque: "2", flags: 3 }, bytes("hi")),
      meta("HD", { opaque: "3" }),
      meta("NS", { opaque: "4" }),
      meta("MN")
    ])
  })

  it("gives an error line to the quiet request at the head (errors are always returned)", () => {
    const out = run([quiet("1"), quiet("2"), Reply.expect.Sync], "CLIENT_ERROR bad data chunk\r\nERROR\r\nMN\r\n")
    expect(out.errors).toEqual([])
    expect(out.replies).toEqual([
      { _tag: "ClientError", text: "bad data chunk" },
      { _tag: "Error", text: "" },
      meta("MN")
    ])
    expect(out.quietErrors).toEqual([])
  })

  it("tries a non-meta reply on the request after a suppressed quiet one", () => {
    const out = run([quiet("1"), Reply.expect.Storage, Reply.expect.Meta], "STORED\r\nHD\r\n")
    expect(out.replies).toEqual([meta("HD", { opaque: "1" }), Reply.replies.Stored, meta("HD")])
  })

  it("refuses a reply that matches no quiet request and nothing after them", () => {
    const error = protocolError([quiet("1"), quiet("2")], "HD O3\r\n")
    expect(error.reason).toBe("unsolicited reply: no request is pending")
  })

  it("refuses a reply that fits neither the quiet head nor the next request", () => {
    protocolError([quiet("1"), Reply.expect.Storage], "DELETED\r\n")
    protocolError([quiet("1"), withOpaque("2")], "HD O3\r\n")
  })
})

describe("Decoder: framing and protocol errors", () => {
  it("decodes a line split anywhere, keeping only the partial line buffered", () => {
    const replies: Array<Reply.Reply> = []
    const decoder = new Decoder.Decoder({ onReply: (r) => replies.push(r), onError: () => expect.unreachable() })
    decoder.expect(Reply.expect.Storage)
    decoder.feed(bytes("STOR"))
    expect(decoder.buffered).toBe(4)
    decoder.feed(bytes("ED\r"))
    expect(decoder.buffered).toBe(7)
    expect(replies).toEqual([])
    decoder.feed(bytes("\n"))
    expect(replies).toEqual([Reply.replies.Stored])
    expect(decoder.buffered).toBe(0)
    decoder.feed(new Uint8Array(0))
    expect(decoder.pending).toBe(0)
  })

  it("counts the bytes of a split value as buffered", () => {
    const decoder = new Decoder.Decoder({ onReply: () => {}, onError: () => expect.unreachable() })
    decoder.expect(Reply.retrieval(["a"], false))
    decoder.feed(bytes("VALUE a 0 10\r\n0123"))
    expect(decoder.buffered).toBe(4)
    decoder.feed(bytes("456789\r\nEND\r\n"))
    expect(decoder.buffered).toBe(0)
  })

  it("refuses unsolicited bytes with nothing pending", () => {
    const error = protocolError([], "ERROR Too many open connections\r\n")
    expect(error.reason).toBe("unsolicited data: no request is pending")
    expect(error.line).toBe("ERROR Too many open connections")
    expect(protocolError([Reply.expect.Storage], "STORED\r\nSTORED\r\n").reason).toBe(
      "unsolicited data: no request is pending"
    )
    // Reported at the first byte, without waiting for a line end.
    const out = decodeChunks([], [bytes("x")])
    expect(out.errors).toHaveLength(1)
  })

  it("refuses a line ending in a bare \\n", () => {
    expect(protocolError([Reply.expect.Storage], "STORED\n").reason).toBe("reply line ends in a bare \\n")
    protocolError([Reply.expect.Storage], "\n")
  })

  it("refuses a line longer than maxLineLength, in one chunk or before its end arrives", () => {
    expect(one(Reply.expect.Version, `VERSION ${"x".repeat(12)}\r\n`)).toEqual({
      _tag: "Version",
      version: "x".repeat(12)
    })
    const options = { maxLineLength: 20 }
    expect(run([Reply.expect.Version], `VERSION ${"x".repeat(12)}\r\n`, options).errors).toEqual([])
    expect(protocolError([Reply.expect.Version], `VERSION ${"x".repeat(13)}\r\n`, options).reason).toBe(
      "reply line longer than maxLineLength"
    )
    const partial = decodeChunks([Reply.expect.Version], [bytes("VERSION "), bytes("x".repeat(100))], options)
    expect(partial.errors).toHaveLength(1)
    expect(partial.maxBuffered).toBeLessThanOrEqual(21)
  })

  it("holds a get's VALUE lines (read in one pass) to the same limits as any line", () => {
    const get = Reply.retrieval(["key:1"], false)
    // 20 bytes, at the limit: accepted; one more digit of leading zeros: refused.
    const atLimit = "VALUE key:1 0000 001"
    expect(atLimit.length).toBe(20)
    expect(run([get], `${atLimit}\r\nx\r\nEND\r\n`, { maxLineLength: 20 }).errors).toEqual([])
    expect(protocolError([get], `VALUE key:1 00000 001\r\nx\r\nEND\r\n`, { maxLineLength: 20 }).reason).toBe(
      "reply line longer than maxLineLength"
    )
    expect(one(get, "VALUE key:1 4294967295 1\r\nx\r\nEND\r\n")).toEqual({
      _tag: "Values",
      values: [{ key: "key:1", flags: 4294967295, value: bytes("x"), cas: undefined }]
    })
    protocolError([get], "VALUE key:1 4294967296 1\r\nx\r\nEND\r\n")
    protocolError([get], "VALUE key:1 0 2\r\nx\r\nEND\r\n")
    expect(protocolError([get], "VALUE key:1 0 5\r\nxxxxx\r\nEND\r\n", { maxValueLength: 4 }).reason).toBe(
      "VALUE data block longer than maxValueLength"
    )
    protocolError([get], "VALUE key:1 0 1\nx\r\nEND\r\n")
    protocolError([get], "VALUE key:1  0 1\r\nx\r\nEND\r\n")
  })

  it("reports one error and decodes nothing afterwards", () => {
    const replies: Array<Reply.Reply> = []
    const errors: Array<Errors.ProtocolError> = []
    const decoder = new Decoder.Decoder({ onReply: (r) => replies.push(r), onError: (e) => errors.push(e) })
    decoder.expect(Reply.expect.Storage)
    decoder.expect(Reply.expect.Storage)
    decoder.expect(Reply.expect.Storage)
    decoder.feed(bytes("STORED\r\nBOGUS\r\nSTORED\r\n"))
    decoder.feed(bytes("STORED\r\n"))
    decoder.feed(bytes("more garbage"))
    expect(replies).toEqual([Reply.replies.Stored])
    expect(errors).toHaveLength(1)
    expect(errors[0]!.line).toBe("BOGUS")
    expect(decoder.failed).toBe(errors[0])
    expect(decoder.buffered).toBe(0)
  })

  it("cuts the reported line to 200 characters", () => {
    const error = protocolError([Reply.expect.Storage], `${"Z".repeat(500)}\r\n`)
    expect(error.line).toHaveLength(200)
  })

  it("lets onReply queue more expectations, but not feed", () => {
    const replies: Array<Reply.Reply> = []
    const decoder: Decoder.Decoder = new Decoder.Decoder({
      onReply: (r) => {
        replies.push(r)
        if (replies.length === 1) decoder.expect(Reply.expect.Delete)
        if (replies.length === 2) expect(() => decoder.feed(bytes("x"))).toThrow(/must not be called/)
      },
      onError: () => expect.unreachable()
    })
    decoder.expect(Reply.expect.Storage)
    decoder.feed(bytes("STORED\r\nDELETED\r\n"))
    expect(replies).toEqual([Reply.replies.Stored, Reply.replies.Deleted])
  })

  it("keeps the FIFO right across many requests (queue compaction)", () => {
    const decoder = new Decoder.Decoder({ onReply: () => {}, onError: () => expect.unreachable() })
    const replies: Array<Reply.Reply> = []
    const counted = new Decoder.Decoder({ onReply: (r) => replies.push(r), onError: () => expect.unreachable() })
    for (let i = 0; i < 5000; i++) {
      decoder.expect(Reply.expect.Storage)
      counted.expect(i % 2 === 0 ? Reply.expect.Storage : Reply.expect.Delete)
    }
    const lines: Array<string> = []
    for (let i = 0; i < 5000; i++) lines.push(i % 2 === 0 ? "STORED\r\n" : "DELETED\r\n")
    const input = bytes(lines.join(""))
    for (let offset = 0; offset < input.length; offset += 1000) counted.feed(input.subarray(offset, offset + 1000))
    expect(replies).toHaveLength(5000)
    expect(replies[4999]).toBe(Reply.replies.Deleted)
    expect(counted.pending).toBe(0)
    expect(decoder.pending).toBe(5000)
  })

  it("keeps the FIFO right as its queue empties, refills and compacts with requests added in between", () => {
    const replies: Array<Reply.Reply> = []
    const decoder = new Decoder.Decoder({ onReply: (r) => replies.push(r), onError: () => expect.unreachable() })
    const expected: Array<Reply.Reply> = []
    let unanswered: Array<string> = []
    let n = 0
    let round = 0
    for (const size of [1, 1, 3, 1500, 2, 2600, 1, 700]) {
      for (let i = 0; i < size; i++, n++) {
        const store = n % 3 !== 0
        decoder.expect(store ? Reply.expect.Storage : Reply.expect.Delete)
        expected.push(store ? Reply.replies.Stored : Reply.replies.Deleted)
        unanswered.push(store ? "STORED\r\n" : "DELETED\r\n")
      }
      // Every other round answers everything (the queue empties); the others leave a third for the next round.
      const answered = round++ % 2 === 0 ? unanswered.length : Math.floor((unanswered.length * 2) / 3)
      decoder.feed(bytes(unanswered.slice(0, answered).join("")))
      unanswered = unanswered.slice(answered)
      expect(decoder.pending).toBe(unanswered.length)
    }
    decoder.feed(bytes(unanswered.join("")))
    expect(replies).toEqual(expected)
    expect(decoder.pending).toBe(0)
  })
})

describe("Decoder: streamed retrieval (onValue)", () => {
  const streamed = (keys: ReadonlyArray<string>, cas = false) => {
    const events: Array<string> = []
    const decoder = new Decoder.Decoder({
      onReply: (reply) => events.push(`reply ${reply._tag}${reply._tag === "Values" ? ` ${reply.values.length}` : ""}`),
      onError: (error) => events.push(`error ${error.reason}`)
    })
    decoder.expect(
      Reply.retrieval(keys, cas, (value) =>
        events.push(`value ${value.key}=${new TextDecoder().decode(value.value)} flags ${value.flags} cas ${value.cas}`)
      )
    )
    decoder.expect(Reply.expect.Storage)
    return { events, decoder }
  }

  it("hands each value over as soon as its block and \\r\\n are read, before the rest of the reply", () => {
    const { events, decoder } = streamed(["a", "b", "c"])
    decoder.feed(bytes("VALUE a 3 2\r\nhi"))
    expect(events).toEqual([])
    decoder.feed(bytes("\r\nVALUE c 0 7\r\nthe "))
    expect(events).toEqual(["value a=hi flags 3 cas undefined"])
    decoder.feed(bytes("end\r\nEN"))
    expect(events).toEqual(["value a=hi flags 3 cas undefined", "value c=the end flags 0 cas undefined"])
    // END completes the request with a reply that carries no values; the next reply is the next request's.
    decoder.feed(bytes("D\r\nSTORED\r\n"))
    expect(events.slice(2)).toEqual(["reply Values 0", "reply Stored"])
    expect(decoder.pending).toBe(0)
  })

  it("streams gets with their CAS uniques, in any order (a proxy's merged reply)", () => {
    const { events, decoder } = streamed(["a", "b"], true)
    decoder.feed(bytes("VALUE b 0 1 7\r\nB\r\nVALUE a 0 1 9\r\nA\r\nEND\r\n"))
    expect(events).toEqual(["value b=B flags 0 cas 7", "value a=A flags 0 cas 9", "reply Values 0"])
  })

  it("keeps the checks of a retrieval, and never hands over a value cut by an error line or a protocol error", () => {
    const cut = streamed(["a", "b"])
    cut.decoder.feed(bytes("VALUE a 0 1\r\nA\r\nVALUE b 0 4\r\nBB"))
    cut.decoder.feed(bytes("XX\r\nVALUE b 0 1\r\nB\r\n"))
    expect(cut.events).toEqual([
      "value a=A flags 0 cas undefined",
      "value b=BBXX flags 0 cas undefined",
      "error more VALUE lines than keys requested"
    ])
    const refused = streamed(["a"])
    refused.decoder.feed(bytes("VALUE a 0 4\r\nAAAAxx"))
    expect(refused.events).toEqual(["error data block not followed by \\r\\n"])
    const failed = streamed(["a", "b"])
    failed.decoder.feed(bytes("VALUE a 0 1\r\nA\r\nSERVER_ERROR out of memory\r\nSTORED\r\n"))
    expect(failed.events).toEqual(["value a=A flags 0 cas undefined", "reply ServerError", "reply Stored"])
  })
})
