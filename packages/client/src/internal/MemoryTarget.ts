/**
 * The target of the in-memory layer: requests go to the simulated server through the layer's faults. A request
 * without a delay completes at once, in the caller's tick; a delayed one waits on the layer's `Clock`.
 *
 * @internal
 */
import * as Command from "@effect-memcache/protocol/Command"
import type * as Reply from "@effect-memcache/protocol/Reply"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { MemcacheConnectionError, MemcacheTimeoutError } from "../MemcacheError.ts"
import type { Fault, Faults } from "../MemcacheMemory.ts"
import type { Background } from "./Background.ts"
import type { MemoryServer } from "./MemoryServer.ts"
import { toMillis } from "./Settings.ts"
import type { Outcome, Request, Target } from "./Transport.ts"

const faultOf = (faults: Faults | undefined, command: Command.Command): Fault | undefined => {
  if (faults === undefined) return undefined
  const verb = Command.verbOf(command)
  return typeof faults === "function" ? faults(command, verb) : faults[verb]
}

/** @internal */
export const make = (
  name: string,
  server: MemoryServer,
  faults: Faults | undefined,
  background: Background
): Target => {
  // The clock is read and the command applied in one synchronous step, so a command is atomic.
  const apply = (request: Request): Outcome =>
    Exit.succeed<Reply.Reply | undefined>(
      server.execute(request.command, request.expectation, background.clock.currentTimeMillisUnsafe())
    )
  const faulted = (fault: Fault, request: Request): Outcome =>
    fault.fail !== undefined
      ? Exit.fail(fault.fail)
      : fault.reply !== undefined
        ? Exit.succeed(fault.reply)
        : apply(request)

  /** A delay that reaches the call's timeout fails it at the timeout, and the command is never applied. */
  const delayed = (request: Request, fault: Fault, delay: number): void => {
    const timedOut = delay >= request.timeoutMillis
    const fiber = background.fork(Effect.sleep(timedOut ? request.timeoutMillis : delay))
    request.onAbandon = () => fiber.interruptUnsafe()
    fiber.addObserver((exit) => {
      request.onAbandon = undefined
      if (request.abandoned) return
      if (Exit.isFailure(exit)) {
        const detail = "the client was closed"
        request.settle(Exit.fail(new MemcacheConnectionError({ server: name, reason: "closed", detail })))
      } else if (timedOut) {
        const millis = request.timeoutMillis
        request.settle(Exit.fail(new MemcacheTimeoutError({ server: name, phase: "operation", millis })))
      } else request.settle(faulted(fault, request))
    })
  }

  return {
    name,
    submit: (request) => {
      if (request.abandoned) return
      const fault = faultOf(faults, request.command)
      if (fault === undefined) request.settle(apply(request))
      else if (fault.delay === undefined) request.settle(faulted(fault, request))
      else delayed(request, fault, toMillis(fault.delay))
    },
    quit: Effect.void
  }
}
