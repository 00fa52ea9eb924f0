/**
 * One socket to one memcached server: the coalesced write loop, the pending FIFO read loop, timeouts, and the
 * one place that decides a connection may no longer be used (`retire`).
 *
 * Plain node:net/node:tls in callbacks: measured 1.4-1.6x faster than effect/socket for pipelined requests,
 * and coalescing the writes of one tick into one `write` was worth 2-3x on top.
 *
 * @internal
 */

import * as Net from "node:net"
import * as Tls from "node:tls"
import * as Command from "@effect-memcache/protocol/Command"
import * as Decoder from "@effect-memcache/protocol/Decoder"
import * as Encoder from "@effect-memcache/protocol/Encoder"
import type * as Errors from "@effect-memcache/protocol/Errors"
import * as Reply from "@effect-memcache/protocol/Reply"
import * as Validation from "@effect-memcache/protocol/Validation"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as Redacted from "effect/Redacted"
import {
  MemcacheConnectionError,
  MemcacheProtocolError,
  MemcacheTimeoutError,
  MemcacheUnexpectedCloseError,
  type TransportError
} from "../MemcacheError.ts"
import type { ServerAddress } from "./Address.ts"

/** @internal */
export interface ConnectionOptions {
  readonly address: ServerAddress
  readonly connectTimeoutMillis: number
  readonly noDelay: boolean
  readonly keepAlive: boolean
  readonly tls: Tls.ConnectionOptions | undefined
  readonly maxInFlight: number
  readonly maxValueLength: number
  readonly auth: { readonly username: string; readonly password: Redacted.Redacted<string> } | undefined
  /** Errors the server reported for noreply commands (found before the `mn` that closes their batch). */
  readonly onQuietError: (reply: Reply.Reply) => void
}

/** Request states: waiting to be written, written and waiting for its reply, completed. */
const State = { Queued: 0, Written: 1, Done: 2 } as const
type State = (typeof State)[keyof typeof State]

/**
 * One request in flight. The object is the queue entry, the pending entry and the completion handle at once, so
 * a request costs one allocation here; a caller that needs more per request (the command surface's reply
 * interpretation) extends it rather than wrapping it in closures.
 *
 * @internal
 */
export class Request {
  state: State = State.Queued
  readonly command: Validation.Validated
  /** `undefined` for a command that gets no reply (noreply, quit). */
  readonly expectation: Reply.Expectation | undefined
  readonly timeoutMillis: number
  /** Set when the request is handed to a connection. */
  deadline = Infinity
  /** The connection holding the request, once it has one. */
  connection: Connection | undefined = undefined
  /** Gives up a request still waiting for a connection to open (set by the server while it connects). */
  cancelConnect: (() => void) | undefined = undefined
  /**
   * The fiber waiting for the outcome, for a request whose caller gave no canceler (the command surface's hot
   * path, which saves the canceler's cost per call): the request is dropped unwritten if that fiber has ended
   * (was interrupted) by the time of the write.
   */
  owner: Fiber.Fiber<unknown, unknown> | undefined = undefined
  constructor(command: Validation.Validated, expectation: Reply.Expectation | undefined, timeoutMillis: number) {
    this.command = command
    this.expectation = expectation
    this.timeoutMillis = timeoutMillis
  }

  /** Receives the outcome, once: the reply (`undefined` once written, for a command without one) or a failure. */
  complete(_exit: Exit.Exit<Reply.Reply | undefined, TransportError>): void {}

  /** The caller gave up: see {@link Connection.abandon}. */
  abandon(): void {
    if (this.connection !== undefined) this.connection.abandon(this)
    else if (this.state !== State.Done) {
      this.state = State.Done
      this.cancelConnect?.()
    }
  }

  /** Whether the outcome was delivered (or the caller gave up). */
  get isDone(): boolean {
    return this.state === State.Done
  }

