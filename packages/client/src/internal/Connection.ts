/**
 * One socket to one memcached server: the coalesced write loop, the pending FIFO read loop, timeouts, and the
 * one place that decides a connection may no longer be used (`retire`).
 *
 * A call that times out fails alone: its request stays in the FIFO, so its reply is still read, in order, and
 * dropped. The connection is retired only when it stops making progress (no reply bytes for the layer's
 * timeout while requests wait for replies), on a protocol error, a close or a socket error.
 *
 * Plain node:net/node:tls in callbacks: measured faster than effect/socket for pipelined requests, and
 * coalescing the writes of one tick into one `write` was worth more on top.
 *
 * @internal
 */
import type * as Net from "node:net"
import type * as Tls from "node:tls"
import * as Decoder from "@effect-memcache/protocol/Decoder"
import { Encoder } from "@effect-memcache/protocol/Encoder"
import type * as Errors from "@effect-memcache/protocol/Errors"
import * as MetaForm from "@effect-memcache/protocol/MetaForm"
import * as Reply from "@effect-memcache/protocol/Reply"
import * as Validation from "@effect-memcache/protocol/Validation"
import * as Exit from "effect/Exit"
import type * as Redacted from "effect/Redacted"
import {
  MemcacheConnectionError,
  MemcacheProtocolError,
  MemcacheTimeoutError,
  MemcacheUnexpectedCloseError,
  type TransportError
} from "../MemcacheError.ts"
import type { ServerAddress } from "./Address.ts"
import { Fifo } from "./Fifo.ts"
import type { ReadBuffer } from "./ReadBuffer.ts"
import { socketFailure } from "./SocketFailure.ts"
import { afterTick, CallbackRequest, type Outcome, type Request, State } from "./Transport.ts"

/** @internal */
export interface ConnectionOptions {
  readonly address: ServerAddress
  readonly connectTimeoutMillis: number
  readonly noDelay: boolean
  readonly keepAlive: boolean
  readonly tls: Tls.ConnectionOptions | undefined
  readonly maxInFlight: number
  readonly maxValueLength: number
  /**
   * How long the connection may receive nothing while replies are due before it is deemed stalled and retired:
   * the layer's operation timeout (a call with a longer timeout of its own extends it while it waits).
   */
  readonly stallMillis: number
  readonly auth: { readonly username: string; readonly password: Redacted.Redacted<string> } | undefined
  /**
   * The error replies the server sent for noreply commands (found before the `mn` that closes their batch):
   * reported once per batch.
   */
  readonly onQuietErrors: (replies: ReadonlyArray<Reply.Reply>) => void
  /**
   * Send noreply commands with their reply asked for (a proxy that cannot be sent `mn`): the caller still
   * completes once the command is written, its reply is read and dropped, an error reply reported as above.
   */
  readonly answerNoreply: boolean
  /**
   * Write each command that has one in its meta form (`Encoder.appendMeta`), with an opaque per request that the
   * decoder checks; noreply commands go quiet, in the runs `mn` closes. Authentication still goes as text: the
   * connection switches once it is done (`authenticated`).
   */
  readonly meta: boolean
}

/**
 * The decoder hands out shared objects for the replies without data (STORED, DELETED, a retrieval's empty END,
 * ...): so can we.
 */
const SHARED_EXITS = new Map<Reply.Reply, Exit.Exit<Reply.Reply>>(
  [...Object.values(Reply.replies), Reply.emptyValues].map((reply) => [reply, Exit.succeed(reply)])
)

/** The outcome of a command without a reply, once written. */
const WRITTEN: Outcome = Exit.succeed(undefined)

const ignore = (): void => {}

/** Bytes of a value held across reads from which it counts as long (see the constructor's `reads`). */
const LONG_VALUE_READ = 4096

const isErrorReply = (reply: Reply.Reply): boolean =>
  reply._tag === "Error" || reply._tag === "ClientError" || reply._tag === "ServerError"

