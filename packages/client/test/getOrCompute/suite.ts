/**
 * The getOrCompute suite: cache-aside without stampedes, written once against a subject (a real memcached, or the
 * in-memory layer on the TestClock). Separately made clients of one server stand for separate processes: each
 * has its own single flight, and only the server's leases keep them from computing at once.
 */
import { expect } from "@effect/vitest"
import { type GetOrCompute, type Memcache, Serializer } from "@effect-memcache/client"
import { Deferred, Effect, Exit, Fiber, Option } from "effect"
import { refusedKey, type Subject } from "../conformance/Subject.ts"

type Text = Memcache.MemcacheShape<string>

/** A computation the test controls: it counts its runs, says when one started, and waits to be released. */
const gate = Effect.gen(function* () {
  const started = yield* Deferred.make<void>()
  const release = yield* Deferred.make<void>()
  let runs = 0
  const compute = (value: string) =>
    Effect.gen(function* () {
      runs++
      yield* Deferred.succeed(started, undefined)
      yield* Deferred.await(release)
      return value
    })
  return {
    compute,
    started: Deferred.await(started),
    release: Deferred.succeed(release, undefined),
    runs: () => runs
  }
})

const tags = (outcomes: ReadonlyArray<GetOrCompute.Outcome>) => {
  const counts: Record<string, number> = {}
  for (const o of outcomes) {
    const tag = o._tag === "Computed" ? `Computed:${o.reason}` : o._tag
    counts[tag] = (counts[tag] ?? 0) + 1
  }
  return counts
}

