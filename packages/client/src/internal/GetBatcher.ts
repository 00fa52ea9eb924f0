/**
 * Automatic batching: the single-key `get`/`gets` calls made in one tick (by any number of fibers) are sent as
 * one multi-key request per server and verb, each key asked once, and every caller is handed its own answer
 * as soon as its value has arrived (the reply is streamed: a caller does not wait for the rest of its batch).
 *
 * Each line of a batch is one request of its own, sent through the transport's callback (no fiber per batch), so
 * interrupting one caller never disturbs the others (nor retires the connection under them): an interrupted
 * caller is simply not answered.
 *
 * @internal
 */
import type * as Command from "@effect-memcache/protocol/Command"
import { splitKeys } from "@effect-memcache/protocol/KeyList"
import * as Reply from "@effect-memcache/protocol/Reply"
import * as Validation from "@effect-memcache/protocol/Validation"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type { MemcacheIllegalInputError, ReplyError, TransportError } from "../MemcacheError.ts"
import { illegal, replyError } from "./Call.ts"
import type { Span } from "./Instrument.ts"
import { afterTick, type Outcome, Request, type Target } from "./Transport.ts"

type Failure = TransportError | ReplyError | MemcacheIllegalInputError

/**
 * A caller waiting for one key; callers of the same key are chained through `next`. An interrupted caller
 * needs no bookkeeping: a fiber that was interrupted ignores its `resume`.
 */
interface Waiter {
  next: Waiter | undefined
  /** Resumes the caller with what it makes of the value (or a miss). */
  answer(value: Reply.Value | undefined): void
  fail(exit: Exit.Exit<never, Failure>): void
}

/** A caller of type `X`: its fiber's `resume`, and what it makes of a value, applied in the completion. */
class Caller<X, E> implements Waiter {
  next: Waiter | undefined = undefined
  private readonly resume: (effect: Effect.Effect<X, E | Failure>) => void
  private readonly onValue: (value: Reply.Value | undefined) => Effect.Effect<X, E>
  constructor(
    resume: (effect: Effect.Effect<X, E | Failure>) => void,
    onValue: (value: Reply.Value | undefined) => Effect.Effect<X, E>
  ) {
    this.resume = resume
    this.onValue = onValue
  }
  answer(value: Reply.Value | undefined): void {
    this.resume(this.onValue(value))
  }
  fail(exit: Exit.Exit<never, Failure>): void {
    this.resume(exit)
  }
}

/**
 * The callers of one tick for one server, verb and timeout, by (prefixed) key. A tick's lone get (the common
 * case of a caller waiting on each call) keeps its callers in `first`; a map is made for the second key.
 */
class Batch {
  /** The keys asked, in the order first asked. */
  readonly keys: Array<string> = []
  private first: Waiter | undefined = undefined
  private byKey: Map<string, Waiter> | undefined = undefined
  readonly target: Target
  readonly verb: "get" | "gets"
  readonly timeoutMillis: number
  constructor(target: Target, verb: "get" | "gets", timeoutMillis: number) {
    this.target = target
    this.verb = verb
    this.timeoutMillis = timeoutMillis
  }

  add(key: string, waiter: Waiter): void {
    const keys = this.keys
    if (keys.length === 0) {
      keys.push(key)
      this.first = waiter
      return
    }
    const head = this.byKey === undefined ? (keys[0] === key ? this.first : undefined) : this.byKey.get(key)
    if (head !== undefined) {
      waiter.next = head.next
      head.next = waiter
      return
    }
    keys.push(key)
    if (this.byKey === undefined) {
      this.byKey = new Map([[keys[0]!, this.first!]])
      this.first = undefined
    }
    this.byKey.set(key, waiter)
  }

  /** Takes the callers of `key` still waiting: each caller is answered once. */
  take(key: string): Waiter | undefined {
    if (this.byKey !== undefined) {
      const head = this.byKey.get(key)
      if (head !== undefined) this.byKey.delete(key)
      return head
    }
    const head = this.first
    if (head === undefined || this.keys[0] !== key) return undefined
    this.first = undefined
    return head
  }

  /** Answers the callers of a value as it arrives (the reply is streamed), not at the batch's END. */
  readonly onValue = (value: Reply.Value): void => answer(this.take(value.key), value)
}

/**
 * One line of a batch on its way: a caller of a large batch goes on, and sends again, while the rest of the
 * batch is still being read. A failure or the END reaches only the callers still waiting.
 */
