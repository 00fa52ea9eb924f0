/**
 * The item size limit as memcached 1.6.18 counts it. The largest values below were measured on memcached 1.6.18
 * (a binary search of `set <key> <flags> 0 <n>` between STORED and `SERVER_ERROR object too large for cache`, for
 * each `-I`, key length and flags); the client's `Validation.maxValueSize` must compute each of them exactly, the
 * server must store a value of that size and refuse one byte more, and the client must send the first and refuse
 * the second without sending it.
 */
import { describe, expect, it } from "@effect/vitest"
import { MemcacheClient, Serializer } from "@effect-memcache/client"
import { Validation } from "@effect-memcache/protocol"
import { Effect, Option } from "effect"
import { useMemcached } from "../../../testing/Memcached.ts"

/** The largest value the server stored under a key of `keyBytes` bytes with these flags. */
interface Boundary {
  readonly keyBytes: number
  readonly flags: number
  readonly largest: number
}

interface Setup {
  readonly name: string
  readonly args: ReadonlyArray<string>
  readonly itemSizeMax: number
  readonly boundaries: ReadonlyArray<Boundary>
}

const U32_MAX = 2 ** 32 - 1

const setups: ReadonlyArray<Setup> = [
  {
    name: "-I 1m (the default)",
    args: [],
    itemSizeMax: 1048576,
    boundaries: [
      { keyBytes: 1, flags: 0, largest: 1048516 },
      { keyBytes: 1, flags: 1, largest: 1048512 },
      { keyBytes: 1, flags: U32_MAX, largest: 1048512 },
      { keyBytes: 10, flags: 0, largest: 1048507 },
      { keyBytes: 10, flags: 16, largest: 1048503 },
      { keyBytes: 100, flags: 0, largest: 1048417 },
      { keyBytes: 100, flags: 2 ** 31, largest: 1048413 },
      { keyBytes: 250, flags: 0, largest: 1048267 },
      { keyBytes: 250, flags: U32_MAX, largest: 1048263 }
    ]
  },
  {
    name: "-I 2m",
    args: ["-I", "2m"],
    itemSizeMax: 2097152,
    boundaries: [
      { keyBytes: 1, flags: 0, largest: 2097092 },
      { keyBytes: 1, flags: U32_MAX, largest: 2097088 },
      { keyBytes: 10, flags: 0, largest: 2097083 },
      { keyBytes: 10, flags: 1, largest: 2097079 },
      { keyBytes: 100, flags: 0, largest: 2096993 },
      { keyBytes: 100, flags: 16, largest: 2096989 },
      { keyBytes: 250, flags: 0, largest: 2096843 },
      { keyBytes: 250, flags: 2 ** 31, largest: 2096839 }
    ]
  }
]

const keyOf = (b: Boundary) => "k".repeat(b.keyBytes)
const itemOf = (b: Boundary, length: number) => ({ bytes: new Uint8Array(length).fill(0x78), flags: b.flags })

for (const setup of setups) {
  describe(`item size limit, memcached ${setup.name}`, () => {
    const server = useMemcached({ args: setup.args })
    const client = (itemSizeMax: number) =>
      Effect.map(
        Effect.orDie(MemcacheClient.make({ server: server().address, itemSizeMax, defaultNoreply: false })),
        (m) => ({ m, raw: m.withSerializer(Serializer.raw) })
      )

    it("the client's largest value is the measured one, for every key length and flags", () => {
      for (const b of setup.boundaries) {
        expect(Validation.maxValueSize(b.keyBytes, b.flags, setup.itemSizeMax)).toBe(b.largest)
        expect(Validation.itemSize(b.keyBytes, b.largest, b.flags)).toBe(setup.itemSizeMax)
      }
    })

    it.live("the server stores the largest value and refuses one byte more", () =>
      Effect.gen(function* () {
        // A client that allows more than the server, so that the server sees the value it refuses.
        const { raw } = yield* client(2 * setup.itemSizeMax)
        for (const b of setup.boundaries) {
          const key = keyOf(b)
          expect(yield* raw.set(key, itemOf(b, b.largest), { noreply: false })).toBe(true)
          const stored = Option.getOrThrow(yield* raw.get(key))
          expect([stored.bytes.length, stored.flags]).toEqual([b.largest, b.flags])
          expect(yield* Effect.flip(raw.set(key, itemOf(b, b.largest + 1), { noreply: false }))).toMatchObject({
            _tag: "MemcacheServerError",
            text: "object too large for cache"
          })
        }
      })
    )

    it.live("the client sends the largest value and refuses one byte more without sending it", () =>
      Effect.gen(function* () {
        const { m, raw } = yield* client(setup.itemSizeMax)
        const refusedByServer = Effect.map(m.stats(), (stats) => stats.get("store_too_large"))
        const before = yield* refusedByServer
        for (const b of setup.boundaries) {
          const key = keyOf(b)
          expect(yield* raw.set(key, itemOf(b, b.largest), { noreply: false })).toBe(true)
          const refused = yield* Effect.flip(raw.set(key, itemOf(b, b.largest + 1), { noreply: true }))
          expect(refused._tag).toBe("MemcacheIllegalInputError")
          expect((yield* raw.get(key)).pipe(Option.map((item) => item.bytes.length))).toEqual(Option.some(b.largest))
        }
        expect(yield* refusedByServer).toBe(before)
      })
    )
  })
}
