/**
 * The README's cache-aside recipe against a real memcached that goes away mid-way: killed, or stopped (SIGSTOP)
 * under a short timeout, between the read and the write-back and between calls. The recipe must keep answering
 * from the source of truth, cache again once the server is back, and still fail on a bad key or a value the
 * serializer cannot write. Also the predicates it catches with, error class by error class.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { type Memcache, MemcacheClient, MemcacheError } from "@effect-memcache/client"
import { type Duration, Effect, Exit, Option, Schedule } from "effect"
import type { MemcachedServer } from "../../../testing/Memcached.ts"
import { acquireServer } from "../../../testing/Scoped.ts"

// The recipe, as in the README's "Cache-aside by hand" section (a test below checks that they are the same text).

/** `key` from the cache; on a miss (or a cache outage), `load`'s value, written back for `ttl`. */
const cacheAside = <A, E, R>(
  cache: Memcache.MemcacheShape<A>,
  key: string,
  ttl: Duration.Input,
  load: Effect.Effect<A, E, R>
) =>
  Effect.gen(function* () {
    const hit = yield* cache.get(key).pipe(Effect.catchIf(MemcacheError.isTransportError, () => Effect.succeedNone))
    if (Option.isSome(hit)) return hit.value
    const value = yield* load
    yield* cache.set(key, value, { ttl }).pipe(Effect.catchIf(MemcacheError.isTransportError, () => Effect.void))
    return value
  })

type Client = Memcache.MemcacheShape<Memcache.Value>

const TTL = "5 minutes"

/** The text of `const cacheAside = ...` in `text`, up to the first blank line. */
const definition = (text: string): string => {
  const start = text.indexOf("\nconst cacheAside = ")
  if (start < 0) throw new Error("no `const cacheAside = ` found")
  return text.slice(start, text.indexOf("\n\n", start))
}

/** The source of truth: a value per key, and the keys it was asked for, in order. */
const makeSource = () => {
  const reads: Array<string> = []
  return {
    reads,
    load: (key: string) =>
      Effect.sync(() => {
        reads.push(key)
        return sourceValue(key)
      })
  }
}

const sourceValue = (key: string): string => `${key} from the source`

/** A load that must not run: the value has to come from the cache. */
const unreachable = Effect.die(new Error("the source was read, the cache was not"))

/** A client of `server` with a short timeout and a quick reconnect: an outage is noticed soon and left soon. */
const clientOf = (server: MemcachedServer) =>
  MemcacheClient.make({ server: server.address, timeout: "200 millis", reconnect: Schedule.spaced("20 millis") })

/**
 * Runs the recipe for `key` until the server holds the value again (the client reconnects in its own time);
 * each run must return the source's value. Then the recipe serves `key` without reading the source.
 */
const cachedAgain = (m: Client, key: string) =>
  Effect.gen(function* () {
    for (let i = 0; i < 250; i++) {
      expect(yield* cacheAside(m, key, TTL, Effect.succeed(sourceValue(key)))).toBe(sourceValue(key))
      const exit = yield* Effect.exit(m.get(key))
      if (Exit.isSuccess(exit) && Option.isSome(exit.value)) {
        expect(exit.value.value).toBe(sourceValue(key))
        expect(yield* cacheAside(m, key, TTL, unreachable)).toBe(sourceValue(key))
        return
      }
      yield* Effect.sleep("20 millis")
    }
    throw new Error(`${key} was never cached again`)
  })

