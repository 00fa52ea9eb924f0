/**
 * The client's log lines, captured with a test Logger while it reconnects to a server that is not there: each
 * names the server once and prints whole milliseconds (the reconnect schedule is jittered, so its delays are
 * fractions). And the README's way to silence them: `References.MinimumLogLevel` on the client's layer.
 * TestClock moves the client past each backoff, so nothing sleeps.
 */
import { describe, expect, it } from "@effect/vitest"
import { Memcache, MemcacheClient, MemcacheCluster } from "@effect-memcache/client"
import { Effect, Logger, Option, References, Schedule } from "effect"
import { TestClock } from "effect/testing"
import { freePort } from "../../../testing/Memcached.ts"

/** Collects the warnings logged where it is installed, each as one line. */
const collector = () => {
  const lines: Array<string> = []
  const logger = Logger.make((options) => {
    if (options.logLevel === "Warn") lines.push([options.message].flat().map(String).join(" "))
  })
  // The client logs from fibers of its own: let them run until `n` lines are in.
  const waitFor = (n: number) =>
    Effect.gen(function* () {
      while (lines.length < n) yield* Effect.yieldNow
    })
  return { lines, logger, waitFor }
}

/** Each line names `server` exactly once, and every "N ms" in it is a whole number. */
const expectTidy = (lines: ReadonlyArray<string>, server: string) => {
  for (const line of lines) {
    expect([line, line.split(server).length - 1]).toEqual([line, 1])
    for (const [, amount] of line.matchAll(/(\S+) ms\b/g))
      expect([line, amount]).toEqual([line, expect.stringMatching(/^\d+$/)])
  }
}

describe("log lines", () => {
  it.effect("a reconnecting client's warnings name the server once and print whole milliseconds", () =>
    Effect.gen(function* () {
      const port = yield* Effect.promise(() => freePort())
      const server = `127.0.0.1:${port}`
      const { lines, logger, waitFor } = collector()
      yield* Effect.gen(function* () {
        const m = yield* MemcacheClient.make({ server, ignoreErrors: true })
        for (let round = 1; round <= 3; round++) {
          // Refused: the server's "connect failed" warning, and the call's own (a miss under ignoreErrors).
          expect(yield* m.get("k")).toEqual(Option.none())
          // Within the backoff: failed fast, "waiting N ms before reconnecting".
          expect(yield* m.get("k")).toEqual(Option.none())
          yield* waitFor(3 * round)
          yield* TestClock.adjust("10 seconds")
        }
      }).pipe(Effect.scoped, Effect.provideService(Logger.CurrentLoggers, new Set([logger])))
      expect(lines.length).toBe(9)
      expectTidy(lines, server)
      expect(lines.filter((l) => l.startsWith(`memcache ${server}: connect failed: connection refused`))).toHaveLength(
        3
      )
      expect(
        lines.filter((l) => /: connection backoff: waiting \d+ ms before reconnecting after: /.test(l))
      ).toHaveLength(3)
    })
  )

  it.effect("a cluster's warnings about a failing, then dead server name it once, in whole milliseconds", () =>
    Effect.gen(function* () {
      const port = yield* Effect.promise(() => freePort())
      const server = `127.0.0.1:${port}`
      const { lines, logger, waitFor } = collector()
      yield* Effect.gen(function* () {
        const m = yield* MemcacheCluster.make({
          servers: [server],
          ignoreErrors: true,
          retryAttempts: 1,
          retryTimeout: "1.5 millis",
          deadTimeout: Schedule.spaced("1234.5 millis")
        })
        // Refused: connect failed, and the member is failing (its retry timeout 1.5 ms).
        expect(yield* m.get("k")).toEqual(Option.none())
        yield* TestClock.adjust("1 second")
        // The retry (a probe) is refused too: marked dead, next probe in 1235 ms.
        expect(yield* m.get("k")).toEqual(Option.none())
        // Dead: the call fails fast with reason down.
        expect(yield* m.get("k")).toEqual(Option.none())
        yield* waitFor(7)
      }).pipe(Effect.scoped, Effect.provideService(Logger.CurrentLoggers, new Set([logger])))
      expectTidy(lines, server)
      expect(lines.some((l) => l.includes(`memcache cluster: ${server} failed: connection refused`))).toBe(true)
      expect(lines.some((l) => l.includes("retrying in 2 ms"))).toBe(true)
      expect(lines.some((l) => /marked dead: .*; next probe in 1235 ms$/.test(l))).toBe(true)
      expect(lines.some((l) => /connection down: marked dead after: .*; next probe in \d+ ms$/.test(l))).toBe(true)
    })
  )

  it.effect("MinimumLogLevel set where the client is provided (as in the README) silences its warnings", () =>
    Effect.gen(function* () {
      const port = yield* Effect.promise(() => freePort())
      const run = (level: "Error" | "Warn") => {
        const { lines, logger } = collector()
        const program = Effect.gen(function* () {
          const cache = yield* Memcache.Memcache
          expect(yield* cache.get("k")).toEqual(Option.none())
          expect(yield* cache.get("k")).toEqual(Option.none())
          // Time for the client's own fibers to log, before its layer closes.
          for (let i = 0; i < 100; i++) yield* Effect.yieldNow
        })
        return program.pipe(
          Effect.provide(MemcacheClient.layer({ server: `127.0.0.1:${port}`, ignoreErrors: true })),
          Effect.provideService(References.MinimumLogLevel, level),
          Effect.provideService(Logger.CurrentLoggers, new Set([logger])),
          Effect.as(lines)
        )
      }
      // At Warn the connect failure and both misses are logged; at Error, nothing.
      expect((yield* run("Warn")).length).toBe(3)
      expect(yield* run("Error")).toEqual([])
    })
  )
})
