/**
 * The meta form of the text commands: the bytes `Encoder.encodeMeta` writes, the text replies
 * `Decoder.expectMeta` reads back from crafted meta replies, and, against a real memcached, that a sequence of
 * text commands sent in their meta form gets the very replies the text form gets.
 */
import * as net from "node:net"
import { Command, Decoder, Encoder, Errors, MetaForm, Reply, Validation } from "@effect-memcache/protocol"
import { describe, expect, it } from "vitest"
import { type MemcachedServer, useMemcached } from "../../../testing/Memcached.ts"
import { bytes, checked, concat, latin1 } from "./commands.ts"

const B64: Validation.Limits = { base64Keys: true }
const utf8 = new TextDecoder()
const form = (command: Command.Command, opaque = 1): string =>
  utf8.decode(Encoder.encodeMeta(checked(command, B64), opaque))
const abc = bytes("abc")

describe("MetaForm: encoding", () => {
  const rows: ReadonlyArray<readonly [string, Command.Command, string]> = [
    ["set with flags and exptime", Command.set("k", abc, { flags: 5, exptime: 10 }), "ms k 3 F5 T10 O1\r\nabc\r\n"],
    ["set leaves out the default flags and exptime", Command.set("k", abc), "ms k 3 O1\r\nabc\r\n"],
    ["add is mode E", Command.add("k", abc, { flags: 2, exptime: -1 }), "ms k 3 F2 T-1 ME O1\r\nabc\r\n"],
    ["replace is mode R", Command.replace("k", abc), "ms k 3 MR O1\r\nabc\r\n"],
    [
      "append is mode A, without flags or exptime",
      Command.append("k", abc, { flags: 9, exptime: 9 }),
      "ms k 3 MA O1\r\nabc\r\n"
    ],
    ["prepend is mode P", Command.prepend("k", abc, { flags: 9 }), "ms k 3 MP O1\r\nabc\r\n"],
    [
      "cas carries C",
      Command.cas("k", abc, 18446744073709551615n, { flags: 1 }),
      "ms k 3 F1 C18446744073709551615 O1\r\nabc\r\n"
    ],
    ["a noreply set goes quiet", Command.set("k", abc, { noreply: true }), "ms k 3 O1 q\r\nabc\r\n"],
    ["a noreply cas goes quiet", Command.cas("k", abc, 3n, { noreply: true }), "ms k 3 C3 O1 q\r\nabc\r\n"],
    ["delete", Command.delete("k"), "md k O1\r\n"],
    ["a noreply delete", Command.delete("k", { noreply: true }), "md k O1 q\r\n"],
    ["incr asks for the value", Command.incr("k", 5n), "ma k D5 v O1\r\n"],
    ["decr is mode D", Command.decr("k", 18446744073709551615n), "ma k D18446744073709551615 MD v O1\r\n"],
    ["a noreply incr does not ask for the value", Command.incr("k", 1n, { noreply: true }), "ma k D1 O1 q\r\n"],
    ["touch is mg with T", Command.touch("k", 60), "mg k T60 O1\r\n"],
    ["a noreply touch", Command.touch("k", 0, { noreply: true }), "mg k T0 O1 q\r\n"],
    ["a key with a space goes base64 with b", Command.set("a b", abc, { flags: 1 }), "ms YSBi 3 b F1 O1\r\nabc\r\n"],
    ["a key with a control byte goes base64", Command.delete("a\tb"), "md YQli b O1\r\n"],
    ["a base64 incr", Command.decr("a b", 2n), "ma YSBi b D2 MD v O1\r\n"],
    ["a base64 touch", Command.touch("a b", 5), "mg YSBi b T5 O1\r\n"],
    ["a non-ASCII key goes raw UTF-8", Command.set("ключ€", abc), "ms ключ€ 3 O1\r\nabc\r\n"],
    ["version has no meta form", Command.version, "version\r\n"],
    ["stats has no meta form", Command.stats(["slabs"]), "stats slabs\r\n"],
    ["flush_all has no meta form", Command.flushAll({ noreply: true }), "flush_all noreply\r\n"]
  ]

  it.each(rows)("%s", (_, command, expected) => {
    expect(form(command)).toBe(expected)
  })

  it("writes a get as a run of quiet mg with consecutive opaques, closed by mn", () => {
    expect(form(Command.get(["a", "b", "c"]), 7)).toBe("mg a v f O7 q\r\nmg b v f O8 q\r\nmg c v f O9 q\r\nmn\r\n")
    expect(form(Command.gets(["a", "b"]), 7)).toBe("mg a v f c O7 q\r\nmg b v f c O8 q\r\nmn\r\n")
    expect(form(Command.gat(100, ["a", "b"]), 1)).toBe("mg a v f T100 O1 q\r\nmg b v f T100 O2 q\r\nmn\r\n")
    expect(form(Command.gats(0, "a"), 1)).toBe("mg a v f c T0 O1 q\r\nmn\r\n")
    expect(form(Command.get(["x y", "ü"]), 2147483646)).toBe(
      "mg eCB5 b v f O2147483646 q\r\nmg ü v f O2147483647 q\r\nmn\r\n"
    )
  })

  it("writes the same bytes through Encoder.appendMeta, large values passed on as their own chunk", () => {
    const big = new Uint8Array(20000).fill(0x78)
    const commands = [...rows.map(([, command]) => command), Command.set("big", big), Command.get(["a", "b"])]
    const encoder = new Encoder.Encoder({ initialCapacity: 64 })
    const expected: Array<Uint8Array> = []
    commands.forEach((command, i) => {
      encoder.appendMeta(checked(command, B64), i * 10)
      expected.push(Encoder.encodeMeta(checked(command, B64), i * 10))
    })
    const chunks = encoder.take()
    expect(chunks).toContain(big)
    expect(latin1(concat(chunks))).toBe(latin1(concat(expected)))
  })

  it("the text form refuses a key that only the meta form can carry", () => {
    expect(() => Encoder.encode(checked(Command.set("a b", abc), B64))).toThrow(/meta form/)
    expect(Validation.isInvalid(Validation.validate(Command.set("a b", abc)))).toBe(true)
    expect(form(Command.get(`${"x".repeat(185)} `))).toMatch(/^mg \S{248} b v f O1 q\r\nmn\r\n$/)
    expect(Validation.isInvalid(Validation.validate(Command.get(`${"x".repeat(186)} `), B64))).toBe(true)
  })

  it("counts the opaques of each command", () => {
    expect(MetaForm.opaques(Command.get(["a", "b", "c"]))).toBe(3)
    expect(MetaForm.opaques(Command.gats(1, ["a", "b"]))).toBe(2)
    for (const command of [
      Command.set("a", abc),
      Command.cas("a", abc, 1n),
      Command.delete("a"),
      Command.incr("a", 1n)
    ])
      expect(MetaForm.opaques(command)).toBe(1)
    expect(MetaForm.opaques(Command.touch("a", 1, { noreply: true }))).toBe(1)
    expect(MetaForm.opaques(Command.version)).toBe(0)
    expect(MetaForm.opaques(Command.stats())).toBe(0)
    expect(MetaForm.opaques(Command.flushAll())).toBe(0)
    expect(MetaForm.opaques(Command.sync)).toBe(0)
  })
})

