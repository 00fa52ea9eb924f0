/**
 * The client's view of one memcached server: a few pipelined connections (least busy first), opened lazily,
 * reopened after a failure as the reconnect schedule allows. Its {@link Target} is what the single-server layer
 * and each cluster member send through.
 *
 * @internal
 */
import type * as Reply from "@effect-memcache/protocol/Reply"
import * as Validation from "@effect-memcache/protocol/Validation"
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import type * as Schedule from "effect/Schedule"
import { MemcacheConnectionError, type MemcacheTimeoutError } from "../MemcacheError.ts"
import type { ServerAddress } from "./Address.ts"
import type { Background } from "./Background.ts"
import { open } from "./Connect.ts"
import type { Connection, ConnectionOptions } from "./Connection.ts"
import { millis, withoutServer } from "./LogText.ts"
import { ScheduleDelays } from "./ScheduleDelays.ts"
import * as Transport from "./Transport.ts"

/** @internal */
export type ConnectFailure = MemcacheConnectionError | MemcacheTimeoutError

/** @internal */
export interface ServerOptions extends Omit<ConnectionOptions, "address" | "onQuietErrors"> {
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
  readonly target: Transport.Target
  private readonly slots: Array<Connection | undefined>
  private connecting: Deferred.Deferred<Connection, ConnectFailure> | undefined
  private nextAttemptAt = 0
  private lastFailure: ConnectFailure | undefined
  /** Connections lost (retired while the layer was open) and not replaced yet: for the reconnects metric. */
  private lost = 0
  private readonly delays: ScheduleDelays<ConnectFailure>
  private closed = false
  private readonly address: ServerAddress
  private readonly options: ServerOptions
  private readonly background: Background

  constructor(address: ServerAddress, options: ServerOptions, background: Background) {
    this.address = address
    this.options = options
    this.background = background
    this.delays = new ScheduleDelays(options.reconnect)
    this.name = address.name
    this.slots = new Array(Math.max(1, options.connections)).fill(undefined)
    this.target = {
      name: this.name,
      submit: (request) => this.submit(request),
      offer: (request) => this.pick()?.offer(request) === true,
      quit: this.quit()
    }
  }

  /**
   * Sends a request on the least busy connection, opening one first if there is none. The common case, an open
   * connection, costs nothing beyond the request object.
   */
  submit(request: Transport.Request): void {
    const connection = this.pick()
    if (connection !== undefined) {
      connection.enqueue(request)
      return
    }
    // No open connection: connect (one attempt shared by every caller), then send; abandoning the request stops
    // its wait, and closing the layer interrupts it.
    const fiber = this.background.fork(this.connect())
    request.onAbandon = () => fiber.interruptUnsafe()
    fiber.addObserver((exit) => {
      request.onAbandon = undefined
      if (Exit.isSuccess(exit)) {
        if (!request.abandoned) exit.value.enqueue(request)
        return
      }
      const failure = Cause.findErrorOption(exit.cause)
      request.settle(Exit.fail(Option.isSome(failure) ? failure.value : this.closedError()))
    })
  }

  /** The least busy open connection; starts opening another when every open one is busy and a slot is free. */
  private pick(): Connection | undefined {
    let best: Connection | undefined
    let free = false
    for (const c of this.slots) {
      if (c === undefined) free = true
      else if (best === undefined || c.load < best.load) best = c
    }
    if (best !== undefined && free && best.load > 0 && this.connecting === undefined && !this.inBackoff()) {
      this.background.fork(Effect.ignore(this.connect()))
    }
    return best
  }

  private inBackoff(): boolean {
    return this.lastFailure !== undefined && this.background.clock.currentTimeMillisUnsafe() < this.nextAttemptAt
  }

  /** Opens a connection into a free slot; concurrent callers share one attempt. */
  private connect(): Effect.Effect<Connection, ConnectFailure> {
    return Effect.suspend(() => {
      if (this.closed) return Effect.fail(this.closedError())
      if (this.connecting !== undefined) return Deferred.await(this.connecting)
      if (this.inBackoff()) {
        const wait = this.nextAttemptAt - this.background.clock.currentTimeMillisUnsafe()
        return Effect.fail(
          new MemcacheConnectionError({
            server: this.name,
            reason: "backoff",
            detail: `waiting ${millis(wait)} before reconnecting after: ${withoutServer(this.lastFailure!, this.name)}`
          })
        )
      }
      const deferred = Deferred.makeUnsafe<Connection, ConnectFailure>()
      this.connecting = deferred
      // The attempt runs in a fiber of its own so that one caller giving up does not cancel it for the others.
      this.background.fork(
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

  private open(): Effect.Effect<Connection, ConnectFailure> {
    return open({ ...this.options, address: this.address, onQuietErrors: this.onQuietErrors }).pipe(
      Effect.tap((connection) => Effect.sync(() => this.adopt(connection))),
      Effect.tapError((failure) => Effect.sync(() => this.backoff(failure)))
    )
  }

  /** A new connection takes a free slot (one attempt runs at a time, and only while a slot is free). */
  private adopt(connection: Connection): void {
    if (this.closed) {
      connection.retire(this.closedError())
      return
    }
    // Lost between connecting and here: its requests fail typed, but it must not occupy a slot forever.
    if (connection.isRetired) return
    const slot = this.slots.indexOf(undefined)
    if (slot < 0) this.slots.push(connection)
    else this.slots[slot] = connection
    this.background.count("openConnections", this.name)
    // A reconnect: a connection that takes the place of one lost.
    if (this.lost > 0) {
      this.lost--
      this.background.count("reconnects", this.name)
    }
    connection.onRetire = () => {
      const i = this.slots.indexOf(connection)
      if (i >= 0) this.slots[i] = undefined
      if (!this.closed) this.lost++
      this.background.count("openConnections", this.name, -1)
    }
    this.lastFailure = undefined
    this.delays.reset()
  }

  /** Paces the next attempt by the reconnect schedule; an exhausted schedule starts over. */
  private backoff(failure: ConnectFailure): void {
    const now = this.background.clock.currentTimeMillisUnsafe()
    const delay = this.background.now(this.delays.next(now, failure)) ?? 0
    this.lastFailure = failure
    this.nextAttemptAt = now + delay
    if (!this.closed) {
      this.background.warn(
        `memcache ${this.name}: connect failed: ${withoutServer(failure, this.name)}; next attempt in ${millis(delay)}`
      )
    }
  }

  private readonly onQuietErrors = (replies: ReadonlyArray<Reply.Reply>) => {
    if (!this.closed) this.background.reportNoreply(this.name, replies)
  }

  private closedError(): MemcacheConnectionError {
    return new MemcacheConnectionError({ server: this.name, reason: "closed", detail: "the client was closed" })
  }

  /**
   * Sends `quit` on every open connection after the requests already queued on it, and lets the server close
   * them; the next request opens a new connection.
   */
  private quit(): Effect.Effect<void> {
    return Effect.suspend(() => {
      const open = this.slots.filter((c): c is Connection => c !== undefined)
      this.slots.fill(undefined)
      return Effect.forEach(
        open,
        (c) =>
          Transport.request((r) => c.enqueue(r), Validation.quit, undefined, this.options.connectTimeoutMillis).pipe(
            Effect.ignore,
            Effect.andThen(Effect.sync(() => c.end()))
          ),
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
