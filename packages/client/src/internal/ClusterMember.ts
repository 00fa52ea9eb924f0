/**
 * One server of a cluster: its server's Target, wrapped with a failure counter and a mark-down state, as
 * pymemcache's `HashClient` keeps them (`retry_attempts`, `retry_timeout`, `dead_timeout`).
 *
 * - Up: requests pass through. A request failing for want of the server (timeout, connection failure,
 *   unexpected close) makes it Failing (or Dead straight away when `retryAttempts` is 0).
 * - Failing: requests fail fast with a `down` connection error; `retryTimeout` after the last failure, one
 *   request at a time first probes the server (`version`). A failed probe counts an attempt; `retryAttempts` of
 *   them make it Dead.
 * - Dead: requests fail fast; the dead schedule says when the next probe may run (each failed probe takes its
 *   next delay; an exhausted schedule starts over).
 * - Any answered request or probe makes it Up again.
 *
 * The health accounting wraps the transport's callback: no fiber per request. The state is plain fields read
 * synchronously (routing needs it); JavaScript runs one callback at a time, so the transitions need no lock.
 * Time is the layer's `Clock`.
 *
 * @internal
 */
import * as Reply from "@effect-memcache/protocol/Reply"
import * as Validation from "@effect-memcache/protocol/Validation"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import type * as Schedule from "effect/Schedule"
import type { Node } from "../Distribution.ts"
import { MemcacheConnectionError, type TransportError } from "../MemcacheError.ts"
import type { Background } from "./Background.ts"
import { millis, withoutServer } from "./LogText.ts"
import { ScheduleDelays } from "./ScheduleDelays.ts"
import { CallbackRequest, type Outcome, Request, type Target } from "./Transport.ts"

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

/** A caller's request on its way through a member: its outcome is observed by the member's health first. */
class Observed extends Request {
  private readonly inner: Request
  private readonly member: ClusterMember
  constructor(inner: Request, member: ClusterMember) {
    super(inner.command, inner.expectation, inner.timeoutMillis)
    this.inner = inner
    this.member = member
    this.owner = inner.owner
    inner.onAbandon = () => this.abandon()
  }
  protected complete(outcome: Outcome): void {
    this.member.observe(outcome)
    this.inner.settle(outcome)
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
  private readonly background: Background
  private readonly onChange: () => void
  private health: Health = UP
  private probing = false
  private readonly delays: ScheduleDelays<TransportError>

  constructor(inner: Target, node: Node, options: HealthOptions, background: Background, onChange: () => void) {
    this.inner = inner
    this.node = node
    this.options = options
    this.background = background
    this.delays = new ScheduleDelays(options.deadSchedule)
    this.onChange = onChange
    this.target = { name: inner.name, submit: (request) => this.submit(request), quit: inner.quit }
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

  private submit(request: Request): void {
    const health = this.health
    if (health._tag === "Up") {
      this.inner.submit(new Observed(request, this))
      return
    }
    const now = this.background.clock.currentTimeMillisUnsafe()
    if (this.probing || now < health.retryAt) {
      request.settle(Exit.fail(this.downError(health, now)))
      return
    }
    // This request probes; the others keep failing fast until the probe is done. A failed probe is the
    // request's failure; a successful one sends the request.
    this.probing = true
    this.onChange()
    const probe = new CallbackRequest(Validation.version, VERSION_EXPECTATION, request.timeoutMillis, (outcome) => {
      this.afterProbe(outcome)
      if (Exit.isFailure(outcome)) request.settle(outcome)
      else if (!request.abandoned) this.inner.submit(new Observed(request, this))
    })
    this.inner.submit(probe)
  }

  /** Counts the outcome of a request that went through. */
  observe(outcome: Outcome): void {
    if (Exit.isSuccess(outcome)) {
      // A reply proves the server is there; a noreply write does not.
      if (this.health._tag !== "Up" && outcome.value !== undefined) this.markUp()
      return
    }
    if (this.health._tag !== "Up") return
    const error = Exit.findErrorOption(outcome)
    if (Option.isSome(error) && isOutage(error.value)) this.failed(error.value)
  }

  private afterProbe(outcome: Outcome): void {
    this.probing = false
    if (Exit.isSuccess(outcome)) {
      this.markUp()
      return
    }
    const error = Exit.findErrorOption(outcome)
    if (Option.isNone(error)) {
      // Nothing learned (the layer closed): the next call probes.
      this.onChange()
      return
    }
    const health = this.health
    if (health._tag === "Failing" && health.attempts + 1 < this.options.retryAttempts) {
      this.health = {
        _tag: "Failing",
        attempts: health.attempts + 1,
        retryAt: this.background.clock.currentTimeMillisUnsafe() + this.options.retryTimeoutMillis,
        last: error.value
      }
      this.onChange()
      return
    }
    this.markDead(error.value)
  }

  /** The first failure of an up server. */
  private failed(error: TransportError): void {
    if (this.options.retryAttempts <= 0) {
      this.markDead(error)
      return
    }
    this.health = {
      _tag: "Failing",
      attempts: 0,
      retryAt: this.background.clock.currentTimeMillisUnsafe() + this.options.retryTimeoutMillis,
      last: error
    }
    this.onChange()
    this.background.count("markDowns", this.inner.name)
    this.background.warn(
      `memcache cluster: ${this.inner.name} failed: ${withoutServer(error, this.inner.name)}; its calls fail fast, retrying in ${millis(this.options.retryTimeoutMillis)}`
    )
  }

  /** Dead until the dead schedule's next delay has passed; an exhausted schedule starts over. */
  private markDead(error: TransportError): void {
    // Failing servers were counted down already; a server marked dead at once (no retry attempts) is counted here.
    if (this.health._tag === "Up") this.background.count("markDowns", this.inner.name)
    const now = this.background.clock.currentTimeMillisUnsafe()
    const delay = this.background.now(this.delays.next(now, error)) ?? 0
    this.health = { _tag: "Dead", retryAt: now + delay, last: error }
    this.onChange()
    this.background.warn(
      `memcache cluster: ${this.inner.name} marked dead: ${withoutServer(error, this.inner.name)}; next probe in ${millis(delay)}`
    )
  }

  private markUp(): void {
    if (this.health._tag === "Up") return
    this.health = UP
    this.delays.reset()
    this.onChange()
    this.background.count("recoveries", this.inner.name)
  }

  private downError(health: Exclude<Health, { _tag: "Up" }>, now: number): MemcacheConnectionError {
    const when = this.probing
      ? "a probe is checking whether it is back"
      : `next probe in ${millis(Math.max(0, health.retryAt - now))}`
    const state =
      health._tag === "Dead"
        ? "marked dead"
        : `failing (${health.attempts} of ${this.options.retryAttempts} retries failed)`
    return new MemcacheConnectionError({
      server: this.inner.name,
      reason: "down",
      detail: `${state} after: ${withoutServer(health.last, this.inner.name)}; ${when}`
    })
  }
}
