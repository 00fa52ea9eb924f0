/**
 * One server of a cluster: its single-server Target, wrapped with a failure counter and a mark-down state, as
 * pymemcache's `HashClient` keeps them (`retry_attempts`, `retry_timeout`, `dead_timeout`).
 *
 * - Up: calls pass through. A call failing for want of the server (timeout, connection failure, unexpected
 *   close) makes it Failing (or Dead straight away when `retryAttempts` is 0).
 * - Failing: calls fail fast with a `down` connection error; `retryTimeout` after the last failure, one call at
 *   a time first probes the server (`version`). A failed probe counts an attempt; `retryAttempts` of them make
 *   it Dead.
 * - Dead: calls fail fast; the dead schedule says when the next probe may run (each failed probe takes its
 *   next delay; an exhausted schedule starts over).
 * - Any answered request or probe makes it Up again.
 *
 * The state is plain fields read synchronously (routing needs it without an Effect); JavaScript runs one
 * callback at a time, so the transitions need no lock.
 *
 * @internal
 */
import * as Reply from "@effect-memcache/protocol/Reply"
import * as Validation from "@effect-memcache/protocol/Validation"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import type * as Schedule from "effect/Schedule"
import type { Node } from "../Distribution.ts"
import { MemcacheConnectionError, type TransportError } from "../MemcacheError.ts"
import type { Target } from "./Backend.ts"
import { ScheduleDelays } from "./ScheduleDelays.ts"

/** @internal */
export interface HealthOptions {
  readonly retryAttempts: number
  readonly retryTimeoutMillis: number
  readonly deadSchedule: Schedule.Schedule<unknown, TransportError>
}

type Health =
  | { readonly _tag: "Up" }
  | { readonly _tag: "Failing"; readonly attempts: number; readonly retryAt: number; readonly last: TransportError }
  | { readonly _tag: "Dead"; readonly retryAt: number; readonly last: TransportError }

const UP: Health = { _tag: "Up" }
const VERSION_EXPECTATION = Reply.expectation(Validation.version)

/** The failures that say the server is away or unresponsive (not a garbled reply, not our own close). */
const isOutage = (error: TransportError): boolean => {
  switch (error._tag) {
    case "MemcacheTimeoutError":
    case "MemcacheUnexpectedCloseError":
      return true
    case "MemcacheConnectionError":
      return error.reason !== "closed" && error.reason !== "down"
    default:
      return false
  }
}

/**
 * A cluster's server with its health.
 *
 * @internal
 */
export class ClusterMember {
  /** The Target the cluster's backend routes to: the server's, behind the health check. */
  readonly target: Target
  readonly node: Node
  private readonly inner: Target
  private readonly options: HealthOptions
  private readonly onChange: () => void
  private health: Health = UP
  private probing = false
  private readonly delays: ScheduleDelays<TransportError>

  constructor(inner: Target, node: Node, options: HealthOptions, onChange: () => void) {
    this.inner = inner
    this.node = node
    this.options = options
    this.delays = new ScheduleDelays(options.deadSchedule)
    this.onChange = onChange
    this.target = {
      name: inner.name,
      request: (command, expectation, timeoutMillis) => this.request(command, expectation, timeoutMillis),
      quit: inner.quit
    }
  }

  /** `Up`, `Failing` or `Dead` (for tests and logs). */
  get state(): Health["_tag"] {
    return this.health._tag
  }

  /**
   * Whether the server belongs in a ring that leaves dead servers out: up, failing (pymemcache keeps those), or
   * dead with a probe due and none running (so that the next call routed to it probes it).
   */
  inRing(now: number): boolean {
    const health = this.health
    return health._tag !== "Dead" || (!this.probing && now >= health.retryAt)
  }

  /** When {@link inRing} may turn true without a call: a dead server's next probe time. */
  get nextChangeAt(): number {
    return this.health._tag === "Dead" && !this.probing ? this.health.retryAt : Infinity
  }

