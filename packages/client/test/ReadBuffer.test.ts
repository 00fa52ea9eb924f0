/**
 * The memory a plain socket reads into: one buffer read into again while no value views it, its kept reads never
 * written over; and, against a real memcached, values of every size that stay intact while later replies are
 * read into the same memory.
 */
import { describe, expect, it } from "@effect/vitest"
import { MemcacheClient, Serializer } from "@effect-memcache/client"
import { Effect, Option } from "effect"
import { useMemcached } from "../../../testing/Memcached.ts"
import { ReadBuffer } from "../src/internal/ReadBuffer.ts"

/** Drives a ReadBuffer as node:net does: asks for the memory of a read, fills it, reports it, asks again. */
const driven = () => {
  const reads = new ReadBuffer()
  const chunks: Array<Uint8Array> = []
  let keep = false
  reads.sink = (chunk) => chunks.push(chunk)
  reads.kept = () => keep
  let target = reads.onread.buffer()
  const read = (length: number, fill: number, kept: boolean) => {
    const before = target
    target.fill(fill, 0, length)
    reads.onread.callback(length, target)
    keep = kept
    target = reads.onread.buffer()
    return before
  }
  return { chunks, read, target: () => target }
}

describe("ReadBuffer", () => {
  it("reads into the same memory again while no value views it", () => {
    const { chunks, read, target } = driven()
    const first = read(100, 1, false)
    expect(target()).toBe(first)
    read(200, 2, false)
    expect(target()).toBe(first)
    expect(chunks.map((chunk) => chunk.length)).toEqual([100, 200])
    expect(chunks[1]!.buffer).toBe(first.buffer)
    expect(target().length).toBe(65536)
  })

  it("reads after a kept read, never over it, and takes a fresh buffer when less than 16 KiB is left", () => {
    const { chunks, read, target } = driven()
    const first = read(30000, 1, true)
    expect(target().buffer).toBe(first.buffer)
    expect(target().byteOffset).toBe(first.byteOffset + 30000)
    expect(target().length).toBe(65536 - 30000)
    read(20000, 2, true)
    // 15536 bytes left: the next read gets a buffer of its own.
    expect(target().buffer).not.toBe(first.buffer)
    expect(target().length).toBe(65536)
    read(65536, 3, false)
    expect(chunks[0]!.every((byte) => byte === 1)).toBe(true)
    expect(chunks[1]!.every((byte) => byte === 2)).toBe(true)
  })

  it("a read that arrives before the connection is set up is an error, not lost", () => {
    const reads = new ReadBuffer()
    const target = reads.onread.buffer()
    expect(() => reads.onread.callback(1, target)).toThrow("before its connection was set up")
  })
})

describe("values read into reused memory", () => {
  const server = useMemcached({ args: ["-I", "2m"] })
  /** Sizes from 1 byte to values that span several reads. */
  const sizes = [1, 10, 100, 700, 1023, 1024, 1500, 4096, 16000, 40000, 65536, 100_000, 300_000]
  const bytesOf = (key: number, size: number) => {
    const value = new Uint8Array(size)
    for (let i = 0; i < size; i++) value[i] = (key * 31 + i * 7) & 0xff
    return value
  }
  const entries = Array.from({ length: 260 }, (_, key) => {
    const size = sizes[key % sizes.length]!
    return { key: `rb:${key}`, value: bytesOf(key, size) }
  })

  const same = (a: Uint8Array | undefined, b: Uint8Array) => a !== undefined && Buffer.compare(a, b) === 0

  for (const protocol of ["text", "meta"] as const) {
    it.live(`every value stays intact while later replies are read (${protocol} protocol)`, () =>
      Effect.gen(function* () {
        const m = (yield* MemcacheClient.make({
          server: server().address,
          itemSizeMax: 2 * 1048576,
          protocol
        })).withSerializer(Serializer.bytes)
        yield* Effect.forEach(entries, ({ key, value }) => m.set(key, value, { noreply: false }), {
          concurrency: 16,
          discard: true
        })
        // Single gets (coalesced into multi-gets), and getMany of 20 keys, all at once; every value is kept until
        // all have been read, then compared.
        const singles = yield* Effect.forEach(entries, ({ key }) => m.get(key), { concurrency: "unbounded" })
        const batches = Array.from({ length: 13 }, (_, i) => entries.slice(i * 20, i * 20 + 20).map((e) => e.key))
        const many = yield* Effect.forEach(batches, (keys) => m.getMany(keys), { concurrency: "unbounded" })
        const again = yield* Effect.forEach(entries, ({ key }) => m.get(key), { concurrency: 4 })
        entries.forEach(({ key, value }, i) => {
          expect(same(Option.getOrUndefined(singles[i]!), value), `get ${key}`).toBe(true)
          expect(same(many[Math.floor(i / 20)]!.get(key), value), `getMany ${key}`).toBe(true)
          expect(same(Option.getOrUndefined(again[i]!), value), `get ${key} again`).toBe(true)
        })
      })
    )
  }
})
