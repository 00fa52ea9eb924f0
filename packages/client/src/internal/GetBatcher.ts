/**
 * Automatic batching: the single-key `get`/`gets` calls made in one tick (by any number of fibers) are sent as
 * one multi-key request per server and verb, each key asked once, and every caller is handed its own answer.
 *
 * The batch's request runs in a fiber of its own, so interrupting one caller never disturbs the others (nor
 * retires the connection under them): an interrupted caller is simply not answered.
 *
 * @internal
 */
import type * as Command from "@effect-memcache/protocol/Command"
import * as KeyList from "@effect-memcache/protocol/KeyList"
import * as Reply from "@effect-memcache/protocol/Reply"
import * as Validation from "@effect-memcache/protocol/Validation"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type { ReplyError, TransportError } from "../MemcacheError.ts"
import type { Target } from "./Backend.ts"
import { afterTick, CallbackRequest } from "./Connection.ts"

/**
 * A caller waiting for one key; callers of the same key are chained through `next`. An interrupted caller
 * needs no bookkeeping: a fiber that was interrupted ignores its `resume`.
 */
class Waiter {
  /** The caller's fiber, resumed with the effect its answer maps to. */
  readonly resume: (effect: Effect.Effect<unknown, unknown>) => void
  /** What the caller makes of a value (or a miss), applied in the completion: no continuation per caller. */
  readonly onValue: (value: Reply.Value | undefined) => Effect.Effect<unknown, unknown>
  next: Waiter | undefined = undefined
  constructor(
    resume: (effect: Effect.Effect<unknown, unknown>) => void,
    onValue: (value: Reply.Value | undefined) => Effect.Effect<unknown, unknown>
  ) {
    this.resume = resume
    this.onValue = onValue
  }
}

/** The callers of one tick for one server, verb and timeout, by (prefixed) key. */
class Batch {
  readonly waiters = new Map<string, Waiter>()
  readonly target: Target
  readonly verb: "get" | "gets"
  readonly timeoutMillis: number
  /** The first caller's services (its Clock, tracer, logger), for a target that runs requests as effects. */
  readonly context: Context.Context<never> | undefined
  constructor(
    target: Target,
    verb: "get" | "gets",
    timeoutMillis: number,
    context: Context.Context<never> | undefined
  ) {
    this.target = target
    this.verb = verb
    this.timeoutMillis = timeoutMillis
    this.context = context
  }
}

/**
 * The span of a call, decided when the call runs: `around` wraps the call in it when `active()` says the running
 * fiber traces.
 *
 * @internal
 */
export interface Span {
  readonly active: () => boolean
  readonly around: <X, E>(effect: Effect.Effect<X, E>) => Effect.Effect<X, E>
}

/** @internal */
export class GetBatcher {
  /** This tick's batches; usually one per server, so a short list beats a keyed map. */
  private batches: Array<Batch> = []
  private scheduled = false
  /** Maps an error reply to its typed failure (the surface's one mapping). */
  private readonly replyError: (name: string, server: string, reply: Reply.Reply) => ReplyError | undefined

  constructor(replyError: (name: string, server: string, reply: Reply.Reply) => ReplyError | undefined) {
    this.replyError = replyError
  }

  /**
   * The value of one (validated, prefixed) key, sent with the other keys asked for in the same tick, as
   * `onValue` makes it (`undefined` for a miss).
   */
  get<X, E>(
    target: Target,
    verb: "get" | "gets",
    key: string,
    timeoutMillis: number,
    onValue: (value: Reply.Value | undefined) => Effect.Effect<X, E>,
    span?: Span
  ): Effect.Effect<X, E | TransportError | ReplyError> {
    // Only a target without `submit` needs the caller's services (to run its request as an effect).
    return target.submit !== undefined
      ? Effect.callback((resume) => {
          // `span` (targets with `submit` only): the call goes on in its span when the caller's fiber traces.
          if (span?.active()) {
            resume(span.around(this.get(target, verb, key, timeoutMillis, onValue)))
            return
          }
          this.add(target, verb, key, timeoutMillis, undefined, resume as never, onValue)
        })
      : Effect.withFiber((fiber) =>
          Effect.callback((resume) =>
            this.add(target, verb, key, timeoutMillis, fiber.context, resume as never, onValue)
          )
        )
  }