export const getOrComputeSuite = (subject: Subject) => {
  const { test } = subject
  const processes = (t: Parameters<Parameters<Subject["test"]>[1]>[0], n: number) =>
    Effect.forEach(Array.from({ length: n }), () =>
      Effect.map(t.client({ keyPrefix: `${subject.name}:` }), (m): Text => m.withSerializer(Serializer.string))
    )

  test("a miss computes once, stores the value, and the next call is a hit", (t) =>
    Effect.gen(function* () {
      const [m] = yield* processes(t, 1)
      let runs = 0
      const compute = Effect.sync(() => `v${++runs}`)
      const first = yield* m!.getOrComputeOutcome("goc:simple", compute, { ttl: "1 minute" })
      expect(first).toEqual({ value: "v1", outcome: { _tag: "Computed", reason: "miss" } })
      const second = yield* m!.getOrComputeOutcome("goc:simple", compute)
      expect(second).toEqual({ value: "v1", outcome: { _tag: "Hit" } })
      expect(Option.getOrThrow(yield* m!.get("goc:simple"))).toBe("v1")
      expect(runs).toBe(1)
    }))

  test("1,000 concurrent callers over 4 clients of one cold key run compute exactly once", (t) =>
    Effect.gen(function* () {
      const clients = yield* processes(t, 4)
      const g = yield* gate
      const fibers = yield* Effect.forEach(Array.from({ length: 1000 }), (_, i) =>
        Effect.forkChild(clients[i % 4]!.getOrComputeOutcome("goc:stampede", g.compute("fresh"), { ttl: "1 minute" }))
      )
      yield* g.started
      // Let every other caller read the placeholder and start waiting for the lease.
      yield* t.passTime(0.2)
      yield* g.release
      yield* t.passTime(1)
      const results = yield* Effect.forEach(fibers, Fiber.join)
      expect(g.runs()).toBe(1)
      expect(new Set(results.map((r) => r.value))).toEqual(new Set(["fresh"]))
      const counts = tags(results.map((r) => r.outcome))
      // The winner's own process shares its outcome; the 3 others lost the lease and got its value.
      expect(counts["Computed:miss"]).toBe(250)
      expect(counts.LeaseLost).toBe(750)
    }))

  test("a lease holder that dies lets another caller win once the lease expires", (t) =>
    Effect.gen(function* () {
      const [a, b] = yield* processes(t, 2)
      const g = yield* gate
      const holder = yield* Effect.forkChild(
        a!.getOrCompute("goc:dead", g.compute("never stored"), { lease: "2 seconds" })
      )
      yield* g.started
      yield* Fiber.interrupt(holder)
      const other = yield* Effect.forkChild(
        b!.getOrComputeOutcome("goc:dead", Effect.succeed("taken over"), { lease: "2 seconds", maxWait: "30 seconds" })
      )
      yield* t.passTime(4)
      const result = yield* Fiber.join(other)
      // It won the lease itself (a miss), rather than giving up waiting (maxWait is far off).
      expect(result).toEqual({ value: "taken over", outcome: { _tag: "Computed", reason: "miss" } })
      expect(Option.getOrThrow(yield* a!.get("goc:dead"))).toBe("taken over")
    }))

  test("after an invalidation one caller recomputes while the others get the stale value", (t) =>
    Effect.gen(function* () {
      const [a, b] = yield* processes(t, 2)
      yield* a!.set("goc:stale", "old", { ttl: "1 minute", noreply: false })
      const invalidated = yield* a!.metaDelete("goc:stale", { invalidate: true, ttl: "30 seconds" })
      expect(invalidated.status).toBe("Deleted")
      const g = yield* gate
      const winner = yield* Effect.forkChild(a!.getOrComputeOutcome("goc:stale", g.compute("new"), { ttl: "1 minute" }))
      yield* g.started
      const served = yield* Effect.forEach(["b1", "b2", "b3"], () =>
        b!.getOrComputeOutcome("goc:stale", Effect.die("must not compute"))
      )
      expect(served).toEqual(Array(3).fill({ value: "old", outcome: { _tag: "Stale" } }))
      yield* g.release
      expect(yield* Fiber.join(winner)).toEqual({ value: "new", outcome: { _tag: "Computed", reason: "stale" } })
      expect(yield* b!.getOrComputeOutcome("goc:stale", Effect.die("must not compute"))).toEqual({
        value: "new",
        outcome: { _tag: "Hit" }
      })
    }))

  test("early recache: one caller refreshes a value near its expiry while the others keep reading it", (t) =>
    Effect.gen(function* () {
      const [a, b] = yield* processes(t, 2)
      yield* a!.set("goc:recache", "current", { ttl: "10 seconds", noreply: false })
      const g = yield* gate
      const refresher = yield* Effect.forkChild(
        a!.getOrComputeOutcome("goc:recache", g.compute("refreshed"), { ttl: "5 minutes", recache: "30 seconds" })
      )
      yield* g.started
      const reader = yield* b!.getOrComputeOutcome("goc:recache", Effect.die("must not compute"), {
        recache: "30 seconds"
      })
      expect(reader).toEqual({ value: "current", outcome: { _tag: "Hit" } })
      yield* g.release
      expect(yield* Fiber.join(refresher)).toEqual({
        value: "refreshed",
        outcome: { _tag: "Computed", reason: "recache" }
      })
      // Five minutes left: above the recache threshold, so nobody recomputes.
      expect(
        yield* b!.getOrComputeOutcome("goc:recache", Effect.die("must not compute"), { recache: "30 seconds" })
      ).toEqual({ value: "refreshed", outcome: { _tag: "Hit" } })
    }))

  test("a compute that fails fails its callers typed and gives the lease back at once", (t) =>
    Effect.gen(function* () {
      const [a, b] = yield* processes(t, 2)
      class SourceDown {
        readonly _tag = "SourceDown"
      }
      const g = yield* gate
      const failing = Effect.andThen(g.compute("unused"), Effect.fail(new SourceDown()))
      const callers = yield* Effect.forEach([1, 2, 3, 4], () =>
        Effect.forkChild(Effect.exit(a!.getOrCompute("goc:fails", failing, { lease: "30 seconds" })))
      )
      yield* g.started
      yield* t.passTime(0.1)
      yield* g.release
      const exits = yield* Effect.forEach(callers, Fiber.join)
      expect(g.runs()).toBe(1)
      for (const exit of exits) expect(exit).toEqual(Exit.fail(new SourceDown()))
      // No time passes: the lease was given back, so another client wins it at once.
      const next = yield* b!.getOrComputeOutcome("goc:fails", Effect.succeed("recovered"), { lease: "30 seconds" })
      expect(next).toEqual({ value: "recovered", outcome: { _tag: "Computed", reason: "miss" } })
    }))

  test("refused input fails before anything runs: a bad key, a bad lease", (t) =>
    Effect.gen(function* () {
      const [m] = yield* processes(t, 1)
      const badKey = yield* Effect.flip(m!.getOrCompute(refusedKey, Effect.die("must not compute")))
      expect(badKey._tag).toBe("MemcacheIllegalInputError")
      const badLease = yield* Effect.flip(
        m!.getOrCompute("goc:k", Effect.die("must not compute"), { lease: Number.POSITIVE_INFINITY })
      )
      expect(badLease._tag).toBe("MemcacheIllegalInputError")
    }))
}