  /** Delivers the outcome unless it was delivered already (or the caller gave up). */
  settle(exit: Exit.Exit<Reply.Reply | undefined, TransportError>): void {
    if (this.state === State.Done) return
    this.state = State.Done
    this.complete(exit)
  }
}

/**
 * A request whose outcome goes to a callback.
 *
 * @internal
 */
export class CallbackRequest extends Request {
  private readonly onExit: (exit: Exit.Exit<Reply.Reply | undefined, TransportError>) => void
  constructor(
    command: Validation.Validated,
    expectation: Reply.Expectation | undefined,
    timeoutMillis: number,
    onExit: (exit: Exit.Exit<Reply.Reply | undefined, TransportError>) => void
  ) {
    super(command, expectation, timeoutMillis)
    this.onExit = onExit
  }
  override complete(exit: Exit.Exit<Reply.Reply | undefined, TransportError>): void {
    this.onExit(exit)
  }
}

/**
 * A request as an effect: made when the effect runs, handed to `submit` (a connection's queue, or a server that
 * picks one), and abandoned when the caller is interrupted.
 *
 * @internal
 */
export const requestVia = (
  submit: (request: Request) => void,
  command: Validation.Validated,
  expectation: Reply.Expectation | undefined,
  timeoutMillis: number
): Effect.Effect<Reply.Reply | undefined, TransportError> =>
  Effect.callback<Reply.Reply | undefined, TransportError>((resume) => {
    const request = new CallbackRequest(command, expectation, timeoutMillis, resume)
    submit(request)
    return Effect.sync(() => request.abandon())
  })

/** The decoder hands out shared objects for the replies without data (STORED, DELETED, ...): so can we. */
const SHARED_EXITS = new Map<Reply.Reply, Exit.Exit<Reply.Reply>>(
  Object.values(Reply.replies).map((reply) => [reply, Exit.succeed(reply)])
)

const resolved = Promise.resolve()

/**
 * Runs `f` as a microtask, after the code of this tick. Not `queueMicrotask`: Node wraps each of those in an
 * AsyncResource and a bound function (about 100 ns against 35 ns here, and garbage), and a single get schedules two.
 *
 * @internal
 */
export const afterTick = (f: () => void): void => {
  resolved.then(f)
}

/** The outcome of a command without a reply, once written. */
const WRITTEN: Exit.Exit<undefined> = Exit.succeed(undefined)

/** A FIFO over an array with a moving head: push/shift without `Array#shift`'s O(n) moves. */
class Fifo<A> {
  private items: Array<A | undefined> = []
  private head = 0
  get size(): number {
    return this.items.length - this.head
  }
  push(a: A): void {
    this.items.push(a)
  }
  peek(): A | undefined {
    return this.items[this.head]
  }
  shift(): A | undefined {
    if (this.head >= this.items.length) return undefined
    const a = this.items[this.head]
    this.items[this.head++] = undefined
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return a
  }
  drain(): Array<A> {
    const out = this.items.slice(this.head) as Array<A>
    this.items = []
    this.head = 0
    return out
  }
  forEach(f: (a: A) => void): void {
    for (let i = this.head; i < this.items.length; i++) f(this.items[i] as A)
  }
}

/**
 * OpenSSL's certificate verification failures, as node:tls reports them in `code`. Not all of them mention
 * CERT: an untrusted server certificate is `UNABLE_TO_VERIFY_LEAF_SIGNATURE`.
 */
