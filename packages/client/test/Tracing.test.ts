/**
 * Spans: one client span per call, named `<command>` (`<command> <host>:<port>` on a single server), when a tracing backend is installed, none with
 * `spans: false`; with Effect's built-in tracer (nothing installed) no span is made at all.
 */
import { describe, expect, it } from "@effect/vitest"
import { Memcache, MemcacheClient, MemcacheMemory } from "@effect-memcache/client"
import { Effect, Option } from "effect"
import { useMemcached } from "../../../testing/Memcached.ts"
import { recording } from "./RecordingTracer.ts"

describe("spans", () => {
  it.effect("one client span per call, named after the command, with the memcached attributes", () =>
    Effect.gen(function* () {
      const { spans, tracer } = recording()
      const m = yield* MemcacheMemory.make()
      yield* Effect.gen(function* () {
        yield* m.set("k", "v")
        yield* m.get("k")
        yield* m.getMany(["k", "x", "y"])
      }).pipe(Effect.withTracer(tracer))
      expect(spans.map((s) => s.name)).toEqual(["set", "get", "getMany"])
      for (const span of spans) {
        expect(span.kind).toBe("client")
        expect(span.attributes.get("db.system.name")).toBe("memcached")
      }
      expect(spans[1]!.attributes.get("db.operation.name")).toBe("get")
      expect(spans[2]!.attributes.get("db.operation.batch.size")).toBe(3)
      expect(spans[1]!.attributes.has("db.operation.batch.size")).toBe(false)
      // Every span was ended, successfully.
      expect(spans.every((s) => s.status._tag === "Ended")).toBe(true)
    })
  )

  it.effect("meta calls and getOrCompute get a span each; getOrCompute's requests stay inside its span", () =>
    Effect.gen(function* () {
      const { spans, tracer } = recording()
      const m = yield* MemcacheMemory.make()
      yield* Effect.gen(function* () {
        yield* m.metaSet("k", "v")
        yield* m.metaGet("k", { value: true })
        yield* m.getOrCompute("computed", Effect.succeed("value"))
        yield* m.getOrCompute("computed", Effect.succeed("unused"))
      }).pipe(Effect.withTracer(tracer))
      expect(spans.map((s) => s.name)).toEqual(["metaSet", "metaGet", "getOrCompute", "getOrCompute"])
      expect(spans[2]!.attributes.get("db.operation.name")).toBe("getOrCompute")
      expect(spans.every((s) => s.status._tag === "Ended")).toBe(true)
    })
  )

  it.effect("spans: false makes none, even with a tracer installed", () =>
    Effect.gen(function* () {
      const { spans, tracer } = recording()
      const m = yield* MemcacheMemory.make({ spans: false })
      yield* Effect.gen(function* () {
        yield* m.set("k", "v")
        yield* m.get("k")
      }).pipe(Effect.withTracer(tracer))
      expect(spans).toEqual([])
    })
  )

  it.effect("a failed call ends its span with the failure", () =>
    Effect.gen(function* () {
      const { spans, tracer } = recording()
      const m = yield* MemcacheMemory.make()
      yield* Effect.flip(m.get("bad key").pipe(Effect.withTracer(tracer)))
      expect(spans.map((s) => s.name)).toEqual(["get"])
      const status = spans[0]!.status
      expect(status._tag === "Ended" && status.exit._tag).toBe("Failure")
      expect(spans[0]!.attributes.get("error.type")).toBe("MemcacheIllegalInputError")
    })
  )
})

describe("spans against memcached (requests straight onto the connection)", () => {
  // `-I 1k`: the server refuses what the client (told 1 MiB) lets through, so a store can fail server-side.
  const server = useMemcached({ args: ["-I", "1k", "-o", "slab_chunk_max=1024"] })
  const provide = (options: MemcacheClient.Options = {}) =>
    Effect.provide(MemcacheClient.layer({ server: server().address, itemSizeMax: 1024 * 1024, ...options }))

  it.live("each store call gets its span, a child of the caller's span, ended with the call's outcome", () =>
    Effect.gen(function* () {
      const { spans, tracer } = recording()
      const m = yield* Memcache.Memcache
      const outcome = yield* Effect.gen(function* () {
        yield* m.set("t:k", "v", { noreply: false })
        yield* m.add("t:k", "w", { noreply: false })
        const got = yield* m.gets("t:k")
        yield* m.cas("t:k", "x", Option.getOrThrow(got).cas)
        // Refused by the client (bad key), then by the server (over its 1 KiB item limit).
        yield* Effect.flip(m.set("t:bad key", "v"))
        return yield* Effect.flip(m.set("t:big", "x".repeat(4096), { noreply: false }))
      }).pipe(Effect.withSpan("caller"), Effect.withTracer(tracer))
      expect(outcome._tag).toBe("MemcacheServerError")
      const caller = spans.find((s) => s.name === "caller")!
      const calls = spans.filter((s) => s !== caller)
      const at = server().address
      expect(calls.map((s) => s.name)).toEqual(
        ["set", "add", "gets", "cas", "set", "set"].map((name) => `${name} ${at}`)
      )
      for (const span of calls) {
        expect(span.kind).toBe("client")
        expect(span.attributes.get("db.system.name")).toBe("memcached")
        expect(span.parent._tag === "Some" && span.parent.value).toBe(caller)
      }
      expect(calls[3]!.attributes.get("db.operation.name")).toBe("cas")
      const exits = calls.map((s) => (s.status._tag === "Ended" ? s.status.exit._tag : "open"))
      expect(exits).toEqual(["Success", "Success", "Success", "Success", "Failure", "Failure"])
    }).pipe(provide())
  )

  it.live("no span without a tracing backend, and none with spans: false", () =>
    Effect.gen(function* () {
      const { spans, tracer } = recording()
      const m = yield* Memcache.Memcache
      yield* m.set("t:n", "v", { noreply: false })
      yield* m.set("t:n", "v", { noreply: false }).pipe(Effect.withTracer(tracer))
      expect(spans).toEqual([])
    }).pipe(provide({ spans: false }))
  )
})
