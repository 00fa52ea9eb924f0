/**
 * What the conformance suite runs against: a way to get clients of one server, and a way to let time pass on
 * that server's clock. The suite is written once against this; `Conformance.test.ts` provides the real
 * memcached and the in-memory layer.
 */
import type { Memcache } from "@effect-memcache/client"
import { Serializer } from "@effect-memcache/client"
import type { Effect, Scope } from "effect"

/** A client of the subject, with values of the default (pymemcache) serializer. */
export type Client = Memcache.MemcacheShape<Memcache.Value>

/** Everything a test gets. */
export interface TestContext {
  /** A client of the subject's server (memcached defaults: `-I 1m`, `-m 64`). Clients of one test share it. */
  readonly client: (options?: Memcache.SurfaceOptions) => Effect.Effect<Client, never, Scope.Scope>
  /**
   * A client of a second server started with `-I 1k -o slab_chunk_max=1024` (client `itemSizeMax` 1024, unless
   * the options give another: a larger one lets the server see values it refuses).
   */
  readonly smallClient: (options?: Memcache.SurfaceOptions) => Effect.Effect<Client, never, Scope.Scope>
  /** Lets `seconds` pass on the server's clock: real sleeping for memcached, `TestClock.adjust` for the fake. */
  readonly passTime: (seconds: number) => Effect.Effect<void>
  /**
   * The protocol the clients speak (the in-memory layer: `"text"`). Where memcached itself answers a command's
   * meta form differently (its stats counters, a value refused as too large), the tests say what each gives.
   */
  readonly protocol: "text" | "meta"
}

/** A key refused in either protocol: it holds a space (text), and is over 186 bytes (meta's base64 keys). */
export const refusedKey = `bad key ${"x".repeat(200)}`

/** A server implementation the suite runs against. */
export interface Subject {
  readonly name: string
  /** Registers one test; tests run in the order registered, one at a time. */
  readonly test: (name: string, body: (t: TestContext) => Effect.Effect<void, unknown, Scope.Scope>) => void
}

/** What a raw item is: its exact bytes and client flags. */
export type RawItem = Serializer.Serialized

/** Reads and writes items as they are stored (bytes and flags), to see padding, flags and exact sizes. */
export const raw: Serializer.Serializer<RawItem> = Serializer.raw

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** A raw item from text. */
export const item = (text: string, flags = 0): RawItem => ({ bytes: encoder.encode(text), flags })

/** A raw item as text, for readable assertions. */
export const text = (item: RawItem): { readonly text: string; readonly flags: number } => ({
  text: decoder.decode(item.bytes),
  flags: item.flags
})

/** `n` bytes of `x`. */
export const filler = (n: number, flags = 0): RawItem => ({ bytes: new Uint8Array(n).fill(0x78), flags })
