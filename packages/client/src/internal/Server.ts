/**
 * The client's view of one memcached server: a few pipelined connections (least busy first), opened lazily,
 * reopened after a failure as the reconnect schedule allows.
 *
 * @internal
 */

import type * as Reply from "@effect-memcache/protocol/Reply"
import type { Validated } from "@effect-memcache/protocol/Validation"
import type * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type * as Schedule from "effect/Schedule"
import { MemcacheConnectionError, type MemcacheTimeoutError, type TransportError } from "../MemcacheError.ts"
import type { ServerAddress } from "./Address.ts"
import * as Connection from "./Connection.ts"
import { ScheduleDelays } from "./ScheduleDelays.ts"

/** @internal */
export type ConnectFailure = MemcacheConnectionError | MemcacheTimeoutError

/** @internal */
export interface ServerOptions extends Omit<Connection.ConnectionOptions, "address" | "onQuietError"> {
  readonly connections: number
  readonly reconnect: Schedule.Schedule<unknown, ConnectFailure>
}

/**
 * One server's connections.
 *
 * @internal
 */
export class Server {
  readonly name: string
  private readonly slots: Array<Connection.Connection | undefined>
  private connecting: Deferred.Deferred<Connection.Connection, ConnectFailure> | undefined
  private nextAttemptAt = 0
  private lastFailure: ConnectFailure | undefined
  private readonly delays: ScheduleDelays<ConnectFailure>
  private closed = false
  private readonly run: <A, E>(effect: Effect.Effect<A, E>) => void
  private readonly runCallback: <A, E>(
    effect: Effect.Effect<A, E>,
    onExit: (exit: Exit.Exit<A, E>) => void
  ) => () => void

  readonly address: ServerAddress
  readonly options: ServerOptions

  constructor(address: ServerAddress, options: ServerOptions, context: Context.Context<never>) {
    this.address = address
    this.options = options
    this.delays = new ScheduleDelays(options.reconnect)
    this.name = address.name
    this.slots = new Array(Math.max(1, options.connections)).fill(undefined)
    const fork = Effect.runForkWith(context)
    this.run = (effect) => {
      fork(effect)
    }
    const runCallback = Effect.runCallbackWith(context)
    this.runCallback = (effect, onExit) => {
      const interrupt = runCallback(effect, { onExit })
      return () => interrupt()
    }
  }

  /**
   * Sends one command on the least busy connection, opening one first if there is none. The connection is
   * picked when the effect runs (so a retry of the same effect picks again).
   */
  request(
    command: Validated,
    expectation: Reply.Expectation | undefined,
    timeoutMillis: number
  ): Effect.Effect<Reply.Reply | undefined, TransportError> {
    return Connection.requestVia((request) => this.submit(request), command, expectation, timeoutMillis)
  }

  /**
   * {@link request} in callback form: the request's `complete` is called once, and `abandon` gives it up. The
   * common case, an open connection, costs nothing beyond the request object.
   */
  submit(request: Connection.Request): void {
    const connection = this.pick()
    if (connection !== undefined) {
      connection.enqueue(request)
      return
    }
    // No open connection: connect (one attempt shared by every caller), then send, in a fiber of this request's
    // own; abandoning the request interrupts it.
    request.cancelConnect = this.runCallback(
      Effect.map(this.connect(), (c) => {
        if (!request.isDone) c.enqueue(request)
      }),
      (exit) => {
        if (exit._tag === "Failure") request.settle(exit as Exit.Exit<never, ConnectFailure>)
      }
    )
  }

  /** The least busy open connection; starts opening another when every open one is busy and a slot is free. */
  private pick(): Connection.Connection | undefined {
    let best: Connection.Connection | undefined
    let free = false
    for (const c of this.slots) {
      if (c === undefined) free = true
      else if (best === undefined || c.load < best.load) best = c
    }
    if (best !== undefined && free && best.load > 0 && this.connecting === undefined && !this.inBackoff()) {
      this.run(Effect.ignore(this.connect()))
    }
    return best
  }

