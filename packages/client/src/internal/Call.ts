/**
 * The one way the command surface sends a command: a validated command in, the caller's answer out, with error
 * replies mapped to typed failures in one place. A call is one `Effect.callback` and one request object, its
 * reply interpreted in the request's completion (no continuation per call).
 *
 * @internal
 */
import type { InvalidInput } from "@effect-memcache/protocol/Errors"
import * as Reply from "@effect-memcache/protocol/Reply"
import type * as Validation from "@effect-memcache/protocol/Validation"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import {
  MemcacheClientError,
  MemcacheIllegalInputError,
  MemcacheProtocolError,
  MemcacheServerError,
  MemcacheUnknownCommandError,
  type ReplyError,
  type TransportError
} from "../MemcacheError.ts"
import type { Span } from "./Instrument.ts"
import { CallbackRequest, type Outcome, Request, type Target } from "./Transport.ts"

/** What a call makes of a reply that is not an error reply (`undefined`: the command was sent with noreply). */
export type Interpret<X, E> = (reply: Reply.Reply | undefined, target: Target, name: string) => Effect.Effect<X, E>

/** A call on its way to a server: the request, and what its caller makes of the reply, in one object. */
class Call<X, E> extends Request {
  private readonly name: string
  private readonly target: Target
  private readonly interpret: Interpret<X, E>
  private readonly resume: (effect: Effect.Effect<X, E | TransportError | ReplyError>) => void
  constructor(
    command: Validation.Validated,
    timeoutMillis: number,
    name: string,
    target: Target,
    interpret: Interpret<X, E>,
    resume: (effect: Effect.Effect<X, E | TransportError | ReplyError>) => void
  ) {
    super(command, Reply.expectation(command), timeoutMillis)
    this.name = name
    this.target = target
    this.interpret = interpret
    this.resume = resume
  }
  protected complete(outcome: Outcome): void {
    if (outcome._tag === "Failure") {
      this.resume(Exit.failCause(outcome.cause))
      return
    }
    this.resume(interpretReply(this.name, this.target, outcome.value, this.interpret))
  }
}

/**
 * Sends a validated command to `target` and interprets its reply. With `span`, the span is decided when the
 * call runs (only a fiber that traces pays for one).
 *
 * A command that gets no reply (noreply) does not suspend its caller when the target can write it without
 * waiting (a connection open, writable and under `maxInFlight`): it is queued for this tick's write, in order
 * with every other request, and the call is done. Otherwise the caller waits until it is written, which is
 * the back-pressure of a busy or unwritable connection.
 */
export const send = <X, E>(
  name: string,
  target: Target,
  command: Validation.Validated,
  timeoutMillis: number,
  interpret: Interpret<X, E>,
  span?: Span | undefined
): Effect.Effect<X, E | TransportError | ReplyError> => {
  const call = Effect.callback<X, E | TransportError | ReplyError>((resume) => {
    if (span?.active()) {
      resume(span.around(send(name, target, command, timeoutMillis, interpret), target.name))
      return
    }
    const call = new Call(command, timeoutMillis, name, target, interpret, resume)
    // No canceler (it costs a noticeable share of a small call): an interrupted caller's fiber has ended by the
    // time the request is written, which then drops it; once written, its reply is read and dropped.
    call.owner = Fiber.getCurrent()
    target.submit(call)
  })
  const offer = target.offer
  // The commands that get no reply are exactly those sent with noreply (and quit, which never comes here).
  if (offer === undefined || !("noreply" in command && command.noreply)) return call
  return Effect.suspend(() =>
    !span?.active() && offer(new CallbackRequest(command, undefined, timeoutMillis, ignoreOutcome))
      ? interpretReply(name, target, undefined, interpret)
      : call
  )
}

/** The outcome of a noreply command its caller did not wait for: nobody is told. */
const ignoreOutcome = (): void => {}

/** {@link send}, with every reply that `interpret` does not know (it returns `undefined`) read as unexpected. */
export const sendKnown = <X, E>(
  name: string,
  target: Target,
  command: Validation.Validated,
  timeoutMillis: number,
  interpret: (reply: Reply.Reply | undefined) => Effect.Effect<X, E> | undefined
): Effect.Effect<X, E | TransportError | ReplyError> =>
  send(
    name,
    target,
    command,
    timeoutMillis,
    (reply): Effect.Effect<X, E | MemcacheProtocolError> => interpret(reply) ?? unexpected(target, name, reply)
  )

/** The reply as it is: for callers that interpret several replies together. */
export const succeedReply = (reply: Reply.Reply | undefined): Effect.Effect<Reply.Reply | undefined> =>
  Effect.succeed(reply)

/** A refused input as the surface reports it. */
export const illegal = (command: string, invalid: InvalidInput): MemcacheIllegalInputError =>
  new MemcacheIllegalInputError({ command, field: invalid.field, reason: invalid.reason })

/** A reply the command cannot get: the server (or a proxy) broke the protocol. */
export const unexpected = (target: Target, name: string, reply: Reply.Reply | undefined) =>
  Effect.fail(
    new MemcacheProtocolError({ server: target.name, reason: `unexpected reply to ${name}: ${reply?._tag ?? "none"}` })
  )

/** The typed failure of an error reply (`ERROR`, `CLIENT_ERROR`, `SERVER_ERROR`), or `undefined`. */
export const replyError = (command: string, server: string, reply: Reply.Reply): ReplyError | undefined => {
  switch (reply._tag) {
    case "Error":
      return new MemcacheUnknownCommandError({ command, server, text: reply.text })
    case "ClientError":
      return new MemcacheClientError({ command, server, text: reply.text })
    case "ServerError":
      return new MemcacheServerError({ command, server, text: reply.text })
    default:
      return undefined
  }
}

/** What a call makes of its reply: the typed failure of an error reply, else `interpret`'s answer. */
const interpretReply = <X, E>(
  name: string,
  target: Target,
  reply: Reply.Reply | undefined,
  interpret: Interpret<X, E>
): Effect.Effect<X, E | ReplyError> => {
  const error = reply === undefined ? undefined : replyError(name, target.name, reply)
  return error === undefined ? interpret(reply, target, name) : Effect.fail(error)
}

/** One command of a call that goes to several servers (or several lines) at once. */
export interface Part {
  readonly target: Target
  readonly command: Validation.Validated
}
