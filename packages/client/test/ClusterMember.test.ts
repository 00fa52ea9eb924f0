/**
 * A cluster member's health (internal/ClusterMember.ts), on a scripted Target: deterministic, no sockets. The
 * failure counter, one probe at a time, the dead schedule (stepped per failed probe, restarted when exhausted),
 * and the retry and dead timeouts on Effect's Clock (driven by TestClock, no sleeping).
 */
import { describe, expect, it } from "@effect/vitest"
import { MemcacheError } from "@effect-memcache/client"
import { Command, Reply, Validation } from "@effect-memcache/protocol"
import { Deferred, Duration, Effect, Exit, Fiber, Option, Schedule } from "effect"
import { TestClock } from "effect/testing"
import * as Background from "../src/internal/Background.ts"
import { ClusterMember, type HealthOptions } from "../src/internal/ClusterMember.ts"
import * as Transport from "../src/internal/Transport.ts"

type Behaviour = (command: Command.Command) => Effect.Effect<Reply.Reply | undefined, MemcacheError.TransportError>

const refused = new MemcacheError.MemcacheConnectionError({ server: "s", reason: "refused", detail: "scripted" })
const values: Reply.Reply = { _tag: "Values", values: [] }
const get = Validation.validate(Command.get("k"))
if (Validation.isInvalid(get)) throw get
const getExpectation = Reply.expectation(get)

/** A Target that fails (refused) until told otherwise, recording the tag of every command it is sent. */
const scripted = () => {
  const seen: Array<string> = []
  let behaviour: Behaviour = () => Effect.fail(refused)
  const target: Transport.Target = {
    name: "s",
    submit: (request) => {
      seen.push(request.command._tag)
      Effect.runCallback(behaviour(request.command), { onExit: (exit) => request.settle(exit) })
    },
    quit: Effect.void
  }
  return {
    target,
    seen,
    set: (b: Behaviour) => {
      behaviour = b
    }
  }
}

/** A member over `inner`, in the test's scope and clock. */
const memberOf = (inner: Transport.Target, health: HealthOptions) =>
  Effect.map(Background.make, (background) => new ClusterMember(inner, { host: "s" }, health, background, () => {}))

/** One `get` through the member. */
const request = (member: ClusterMember) => Transport.request(member.target.submit, get, getExpectation, 1000)

const reasonOf = (exit: Exit.Exit<unknown, MemcacheError.TransportError>) => {
  if (Exit.isSuccess(exit)) return "success"
  const e = Option.getOrThrow(Exit.findErrorOption(exit))
  return e._tag === "MemcacheConnectionError" ? `${e._tag}:${e.reason}` : e._tag
}