describe("the README's cache-aside recipe", () => {
  it("the README's Cache-aside block defines the very function these tests run", () => {
    const readme = fs.readFileSync(path.resolve(import.meta.dirname, "../../../README.md"), "utf8")
    const section = readme.split(/^## /m).find((part) => part.startsWith("Cache-aside by hand\n"))
    const block = section?.match(/^```ts\n([\s\S]*?)^```$/m)?.[1]
    if (block === undefined) throw new Error('README.md has no ```ts block under "## Cache-aside by hand"')
    expect(definition(block)).toBe(definition(fs.readFileSync(import.meta.filename, "utf8")))
  })

  it.live("a killed server: the source's value every time, read back from the cache once it is back", () =>
    Effect.gen(function* () {
      const server = yield* acquireServer()
      const m = yield* clientOf(server)
      const source = makeSource()
      expect(yield* cacheAside(m, "kill:a", TTL, source.load("kill:a"))).toBe(sourceValue("kill:a"))
      expect(yield* cacheAside(m, "kill:a", TTL, unreachable)).toBe(sourceValue("kill:a"))

      // Killed mid-way: after the read (a miss), before the write-back.
      const killing = Effect.andThen(
        Effect.promise(() => server.kill9()),
        source.load("kill:b")
      )
      expect(yield* cacheAside(m, "kill:b", TTL, killing)).toBe(sourceValue("kill:b"))

      // While it is down, a read of a cached key fails with a transport error: the recipe reads the source.
      expect(MemcacheError.isTransportError(yield* Effect.flip(m.get("kill:a")))).toBe(true)
      expect(yield* cacheAside(m, "kill:a", TTL, source.load("kill:a"))).toBe(sourceValue("kill:a"))
      expect(source.reads).toEqual(["kill:a", "kill:b", "kill:a"])

      // Back (empty, as a restarted memcached is): the recipe fills the cache again.
      yield* Effect.promise(() => server.restart())
      yield* cachedAgain(m, "kill:a")
      yield* cachedAgain(m, "kill:b")
    })
  )

  it.live("a stopped server (SIGSTOP): reads fail, the recipe answers from the source, then caches again", () =>
    Effect.gen(function* () {
      const server = yield* acquireServer()
      const m = yield* clientOf(server)
      const source = makeSource()
      expect(yield* cacheAside(m, "stop:a", TTL, source.load("stop:a"))).toBe(sourceValue("stop:a"))

      // Stopped mid-way: after the read (a miss), before the write-back.
      const stopping = Effect.andThen(
        Effect.promise(() => server.pause()),
        source.load("stop:b")
      )
      const whileStopped = Effect.gen(function* () {
        expect(yield* cacheAside(m, "stop:b", TTL, stopping)).toBe(sourceValue("stop:b"))
        // A read of a cached key fails with a transport error: its own timeout, or the connection's retirement
        // when the connection has been silent for the layer's timeout first (the write-back's reply is due
        // too). Either way the recipe reads the source.
        const timedOut = yield* Effect.flip(m.get("stop:a"))
        expect(["MemcacheTimeoutError", "MemcacheConnectionError"]).toContain(timedOut._tag)
        expect(MemcacheError.isTransportError(timedOut)).toBe(true)
        expect(yield* cacheAside(m, "stop:a", TTL, source.load("stop:a"))).toBe(sourceValue("stop:a"))
        expect(yield* cacheAside(m, "stop:c", TTL, source.load("stop:c"))).toBe(sourceValue("stop:c"))
        expect(source.reads).toEqual(["stop:a", "stop:b", "stop:a", "stop:c"])
      })
      yield* whileStopped.pipe(Effect.ensuring(Effect.promise(() => server.resume())))

      yield* cachedAgain(m, "stop:a")
      yield* cachedAgain(m, "stop:b")
      yield* cachedAgain(m, "stop:c")
    })
  )

  it.live("a bad key or a value the serializer cannot write still fails it, with the server up or killed", () =>
    Effect.gen(function* () {
      const server = yield* acquireServer()
      const m = yield* clientOf(server)
      const source = makeSource()
      for (const state of ["up", "killed"]) {
        if (state === "killed") yield* Effect.promise(() => server.kill9())
        const bad = yield* Effect.flip(cacheAside(m, "has space", TTL, source.load("has space")))
        expect(bad._tag, state).toBe("MemcacheIllegalInputError")
        // 1.5 is a float: pymemcache would pickle it, and pickle is not supported.
        const float = yield* Effect.flip(cacheAside(m, "float", TTL, Effect.succeed(1.5)))
        expect(float._tag, state).toBe("MemcacheSerializationError")
      }
      // The bad key was refused before the source was read.
      expect(source.reads).toEqual([])
    })
  )
})

describe("the MemcacheError predicates", () => {
  const transport = [
    new MemcacheError.MemcacheTimeoutError({ server: "s", phase: "operation", millis: 1 }),
    new MemcacheError.MemcacheConnectionError({ server: "s", reason: "refused", detail: "" }),
    new MemcacheError.MemcacheUnexpectedCloseError({ server: "s" }),
    new MemcacheError.MemcacheProtocolError({ server: "s", reason: "r" })
  ]
  const replies = [
    new MemcacheError.MemcacheUnknownCommandError({ command: "c", server: "s", text: "" }),
    new MemcacheError.MemcacheClientError({ command: "c", server: "s", text: "t" }),
    new MemcacheError.MemcacheServerError({ command: "c", server: "s", text: "t" })
  ]
  const others = [
    new MemcacheError.MemcacheIllegalInputError({ command: "c", field: "key", reason: "r" }),
    new MemcacheError.MemcacheSerializationError({ key: "k", reason: "r" })
  ]
  const groups = (u: unknown) => ({
    transport: MemcacheError.isTransportError(u),
    reply: MemcacheError.isReplyError(u),
    memcache: MemcacheError.isMemcacheError(u)
  })

  it("each error class is in its group and no other; every one is a MemcacheError", () => {
    for (const e of transport) expect(groups(e), e._tag).toEqual({ transport: true, reply: false, memcache: true })
    for (const e of replies) expect(groups(e), e._tag).toEqual({ transport: false, reply: true, memcache: true })
    for (const e of others) expect(groups(e), e._tag).toEqual({ transport: false, reply: false, memcache: true })
  })

  it("anything else is in none: other errors, other tags, a tag alone, an inherited property name", () => {
    const none = { transport: false, reply: false, memcache: false }
    for (const u of [
      undefined,
      null,
      "MemcacheTimeoutError",
      new Error("MemcacheTimeoutError"),
      { _tag: "NoSuchElementError" },
      { _tag: 1 },
      { _tag: "toString" },
      { _tag: "__proto__" }
    ])
      expect(groups(u), String(u)).toEqual(none)
  })
})
