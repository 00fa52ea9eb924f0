/**
 * Automatic batching: the single-key `get`/`gets` calls made in one tick (by any number of fibers) are sent as
 * one multi-key request per server and verb, each key asked once, and every caller is handed its own answer.
 *
 * The batch's request runs in a fiber of its own, so interrupting one caller never disturbs the others (nor
 * retires the connection under them): an interrupted caller is simply not answered.
 *
 * @internal
 */
import * as Command from "@effect-memcache/protocol/Command"
import * as Reply from "@effect-memcache/protocol/Reply"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type { ReplyError, TransportError } from "../MemcacheError.ts"
import type { Target } from "./Backend.ts"

type Answer = Exit.Exit<Reply.Value | undefined, TransportError | ReplyError>

interface Waiter {
  readonly resume: (answer: Answer) => void
  done: boolean
}

/** The callers of one tick for one server, verb and timeout, by (prefixed) key. */
class Batch {
  readonly waiters = new Map<string, Array<Waiter>>()
  readonly target: Target
  readonly verb: "get" | "gets"
  readonly timeoutMillis: number
  /** The first caller's services (its Clock, tracer, logger): the batch's request runs with them. */
  readonly context: Context.Context<never>
  constructor(target: Target, verb: "get" | "gets", timeoutMillis: number, context: Context.Context<never>) {
    this.target = target
    this.verb = verb
    this.timeoutMillis = timeoutMillis
    this.context = context
  }
}

const MISS: Answer = Exit.succeed(undefined)

/** @internal */
export class GetBatcher {
  private batches = new Map<Target, Map<string, Batch>>()
  private scheduled = false
  /** Maps an error reply to its typed failure (the surface's one mapping). */
  private readonly replyError: (name: string, server: string, reply: Reply.Reply) => ReplyError | undefined

  constructor(replyError: (name: string, server: string, reply: Reply.Reply) => ReplyError | undefined) {
    this.replyError = replyError
  }

  /** The value of one (validated, prefixed) key, sent with the other keys asked for in the same tick. */
  get(
    target: Target,
    verb: "get" | "gets",
    key: string,
    timeoutMillis: number
  ): Effect.Effect<Reply.Value | undefined, TransportError | ReplyError> {
    return Effect.withFiber((fiber) =>
      Effect.callback<Reply.Value | undefined, TransportError | ReplyError>((resume) => {
        let byVerb = this.batches.get(target)
        if (byVerb === undefined) {
          byVerb = new Map()
          this.batches.set(target, byVerb)
        }
        const id = verb === "get" ? `g${timeoutMillis}` : `s${timeoutMillis}`
        let batch = byVerb.get(id)
        if (batch === undefined) {
          batch = new Batch(target, verb, timeoutMillis, fiber.context)
          byVerb.set(id, batch)
        }
        const waiter: Waiter = { resume: (answer) => resume(answer), done: false }
        const list = batch.waiters.get(key)
        if (list === undefined) batch.waiters.set(key, [waiter])
        else list.push(waiter)
        if (!this.scheduled) {
          this.scheduled = true
          queueMicrotask(this.flush)
        }
        return Effect.sync(() => {
          waiter.done = true
        })
      })
    )
  }

  private readonly flush = () => {
    this.scheduled = false
    const batches = this.batches
    this.batches = new Map()
    for (const byVerb of batches.values()) {
      for (const batch of byVerb.values()) {
        for (const keys of Command.splitKeys(batch.verb, [...batch.waiters.keys()])) this.send(batch, keys)
      }
    }
  }

  private send(batch: Batch, keys: ReadonlyArray<string>): void {
    const { target, verb } = batch
    const command: Command.Command = { _tag: "Get", verb, keys }
    const expectation = Reply.retrieval(keys, verb === "gets")
    const onExit = (exit: Exit.Exit<Reply.Reply | undefined, TransportError>) => {
      if (Exit.isFailure(exit)) {
        for (const key of keys) answer(batch.waiters.get(key), exit as Exit.Exit<never, TransportError>)
        return
      }
      const reply = exit.value
      const error = reply === undefined ? undefined : this.replyError(verb, target.name, reply)
      if (error !== undefined) {
        const failed: Answer = Exit.fail(error)
        for (const key of keys) answer(batch.waiters.get(key), failed)
        return
      }
      const values = reply?._tag === "Values" ? reply.values : []
      for (const value of values) {
        const waiters = batch.waiters.get(value.key)
        if (waiters !== undefined) {
          answer(waiters, Exit.succeed(value))
          batch.waiters.delete(value.key)
        }
      }
      for (const key of keys) answer(batch.waiters.get(key), MISS)
    }
    // Straight onto the connection when the target allows it (no fiber per batch), else through `request`.
    if (target.submit !== undefined) target.submit(command, expectation, batch.timeoutMillis, onExit)
    else {
      Effect.runCallbackWith(batch.context)(target.request(command, expectation, batch.timeoutMillis), { onExit })
    }
  }
}

const answer = (waiters: Array<Waiter> | undefined, exit: Answer) => {
  if (waiters === undefined) return
  for (const waiter of waiters) {
    if (waiter.done) continue
    waiter.done = true
    waiter.resume(exit)
  }
}
