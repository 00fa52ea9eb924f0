/**
 * A decoder fed chunks whose memory the caller reads into again (`reusedChunks`): no value it hands out changes
 * when a chunk is written over, unless `keptChunk` said the chunk was still viewed.
 */
import { Decoder, Reply } from "@effect-memcache/protocol"
import { describe, expect, expectTypeOf, it } from "vitest"

const bytes = (text: string) => new TextEncoder().encode(text)
const text = (value: Uint8Array) => new TextDecoder().decode(value)

/** A decoder that keeps every reply, and the chunk it is fed through: one array, written over by each `feed`. */
const setup = (reusedChunks: boolean) => {
  const replies: Array<Reply.Reply> = []
  const decoder = new Decoder.Decoder({
    onReply: (reply) => replies.push(reply),
    onError: (error) => {
      throw error
    },
    reusedChunks
  })
  const memory = new Uint8Array(65536)
  const feed = (input: string | Uint8Array) => {
    const data = typeof input === "string" ? bytes(input) : input
    memory.set(data)
    decoder.feed(memory.subarray(0, data.length))
  }
  const scribble = () => memory.fill(0x21)
  return { replies, decoder, memory, feed, scribble }
}

const valuesOf = (reply: Reply.Reply | undefined): Array<Uint8Array> => {
  if (reply?._tag !== "Values") throw new Error(`expected values, got ${reply?._tag}`)
  return reply.values.map((v) => v.value)
}

const getReply = (entries: ReadonlyArray<readonly [string, string]>) =>
  `${entries.map(([key, value]) => `VALUE ${key} 0 ${value.length}\r\n${value}\r\n`).join("")}END\r\n`

describe("Decoder with reusedChunks", () => {
  it("copies the small values of a short chunk, so that the chunk can be read into again", () => {
    const { replies, decoder, feed, scribble, memory } = setup(true)
    decoder.expect(Reply.retrieval(["a", "b"], false))
    feed(
      getReply([
        ["a", "first"],
        ["b", "second"]
      ])
    )
    expect(decoder.keptChunk).toBe(false)
    scribble()
    const [a, b] = valuesOf(replies[0])
    expect([text(a!), text(b!)]).toEqual(["first", "second"])
    expect(a!.buffer).not.toBe(memory.buffer)
    // Plain arrays, like the views handed out otherwise (not Buffers).
    expect(Object.getPrototypeOf(a)).toBe(Uint8Array.prototype)
  })

  it("hands out views of a long chunk and says the chunk is kept; the next chunk without values frees it", () => {
    const { replies, decoder, feed, memory } = setup(true)
    const entries = Array.from({ length: 30 }, (_, i) => [`k${i}`, `${i}`.padEnd(100, "v")] as const)
    decoder.expect(
      Reply.retrieval(
        entries.map(([key]) => key),
        false
      )
    )
    feed(getReply(entries))
    expect(decoder.keptChunk).toBe(true)
    const values = valuesOf(replies[0])
    expect(values.map(text)).toEqual(entries.map(([, value]) => value))
    expect(values.every((value) => value.buffer === memory.buffer)).toBe(true)
    decoder.expect(Reply.expect.Storage)
    feed("STORED\r\n")
    expect(decoder.keptChunk).toBe(false)
  })

  it("hands out a view for a value of 1 KiB or more, even in a short chunk", () => {
    const { replies, decoder, feed, memory } = setup(true)
    decoder.expect(Reply.retrieval(["big"], false))
    feed(getReply([["big", "x".repeat(1024)]]))
    expect(decoder.keptChunk).toBe(true)
    expect(valuesOf(replies[0])[0]!.buffer).toBe(memory.buffer)
  })

  it("keeps a chunk whose value waits for its trailer in the next chunk", () => {
    const { replies, decoder, feed } = setup(true)
    const value = "y".repeat(2000)
    decoder.expect(Reply.retrieval(["k"], false))
    feed(`VALUE k 0 2000\r\n${value}`)
    expect(decoder.keptChunk).toBe(true)
    expect(replies).toEqual([])
    // The caller reads the rest into fresh memory, as it must when the chunk was kept.
    decoder.feed(bytes("\r\nEND\r\n"))
    expect(decoder.keptChunk).toBe(false)
    expect(text(valuesOf(replies[0])[0]!)).toBe(value)
  })

  it("copies a value split across chunks, and keeps neither chunk", () => {
    const { replies, decoder, feed, scribble } = setup(true)
    decoder.expect(Reply.retrieval(["k"], false))
    feed("VALUE k 0 6\r\nspl")
    expect(decoder.keptChunk).toBe(false)
    scribble()
    feed("it!\r\nEND\r\n")
    expect(decoder.keptChunk).toBe(false)
    scribble()
    expect(text(valuesOf(replies[0])[0]!)).toBe("split!")
  })

  it("fills a slab with many small values and starts another one when it is full", () => {
    const { replies, decoder, feed, scribble } = setup(true)
    const expected: Array<string> = []
    for (let i = 0; i < 40; i++) {
      const value = `${i}:`.padEnd(700, String.fromCharCode(0x41 + (i % 26)))
      expected.push(value)
      decoder.expect(Reply.retrieval([`k${i}`], false))
      feed(getReply([[`k${i}`, value]]))
      expect(decoder.keptChunk).toBe(false)
      scribble()
    }
    expect(replies.map((reply) => text(valuesOf(reply)[0]!))).toEqual(expected)
  })

  it("without reusedChunks, every value is a view and no chunk is ever reported kept", () => {
    const { replies, decoder, feed, memory } = setup(false)
    decoder.expect(Reply.retrieval(["a"], false))
    feed(getReply([["a", "small"]]))
    expect(decoder.keptChunk).toBe(false)
    expect(valuesOf(replies[0])[0]!.buffer).toBe(memory.buffer)
  })

  it("the option and the flag are part of the public surface", () => {
    expectTypeOf<Decoder.DecoderOptions["reusedChunks"]>().toEqualTypeOf<boolean | undefined>()
    expectTypeOf<Decoder.Decoder["keptChunk"]>().toEqualTypeOf<boolean>()
  })
})