class Line extends Request {
  private readonly batch: Batch
  private readonly keys: ReadonlyArray<string>
  constructor(batch: Batch, keys: ReadonlyArray<string>, command: Validation.Validated) {
    super(command, Reply.retrieval(keys, batch.verb === "gets", batch.onValue), batch.timeoutMillis)
    this.batch = batch
    this.keys = keys
  }
  protected complete(outcome: Outcome): void {
    const { batch, keys } = this
    if (Exit.isFailure(outcome)) {
      failRest(batch, keys, Exit.failCause(outcome.cause))
      return
    }
    const reply = outcome.value
    const error = reply === undefined ? undefined : replyError(batch.verb, batch.target.name, reply)
    if (error !== undefined) {
      failRest(batch, keys, Exit.fail(error))
      return
    }
    // Streamed, the END carries no values: every key still waiting is a miss.
    if (reply?._tag === "Values") for (const value of reply.values) batch.onValue(value)
    for (let i = 0; i < keys.length; i++) answer(batch.take(keys[i]!), undefined)
  }
}

/** @internal */
export class GetBatcher {
  /** This tick's batches; usually one per server, so a short list beats a keyed map. */
  private batches: Array<Batch> = []
  private scheduled = false
  private readonly limits: Validation.Limits

  /** The longest get line a batch sends; a longer batch goes out as several requests. */
  private readonly maxLineBytes: number

  constructor(limits: Validation.Limits, maxLineBytes: number) {
    this.limits = limits
    this.maxLineBytes = maxLineBytes
  }

  /**
   * The value of one (validated, prefixed) key, sent with the other keys asked for in the same tick, as
   * `onValue` makes it (`undefined` for a miss). With `span`, the call goes on in its span when the caller's
   * fiber traces.
   */
  get<X, E>(
    target: Target,
    verb: "get" | "gets",
    key: string,
    timeoutMillis: number,
    onValue: (value: Reply.Value | undefined) => Effect.Effect<X, E>,
    span?: Span | undefined
  ): Effect.Effect<X, E | Failure> {
    return Effect.callback((resume) => {
      if (span?.active()) {
        resume(span.around(this.get(target, verb, key, timeoutMillis, onValue), target.name))
        return
      }
      this.add(target, verb, key, timeoutMillis, new Caller<X, E>(resume, onValue))
    })
  }

  private add(target: Target, verb: "get" | "gets", key: string, timeoutMillis: number, waiter: Waiter): void {
    let batch: Batch | undefined
    const batches = this.batches
    for (let i = 0; i < batches.length; i++) {
      const b = batches[i]!
      if (b.target === target && b.verb === verb && b.timeoutMillis === timeoutMillis) {
        batch = b
        break
      }
    }
    if (batch === undefined) {
      batch = new Batch(target, verb, timeoutMillis)
      batches.push(batch)
    }
    batch.add(key, waiter)
    if (!this.scheduled) {
      this.scheduled = true
      afterTick(this.flush)
    }
  }

  private readonly flush = () => {
    this.scheduled = false
    const batches = this.batches
    this.batches = []
    for (let i = 0; i < batches.length; i++) {
      const batch = batches[i]!
      const keys = batch.keys
      // A lone key goes on a line of its own: nothing to split.
      if (keys.length === 1) this.send(batch, keys)
      else for (const line of splitKeys(batch.verb, keys, { maxLineBytes: this.maxLineBytes })) this.send(batch, line)
    }
  }

  private send(batch: Batch, keys: ReadonlyArray<string>): void {
    const command: Command.Get = { _tag: "Get", verb: batch.verb, keys }
    // Every key passed the caller's check; the line as a whole is checked here, as every command is.
    const validated = Validation.validate(command, this.limits)
    if (Validation.isInvalid(validated)) {
      failRest(batch, keys, Exit.fail(illegal(batch.verb, validated)))
      return
    }
    batch.target.submit(new Line(batch, keys, validated))
  }
}

/**
 * Whether the values of a get reply came in the order their keys were asked, as memcached answers (misses
 * skipped); a proxy that merges the replies of several servers may answer in another order.
 */
export const inRequestOrder = (keys: ReadonlyArray<string>, values: ReadonlyArray<Reply.Value>): boolean => {
  let k = 0
  for (const value of values) {
    while (k < keys.length && keys[k] !== value.key) k++
    if (k++ === keys.length) return false
  }
  return true
}

const answer = (first: Waiter | undefined, value: Reply.Value | undefined) => {
  for (let waiter = first; waiter !== undefined; waiter = waiter.next) waiter.answer(value)
}

const fail = (first: Waiter | undefined, exit: Exit.Exit<never, Failure>) => {
  for (let waiter = first; waiter !== undefined; waiter = waiter.next) waiter.fail(exit)
}

/** Fails the callers of `keys` not answered yet. */
const failRest = (batch: Batch, keys: ReadonlyArray<string>, exit: Exit.Exit<never, Failure>) => {
  for (let i = 0; i < keys.length; i++) fail(batch.take(keys[i]!), exit)
}