  private inBackoff(): boolean {
    return this.lastFailure !== undefined && Date.now() < this.nextAttemptAt
  }

  /** Opens a connection into a free slot; concurrent callers share one attempt. */
  private connect(): Effect.Effect<Connection.Connection, ConnectFailure> {
    return Effect.suspend(() => {
      if (this.closed) return Effect.fail(this.closedError())
      if (this.connecting !== undefined) return Deferred.await(this.connecting)
      if (this.inBackoff()) {
        return Effect.fail(
          new MemcacheConnectionError({
            server: this.name,
            reason: "backoff",
            detail: `waiting ${this.nextAttemptAt - Date.now()} ms before reconnecting after: ${this.lastFailure!.message}`
          })
        )
      }
      const deferred = Deferred.makeUnsafe<Connection.Connection, ConnectFailure>()
      this.connecting = deferred
      // The attempt runs in its own fiber so that one caller's interruption does not cancel it for the others.
      this.run(
        Effect.onExit(this.open(), (exit) =>
          Effect.sync(() => {
            this.connecting = undefined
            Deferred.doneUnsafe(deferred, exit)
          })
        )
      )
      return Deferred.await(deferred)
    })
  }

  private open(): Effect.Effect<Connection.Connection, ConnectFailure> {
    return Connection.open({ ...this.options, address: this.address, onQuietError: this.onQuietError }).pipe(
      Effect.tap((connection) =>
        Effect.sync(() => {
          if (this.closed) {
            connection.retire(this.closedError())
            return
          }
          // Lost between connecting and here: its requests fail typed, but it must not occupy a slot forever.
          if (connection.isRetired) return
          // Only one attempt runs at a time and it starts only while a slot is free, so one is free here.
          const slot = this.slots.indexOf(undefined)
          if (slot < 0) this.slots.push(connection)
          else this.slots[slot] = connection
          connection.onRetire = () => {
            const i = this.slots.indexOf(connection)
            if (i >= 0) this.slots[i] = undefined
          }
          this.lastFailure = undefined
          this.delays.reset()
        })
      ),
      Effect.tapError((failure) => this.backoff(failure))
    )
  }

  /** Paces the next attempt by the reconnect schedule; an exhausted schedule starts over. */
  private backoff(failure: ConnectFailure): Effect.Effect<void> {
    return Effect.gen({ self: this }, function* () {
      const now = Date.now()
      const delay = yield* this.delays.next(now, failure)
      this.lastFailure = failure
      this.nextAttemptAt = now + delay
      yield* Effect.logWarning(
        `memcache ${this.name}: connect failed (${failure.message}); next attempt in ${Math.round(delay)} ms`
      )
    })
  }

  private readonly onQuietError = (reply: Reply.Reply) => {
    this.run(
      Effect.logWarning(
        `memcache ${this.name}: a noreply command failed: ${reply._tag}${"text" in reply ? ` ${reply.text}` : ""}`
      )
    )
  }

  private closedError(): MemcacheConnectionError {
    return new MemcacheConnectionError({ server: this.name, reason: "closed", detail: "the client was closed" })
  }

  /**
   * Sends `quit` on every open connection after the requests already queued on it, and lets the server close
   * them; the next request opens a new connection.
   */
  quit(command: Validated): Effect.Effect<void> {
    return Effect.suspend(() => {
      const open = this.slots.filter((c): c is Connection.Connection => c !== undefined)
      this.slots.fill(undefined)
      return Effect.forEach(
        open,
        (c) =>
          c
            .request(command, undefined, this.options.connectTimeoutMillis)
            .pipe(Effect.ignore, Effect.andThen(Effect.sync(() => c.end()))),
        { discard: true }
      )
    })
  }

  /** Closes every connection: requests still in them fail with a `closed` connection error. */
  close(): void {
    this.closed = true
    for (const c of this.slots) c?.retire(this.closedError())
    this.slots.fill(undefined)
  }
}