const CERTIFICATE_ERRORS = new Set([
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_CRL",
  "UNABLE_TO_DECRYPT_CERT_SIGNATURE",
  "UNABLE_TO_DECRYPT_CRL_SIGNATURE",
  "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY",
  "CERT_SIGNATURE_FAILURE",
  "CRL_SIGNATURE_FAILURE",
  "CERT_NOT_YET_VALID",
  "CERT_HAS_EXPIRED",
  "CRL_NOT_YET_VALID",
  "CRL_HAS_EXPIRED",
  "ERROR_IN_CERT_NOT_BEFORE_FIELD",
  "ERROR_IN_CERT_NOT_AFTER_FIELD",
  "ERROR_IN_CRL_LAST_UPDATE_FIELD",
  "ERROR_IN_CRL_NEXT_UPDATE_FIELD",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "CERT_CHAIN_TOO_LONG",
  "CERT_REVOKED",
  "INVALID_CA",
  "PATH_LENGTH_EXCEEDED",
  "INVALID_PURPOSE",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "HOSTNAME_MISMATCH"
])

const errorReason = (error: unknown): MemcacheConnectionError["reason"] => {
  const code = (error as { code?: unknown } | undefined)?.code
  switch (code) {
    case "ECONNREFUSED":
    case "ENOENT":
      return "refused"
    case "ECONNRESET":
    case "EPIPE":
    case "ECONNABORTED":
      return "reset"
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "EAI_FAIL":
      return "dns"
  }
  if (
    typeof code === "string" &&
    (code.startsWith("ERR_TLS") || code.startsWith("ERR_SSL") || CERTIFICATE_ERRORS.has(code) || code.includes("CERT"))
  )
    return "tls"
  return "other"
}

const detailOf = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/**
 * The longest delay `setTimeout` honours (2^31-1 ms, about 24.8 days). Node runs a longer one, or `Infinity`,
 * after 1 ms instead: a longer deadline is waited for in steps, and an infinite one gets no timer at all.
 */
const MAX_TIMER_MILLIS = 2_147_483_647

/**
 * A connected socket with its encoder, decoder and queues. Created by {@link open}; once retired it never
 * carries another request.
 *
 * @internal
 */
export class Connection {
  private readonly encoder = new Encoder.Encoder()
  private readonly decoder: Decoder.Decoder
  private readonly queued = new Fifo<Request>()
  private readonly pending = new Fifo<Request>()
  private flushScheduled = false
  /** When the tick whose requests the next flush writes began (set when that flush is scheduled). */
  private tickStart = 0
  private writable = true
  private timer: ReturnType<typeof setTimeout> | undefined
  private timerAt = Infinity
  private retiredWith: TransportError | undefined
  /** Called once when the connection retires, so its owner can stop handing it requests. */
  onRetire: ((error: TransportError) => void) | undefined

  readonly socket: Net.Socket
  readonly options: ConnectionOptions

  constructor(socket: Net.Socket, options: ConnectionOptions) {
    this.socket = socket
    this.options = options
    this.decoder = new Decoder.Decoder({
      onReply: (reply) => this.onReply(reply),
      onError: (error) => this.onProtocolError(error),
      onQuietError: (reply) => options.onQuietError(reply),
      maxValueLength: options.maxValueLength
    })
    socket.on("data", (chunk: Uint8Array) => this.decoder.feed(chunk))
    socket.on("drain", () => {
      this.writable = true
      this.flush()
    })
    socket.on("error", (error) =>
      this.retire(
        new MemcacheConnectionError({
          server: options.address.name,
          reason: errorReason(error),
          detail: detailOf(error)
        })
      )
    )
    // The server's FIN means no reply can follow; retiring at once (not at `close`) also keeps a write racing the
    // close from turning this into a write-after-end error.
    const closed = () => this.retire(new MemcacheUnexpectedCloseError({ server: options.address.name }))
    socket.on("end", closed)
    socket.on("close", closed)
  }

  /** Requests written or waiting to be written. */
  get load(): number {
    return this.pending.size + this.queued.size
  }

  get isRetired(): boolean {
    return this.retiredWith !== undefined
  }

  /**
   * Sends `command`, completing with its reply (`undefined` for a command that gets none, once written).
   * Interrupting the caller drops the command if it is not written yet; once written, its reply is still read
   * (and dropped), so the others on the connection are not disturbed.
   */
  request(
    command: Validation.Validated,
    expectation: Reply.Expectation | undefined,
    timeoutMillis: number
  ): Effect.Effect<Reply.Reply | undefined, TransportError> {
    return requestVia((request) => this.enqueue(request), command, expectation, timeoutMillis)
  }