// ---------------------------------------------------------------------------------------------------------------
// decoding crafted replies
// ---------------------------------------------------------------------------------------------------------------

interface Outcome {
  readonly replies: Array<Reply.Reply>
  readonly errors: Array<Errors.ProtocolError>
  readonly quietErrors: Array<Reply.Reply>
  readonly streamed: Array<Reply.Value>
  readonly decoder: Decoder.Decoder
}

type Setup = (decoder: Decoder.Decoder, onValue: (value: Reply.Value) => void) => void

const decodeWith = (setup: Setup, chunks: Iterable<Uint8Array>): Outcome => {
  const out = { replies: [], errors: [], quietErrors: [], streamed: [] } as Omit<Outcome, "decoder">
  const decoder = new Decoder.Decoder({
    onReply: (reply) => out.replies.push(reply),
    onError: (error) => out.errors.push(error),
    onQuietError: (reply) => out.quietErrors.push(reply)
  })
  setup(decoder, (value) => out.streamed.push(value))
  for (const chunk of chunks) decoder.feed(chunk.slice())
  return { ...out, decoder }
}

const plain = (o: Outcome) => ({
  replies: o.replies.map((r) =>
    r._tag === "Values" ? { values: r.values.map((v) => ({ ...v, value: latin1(v.value) })) } : r
  ),
  streamed: o.streamed.map((v) => ({ ...v, value: latin1(v.value) })),
  quietErrors: o.quietErrors,
  errors: o.errors.map((e) => e.reason)
})