  private request(
    command: Validation.Validated,
    expectation: Reply.Expectation | undefined,
    timeoutMillis: number
  ): Effect.Effect<Reply.Reply | undefined, TransportError> {
    return Effect.suspend(() => {
      const health = this.health
      if (health._tag === "Up") return this.observe(this.inner.request(command, expectation, timeoutMillis))
      const now = Date.now()
      if (this.probing || now < health.retryAt) return Effect.fail(this.downError(health, now))
      // This call probes; the others keep failing fast until the probe is done.
      this.probing = true
      this.onChange()
      return Effect.flatMap(
        Effect.onExit(this.inner.request(Validation.version, VERSION_EXPECTATION, timeoutMillis), (exit) =>
          this.afterProbe(exit)
        ),
        () => this.observe(this.inner.request(command, expectation, timeoutMillis))
      )
    })
  }

  private observe(
    request: Effect.Effect<Reply.Reply | undefined, TransportError>
  ): Effect.Effect<Reply.Reply | undefined, TransportError> {
    return Effect.onExit(request, (exit) => {
      if (Exit.isSuccess(exit)) {
        // A reply proves the server is there; a noreply write does not.
        if (this.health._tag !== "Up" && exit.value !== undefined) this.markUp()
        return Effect.void
      }
      if (this.health._tag !== "Up") return Effect.void
      const error = Exit.findErrorOption(exit)
      return Option.isSome(error) && isOutage(error.value) ? this.failed(error.value) : Effect.void
    })
  }

  private afterProbe(exit: Exit.Exit<Reply.Reply | undefined, TransportError>): Effect.Effect<void> {
    return Effect.suspend(() => {
      this.probing = false
      if (Exit.isSuccess(exit)) {
        this.markUp()
        return Effect.void
      }
      const error = Exit.findErrorOption(exit)
      if (Option.isNone(error)) {
        // Interrupted: nothing learned, the next call probes.
        this.onChange()
        return Effect.void
      }
      const health = this.health
      if (health._tag === "Failing" && health.attempts + 1 < this.options.retryAttempts) {
        this.health = {
          _tag: "Failing",
          attempts: health.attempts + 1,
          retryAt: Date.now() + this.options.retryTimeoutMillis,
          last: error.value
        }
        this.onChange()
        return Effect.void
      }
      return this.markDead(error.value)
    })
  }

  /** The first failure of an up server. */
  private failed(error: TransportError): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (this.health._tag !== "Up") return Effect.void
      if (this.options.retryAttempts <= 0) return this.markDead(error)
      this.health = {
        _tag: "Failing",
        attempts: 0,
        retryAt: Date.now() + this.options.retryTimeoutMillis,
        last: error
      }
      this.onChange()
      return Effect.logWarning(
        `memcache cluster: ${this.inner.name} failed (${error.message}); its calls fail fast, retrying in ${this.options.retryTimeoutMillis} ms`
      )
    })
  }

  /** Dead until the dead schedule's next delay has passed; an exhausted schedule starts over. */
  private markDead(error: TransportError): Effect.Effect<void> {
    return Effect.gen({ self: this }, function* () {
      const now = Date.now()
      const delay = yield* this.delays.next(now, error)
      this.health = { _tag: "Dead", retryAt: now + delay, last: error }
      this.onChange()
      yield* Effect.logWarning(
        `memcache cluster: ${this.inner.name} marked dead (${error.message}); next probe in ${Math.round(delay)} ms`
      )
    })
  }

  private markUp(): void {
    if (this.health._tag === "Up") return
    this.health = UP
    this.delays.reset()
    this.onChange()
  }

  private downError(health: Exclude<Health, { _tag: "Up" }>, now: number): MemcacheConnectionError {
    const when = this.probing
      ? "a probe is checking whether it is back"
      : `next probe in ${Math.max(0, health.retryAt - now)} ms`
    const state =
      health._tag === "Dead"
        ? "marked dead"
        : `failing (${health.attempts} of ${this.options.retryAttempts} retries failed)`
    return new MemcacheConnectionError({
      server: this.inner.name,
      reason: "down",
      detail: `${state} after: ${health.last.message}; ${when}`
    })
  }
}