  /** Queues a request for the next coalesced write; its timeout starts now. */
  enqueue(request: Request): void {
    request.connection = this
    if (this.retiredWith !== undefined) {
      request.settle(Exit.fail(this.retiredWith))
      return
    }
    if (!this.flushScheduled) this.scheduleFlush()
    request.deadline = this.tickStart + request.timeoutMillis
    this.queued.push(request)
    this.arm(request.deadline)
  }

  /** Schedules the coalesced write of this tick; one clock read per tick, as every request of it goes out together. */
  private scheduleFlush(): void {
    this.flushScheduled = true
    this.tickStart = Date.now()
    afterTick(this.flushTask)
  }

  private readonly flushTask = () => {
    this.flushScheduled = false
    this.flush()
  }

  /**
   * Encodes every queued request (up to the in-flight bound) into one write.
   *
   * Text noreply commands can still be answered with an error line (older servers, proxies, a wrong token
   * count). Such a line must never be read as the reply of a later request, so every run of noreply commands is
   * closed by an `mn` (expected as `Sync`, which absorbs the error lines) before the next request that expects a
   * reply, and at the end of the write. The `mn` counts against `maxInFlight` like any request: opening a run
   * takes a free slot for it.
   */
  private flush(): void {
    if (!this.writable || this.retiredWith !== undefined) return
    const max = this.options.maxInFlight
    let quiet = false
    let noreplies: Array<Request> | undefined
    for (;;) {
      const request = this.queued.peek()
      if (request === undefined) break
      if (request.state !== State.Queued || request.owner?.pollUnsafe() !== undefined) {
        request.state = State.Done
        this.queued.shift() // abandoned (or its fiber ended) before it was written
        continue
      }
      if (request.expectation === undefined) {
        const isQuit = request.command._tag === "Quit"
        if (quiet && isQuit) {
          // Nothing is read after `quit`: the run before it is closed first.
          this.sync()
          quiet = false
        }
        const opens = !quiet && !isQuit
        if (opens && this.pending.size >= max) break
        this.queued.shift()
        this.encoder.append(request.command)
        request.state = State.Written
        if (opens) quiet = true
        if (noreplies === undefined) noreplies = [request]
        else noreplies.push(request)
      } else {
        if (quiet) {
          this.sync()
          quiet = false
        }
        if (this.pending.size >= max) break
        this.queued.shift()
        this.encoder.append(request.command)
        request.state = State.Written
        this.decoder.expect(request.expectation)
        this.pending.push(request)
      }
    }
    if (quiet) this.sync()
    if (this.encoder.size === 0) return
    const chunks = this.encoder.take()
    const socket = this.socket
    let ok = true
    if (chunks.length === 1) ok = socket.write(chunks[0]!)
    else {
      socket.cork()
      for (const chunk of chunks) ok = socket.write(chunk)
      socket.uncork()
    }
    if (!ok) this.writable = false
    // Nothing left in Node's queue of a plain socket: the kernel has copied every byte, so the encoder may write
    // over them. (TLS is left out: its layer may hold cleartext it could not encrypt yet.)
    else if (this.options.tls === undefined && socket.writableLength === 0) this.encoder.recycle()
    if (noreplies !== undefined) {
      for (const request of noreplies) request.settle(WRITTEN)
    }
  }

  /** Appends the `mn` that closes a run of noreply commands. */
  private sync(): void {
    this.encoder.append(Validation.sync)
    this.decoder.expect(Reply.expect.Sync)
    this.pending.push(new Request(Validation.sync, Reply.expect.Sync, Infinity))
  }