/** Decodes `input` in one piece, and checks that byte-at-a-time feeding and every two-piece split agree. */
const decode = (setup: Setup, input: string): Outcome => {
  const data = bytes(input)
  const whole = decodeWith(setup, [data])
  const expected = plain(whole)
  expect(
    plain(
      decodeWith(
        setup,
        Array.from(data, (_, i) => data.subarray(i, i + 1))
      )
    )
  ).toEqual(expected)
  for (let i = 1; i < data.length; i++)
    expect(plain(decodeWith(setup, [data.subarray(0, i), data.subarray(i)]))).toEqual(expected)
  return whole
}

const answer = (expectation: Reply.Expectation, line: string): Outcome =>
  decode((d) => d.expectMeta(expectation, 5), line)

const failure = (setup: Setup, input: string): string => {
  const out = decode(setup, input)
  expect(out.errors).toHaveLength(1)
  expect(out.errors[0]).toBeInstanceOf(Errors.ProtocolError)
  expect(out.decoder.failed).toBe(out.errors[0])
  return out.errors[0]!.reason
}

const value = (key: string, flags: number, text: string, cas?: bigint) => ({ key, flags, value: text, cas })
const get3 =
  (cas = false): Setup =>
  (d) =>
    d.expectMeta(Reply.retrieval(["a", "b", "c"], cas), 7)

