/**
 * A cluster member's health (internal/ClusterMember.ts), on a scripted Target: deterministic, no sockets. The
 * failure counter, one probe at a time, and the dead schedule (stepped per failed probe, restarted when
 * exhausted).
 */
import { describe, expect, it } from "@effect/vitest"
import { MemcacheError } from "@effect-memcache/client"
import { Command, Reply, Validation } from "@effect-memcache/protocol"
import { Deferred, Duration, Effect, Exit, Fiber, Option, Schedule } from "effect"
import type { Target } from "../src/internal/Backend.ts"
import { ClusterMember } from "../src/internal/ClusterMember.ts"

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
  const target: Target = {
    name: "s",
    request: (command) =>
      Effect.suspend(() => {
        seen.push(command._tag)
        return behaviour(command)
      }),
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

const reasonOf = (exit: Exit.Exit<unknown, MemcacheError.TransportError>) => {
  if (Exit.isSuccess(exit)) return "success"
  const e = Option.getOrThrow(Exit.findErrorOption(exit))
  return e._tag === "MemcacheConnectionError" ? `${e._tag}:${e.reason}` : e._tag
}

describe("ClusterMember: health", () => {
  it.live("the failure counter: retryAttempts failed probes after the first failure make it dead", () =>
    Effect.gen(function* () {
      const inner = scripted()
      const member = new ClusterMember(
        inner.target,
        { host: "s" },
        { retryAttempts: 3, retryTimeoutMillis: 0, deadSchedule: Schedule.spaced("1 hour") },
        () => {}
      )
      const call = Effect.exit(member.target.request(get, getExpectation, 1000))
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
      const member = new ClusterMember(
        inner.target,
        { host: "s" },
        { retryAttempts: 0, retryTimeoutMillis: 0, deadSchedule: Schedule.spaced(Duration.zero) },
        () => {}
      )
      expect(reasonOf(yield* Effect.exit(member.target.request(get, getExpectation, 1000)))).toBe(
        "MemcacheConnectionError:refused"
      )
      expect(member.state).toBe("Dead")
      const gate = yield* Deferred.make<void>()
      inner.set((command) =>
        command._tag === "Version"
          ? Effect.as(Deferred.await(gate), { _tag: "Version", version: "1.6.18" } as Reply.Reply)
          : Effect.succeed(values)
      )
      const probe = yield* Effect.forkChild(member.target.request(get, getExpectation, 1000))
      while (!inner.seen.includes("Version")) yield* Effect.yieldNow
      const others = yield* Effect.forEach(
        Array.from({ length: 20 }, () => Effect.exit(member.target.request(get, getExpectation, 1000))),
        (e) => e,
        { concurrency: "unbounded" }
      )
      expect(others.map(reasonOf)).toEqual(Array.from({ length: 20 }, () => "MemcacheConnectionError:down"))
      expect(inner.seen).toEqual(["Get", "Version"])
      yield* Deferred.succeed(gate, undefined)
      expect(yield* Fiber.join(probe)).toEqual(values) // the probing call then runs its own command
      expect(member.state).toBe("Up")
      expect(yield* member.target.request(get, getExpectation, 1000)).toEqual(values)
      expect(inner.seen).toEqual(["Get", "Version", "Get", "Get"])
    })
  )

  it.live("the dead schedule: stepped once per failed probe, started over when exhausted", () =>
    Effect.gen(function* () {
      const inner = scripted()
      const attempts: Array<number> = []
      // Two recurrences with no delay, then done: the member must start the schedule over.
      const schedule = Schedule.recurs(2).pipe(Schedule.tap((m) => Effect.sync(() => attempts.push(m.attempt))))
      const member = new ClusterMember(
        inner.target,
        { host: "s" },
        { retryAttempts: 0, retryTimeoutMillis: 0, deadSchedule: schedule },
        () => {}
      )
      for (let i = 0; i < 5; i++) {
        expect(reasonOf(yield* Effect.exit(member.target.request(get, getExpectation, 1000)))).toBe(
          "MemcacheConnectionError:refused"
        )
        expect(member.state).toBe("Dead")
      }
      // The first failure and four failed probes: five steps, the third and fifth on a fresh schedule.
      expect(inner.seen).toEqual(["Get", "Version", "Version", "Version", "Version"])
      expect(attempts).toEqual([1, 2, 1, 2, 1])
    })
  )
})
