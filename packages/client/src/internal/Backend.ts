/**
 * How a request reaches a server: the only thing the single-server, cluster and in-memory layers do
 * differently. The command surface (Memcache.ts) is written once on top of this.
 *
 * @internal
 */
import type * as Reply from "@effect-memcache/protocol/Reply"
import type { Validated } from "@effect-memcache/protocol/Validation"
import type * as Effect from "effect/Effect"
import type { TransportError } from "../MemcacheError.ts"
import type { Request } from "./Connection.ts"

/**
 * One server, as the surface sees it.
 *
 * @internal
 */
export interface Target {
  readonly name: string
  /**
   * Sends a validated command. Completes with the reply, or `undefined` once written for a command that gets
   * no reply (`expectation` undefined).
   */
  readonly request: (
    command: Validated,
    expectation: Reply.Expectation | undefined,
    timeoutMillis: number
  ) => Effect.Effect<Reply.Reply | undefined, TransportError>
  /**
   * `request` in callback form, for callers that want no fiber or continuation per request (the get batcher,
   * the command surface's hot path): the request's `complete` is called once, and its `abandon` gives it up.
   * Targets without it are run through `request`.
   */
  readonly submit?: (request: Request) => void
  /** Closes this server's connections with `quit`; the next request reconnects. */
  readonly quit: Effect.Effect<void>
}

/**
 * A set of servers and the rule that picks one for a key.
 *
 * @internal
 */
export interface Backend {
  readonly targets: ReadonlyArray<Target>
  /** The server for a routing key (the key without the key prefix, unless the caller named another). */
  readonly route: (routingKey: string) => Target
}