  private onReply(reply: Reply.Reply): void {
    const request = this.pending.shift()
    if (request === undefined) return // the decoder only completes what was expected
    if (request.state === State.Written) {
      request.state = State.Done
      request.complete(SHARED_EXITS.get(reply) ?? Exit.succeed(reply))
    }
    if (this.queued.size > 0 && !this.flushScheduled) this.scheduleFlush()
  }

  private onProtocolError(error: Errors.ProtocolError): void {
    this.retire(
      new MemcacheProtocolError({
        server: this.options.address.name,
        reason: error.reason,
        ...(error.line === undefined ? {} : { line: error.line })
      })
    )
  }

  /**
   * The caller of `request` gave up: unwritten, it is never sent; written, it stays in the pending FIFO, so its
   * reply is read and dropped there and every later reply still goes to its own request.
   */
  abandon(request: Request): void {
    request.state = State.Done
  }

  /** Keeps one timer, armed for the earliest deadline of the requests in the connection. */
  private arm(deadline: number): void {
    if (deadline >= this.timerAt || deadline === Infinity) return
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timerAt = deadline
    // A deadline beyond the longest timer is reached in steps: onTimer finds nothing expired and re-arms.
    this.timer = setTimeout(this.onTimer, Math.min(MAX_TIMER_MILLIS, Math.max(0, deadline - Date.now())))
    this.timer.unref?.()
  }

  private readonly onTimer = () => {
    this.timer = undefined
    this.timerAt = Infinity
    if (this.retiredWith !== undefined) return
    const now = Date.now()
    let expired: Request | undefined
    this.pending.forEach((r) => {
      if (r.state === State.Written && r.deadline <= now && expired === undefined) expired = r
    })
    if (expired !== undefined) {
      const timeout = new MemcacheTimeoutError({
        server: this.options.address.name,
        phase: "operation",
        millis: expired.timeoutMillis
      })
      // Every written request whose deadline passed gets the timeout; the others on the same connection were
      // stuck behind it and are aborted.
      this.retire(
        new MemcacheConnectionError({
          server: this.options.address.name,
          reason: "aborted",
          detail: `connection retired after a request timed out (${expired.timeoutMillis} ms)`
        }),
        (r) => (r.deadline <= now ? timeout : undefined)
      )
      return
    }
    let next = Infinity
    const visit = (r: Request) => {
      if (r.state === State.Done) return
      if (r.state === State.Queued && r.deadline <= now) {
        r.settle(
          Exit.fail(
            new MemcacheTimeoutError({ server: this.options.address.name, phase: "operation", millis: r.timeoutMillis })
          )
        )
        return
      }
      if (r.deadline < next) next = r.deadline
    }
    this.queued.forEach(visit)
    this.pending.forEach(visit)
    if (next !== Infinity) this.arm(next)
  }

  /**
   * The one place that decides a connection is done: every error path (socket error, close, protocol error,
   * timeout, layer shutdown) goes through here. Every request still in the
   * connection fails, the socket is destroyed, and the owner is told.
   */
  retire(error: TransportError, errorFor?: (request: Request) => TransportError | undefined): void {
    if (this.retiredWith !== undefined) return
    this.retiredWith = error
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.socket.destroy()
    // The owner lets go first: resuming a request runs its fiber synchronously, and a caller that sends again
    // right away (a retry, the next call of a loop) must be given a new connection, not this dead one.
    this.onRetire?.(error)
    const fail = (request: Request) => request.settle(Exit.fail(errorFor?.(request) ?? error))
    for (const request of this.pending.drain()) fail(request)
    for (const request of this.queued.drain()) fail(request)
  }

  /** Closes the socket after the replies already asked for (used by `quit`). */
  end(): void {
    this.socket.end()
  }
}

/**
 * Opens a socket (TCP, unix or TLS), authenticates when configured, and returns the connection. Fails with a
 * connect timeout or a connection error; interrupting it destroys the socket.
 *
 * @internal
 */
