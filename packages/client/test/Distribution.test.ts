import * as Zlib from "node:zlib"
import { describe, expect, it } from "@effect/vitest"
import { Distribution } from "@effect-memcache/client"
import * as Reference from "./HashingReference.ts"

// The golden vectors of /work/shared/hashing.md: servers .1 = 10.0.0.1:11211, .2 = 10.0.0.2:11211,
// .3 = 10.0.0.3:11212, in that order; each row gives the server of each key as the real library chose it.
const nodes: ReadonlyArray<Distribution.Node> = [
  { host: "10.0.0.1", port: 11211 },
  { host: "10.0.0.2", port: 11211 },
  { host: "10.0.0.3", port: 11212 }
]
const keys = ["foo", "bar", "baz", "user:1", "user:2", "session:abcdef", "a", "key-with-dash", "12345", "zzz"]
const row = (labels: string) => labels.split(" ").map((label) => Number(label.slice(1)) - 1)

const golden = {
  // libmemcached ketama_weighted (run) = node-hashring compatibility:'ketama' (run)
  ketama: row(".2 .2 .1 .2 .2 .3 .2 .3 .3 .1"),
  // pymemcache HashClient, str keys (run 3.5.2)
  rendezvous: row(".1 .2 .2 .2 .1 .1 .2 .1 .3 .3"),
  // gomemcache crc32 % n (reimpl)
  modula: row(".3 .3 .1 .1 .2 .1 .1 .1 .1 .3")
}

describe("Distribution", () => {
  for (const name of ["rendezvous", "ketama", "modula"] as const) {
    it(`${name} routes the golden keys as the reference library`, () => {
      const route = Distribution.byName[name].make(nodes)
      expect(keys.map(route)).toEqual(golden[name])
    })
  }

  it("murmur3 hashes pymemcache's way: code point & 0xFF, not UTF-8", () => {
    // hashing.md: the score of server .1 for the key "ключ" (pymemcache run), and what UTF-8 bytes would give.
    expect(Distribution.murmur3("10.0.0.1:11211-ключ")).toBe(2783718605)
    const utf8 = String.fromCharCode(...new TextEncoder().encode("ключ"))
    expect(Distribution.murmur3(`10.0.0.1:11211-${utf8}`)).toBe(4251852073)
    // Standard MurmurHash3 x86_32 vectors (seed 0 and seed 1).
    expect(Distribution.murmur3("")).toBe(0)
    expect(Distribution.murmur3("", 1)).toBe(0x514e28b7)
    expect(Distribution.murmur3("hello")).toBe(0x248bfa47)
    expect(Distribution.murmur3("The quick brown fox jumps over the lazy dog")).toBe(0x2e4ff723)
  })

  it("murmur3 takes one byte per code point, astral ones included", () => {
    // U+1F600 is one code point (0x1F600 & 0xFF = 0x00), two UTF-16 units.
    expect(Distribution.murmur3("a\u{1F600}b")).toBe(Distribution.murmur3("a\u0000b"))
    expect(Distribution.murmur3("\u0141")).toBe(Distribution.murmur3("\u0041"))
  })

  it('rendezvous picks the server with the highest murmur3 of "<name>-<key>", for names of every length', () => {
    // Names of 8..11 bytes (with the dash): every length modulo 4, so every split of a name into whole blocks
    // and a tail; keys of every length modulo 4, non-ASCII and astral ones included.
    const servers: ReadonlyArray<Distribution.Node> = [
      { host: "/tmp/a" },
      { host: "/tmp/ab" },
      { host: "/tmp/abc" },
      { host: "/tmp/abcd" },
      { host: "10.0.0.1", port: 11211 }
    ]
    const route = Distribution.rendezvous.make(servers)
    const names = servers.map(Distribution.rendezvousName)
    const expected = (key: string) => {
      let winner = 0
      for (let i = 1; i < names.length; i++) {
        const score = Distribution.murmur3(`${names[i]}-${key}`)
        const best = Distribution.murmur3(`${names[winner]}-${key}`)
        if (score > best || (score === best && names[i]! > names[winner]!)) winner = i
      }
      return winner
    }
    const sample = Array.from(
      { length: 400 },
      (_, i) => `${"k".repeat(i % 7)}${i}${i % 5 === 0 ? "ключ\u{1F600}" : ""}`
    )
    expect(sample.map(route)).toEqual(sample.map(expected))
    expect(new Set(sample.map(route)).size).toBe(servers.length)
  })

  it("crc32 is IEEE CRC-32 of the UTF-8 bytes", () => {
    expect(Distribution.crc32("")).toBe(0)
    expect(Distribution.crc32("123456789")).toBe(0xcbf43926)
    for (const key of ["é", "ключ", "a\u{1F600}b", "user:1"]) expect(Distribution.crc32(key)).toBe(Zlib.crc32(key))
  })

  it("rendezvous names servers as pymemcache formats them", () => {
    expect(Distribution.rendezvousName({ host: "10.0.0.1", port: 11211 })).toBe("10.0.0.1:11211")
    expect(Distribution.rendezvousName({ host: "::1", port: 11211 })).toBe("::1:11211")
    expect(Distribution.rendezvousName({ host: "/tmp/mc.sock" })).toBe("/tmp/mc.sock")
  })

  it("ketama gives 160 points per server, scaled by weight", () => {
    expect(Distribution.ketamaPointCounts(nodes)).toEqual([160, 160, 160])
    expect(
      Distribution.ketamaPointCounts([
        { host: "a", weight: 1 },
        { host: "b", weight: 2 },
        { host: "c", weight: 1 }
      ])
    ).toEqual([120, 240, 120])
    const { points, servers } = Distribution.ketamaContinuum(nodes)
    expect(points.length).toBe(480)
    for (let i = 1; i < points.length; i++) expect(points[i]! >= points[i - 1]!).toBe(true)
    expect([0, 1, 2].map((s) => servers.filter((x) => x === s).length)).toEqual([160, 160, 160])
  })

  it("ketama wraps: a key hashing past the last point goes to the first point's server", () => {
    const { points, servers } = Distribution.ketamaContinuum(nodes)
    const route = Distribution.ketama.make(nodes)
    // Find keys on both sides of the wrap and check them against a linear scan of the continuum.
    let checked = 0
    for (let i = 0; i < 20000 && checked < 5000; i++) {
      const key = `k${i}`
      const hash = Distribution.ketamaHash(key)
      const at = points.findIndex((p) => p >= hash)
      expect(route(key)).toBe(servers[Math.max(at, 0)])
      checked++
    }
    const last = points[points.length - 1]!
    let wrapped = false
    for (let i = 0; i < 1_000_000 && !wrapped; i++) {
      if (Distribution.ketamaHash(`w${i}`) > last) {
        expect(route(`w${i}`)).toBe(servers[0])
        wrapped = true
      }
    }
    expect(wrapped).toBe(true)
  })

  it("rendezvous: removing a server moves only its keys", () => {
    const full = Distribution.rendezvous.make(nodes)
    const without = Distribution.rendezvous.make([nodes[0]!, nodes[2]!])
    for (let i = 0; i < 2000; i++) {
      const key = `key${i}`
      const before = full(key)
      if (before !== 1) expect([0, 2][without(key)]).toBe(before)
    }
  })

  it("custom routes by the function", () => {
    const route = Distribution.custom((key, ns) => key.length % ns.length).make(nodes)
    expect(route("ab")).toBe(2)
    expect(route("abc")).toBe(0)
  })
})