describe("MetaForm: decoding", () => {
  it.each([
    [Reply.expect.Storage, "HD O5", Reply.replies.Stored],
    [Reply.expect.Storage, "NS O5", Reply.replies.NotStored],
    [Reply.expect.Storage, "EX O5", Reply.replies.Exists],
    [Reply.expect.Storage, "NF O5", Reply.replies.NotFound],
    [Reply.expect.Delete, "HD O5", Reply.replies.Deleted],
    [Reply.expect.Delete, "NF O5", Reply.replies.NotFound],
    [Reply.expect.Touch, "HD O5", Reply.replies.Touched],
    [Reply.expect.Touch, "EN O5", Reply.replies.NotFound],
    [Reply.expect.Arithmetic, "NF O5", Reply.replies.NotFound]
  ] as const)("reads a %j answer %s as the shared text reply", (expectation, line, expected) => {
    const out = answer(expectation, `${line}\r\n`)
    expect(out.errors).toEqual([])
    expect(out.replies).toHaveLength(1)
    expect(out.replies[0]).toBe(expected)
  })

  it("refuses an answer the command cannot get", () => {
    for (const [expectation, line] of [
      [Reply.expect.Delete, "NS O5"],
      [Reply.expect.Touch, "NF O5"],
      [Reply.expect.Arithmetic, "HD O5"],
      [Reply.expect.Storage, "EN O5"],
      [Reply.expect.Storage, "STORED"]
    ] as const)
      expect(answer(expectation, `${line}\r\n`).errors).toHaveLength(1)
  })

  it("refuses an answer with another opaque, or none", () => {
    expect(failure((d) => d.expectMeta(Reply.expect.Storage, 5), "HD O6\r\n")).toMatch(/does not match/)
    expect(failure((d) => d.expectMeta(Reply.expect.Storage, 5), "HD\r\n")).toMatch(/lacks/)
    expect(failure((d) => d.expectMeta(Reply.expect.Delete, 5), "NF O55\r\n")).toMatch(/does not match/)
  })

  it("completes a request with an error line", () => {
    const out = answer(Reply.expect.Storage, "SERVER_ERROR out of memory storing object\r\n")
    expect(out.replies).toEqual([{ _tag: "ServerError", text: "out of memory storing object" }])
  })

  it("reads the hits of a get run as the values of the keys their opaques stand for", () => {
    const out = decode(get3(), "VA 2 f5 O7\r\nhi\r\nVA 4 f4294967295 O9\r\nb\r\ny\r\nMN\r\n")
    expect(out.errors).toEqual([])
    expect(plain(out).replies).toEqual([{ values: [value("a", 5, "hi"), value("c", 4294967295, "b\r\ny")] }])
    const gets = decode(get3(true), "VA 1 f0 c18446744073709551615 O8\r\nx\r\nMN\r\n")
    expect(plain(gets).replies).toEqual([{ values: [value("b", 0, "x", 18446744073709551615n)] }])
    expect(plain(decode(get3(), "MN\r\n")).replies).toEqual([{ values: [] }])
  })

  it("refuses hits out of order, repeated, unknown, or with the wrong cas flag", () => {
    for (const input of [
      "VA 1 f0 O9\r\nx\r\nVA 1 f0 O7\r\ny\r\nMN\r\n",
      "VA 1 f0 O8\r\nx\r\nVA 1 f0 O8\r\ny\r\nMN\r\n",
      "VA 1 f0 O10\r\nx\r\nMN\r\n",
      "VA 1 f0 O6\r\nx\r\nMN\r\n",
      "VA 1 f0\r\nx\r\nMN\r\n",
      "VA 1 O7\r\nx\r\nMN\r\n",
      "VA 1 f0 c1 O7\r\nx\r\nMN\r\n",
      "EN O7\r\nMN\r\n",
      "HD O7\r\nMN\r\n"
    ])
      expect(failure(get3(), input)).toBeTypeOf("string")
    expect(failure(get3(true), "VA 1 f0 O7\r\nx\r\nMN\r\n")).toMatch(/cas/)
  })

  it("completes a get run with an error line inside it only at MN, and decodes the next requests", () => {
    const setup: Setup = (d) => {
      get3()(d, () => {})
      d.expectMeta(Reply.expect.Storage, 10)
      d.expectMeta(Reply.retrieval(["d"], false), 11)
    }
    const head = "VA 1 f0 O7\r\nx\r\nCLIENT_ERROR bad command line format\r\nVA 1 f0 O9\r\nz\r\nSERVER_ERROR x\r\n"
    const partial = decode(setup, head)
    expect(partial.replies).toEqual([])
    expect(partial.decoder.pending).toBe(3)
    const out = decode(setup, `${head}MN\r\nHD O10\r\nVA 1 f2 O11\r\nw\r\nMN\r\n`)
    expect(out.errors).toEqual([])
    expect(plain(out).replies).toEqual([
      { _tag: "ClientError", text: "bad command line format" },
      Reply.replies.Stored,
      { values: [value("d", 2, "w")] }
    ])
    expect(out.quietErrors).toEqual([])
  })

  it("reads opaques from 0 to MetaForm.MAX_OPAQUE, and no further", () => {
    const max = MetaForm.MAX_OPAQUE
    expect(decode((d) => d.expectMeta(Reply.expect.Delete, 0), "HD O0\r\n").replies).toEqual([Reply.replies.Deleted])
    const last = decode((d) => d.expectMeta(Reply.expect.Delete, max), `NF O${max}\r\n`)
    expect(last.replies).toEqual([Reply.replies.NotFound])
    const run: Setup = (d) => d.expectMeta(Reply.retrieval(["a", "b"], false), max - 1)
    expect(plain(decode(run, `VA 1 f0 O${max}\r\nx\r\nMN\r\n`)).replies).toEqual([{ values: [value("b", 0, "x")] }])
    expect(failure(run, `VA 1 f0 O${max * 10 + max - 1}\r\nx\r\nMN\r\n`)).toMatch(/opaque/)
  })

  it("refuses a hit whose opaque is padded past 10 digits, however the line is split", () => {
    const run: Setup = (d) => d.expectMeta(Reply.retrieval(["a", "b"], false), 7)
    expect(failure(run, "VA 1 f0 O000000000008\r\nx\r\nMN\r\n")).toMatch(/opaque/)
  })

  it("reads the first opaque of a hit that carries two, as every other answer does", () => {
    const run: Setup = (d) => d.expectMeta(Reply.retrieval(["a", "b"], false), 7)
    expect(plain(decode(run, "VA 1 f0 O8 O7\r\nx\r\nMN\r\n")).replies).toEqual([{ values: [value("b", 0, "x")] }])
  })

  it("reads the mn closing a run of quiet requests: answers dropped, errors to onQuietError", () => {
    // ms k .. O1 q, ma k .. O2 q, mn, then a replying ms with O3.
    const setup: Setup = (d) => {
      d.expectMetaSync(1, 3)
      d.expectMeta(Reply.expect.Storage, 3)
    }
    const MN = { _tag: "Meta", code: "MN", flags: {}, value: undefined }
    const silent = decode(setup, "MN\r\nNS O3\r\n")
    expect(silent.replies).toEqual([MN, Reply.replies.NotStored])
    const answered = decode(setup, "NS O1\r\nNF O2\r\nMN\r\nHD O3\r\n")
    expect(answered.replies).toEqual([MN, Reply.replies.Stored])
    expect(answered.quietErrors).toEqual([])
    const error = decode(setup, "CLIENT_ERROR cannot increment or decrement non-numeric value\r\nMN\r\nHD O3\r\n")
    expect(error.errors).toEqual([])
    expect(error.replies).toEqual([MN, Reply.replies.Stored])
    expect(error.quietErrors).toEqual([
      { _tag: "ClientError", text: "cannot increment or decrement non-numeric value" }
    ])
    expect(failure(setup, "NS O3\r\nMN\r\n")).toMatch(/none of the quiet requests/)
    expect(failure(setup, "VA 1 O1\r\n5\r\nMN\r\n")).toBeTypeOf("string")
  })

  it("accepts the opaques of a quiet run that wrapped around to 0", () => {
    const setup: Setup = (d) => d.expectMetaSync(MetaForm.MAX_OPAQUE, 1)
    expect(decode(setup, `EX O${MetaForm.MAX_OPAQUE}\r\nNS O0\r\nMN\r\n`).errors).toEqual([])
    expect(failure(setup, "NS O1\r\nMN\r\n")).toMatch(/none of the quiet requests/)
  })

  it("streams the hits of a get run to onValue", () => {
    const out = decode(
      (d, onValue) => d.expectMeta(Reply.retrieval(["a", "b"], false, onValue), 1),
      "VA 2 f3 O2\r\nhi\r\nMN\r\n"
    )
    expect(plain(out).streamed).toEqual([value("b", 3, "hi")])
    expect(plain(out).replies).toEqual([{ values: [] }])
  })

  it("reads the VA of an incr/decr as a bigint", () => {
    const numeric = (input: string) => answer(Reply.expect.Arithmetic, input).replies
    expect(numeric("VA 20 O5\r\n18446744073709551615\r\n")).toEqual([{ _tag: "Numeric", value: 18446744073709551615n }])
    expect(numeric("VA 1 O5\r\n0\r\n")).toEqual([{ _tag: "Numeric", value: 0n }])
    expect(failure((d) => d.expectMeta(Reply.expect.Arithmetic, 5), "VA 20 O5\r\n18446744073709551616\r\n")).toMatch(
      /number/
    )
    expect(failure((d) => d.expectMeta(Reply.expect.Arithmetic, 5), "VA 1 O4\r\n1\r\n")).toMatch(/opaque/)
  })
})

