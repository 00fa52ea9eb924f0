/**
 * Conformance: items exactly as stored, through `Serializer.raw`, and the flags `gets`-style reads return next to
 * the value and the CAS unique.
 */
import { expect } from "@effect/vitest"
import { Serializer } from "@effect-memcache/client"
import { Effect, Option } from "effect"
import type { Subject } from "./Subject.ts"

/** Every byte value, CR LF among them, and an empty item: what a raw item must carry untouched. */
const everyByte = Uint8Array.from({ length: 256 }, (_, i) => i)

/** Flags at the edges of the unsigned 32-bit range, and pymemcache's. */
const flagsCases = [0, 1, 16, 2 ** 31, 2 ** 32 - 1] as const

export const rawView = (subject: Subject) => {
  const { test } = subject

  test("raw view: bytes and flags 0, 1, 16, 2^31, 2^32-1 round-trip as stored; gets, gats, getsMany show the flags", (t) =>
    Effect.gen(function* () {
      const m = yield* t.client({ defaultNoreply: false })
      const r = m.withSerializer(Serializer.raw)
      const keys = flagsCases.map((flags) => `raw:${flags}`)
      for (const [i, flags] of flagsCases.entries()) {
        expect(yield* r.set(keys[i]!, { bytes: everyByte, flags }, { noreply: false })).toBe(true)
        expect(yield* r.get(keys[i]!)).toEqual(Option.some({ bytes: everyByte, flags }))
        const gets = Option.getOrThrow(yield* r.gets(keys[i]!))
        expect(gets.value).toEqual({ bytes: everyByte, flags })
        expect(gets.flags).toBe(flags)
        const gats = Option.getOrThrow(yield* r.gats(keys[i]!, "1 hour"))
        expect([gats.flags, gats.cas]).toEqual([flags, gets.cas])
      }
      const many = yield* r.getsMany(keys)
      expect(flagsCases.map((_, i) => many.get(keys[i]!)?.flags)).toEqual([...flagsCases])
      const partial = yield* r.getsManyPartial(keys)
      expect(flagsCases.map((_, i) => partial.hits.get(keys[i]!)?.flags)).toEqual([...flagsCases])
      // An empty value, and the flags of a write through the call's `flags` option.
      expect(yield* r.set("raw:empty", { bytes: new Uint8Array(0), flags: 2 ** 32 - 1 }, { noreply: false })).toBe(true)
      expect(yield* r.get("raw:empty")).toEqual(Option.some({ bytes: new Uint8Array(0), flags: 2 ** 32 - 1 }))
      yield* r.set("raw:option", { bytes: everyByte, flags: 1 }, { flags: 7 })
      expect((yield* r.get("raw:option")).pipe(Option.map((item) => item.flags))).toEqual(Option.some(7))
    }))

  test("raw view: cas writes the new flags, append keeps the item's; the typed view's gets shows what it read", (t) =>
    Effect.gen(function* () {
      const m = yield* t.client({ defaultNoreply: false })
      const r = m.withSerializer(Serializer.raw)
      const bytes = (text: string) => new TextEncoder().encode(text)
      yield* r.set("raw:cas", { bytes: bytes("a"), flags: 2 ** 31 })
      const before = Option.getOrThrow(yield* r.gets("raw:cas"))
      expect(yield* r.cas("raw:cas", { bytes: bytes("b"), flags: 2 ** 32 - 1 }, before.cas)).toBe("Stored")
      const after = Option.getOrThrow(yield* r.gets("raw:cas"))
      expect([after.flags, after.value]).toEqual([2 ** 32 - 1, { bytes: bytes("b"), flags: 2 ** 32 - 1 }])
      // append/prepend ignore the flags they are sent.
      expect(yield* r.append("raw:cas", { bytes: bytes("c"), flags: 1 }, { noreply: false })).toBe(true)
      expect(yield* r.get("raw:cas")).toEqual(Option.some({ bytes: bytes("bc"), flags: 2 ** 32 - 1 }))
      // The default (pymemcache) view: the flags it read a string (16) and an integer (2) with.
      yield* m.set("raw:text", "héllo")
      yield* m.set("raw:int", 42)
      const text = Option.getOrThrow(yield* m.gets("raw:text"))
      expect([text.value, text.flags]).toEqual(["héllo", 16])
      expect((yield* m.getsMany(["raw:int"])).get("raw:int")).toMatchObject({ value: 42, flags: 2 })
      expect(yield* r.get("raw:int")).toEqual(Option.some({ bytes: bytes("42"), flags: 2 }))
    }))
}