/**
 * The longest delay `setTimeout` honours (2^31-1 ms, about 24.8 days). Node runs a longer one, or `Infinity`,
 * after 1 ms instead: a longer deadline is waited for in steps, and an infinite one gets no timer at all.
 */
export const MAX_TIMER_MILLIS = 2_147_483_647

/**
 * A connected socket with its encoder, decoder and queues. Opened by `Connect.open`; once retired it never
 * carries another request.
 *
 * @internal
 */
export class Connection {
  private readonly encoder = new Encoder()
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
  /** Error replies of noreply commands in the batch being read. */
  private quietErrors: Array<Reply.Reply> | undefined = undefined
  /** When the connection last made progress: reply bytes arrived, or replies became due on an idle connection. */
  private progressAt = 0
  /** Whether commands go in their meta form now (see `ConnectionOptions.meta`). */
  private meta: boolean
  /** The next opaque of a meta form. */
  private opaque = 0
  /** The first opaque of the run of noreply commands being written (closed by `sync`). */
  private runFirst = 0
  /** Called once when the connection retires, so its owner can stop handing it requests. */
  onRetire: ((error: TransportError) => void) | undefined

  readonly socket: Net.Socket
  readonly options: ConnectionOptions

  /** `reads`: the buffer a plain socket reads into (`onread`); without it the socket's `data` events are read. */
  constructor(socket: Net.Socket, options: ConnectionOptions, reads?: ReadBuffer) {
    this.socket = socket
    this.options = options
    this.meta = options.meta && options.auth === undefined
    this.decoder = new Decoder.Decoder({
      onReply: (reply) => this.onReply(reply),
      onError: (error) => this.onProtocolError(error),
      onQuietError: (reply) => {
        if (this.quietErrors === undefined) this.quietErrors = [reply]
        else this.quietErrors.push(reply)
      },
      maxValueLength: options.maxValueLength,
      reusedChunks: reads !== undefined
    })
    const onChunk = (chunk: Uint8Array) => {
      // One clock read per chunk (not per reply): what stall detection needs.
      this.progressAt = Date.now()
      this.decoder.feed(chunk)
    }
    if (reads === undefined) socket.on("data", onChunk)
    else {
      reads.sink = onChunk
      // Nor is a read used again while a long value is assembled across reads: with fresh memory for each of
      // those reads, as Node's own reads have, glibc keeps the heap where each long value was freed for the next;
      // with one buffer it gave that memory back to the system and faulted it in again.
      reads.kept = () => this.decoder.keptChunk || this.decoder.buffered >= LONG_VALUE_READ
    }
    socket.on("drain", () => {
      this.writable = true
      this.flush()
    })
    socket.on("error", (error) => this.retire(socketFailure(options.address.name, error)))
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
   * Queues a request that gets no reply when it can be written without waiting (open, writable, under
   * `maxInFlight`); `false` leaves it to `enqueue`, whose caller waits for the write (the back-pressure).
   */
  offer(request: Request): boolean {
    if (this.retiredWith !== undefined || !this.writable || this.load >= this.options.maxInFlight) return false
    this.enqueue(request)
    return true
  }

  /**
   * Queues a request for the next coalesced write; its timeout starts now. On an idle connection (writable, nothing
   * queued or awaiting a reply) the request is written at once rather than after a microtask: a caller that waits
   * on each call has nothing to share a write with. The requests that follow it in the same tick share the next
   * write.
   */
  enqueue(request: Request): void {
    if (this.retiredWith !== undefined) {
      request.settle(Exit.fail(this.retiredWith))
      return
    }
    const idle = !this.flushScheduled && this.load === 0 && this.writable
    if (idle) this.tickStart = Date.now()
    else if (!this.flushScheduled) this.scheduleFlush()
    request.deadline = this.tickStart + request.timeoutMillis
    this.queued.push(request)
    // The timer watches the request's deadline and, from the same tick, the connection's progress.
    this.arm(Math.min(request.deadline, this.tickStart + this.options.stallMillis))
    if (idle) this.flush()
  }

  /**
   * Schedules the coalesced write of this tick; one clock read per tick, as every request of it goes out together.
   * Deadlines here are wall-clock time (`Date.now` and `setTimeout`), not Effect's `Clock`: they are read on the
   * hot path of every request, and a real socket's reply comes in real time, which a test clock cannot hasten.
   */
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
   * takes a free slot for it. With `answerNoreply` (a proxy that closes the connection on `mn`) no run is opened:
   * each noreply command is written with its reply asked for (see `writeAnswered`).
   */
  private flush(): void {
    if (!this.writable || this.retiredWith !== undefined) return
    // Replies become due now: an idle connection's wait starts with this write.
    if (this.pending.size === 0) this.progressAt = this.tickStart
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
      if (request.expectation === undefined && this.options.answerNoreply && request.command._tag !== "Quit") {
        if (this.pending.size >= max) break
        this.queued.shift()
        this.writeAnswered(request)
        if (noreplies === undefined) noreplies = [request]
        else noreplies.push(request)
      } else if (request.expectation === undefined) {
        const isQuit = request.command._tag === "Quit"
        if (quiet && isQuit) {
          // Nothing is read after `quit`: the run before it is closed first.
          this.sync()
          quiet = false
        }
        const opens = !quiet && !isQuit
        if (opens && this.pending.size >= max) break
        this.queued.shift()
        if (opens) {
          quiet = true
          this.runFirst = this.opaque
        }
        this.write(request.command, undefined)
        request.state = State.Written
        if (noreplies === undefined) noreplies = [request]
        else noreplies.push(request)
      } else {
        if (quiet) {
          this.sync()
          quiet = false
        }
        if (this.pending.size >= max) break
        this.queued.shift()
        this.write(request.command, request.expectation)
        request.state = State.Written
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

  /**
   * Encodes a command and queues what the decoder must expect of it: its meta form with the next opaques, in meta
   * mode, when it has one; else the command as it is. A noreply command (no expectation) is quiet in its meta form,
   * expected with the `mn` closing its run (`sync`).
   */
  private write(command: Validation.Validated, expectation: Reply.Expectation | undefined): void {
    const opaques = this.meta ? MetaForm.opaques(command) : 0
    if (opaques === 0) {
      this.encoder.append(command)
      if (expectation !== undefined) this.decoder.expect(expectation)
      return
    }
    if (this.opaque + opaques > MetaForm.MAX_OPAQUE) this.opaque = 0
    const opaque = this.opaque
    this.opaque += opaques
    this.encoder.appendMeta(command, opaque)
    if (expectation !== undefined) this.decoder.expectMeta(expectation, opaque)
  }

  /** Authentication is done: from now on, commands go in their meta form if the layer asked for it. */
  authenticated(): void {
    this.meta = this.options.meta
  }

  /**
   * Writes a noreply command with its reply asked for: the reply keeps its place in the FIFO, so an error line
   * can never be read as another request's reply, and nothing is left for a proxy to match with a stray answer.
   */
  private writeAnswered(request: Request): void {
    const command = Validation.answered(request.command)
    const expectation = Reply.expectation(command)
    request.state = State.Written
    this.encoder.append(command)
    if (expectation === undefined) return // a command without a reply to ask for (quit goes elsewhere)
    this.decoder.expect(expectation)
    const answer = new CallbackRequest(command, expectation, Infinity, this.onAnswer)
    answer.state = State.Written
    this.pending.push(answer)
  }

  /** The reply of a noreply command sent with its reply asked for: only an error reply is news. */
  private readonly onAnswer = (outcome: Outcome): void => {
    if (outcome._tag === "Success" && outcome.value !== undefined && isErrorReply(outcome.value)) {
      this.options.onQuietErrors([outcome.value])
    }
  }

  /** Appends the `mn` that closes a run of noreply commands (with the opaques of those sent quiet). */
  private sync(): void {
    this.encoder.append(Validation.sync)
    if (this.opaque !== this.runFirst) this.decoder.expectMetaSync(this.runFirst, this.opaque)
    else this.decoder.expect(Reply.expect.Sync)
    this.pending.push(new CallbackRequest(Validation.sync, Reply.expect.Sync, Infinity, ignore))
  }

  private onReply(reply: Reply.Reply): void {
    const request = this.pending.shift()
    if (request === undefined) return // the decoder only completes what was expected
    if (this.quietErrors !== undefined && request.expectation?._tag === "Sync") this.reportQuietErrors()
    if (request.state === State.Written) request.settle(SHARED_EXITS.get(reply) ?? Exit.succeed(reply))
    if (this.queued.size > 0 && !this.flushScheduled) this.scheduleFlush()
  }

  private reportQuietErrors(): void {
    const errors = this.quietErrors
    this.quietErrors = undefined
    if (errors !== undefined) this.options.onQuietErrors(errors)
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
    // Checked before any call is failed: a failed call's fiber may send again at once, and must not be handed
    // a connection about to be retired.
    if (this.pending.size > 0 && this.stalledAt() <= now) return this.stalled(now)
    let next = Infinity
    // A request whose deadline passed fails alone. Queued, it is never written; written, it stays in `pending`
    // (settled, so its reply is read and dropped in order).
    const visit = (r: Request) => {
      if (r.state === State.Done || r.deadline === Infinity) return
      if (r.deadline <= now) r.settle(Exit.fail(this.timeoutOf(r)))
      else if (r.deadline < next) next = r.deadline
    }
    this.queued.forEach(visit)
    this.pending.forEach(visit)
    if (this.pending.size > 0) {
      const stalledAt = this.stalledAt()
      if (stalledAt < next) next = stalledAt
    }
    if (next !== Infinity) this.arm(next)
  }

  /**
   * When silence makes the connection stalled: the stall window after the last progress, or later while a written
   * call with a longer timeout of its own still waits (calls with the layer's timeout do not extend it, so steady
   * traffic on a dead connection cannot keep it alive).
   */
  private stalledAt(): number {
    const window = this.options.stallMillis
    let at = this.progressAt + window
    this.pending.forEach((r) => {
      if (r.state === State.Written && r.timeoutMillis > window && r.deadline > at) at = r.deadline
    })
    return at
  }

  private timeoutOf(request: Request): MemcacheTimeoutError {
    return new MemcacheTimeoutError({
      server: this.options.address.name,
      phase: "operation",
      millis: request.timeoutMillis
    })
  }

  /**
   * No reply bytes for the stall window while replies were due: the server or the path to it is stuck. The
   * calls whose own deadline passed fail with their timeout, the others are aborted.
   */
  private stalled(now: number): void {
    this.retire(
      new MemcacheConnectionError({
        server: this.options.address.name,
        reason: "aborted",
        detail: `connection retired: no reply bytes for ${Math.ceil(now - this.progressAt)} ms while replies were due`
      }),
      (r) => (r.deadline <= now ? this.timeoutOf(r) : undefined)
    )
  }

  /**
   * The one place that decides a connection is done: every error path (socket error, close, protocol error,
   * stall, layer shutdown) goes through here; a call's own timeout does not. Every request still in the
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
    this.reportQuietErrors()
    const failure = Exit.fail(error)
    const fail = (request: Request) => {
      const own = errorFor?.(request)
      request.settle(own === undefined ? failure : Exit.fail(own))
    }
    for (const request of this.pending.drain()) fail(request)
    for (const request of this.queued.drain()) fail(request)
  }

  /** Closes the socket after the replies already asked for (used by `quit`). */
  end(): void {
    this.socket.end()
  }
}