export const open = (
  options: ConnectionOptions
): Effect.Effect<Connection, MemcacheConnectionError | MemcacheTimeoutError> =>
  options.auth === undefined
    ? connectSocket(options)
    : Effect.flatMap(connectSocket(options), (connection) => authenticate(connection, options))

const connectSocket = (options: ConnectionOptions) =>
  Effect.callback<Connection, MemcacheConnectionError | MemcacheTimeoutError>((resume) => {
    const { address } = options
    const target = address._tag === "Unix" ? { path: address.path } : { host: address.host, port: address.port }
    const socket =
      options.tls === undefined
        ? Net.createConnection({ ...target, noDelay: options.noDelay, keepAlive: options.keepAlive })
        : Tls.connect({
            ...options.tls,
            ...target,
            ...(address._tag === "Tcp" && options.tls.servername === undefined && !Net.isIP(address.host)
              ? { servername: address.host }
              : {})
          })
    const event = options.tls === undefined ? "connect" : "secureConnect"
    const timer = Number.isFinite(options.connectTimeoutMillis)
      ? setTimeout(
          () => {
            cleanup()
            socket.destroy()
            resume(
              Effect.fail(
                new MemcacheTimeoutError({
                  server: address.name,
                  phase: "connect",
                  millis: options.connectTimeoutMillis
                })
              )
            )
          },
          Math.min(MAX_TIMER_MILLIS, options.connectTimeoutMillis)
        )
      : undefined
    const onConnect = () => {
      cleanup()
      if (options.tls !== undefined) {
        socket.setNoDelay(options.noDelay)
        socket.setKeepAlive(options.keepAlive)
      }
      // The Connection's listeners go on now: the fiber may resume later, and an `error` event on a socket
      // without a listener would crash the process.
      resume(Effect.succeed(new Connection(socket, options)))
    }
    const onError = (error: unknown) => {
      cleanup()
      socket.destroy()
      resume(
        Effect.fail(
          new MemcacheConnectionError({ server: address.name, reason: errorReason(error), detail: detailOf(error) })
        )
      )
    }
    const cleanup = () => {
      clearTimeout(timer)
      socket.off(event, onConnect)
      socket.off("error", onError)
    }
    socket.once(event, onConnect)
    socket.once("error", onError)
    return Effect.sync(() => {
      cleanup()
      socket.destroy()
    })
  })

/** memcached's ASCII authentication (`-Y`): see `Command.auth`. */
const authenticate = (
  connection: Connection,
  options: ConnectionOptions
): Effect.Effect<Connection, MemcacheConnectionError | MemcacheTimeoutError> => {
  const auth = options.auth!
  const failed = (detail: string) =>
    new MemcacheConnectionError({ server: options.address.name, reason: "auth", detail })
  const command = Validation.validate(Command.auth(auth.username, Redacted.value(auth.password)))
  if (Validation.isInvalid(command)) return Effect.fail(failed(`the credentials cannot be sent: ${command.message}`))
  return connection.request(command, Reply.expect.Storage, options.connectTimeoutMillis).pipe(
    Effect.catchTags({
      MemcacheTimeoutError: () =>
        Effect.fail(
          new MemcacheTimeoutError({
            server: options.address.name,
            phase: "connect",
            millis: options.connectTimeoutMillis
          })
        ),
      MemcacheProtocolError: (e) => Effect.fail(failed(e.message)),
      MemcacheUnexpectedCloseError: () => Effect.fail(failed("the server closed the connection during authentication"))
    }),
    Effect.flatMap((reply) => {
      if (reply !== undefined && reply._tag === "Stored") return Effect.succeed(connection)
      connection.retire(failed("authentication failed"))
      return Effect.fail(
        failed(
          reply === undefined
            ? "no reply"
            : `the server refused the credentials (${reply._tag}${"text" in reply ? ` ${reply.text}` : ""})`
        )
      )
    })
  )
}