// ---------------------------------------------------------------------------------------------------------------
// against memcached: the text form and the meta form get the same replies
// ---------------------------------------------------------------------------------------------------------------

interface Batch {
  readonly count: number
  readonly replies: Array<Reply.Reply>
  readonly done: (error?: Error) => void
}

/** A bare socket writing either form of the commands and decoding their replies. */
class Wire {
  readonly quietErrors: Array<Reply.Reply> = []
  /** Every byte written, as latin1 text. */
  written = ""
  private readonly decoder: Decoder.Decoder
  private readonly encoder = new Encoder.Encoder()
  private readonly batches: Array<Batch> = []
  private opaque = 1
  readonly socket: net.Socket
  readonly meta: boolean

  constructor(socket: net.Socket, meta: boolean) {
    this.socket = socket
    this.meta = meta
    this.decoder = new Decoder.Decoder({
      onReply: (reply) => {
        const batch = this.batches[0]!
        batch.replies.push(reply)
        if (batch.replies.length === batch.count) this.batches.shift()!.done()
      },
      onError: (error) => {
        for (const batch of this.batches.splice(0)) batch.done(error)
      },
      onQuietError: (reply) => this.quietErrors.push(reply)
    })
    socket.on("data", (chunk: Buffer) => this.decoder.feed(chunk))
  }

