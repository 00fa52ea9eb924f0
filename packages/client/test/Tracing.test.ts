/**
 * Spans: one `memcache.<command>` client span per call when a tracing backend is installed, none with
 * `spans: false`; with Effect's built-in tracer (nothing installed) no span is made at all.
 */
import { describe, expect, it } from "@effect/vitest"
import { MemcacheMemory } from "@effect-memcache/client"
import { Effect, Tracer } from "effect"

/** A tracer that records the spans it is asked for (what an OTLP exporter would receive). */
const recording = () => {
  const spans: Array<Tracer.Span> = []
  const tracer = Tracer.make({
    span: (options) => {
      const span = new Tracer.NativeSpan(options)
      spans.push(span)
      return span
    }
  })
  return { spans, tracer }
}

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
      expect(spans.map((s) => s.name)).toEqual(["memcache.set", "memcache.get", "memcache.getMany"])
      for (const span of spans) {
        expect(span.kind).toBe("client")
        expect(span.attributes.get("db.system.name")).toBe("memcached")
      }
      expect(spans[1]!.attributes.get("db.operation.name")).toBe("get")
      expect(spans[2]!.attributes.get("db.memcached.key_count")).toBe(3)
      // Every span was ended, successfully.
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
      expect(spans.map((s) => s.name)).toEqual(["memcache.get"])
      const status = spans[0]!.status
      expect(status._tag === "Ended" && status.exit._tag).toBe("Failure")
    })
  )
})
