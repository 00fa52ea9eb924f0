/**
 * The transport contract: how a request reaches a server. The command surface is written once on top of it;
 * the single-server, cluster and in-memory layers differ only in the {@link Target}s they provide.
 *
 * A request is handed over in callback form: `submit` takes a {@link Request} and its outcome arrives, once,
 * through the request's `complete` (possibly before `submit` returns). There is no fiber per request.
 *
 * @internal
 */
import type * as Reply from "@effect-memcache/protocol/Reply"
import type * as Validation from "@effect-memcache/protocol/Validation"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import type { TransportError } from "../MemcacheError.ts"

/** The outcome of a request: the reply (`undefined` once written, for a command that gets none) or a failure. */
export type Outcome = Exit.Exit<Reply.Reply | undefined, TransportError>

/** Request states: waiting to be written, written and waiting for its reply, completed (or given up). */
export const State = { Queued: 0, Written: 1, Done: 2 } as const
/** @internal */
export type State = (typeof State)[keyof typeof State]

/**
 * One request on its way to a server. The object is the queue entry, the pending entry and the completion
 * handle at once, so a request costs one allocation; a caller that needs more per request (the command
 * surface's reply interpretation) extends it rather than wrapping it in closures.
 */
export abstract class Request {
  state: State = State.Queued
  readonly command: Validation.Validated
  /** `undefined` for a command that gets no reply (noreply, quit). */
  readonly expectation: Reply.Expectation | undefined
  readonly timeoutMillis: number
  /** When the request times out; set by the connection that takes it. */
  deadline = Infinity
  /**
   * The fiber waiting for the outcome, when its caller gave no canceler (the command surface's calls, which save
   * a canceler's cost per call): a transport drops the request unsent once that fiber has ended.
   */
  owner: Fiber.Fiber<unknown, unknown> | undefined = undefined
  /** Gives up whatever a transport is doing for the request outside a connection (connecting, probing). */
  onAbandon: (() => void) | undefined = undefined

  constructor(command: Validation.Validated, expectation: Reply.Expectation | undefined, timeoutMillis: number) {
    this.command = command
    this.expectation = expectation
    this.timeoutMillis = timeoutMillis
  }

  /** Receives the outcome, once. */
  protected abstract complete(outcome: Outcome): void

  /** Whether the outcome was delivered, or nobody waits for it any more. */
  get abandoned(): boolean {
    return this.state === State.Done || this.owner?.pollUnsafe() !== undefined
  }

  /** Delivers the outcome unless it was delivered already (or the caller gave up). */
  settle(outcome: Outcome): void {
    if (this.state === State.Done) return
    this.state = State.Done
    this.complete(outcome)
  }

  /**
   * The caller gave up. Unwritten, the request is never sent; written, it stays where it is, so its reply is
   * read and dropped and every later reply still goes to its own request.
   */
  abandon(): void {
    if (this.state === State.Done) return
    this.state = State.Done
    this.onAbandon?.()
  }
}

/** A request whose outcome goes to a callback. */
export class CallbackRequest extends Request {
  private readonly onOutcome: (outcome: Outcome) => void
  constructor(
    command: Validation.Validated,
    expectation: Reply.Expectation | undefined,
    timeoutMillis: number,
    onOutcome: (outcome: Outcome) => void
  ) {
    super(command, expectation, timeoutMillis)
    this.onOutcome = onOutcome
  }
  protected complete(outcome: Outcome): void {
    this.onOutcome(outcome)
  }
}

/**
 * One server, as the surface sees it.
 */
export interface Target {
  /** The server's name in errors (its address as configured). */
  readonly name: string
  /** Takes a validated request; its outcome arrives through the request, once. */
  readonly submit: (request: Request) => void
  /**
   * Takes a request that gets no reply (noreply) only when it can be written without waiting: a connection is
   * open, writable and under its in-flight bound. `true`: queued for this tick's write, and its caller may go
   * on at once (its outcome is of no interest to anyone); `false`: nothing was done, `submit` it. Absent where
   * every request goes through `submit`.
   */
  readonly offer?: ((request: Request) => boolean) | undefined
  /** Closes this server's connections with `quit`; the next request reconnects. */
  readonly quit: Effect.Effect<void>
}

/**
 * A set of servers and the rule that picks one for a key.
 */
export interface Backend {
  readonly targets: ReadonlyArray<Target>
  /** The server for a routing key (the key without the key prefix, unless the caller named another). */
  readonly route: (routingKey: string) => Target
}

/**
 * A request as an effect, for the few callers outside the command surface (authentication, `quit`): made when
 * the effect runs, abandoned when the caller is interrupted.
 */
export const request = (
  submit: (request: Request) => void,
  command: Validation.Validated,
  expectation: Reply.Expectation | undefined,
  timeoutMillis: number
): Effect.Effect<Reply.Reply | undefined, TransportError> =>
  Effect.callback<Reply.Reply | undefined, TransportError>((resume) => {
    const r = new CallbackRequest(command, expectation, timeoutMillis, resume)
    submit(r)
    return Effect.sync(() => r.abandon())
  })

const resolved = Promise.resolve()

/**
 * Runs `f` as a microtask, after the code of this tick. Not `queueMicrotask`: Node wraps each of those in an
 * AsyncResource and a bound function, which costs more than a promise reaction and makes garbage.
 */
export const afterTick = (f: () => void): void => {
  resolved.then(f)
}