  private add(
    target: Target,
    verb: "get" | "gets",
    key: string,
    timeoutMillis: number,
    context: Context.Context<never> | undefined,
    resume: (effect: Effect.Effect<unknown, unknown>) => void,
    onValue: (value: Reply.Value | undefined) => Effect.Effect<unknown, unknown>
  ): void {
    let batch: Batch | undefined
    for (const b of this.batches) {
      if (b.target === target && b.verb === verb && b.timeoutMillis === timeoutMillis) {
        batch = b
        break
      }
    }
    if (batch === undefined) {
      batch = new Batch(target, verb, timeoutMillis, context)
      this.batches.push(batch)
    }
    const waiter = new Waiter(resume, onValue)
    const first = batch.waiters.get(key)
    if (first === undefined) batch.waiters.set(key, waiter)
    else {
      waiter.next = first.next
      first.next = waiter
    }
    if (!this.scheduled) {
      this.scheduled = true
      afterTick(this.flush)
    }
  }

  private readonly flush = () => {
    this.scheduled = false
    const batches = this.batches
    this.batches = []
    for (const batch of batches) {
      for (const keys of KeyList.splitKeys(batch.verb, [...batch.waiters.keys()])) this.send(batch, keys)
    }
  }

  private send(batch: Batch, keys: ReadonlyArray<string>): void {
    const { target, verb } = batch
    const command = Validation.validate<Command.Get>({ _tag: "Get", verb, keys })
    if (Validation.isInvalid(command)) {
      // A defect: every key was checked by the caller's rules when it was asked, and a get line has no length limit.
      const died = Exit.die(command)
      for (const key of keys) fail(batch.waiters.get(key), died)
      return
    }
    const expectation = Reply.retrieval(keys, verb === "gets")
    const onExit = (exit: Exit.Exit<Reply.Reply | undefined, TransportError>) => {
      if (Exit.isFailure(exit)) {
        for (const key of keys) fail(batch.waiters.get(key), exit as Exit.Exit<never, TransportError>)
        return
      }
      const reply = exit.value
      const error = reply === undefined ? undefined : this.replyError(verb, target.name, reply)
      if (error !== undefined) {
        const failed = Exit.fail(error)
        for (const key of keys) fail(batch.waiters.get(key), failed)
        return
      }
      const values = reply?._tag === "Values" ? reply.values : []
      // The decoder hands the values in the order the keys were asked, misses left out, each with the very key
      // string asked (it fails the connection on any other order): one walk answers every key, one lookup each.
      let v = 0
      for (const key of keys) {
        const value = values[v]
        if (value !== undefined && value.key === key) {
          v++
          answer(batch.waiters.get(key), value)
        } else answer(batch.waiters.get(key), undefined)
      }
    }
    // Straight onto the connection when the target allows it (no fiber per batch), else through `request`.
    if (target.submit !== undefined) {
      target.submit(new CallbackRequest(command, expectation, batch.timeoutMillis, onExit))
    } else {
      Effect.runCallbackWith(batch.context!)(target.request(command, expectation, batch.timeoutMillis), { onExit })
    }
  }
}

const answer = (first: Waiter | undefined, value: Reply.Value | undefined) => {
  for (let waiter = first; waiter !== undefined; waiter = waiter.next) waiter.resume(waiter.onValue(value))
}

const fail = (first: Waiter | undefined, exit: Exit.Exit<never, TransportError | ReplyError>) => {
  for (let waiter = first; waiter !== undefined; waiter = waiter.next) waiter.resume(exit)
}