/** A seeded generator, so a failure can be replayed. */
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const ALPHABET = Array.from("abcXYZ019:_-.éüÿĀłключЖ中文鍵😀🔑𝄞")
const randomKeys = (count: number, seed: number) => {
  const next = random(seed)
  return Array.from({ length: count }, () =>
    Array.from({ length: 1 + Math.floor(next() * 30) }, () => ALPHABET[Math.floor(next() * ALPHABET.length)]).join("")
  )
}

describe("Distribution against references written from hashing.md", () => {
  const references = { rendezvous: Reference.rendezvous, ketama: Reference.ketama, modula: Reference.modula }
  for (const name of ["rendezvous", "ketama", "modula"] as const) {
    it(`${name}: the reference reproduces the golden row, and the module agrees with it on 10,000 keys`, () => {
      const reference = references[name]
      expect(keys.map(reference(nodes))).toEqual(golden[name])
      const weighted: ReadonlyArray<Distribution.Node> = [
        { host: "127.0.0.1", port: 11211, weight: 1 },
        { host: "127.0.0.1", port: 11212, weight: name === "ketama" ? 2 : 1 },
        { host: "10.1.2.3", port: 20000, weight: 1 },
        { host: "memcache-4.example", port: 11211, weight: name === "ketama" ? 3 : 1 }
      ]
      const expected = reference(weighted)
      const actual = Distribution.byName[name].make(weighted)
      const randomised = randomKeys(10_000, 45)
      expect(randomised.some((k) => /[^\x00-\x7f]/.test(k))).toBe(true)
      expect(randomised.some((k) => /[\u{10000}-\u{10ffff}]/u.test(k))).toBe(true)
      const mismatches = randomised.filter((k) => actual(k) !== expected(k))
      expect(mismatches).toEqual([])
    })
  }

  it("rendezvous: a tie goes to the greater server name, in either order (pymemcache's max(str))", () => {
    // Find two server names that score the same for one key (a birthday search: ~2^17 names for a 32-bit hash).
    const seen = new Map<number, string>()
    let pair: [string, string] | undefined
    for (let i = 0; pair === undefined && i < 4_000_000; i++) {
      const name = `/tmp/mc-${i}.sock`
      const score = Distribution.murmur3(`${name}-k`)
      const other = seen.get(score)
      if (other !== undefined) pair = [other, name]
      else seen.set(score, name)
    }
    expect(pair).toBeDefined()
    const [a, b] = pair!
    expect(Distribution.murmur3(`${a}-k`)).toBe(Distribution.murmur3(`${b}-k`))
    const greater = [a, b].sort()[1] // strings: the greater by code unit, as Python compares these ASCII names
    for (const order of [
      [a, b],
      [b, a]
    ]) {
      const route = Distribution.rendezvous.make(order.map((host) => ({ host })))
      expect(order[route("k")]).toBe(greater)
    }
  })
})
