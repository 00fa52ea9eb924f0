import { Decoder, Errors, Reply } from "@effect-memcache/protocol"
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { everyExpectation, splitAt, stream } from "./decoderStreams.ts"

const limits = { maxLineLength: 64, maxValueLength: 48 }

/** Feeds chunks to a decoder and checks the invariants that hold for any input at all. */
const check = (expectations: ReadonlyArray<Reply.Expectation>, chunks: ReadonlyArray<Uint8Array>) => {
  const replies: Array<Reply.Reply> = []
  const errors: Array<Errors.ProtocolError> = []
  const decoder = new Decoder.Decoder({
    onReply: (reply) => replies.push(reply),
    onError: (error) => errors.push(error),
    onQuietError: () => {},
    ...limits
  })
  for (const expectation of expectations) decoder.expect(expectation)
  for (const chunk of chunks) {
    const before = replies.length
    const failedBefore = decoder.failed !== undefined
    expect(() => decoder.feed(chunk)).not.toThrow()
    expect(decoder.buffered).toBeLessThanOrEqual(limits.maxLineLength + limits.maxValueLength)
    // Nothing is decoded after a protocol error.
    if (failedBefore) expect(replies.length).toBe(before)
  }
  expect(errors.length).toBeLessThanOrEqual(1)
  if (errors.length === 1) {
    expect(errors[0]).toBeInstanceOf(Errors.ProtocolError)
    expect(decoder.failed).toBe(errors[0])
  }
  // Each reply answered one expectation (the quiet-error callback answers none).
  expect(replies.length + decoder.pending).toBeLessThanOrEqual(expectations.length)
  for (const reply of replies) expect(typeof reply._tag).toBe("string")
}

const expectations = fc.array(
  fc.oneof(
    fc.constantFrom(...everyExpectation),
    fc
      .array(fc.constantFrom("a", "b", "VALUE", "é"), { maxLength: 4 })
      .chain((keys) => fc.boolean().map((cas) => Reply.retrieval(keys, cas)))
  ),
  { maxLength: 8 }
)

/** Random edits of a byte string: flip, insert, delete, or cut short. */
const mutate = (data: Uint8Array, edits: ReadonlyArray<readonly [number, number, number]>): Uint8Array => {
  const out = Array.from(data)
  for (const [kind, at, byte] of edits) {
    const i = out.length === 0 ? 0 : at % out.length
    if (kind === 0) out[i] = byte
    else if (kind === 1) out.splice(i, 0, byte)
    else if (kind === 2) out.splice(i, 1)
    else out.length = i
  }
  return Uint8Array.from(out)
}

const edit = fc.tuple(fc.integer({ min: 0, max: 3 }), fc.nat(), fc.constantFrom(0, 10, 13, 32, 48, 65, 79, 255))

describe("Decoder (fuzz)", () => {
  it("random bytes with random expectations: replies or one ProtocolError, never a throw", () => {
    fc.assert(
      fc.property(
        expectations,
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc
            .array(
              fc.constantFrom(
                "STORED",
                "VALUE a 0 3",
                "END",
                "HD",
                "VA 2",
                "MN",
                "ERROR",
                "x\r",
                "\r\n",
                "O",
                " ",
                "1"
              ),
              { maxLength: 30 }
            )
            .map((words) => new TextEncoder().encode(words.join("\r\n")))
        ),
        fc.array(fc.nat(), { maxLength: 10 }),
        (queued, data, cuts) => check(queued, splitAt(data, cuts))
      ),
      { numRuns: 1000 }
    )
  })

  it("random mutations of valid streams: replies or one ProtocolError, never a throw", () => {
    fc.assert(
      fc.property(
        stream,
        fc.array(edit, { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (s, edits, cuts) => check(s.expectations, splitAt(mutate(s.bytes, edits), cuts))
      ),
      { numRuns: 500 }
    )
  })

  it("valid streams within the small limits decode fully; over them, fail once", () => {
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 10 }), (s, cuts) =>
        check(s.expectations, splitAt(s.bytes, cuts))
      ),
      { numRuns: 300 }
    )
  })
})