  static open(server: MemcachedServer, meta: boolean): Promise<Wire> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: "127.0.0.1", port: server.port }, () => resolve(new Wire(socket, meta)))
      socket.once("error", reject)
    })
  }

  /** Sends the commands; each run of noreply ones is closed by `mn`, whose `MN` is among the replies. */
  send(commands: ReadonlyArray<Command.Command>): Promise<Array<Reply.Reply>> {
    let count = 0
    let runFirst: number | undefined
    const closeRun = () => {
      if (runFirst === undefined) return
      this.encoder.append(Validation.sync)
      if (runFirst !== this.opaque) this.decoder.expectMetaSync(runFirst, this.opaque)
      else this.decoder.expect(Reply.expect.Sync)
      runFirst = undefined
      count++
    }
    for (const command of commands) {
      const valid = checked(command, B64)
      const expectation = Reply.expectation(command)
      if (expectation !== undefined) closeRun()
      else runFirst ??= this.opaque
      const opaques = this.meta ? MetaForm.opaques(command) : 0
      if (opaques === 0) {
        this.encoder.append(valid)
        if (expectation !== undefined) this.decoder.expect(expectation)
      } else {
        this.encoder.appendMeta(valid, this.opaque)
        if (expectation !== undefined) this.decoder.expectMeta(expectation, this.opaque)
        this.opaque += opaques
      }
      if (expectation !== undefined) count++
    }
    closeRun()
    const replies = new Promise<Array<Reply.Reply>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no complete reply after 10 s")), 10_000)
      const batch: Batch = {
        count,
        replies: [],
        done: (error) => {
          clearTimeout(timer)
          if (error === undefined) resolve(batch.replies)
          else reject(error)
        }
      }
      this.batches.push(batch)
    })
    for (const chunk of this.encoder.take()) {
      this.written += latin1(chunk)
      this.socket.write(chunk)
    }
    return replies
  }
}

const big = Uint8Array.from({ length: 40_000 }, (_, i) => (i * 7919) & 0xff)

