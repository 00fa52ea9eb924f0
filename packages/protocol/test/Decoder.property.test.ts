import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { bytewise, decodeChunks, splitAt, stream } from "./decoderStreams.ts"

describe("Decoder (property)", () => {
  it("decodes a valid stream to the same replies for every way of splitting it into chunks", () => {
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 30 }), (s, cuts) => {
        const whole = decodeChunks(s.expectations, [s.bytes])
        expect(whole.errors).toEqual([])
        expect(whole.replies).toEqual(s.replies)
        expect(whole.quietErrors).toEqual(s.quietErrors)
        expect(whole.decoder.pending).toBe(0)
        expect(whole.decoder.buffered).toBe(0)

        for (const chunks of [splitAt(s.bytes, cuts), bytewise(s.bytes)]) {
          const split = decodeChunks(s.expectations, chunks)
          expect(split.errors).toEqual([])
          expect(split.replies).toEqual(whole.replies)
          expect(split.quietErrors).toEqual(whole.quietErrors)
          expect(split.decoder.pending).toBe(0)
          expect(split.decoder.buffered).toBe(0)
        }
      }),
      { numRuns: 300 }
    )
  })
})