describe("ClusterMember: health", () => {
  it.live("the failure counter: retryAttempts failed probes after the first failure make it dead", () =>
    Effect.gen(function* () {
      const inner = scripted()
      const member = yield* memberOf(inner.target, {
        retryAttempts: 3,
        retryTimeoutMillis: 0,
        deadSchedule: Schedule.spaced("1 hour")
      })
      const call = Effect.exit(request(member))
      expect(reasonOf(yield* call)).toBe("MemcacheConnectionError:refused")
      expect(member.state).toBe("Failing")
      expect(inner.seen).toEqual(["Get"])
      // Each later call is a probe (retryTimeout 0: due at once); two failed probes keep it failing, the third kills it.
      for (const state of ["Failing", "Failing", "Dead"]) {
        expect(reasonOf(yield* call)).toBe("MemcacheConnectionError:refused")
        expect(member.state).toBe(state)
      }
      expect(inner.seen).toEqual(["Get", "Version", "Version", "Version"])
      // Dead, next probe in an hour: calls fail fast and never reach the server.
      expect(reasonOf(yield* call)).toBe("MemcacheConnectionError:down")
      expect(inner.seen.length).toBe(4)
    })
  )

  it.live("one probe at a time: while it runs every other call fails fast; its success brings the server back", () =>
    Effect.gen(function* () {
      const inner = scripted()
      const member = yield* memberOf(inner.target, {
        retryAttempts: 0,
        retryTimeoutMillis: 0,
        deadSchedule: Schedule.spaced(Duration.zero)
      })
      expect(reasonOf(yield* Effect.exit(request(member)))).toBe("MemcacheConnectionError:refused")
      expect(member.state).toBe("Dead")
      const gate = yield* Deferred.make<void>()
      inner.set((command) =>
        command._tag === "Version"
          ? Effect.as(Deferred.await(gate), { _tag: "Version", version: "1.6.18" } as Reply.Reply)
          : Effect.succeed(values)
      )
      const probe = yield* Effect.forkChild(request(member))
      while (!inner.seen.includes("Version")) yield* Effect.yieldNow
      const others = yield* Effect.forEach(
        Array.from({ length: 20 }, () => Effect.exit(request(member))),
        (e) => e,
        { concurrency: "unbounded" }
      )
      expect(others.map(reasonOf)).toEqual(Array.from({ length: 20 }, () => "MemcacheConnectionError:down"))
      expect(inner.seen).toEqual(["Get", "Version"])
      yield* Deferred.succeed(gate, undefined)
      expect(yield* Fiber.join(probe)).toEqual(values) // the probing call then runs its own command
      expect(member.state).toBe("Up")
      expect(yield* request(member)).toEqual(values)
      expect(inner.seen).toEqual(["Get", "Version", "Get", "Get"])
    })
  )

  it.live("the dead schedule: stepped once per failed probe, started over when exhausted", () =>
    Effect.gen(function* () {
      const inner = scripted()
      const attempts: Array<number> = []
      // Two recurrences with no delay, then done: the member must start the schedule over.
      const schedule = Schedule.recurs(2).pipe(Schedule.tap((m) => Effect.sync(() => attempts.push(m.attempt))))
      const member = yield* memberOf(inner.target, { retryAttempts: 0, retryTimeoutMillis: 0, deadSchedule: schedule })
      for (let i = 0; i < 5; i++) {
        expect(reasonOf(yield* Effect.exit(request(member)))).toBe("MemcacheConnectionError:refused")
        expect(member.state).toBe("Dead")
      }
      // The first failure and four failed probes: five steps, the third and fifth on a fresh schedule.
      expect(inner.seen).toEqual(["Get", "Version", "Version", "Version", "Version"])
      expect(attempts).toEqual([1, 2, 1, 2, 1])
    })
  )

  it.effect("a failing server's calls fail fast until retryTimeout has passed on the Clock, then one probes", () =>
    Effect.gen(function* () {
      const inner = scripted()
      const member = yield* memberOf(inner.target, {
        retryAttempts: 2,
        retryTimeoutMillis: 1000,
        deadSchedule: Schedule.spaced("1 minute")
      })
      const call = Effect.exit(request(member))
      expect(reasonOf(yield* call)).toBe("MemcacheConnectionError:refused")
      expect(member.state).toBe("Failing")
      yield* TestClock.adjust("999 millis")
      expect(reasonOf(yield* call)).toBe("MemcacheConnectionError:down")
      expect(inner.seen).toEqual(["Get"])
      yield* TestClock.adjust("1 millis")
      inner.set(() => Effect.succeed(values))
      expect(yield* call).toEqual(Exit.succeed(values))
      expect(inner.seen).toEqual(["Get", "Version", "Get"])
      expect(member.state).toBe("Up")
    })
  )

  it.effect("a dead server is probed again when the dead schedule's delay has passed on the Clock", () =>
    Effect.gen(function* () {
      const inner = scripted()
      const member = yield* memberOf(inner.target, {
        retryAttempts: 0,
        retryTimeoutMillis: 0,
        deadSchedule: Schedule.spaced("1 minute")
      })
      const call = Effect.exit(request(member))
      expect(reasonOf(yield* call)).toBe("MemcacheConnectionError:refused")
      expect(member.state).toBe("Dead")
      yield* TestClock.adjust("59 seconds")
      expect(reasonOf(yield* call)).toBe("MemcacheConnectionError:down")
      expect(member.inRing(59_000)).toBe(false)
      yield* TestClock.adjust("1 second")
      expect(member.inRing(60_000)).toBe(true)
      expect(reasonOf(yield* call)).toBe("MemcacheConnectionError:refused")
      expect(inner.seen).toEqual(["Get", "Version"])
    })
  )
})
