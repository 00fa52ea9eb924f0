/**
 * Conformance: the meta commands on the service (`metaGet`, `metaSet`, `metaDelete`, `metaArithmetic`,
 * `metaDebug`, `metaNoop`), their typed options and results, binary keys, and the leases (`vivify`, `recache`,
 * `invalidate`) that cache-aside builds on.
 */
import { expect } from "@effect/vitest"
import { Duration, Effect, Option } from "effect"
import { item, raw, type Subject, text } from "./Subject.ts"

const bytes = (s: string) => new TextEncoder().encode(s)

export const meta = (subject: Subject) => {
  const { test } = subject

  test("metaGet answers the fields asked for, and none on a miss", (t) =>
    Effect.gen(function* () {
      const m = yield* t.client({ defaultNoreply: false, keyPrefix: "p:" })
      yield* m.metaSet("mg:a", "hello", { ttl: "100 seconds" })
      const got = Option.getOrThrow(
        yield* m.metaGet("mg:a", {
          value: true,
          size: true,
          flags: true,
          ttl: true,
          cas: true,
          key: true,
          hitBefore: true,
          lastAccess: true,
          opaque: "req-1"
        })
      )
      expect(got).toMatchObject({
        value: "hello",
        placeholder: false,
        size: 5,
        flags: 16,
        key: "mg:a",
        hitBefore: false,
        opaque: "req-1",
        win: false,
        lost: false,
        stale: false
      })
      expect(Duration.toSeconds(got.ttl!)).toBeGreaterThan(98)
      expect(Duration.toSeconds(got.lastAccess!)).toBeLessThan(2)
      expect(typeof got.cas).toBe("bigint")
      const second = Option.getOrThrow(yield* m.metaGet("mg:a", { hitBefore: true }))
      expect(second).toMatchObject({ value: undefined, hitBefore: true, size: undefined, cas: undefined })
      expect(yield* m.metaGet("mg:nope", { value: true })).toEqual(Option.none())
      // The prefix is part of the key: the item is "p:mg:a".
      const plain = yield* t.client({ defaultNoreply: false })
      expect(Option.getOrThrow(yield* plain.get("p:mg:a"))).toBe("hello")
    }))

  test("metaGet with touch sets a new expiry, and ttl shows the one before it; never expiring is infinity", (t) =>
    Effect.gen(function* () {
      const m = yield* t.client({ defaultNoreply: false })
      yield* m.set("mg:t", "v")
      const before = Option.getOrThrow(yield* m.metaGet("mg:t", { ttl: true, touch: "60 seconds" }))
      expect(before.ttl).toEqual(Duration.infinity)
      const after = Option.getOrThrow(yield* m.metaGet("mg:t", { ttl: true, noBump: true }))
      expect(Duration.toSeconds(after.ttl!)).toBeGreaterThan(58)
      expect(Duration.toSeconds(after.ttl!)).toBeLessThanOrEqual(60)
    }))

  test("metaSet stores by mode, compares CAS, and answers what it did", (t) =>
    Effect.gen(function* () {
      const m = yield* t.client({ defaultNoreply: false })
      const r = m.withSerializer(raw)
      const stored = yield* r.metaSet("ms:a", item("one", 3), { returnCas: true, opaque: "x" })
      expect(stored.status).toBe("Stored")
      expect(stored.opaque).toBe("x")
      const cas = stored.cas!
      expect(typeof cas).toBe("bigint")
      expect((yield* r.metaSet("ms:a", item("two"), { mode: "add" })).status).toBe("NotStored")
      expect((yield* r.metaSet("ms:none", item("two"), { mode: "replace" })).status).toBe("NotStored")
      expect((yield* r.metaSet("ms:a", item("-2"), { mode: "append" })).status).toBe("Stored")
      expect((yield* r.metaSet("ms:a", item("0-"), { mode: "prepend" })).status).toBe("Stored")
      expect(text(Option.getOrThrow(yield* r.get("ms:a")))).toEqual({ text: "0-one-2", flags: 3 })
      expect((yield* r.metaSet("ms:a", item("stale cas"), { compareCas: cas })).status).toBe("Exists")
      expect((yield* r.metaSet("ms:missing", item("x"), { compareCas: cas })).status).toBe("NotFound")
      const now = Option.getOrThrow(yield* r.metaGet("ms:a", { cas: true })).cas!
      expect((yield* r.metaSet("ms:a", item("swapped"), { compareCas: now, flags: 9 })).status).toBe("Stored")
      expect(text(Option.getOrThrow(yield* r.get("ms:a")))).toEqual({ text: "swapped", flags: 9 })
    }))

  test("metaDelete deletes, compares CAS, and reports a miss", (t) =>
    Effect.gen(function* () {
      const m = yield* t.client({ defaultNoreply: false })
      yield* m.set("md:a", "v")
      const cas = Option.getOrThrow(yield* m.metaGet("md:a", { cas: true })).cas!
      expect((yield* m.metaDelete("md:a", { compareCas: cas + 1n })).status).toBe("Exists")
      expect(yield* m.metaDelete("md:a", { compareCas: cas, key: true, opaque: "o" })).toEqual({
        status: "Deleted",
        key: "md:a",
        opaque: "o"
      })
      expect((yield* m.metaDelete("md:a")).status).toBe("NotFound")
      expect(yield* m.get("md:a")).toEqual(Option.none())
    }))

  test("metaArithmetic counts, creates with vivify, floors decr at 0 and compares CAS", (t) =>
    Effect.gen(function* () {
      const m = yield* t.client({ defaultNoreply: false })
      expect((yield* m.metaArithmetic("ma:n")).status).toBe("NotFound")
      const created = yield* m.metaArithmetic("ma:n", { vivify: "1 minute", initial: 10, cas: true, ttl: true })
      expect(created).toMatchObject({ status: "Applied", value: 10n })
      expect(Duration.toSeconds(created.ttl!)).toBeGreaterThan(58)
      expect((yield* m.metaArithmetic("ma:n", { delta: 5n })).value).toBe(15n)
      expect((yield* m.metaArithmetic("ma:n", { mode: "decr", delta: 100 })).value).toBe(0n)
      expect((yield* m.metaArithmetic("ma:n", { compareCas: created.cas! })).status).toBe("Exists")
      yield* m.set("ma:text", "abc")
      const refused = yield* Effect.flip(m.metaArithmetic("ma:text"))
      expect(refused._tag).toBe("MemcacheClientError")
    }))

  test("binary keys: any bytes, sent base64, stored, read, counted and deleted", (t) =>
    Effect.gen(function* () {
      const m = yield* t.client({ defaultNoreply: false, keyPrefix: "p:" })
      const key = new Uint8Array([0x20, 0x0d, 0x0a, 0x00, 0xff, 0x41])
      expect((yield* m.metaSet(key, "binary")).status).toBe("Stored")
      expect(Option.getOrThrow(yield* m.metaGet(key, { value: true })).value).toBe("binary")
      const counter = new Uint8Array([0x00, 0x01, 0xfe])
      expect((yield* m.metaArithmetic(counter, { vivify: 0, initial: 41 })).value).toBe(41n)
      expect((yield* m.metaArithmetic(counter)).value).toBe(42n)
      expect((yield* m.metaDelete(key)).status).toBe("Deleted")
      expect(yield* m.metaGet(key)).toEqual(Option.none())
    }))

  test("binary keys that are UTF-8 name the text key's item; refused ones fail before anything is sent", (t) =>
    Effect.gen(function* () {
      const m = yield* t.client({ defaultNoreply: false })
      yield* m.set("bk:text", "same")
      expect(Option.getOrThrow(yield* m.metaGet(bytes("bk:text"), { value: true })).value).toBe("same")
      const spaced = new Uint8Array([0x61, 0x20, 0x62])
      yield* m.metaSet(spaced, "spaced")
      expect(Option.getOrThrow(yield* m.metaGet(spaced, { value: true })).value).toBe("spaced")
      expect((yield* m.metaDelete(spaced)).status).toBe("Deleted")
      const tooLong = yield* Effect.flip(m.metaGet(new Uint8Array(187)))
      expect(tooLong._tag).toBe("MemcacheIllegalInputError")
      const withKey = yield* Effect.flip(m.metaGet(spaced, { key: true }))
      expect(withKey._tag).toBe("MemcacheIllegalInputError")
    }))

  test("metaDebug shows an item's fields; metaNoop is answered", (t) =>
    Effect.gen(function* () {
      const m = yield* t.client({ defaultNoreply: false })
      yield* m.set("me:a", "12345", { ttl: "1 minute" })
      const fields = Option.getOrThrow(yield* m.metaDebug("me:a"))
      expect(fields.size).toBeDefined()
      // memcached 1.6.18 prints the time left negated.
      expect(Number(fields.exp)).toBeLessThan(-58)
      expect(Number(fields.exp)).toBeGreaterThanOrEqual(-60)
      expect(yield* m.metaDebug("me:nope")).toEqual(Option.none())
      yield* m.metaNoop()
    }))
}