/** Text commands and what each step does with the last replies; every key goes through `k` (a prefix). */
const scenario = async (
  k: (key: string) => string,
  send: (c: ReadonlyArray<Command.Command>) => Promise<Array<Reply.Reply>>
) => {
  const out: Array<Array<Reply.Reply>> = []
  const step = async (commands: ReadonlyArray<Command.Command>) => {
    const replies = await send(commands)
    out.push(replies)
    return replies
  }
  await step([
    Command.set(k("a"), bytes("one"), { flags: 7 }),
    Command.add(k("a"), bytes("x")),
    Command.add(k("b"), bytes("two"), { flags: 4294967295 }),
    Command.replace(k("missing"), bytes("x")),
    Command.replace(k("b"), bytes("TWO\r\n"), { flags: 1 }),
    Command.append(k("a"), bytes(">"), { flags: 99 }),
    Command.prepend(k("a"), bytes("<")),
    Command.append(k("missing"), bytes("x")),
    Command.prepend(k("missing"), bytes("x")),
    Command.set(k("big"), big, { exptime: 1000 }),
    Command.set(k("ключ"), bytes("юникод")),
    Command.set(k("empty"), new Uint8Array(0))
  ])
  const [got] = await step([Command.gets([k("a"), k("missing"), k("b")])])
  const unique = got?._tag === "Values" ? got.values[0]!.cas! : 0n
  await step([
    Command.cas(k("a"), bytes("v2"), unique, { flags: 4 }),
    Command.cas(k("a"), bytes("v3"), unique),
    Command.cas(k("missing"), bytes("v"), unique),
    Command.cas(k("b"), bytes("v"), 18446744073709551615n),
    Command.get([k("a"), k("b"), k("missing"), k("big"), k("ключ"), k("empty"), k("a"), k("nope")]),
    Command.gat(1000, [k("missing"), k("a")]),
    Command.gats(0, [k("b")]),
    Command.touch(k("a"), 100),
    Command.touch(k("missing"), 100),
    Command.cas(k("big"), bytes("x"), 0n),
    Command.set(k("gone"), bytes("g")),
    Command.gat(-1, k("gone")),
    Command.get(k("gone")),
    Command.set(k("gone"), bytes("g")),
    Command.touch(k("gone"), -1),
    Command.get([k("gone"), k("big")]),
    Command.add(k("past"), bytes("p"), { exptime: -1 }),
    Command.set(k("abs"), bytes("t"), { exptime: Math.floor(Date.now() / 1000) + 1000 }),
    Command.get([k("past"), k("abs")])
  ])
  await step([
    Command.set(k("n"), bytes("10")),
    Command.incr(k("n"), 5n),
    Command.decr(k("n"), 100n),
    Command.incr(k("n"), 18446744073709551615n),
    Command.incr(k("n"), 1n),
    Command.set(k("p"), bytes("100")),
    Command.decr(k("p"), 1n),
    Command.get(k("p")),
    Command.incr(k("a"), 1n),
    Command.incr(k("missing"), 1n),
    Command.decr(k("missing"), 1n),
    Command.delete(k("b")),
    Command.delete(k("b")),
    Command.delete(k("missing")),
    Command.incr(k("p"), 0n),
    Command.get([k("b"), k("n")])
  ])
  const quiet = { noreply: true }
  await step([
    Command.set(k("q"), bytes("1"), { flags: 2, noreply: true }),
    Command.add(k("q"), bytes("x"), quiet),
    Command.replace(k("missing"), bytes("x"), quiet),
    Command.cas(k("q"), bytes("x"), 1n, quiet),
    Command.incr(k("q"), 5n, quiet),
    Command.incr(k("a"), 1n, quiet),
    Command.delete(k("missing"), quiet),
    Command.touch(k("q"), 100, quiet),
    Command.touch(k("missing"), 100, quiet),
    Command.append(k("q"), bytes("0"), quiet),
    Command.verbosity(0, quiet),
    Command.get([k("q"), k("a")]),
    Command.decr(k("q"), 1n, quiet),
    Command.delete(k("a"), quiet),
    Command.get([k("q"), k("a")])
  ])
  return out
}

/** Replies without the prefix and with cas values replaced by their presence (they differ between runs). */
const comparable = (prefix: string, steps: Array<Array<Reply.Reply>>) =>
  steps.map((replies) =>
    replies.map((r) =>
      r._tag === "Values"
        ? r.values.map((v) => ({ ...v, key: v.key.slice(prefix.length), value: latin1(v.value), cas: typeof v.cas }))
        : r
    )
  )

describe("MetaForm: against memcached", () => {
  const memcached = useMemcached()

  it("gets the replies of the text form for the same commands", async () => {
    const [text, meta] = await Promise.all([Wire.open(memcached(), false), Wire.open(memcached(), true)])
    try {
      const textReplies = comparable(
        "t:",
        await scenario(
          (key) => `t:${key}`,
          (c) => text.send(c)
        )
      )
      const metaReplies = comparable(
        "m:",
        await scenario(
          (key) => `m:${key}`,
          (c) => meta.send(c)
        )
      )
      expect(metaReplies).toEqual(textReplies)
      // The meta wire wrote only meta commands, the text wire none.
      expect(
        meta.written.split("\r\n").filter((line) => /^(set|add|get|gets|gat|cas|incr|delete|touch) /.test(line))
      ).toEqual([])
      expect(text.written).not.toMatch(/(^|\n)m[sgda] /)
      // Spot checks, so that both forms agreeing on nonsense would not pass.
      expect(textReplies[0]!.slice(0, 4)).toEqual([
        Reply.replies.Stored,
        Reply.replies.NotStored,
        Reply.replies.Stored,
        Reply.replies.NotStored
      ])
      expect(textReplies[2]!.slice(0, 4)).toEqual([
        Reply.replies.Stored,
        Reply.replies.Exists,
        Reply.replies.NotFound,
        Reply.replies.Exists
      ])
      expect(textReplies[3]!.slice(1, 5)).toEqual(
        [15n, 0n, 18446744073709551615n, 0n].map((value) => ({ _tag: "Numeric", value }))
      )
      expect(textReplies[3]![7]).toEqual([{ key: "p", flags: 0, value: "99 ", cas: "undefined" }])
      expect(textReplies[3]![8]).toEqual({
        _tag: "ClientError",
        text: "cannot increment or decrement non-numeric value"
      })
      expect(textReplies[4]![1]).toEqual([
        { key: "q", flags: 2, value: "60", cas: "undefined" },
        { key: "a", flags: 4, value: "v2", cas: "undefined" }
      ])
      expect(textReplies[4]![3]).toEqual([{ key: "q", flags: 2, value: "59", cas: "undefined" }])
      // Text noreply hides the failed incr; the meta form's quiet ma returns it, and it goes to onQuietError.
      expect(text.quietErrors).toEqual([])
      expect(meta.quietErrors).toEqual([
        { _tag: "ClientError", text: "cannot increment or decrement non-numeric value" }
      ])
    } finally {
      text.socket.destroy()
      meta.socket.destroy()
    }
  })

  it("stores a key with spaces base64 and reads it back by that key only", async () => {
    const wire = await Wire.open(memcached(), true)
    try {
      const key = "b64: a key\twith spaces"
      const other = "ключ 1\u007f"
      const long = `${"x".repeat(185)} `
      const replies = await wire.send([
        Command.set(key, bytes("spaced"), { flags: 3 }),
        Command.set(long, bytes("long")),
        Command.set(other, bytes("other")),
        Command.get([key, "b64:akey\twithspaces", Buffer.from(key).toString("base64"), long, other, "ключ"]),
        Command.incr(key, 1n),
        Command.touch(key, 100),
        Command.delete(key),
        Command.get(key)
      ])
      expect(replies.slice(0, 3)).toEqual([Reply.replies.Stored, Reply.replies.Stored, Reply.replies.Stored])
      expect(comparable("", [[replies[3]!]])[0]).toEqual([
        [
          { key, flags: 3, value: "spaced", cas: "undefined" },
          { key: long, flags: 0, value: "long", cas: "undefined" },
          { key: other, flags: 0, value: "other", cas: "undefined" }
        ]
      ])
      expect(replies.slice(4)).toEqual([
        { _tag: "ClientError", text: "cannot increment or decrement non-numeric value" },
        Reply.replies.Touched,
        Reply.replies.Deleted,
        { _tag: "Values", values: [] }
      ])
    } finally {
      wire.socket.destroy()
    }
  })
})
