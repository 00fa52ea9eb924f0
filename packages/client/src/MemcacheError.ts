/**
 * Every failure a memcache operation can produce, one class each, exported, with their union.
 *
 * Misses and the `NOT_STORED` / `EXISTS` / `NOT_FOUND` replies are values, never errors. The classes mirror
 * pymemcache's exceptions: `MemcacheUnknownCommandError` (`ERROR`), `MemcacheClientError` (`CLIENT_ERROR`),
 * `MemcacheServerError` (`SERVER_ERROR`), `MemcacheUnknownError` (an unparseable reply, here
 * {@link MemcacheProtocolError}), `MemcacheUnexpectedCloseError` and `MemcacheIllegalInputError`, plus the
 * timeouts, connection and serialization failures pymemcache leaves to the socket layer.
 *
 * {@link isTransportError}, {@link isReplyError} and {@link isMemcacheError} tell the groups apart, for
 * `Effect.catchIf`: ignoring a cache outage is `Effect.catchIf(MemcacheError.isTransportError, ...)`.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * The server answered `ERROR`: it did not know the command (or its token count was wrong).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Memcache } from "@effect-memcache/client"
 * const program = Memcache.Memcache.use((m) => m.verbosity(1)).pipe(
 *   Effect.catchTag("MemcacheUnknownCommandError", (e) => Effect.logWarning(e.message))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class MemcacheUnknownCommandError extends Schema.TaggedError<MemcacheUnknownCommandError>()(
  "MemcacheUnknownCommandError",
  { command: Schema.String, server: Schema.String, text: Schema.String }
) {
  override get message(): string {
    return `${this.server}: ${this.command}: ERROR${this.text === "" ? "" : ` ${this.text}`}`
  }
}

/**
 * The server answered `CLIENT_ERROR <text>`: it refused the request as malformed (for example
 * `cannot increment or decrement non-numeric value`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Memcache } from "@effect-memcache/client"
 * const program = Memcache.Memcache.use((m) => m.incr("page", 1n)).pipe(
 *   Effect.catchTag("MemcacheClientError", (e) => Effect.succeed(e.text))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class MemcacheClientError extends Schema.TaggedError<MemcacheClientError>()("MemcacheClientError", {
  command: Schema.String,
  server: Schema.String,
  text: Schema.String
}) {
  override get message(): string {
    return `${this.server}: ${this.command}: CLIENT_ERROR ${this.text}`
  }
}

/**
 * The server answered `SERVER_ERROR <text>` (for example `object too large for cache` or `out of memory`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Memcache } from "@effect-memcache/client"
 * const program = Memcache.Memcache.use((m) => m.set("big", new Uint8Array(2_000_000))).pipe(
 *   Effect.catchTag("MemcacheServerError", (e) => Effect.logWarning(e.text))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class MemcacheServerError extends Schema.TaggedError<MemcacheServerError>()("MemcacheServerError", {
  command: Schema.String,
  server: Schema.String,
  text: Schema.String
}) {
  override get message(): string {
    return `${this.server}: ${this.command}: SERVER_ERROR ${this.text}`
  }
}

/**
 * The server sent something the pending request cannot produce (an unknown or unparseable reply, a value for
 * a key that was not asked for). The connection is retired; no reply can reach the wrong request.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Memcache } from "@effect-memcache/client"
 * const program = Memcache.Memcache.use((m) => m.get("k")).pipe(
 *   Effect.catchTag("MemcacheProtocolError", (e) => Effect.logError(e.reason))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class MemcacheProtocolError extends Schema.TaggedError<MemcacheProtocolError>()("MemcacheProtocolError", {
  server: Schema.String,
  reason: Schema.String,
  line: Schema.optional(Schema.String)
}) {
  override get message(): string {
    return `${this.server}: protocol error: ${this.reason}${this.line === undefined ? "" : `: ${JSON.stringify(this.line)}`}`
  }
}

/**
 * The connection closed while a reply was pending (including in the middle of a value: a cut value is this
 * error, never a short value).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Memcache } from "@effect-memcache/client"
 * const program = Memcache.Memcache.use((m) => m.get("k")).pipe(
 *   Effect.catchTag("MemcacheUnexpectedCloseError", () => Effect.succeedNone)
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class MemcacheUnexpectedCloseError extends Schema.TaggedError<MemcacheUnexpectedCloseError>()(
  "MemcacheUnexpectedCloseError",
  { server: Schema.String }
) {
  override get message(): string {
    return `${this.server}: the connection closed while a reply was pending`
  }
}

/**
 * An input that must not be sent (a bad key, flags out of range, a value over the item size limit, ...).
 * Nothing was written to any socket. `field` names the input, `reason` says why.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Memcache } from "@effect-memcache/client"
 * const program = Memcache.Memcache.use((m) => m.get("has space")).pipe(
 *   Effect.catchTag("MemcacheIllegalInputError", (e) => Effect.succeed(`${e.field}: ${e.reason}`))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class MemcacheIllegalInputError extends Schema.TaggedError<MemcacheIllegalInputError>()(
  "MemcacheIllegalInputError",
  { command: Schema.String, field: Schema.String, reason: Schema.String }
) {
  override get message(): string {
    return `${this.command}: invalid ${this.field}: ${this.reason}`
  }
}

/**
 * Connecting (`phase: "connect"`) or waiting for a reply (`phase: "operation"`) took longer than allowed.
 * An operation timeout fails only its call: the connection stays, and the late reply is read and dropped.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Memcache } from "@effect-memcache/client"
 * const program = Memcache.Memcache.use((m) => m.get("k")).pipe(
 *   Effect.catchTag("MemcacheTimeoutError", (e) => Effect.logWarning(`${e.phase} timeout`))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class MemcacheTimeoutError extends Schema.TaggedError<MemcacheTimeoutError>()("MemcacheTimeoutError", {
  server: Schema.String,
  phase: Schema.Literals(["connect", "operation"]),
  millis: Schema.Number
}) {
  override get message(): string {
    return `${this.server}: ${this.phase} timed out after ${this.millis} ms`
  }
}

/**
 * Why a connection could not be used.
 *
 * - `refused`, `reset`, `dns`, `tls`, `auth`, `other`: from the socket (or the authentication step);
 * - `backoff`: a recent attempt failed and the reconnect schedule has not allowed the next one yet;
 * - `aborted`: the request was in flight on a connection that was retired: it received no reply bytes for the
 *   layer's timeout while replies were due;
 * - `down`: the cluster marked the server down after failures and fails its calls fast until a probe finds it
 *   back (`MemcacheCluster`);
 * - `closed`: the client's layer was closed.
 *
 * @example
 * ```ts
 * import type { MemcacheError } from "@effect-memcache/client"
 * const retryable = (r: MemcacheError.ConnectionFailure) => r !== "closed"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type ConnectionFailure =
  | "refused"
  | "reset"
  | "dns"
  | "tls"
  | "auth"
  | "backoff"
  | "aborted"
  | "closed"
  | "down"
  | "other"

/**
 * The connection could not be opened or was lost before the request was answered; see `reason`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Memcache } from "@effect-memcache/client"
 * const program = Memcache.Memcache.use((m) => m.get("k")).pipe(
 *   Effect.catchTag("MemcacheConnectionError", (e) => Effect.logWarning(`${e.reason}: ${e.detail}`))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class MemcacheConnectionError extends Schema.TaggedError<MemcacheConnectionError>()("MemcacheConnectionError", {
  server: Schema.String,
  reason: Schema.Literals(["refused", "reset", "dns", "tls", "auth", "backoff", "aborted", "closed", "down", "other"]),
  detail: Schema.String
}) {
  override get message(): string {
    return `${this.server}: connection ${this.reason}: ${this.detail}`
  }
}

/**
 * A value could not be serialized, or stored bytes could not be read back as the expected type (unexpected
 * flags, bad data).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Memcache } from "@effect-memcache/client"
 * const program = Memcache.Memcache.use((m) => m.get("k")).pipe(
 *   Effect.catchTag("MemcacheSerializationError", () => Effect.succeedNone)
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class MemcacheSerializationError extends Schema.TaggedError<MemcacheSerializationError>()(
  "MemcacheSerializationError",
  {
    key: Schema.String,
    flags: Schema.optional(Schema.Number),
    reason: Schema.String,
    cause: Schema.optional(Schema.Defect())
  }
) {
  override get message(): string {
    return `${this.key}: ${this.reason}`
  }
}

/**
 * The errors any request that reaches a server can produce.
 *
 * @example
 * ```ts
 * import type { MemcacheError } from "@effect-memcache/client"
 * const isTransient = (e: MemcacheError.TransportError) => e._tag !== "MemcacheProtocolError"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type TransportError =
  | MemcacheTimeoutError
  | MemcacheConnectionError
  | MemcacheUnexpectedCloseError
  | MemcacheProtocolError

/**
 * The error replies a server can send to any command.
 *
 * @example
 * ```ts
 * import type { MemcacheError } from "@effect-memcache/client"
 * const text = (e: MemcacheError.ReplyError) => e.text
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type ReplyError = MemcacheUnknownCommandError | MemcacheClientError | MemcacheServerError

/**
 * Every memcache error.
 *
 * @example
 * ```ts
 * import type { MemcacheError } from "@effect-memcache/client"
 * const tag = (e: MemcacheError.MemcacheError) => e._tag
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type MemcacheError = TransportError | ReplyError | MemcacheIllegalInputError | MemcacheSerializationError

/**
 * The schema of {@link MemcacheError}, for serializing failures (e.g. across RPC).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { MemcacheError } from "@effect-memcache/client"
 * const decode = Schema.decodeUnknownSync(MemcacheError.MemcacheErrorSchema)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const MemcacheErrorSchema = Schema.Union([
  MemcacheUnknownCommandError,
  MemcacheClientError,
  MemcacheServerError,
  MemcacheProtocolError,
  MemcacheUnexpectedCloseError,
  MemcacheIllegalInputError,
  MemcacheTimeoutError,
  MemcacheConnectionError,
  MemcacheSerializationError
])

/** Each union's tags, checked against the union by the compiler: a class added to a union must be added here. */
const transportTags: { readonly [Tag in TransportError["_tag"]]: true } = {
  MemcacheTimeoutError: true,
  MemcacheConnectionError: true,
  MemcacheUnexpectedCloseError: true,
  MemcacheProtocolError: true
}

const replyTags: { readonly [Tag in ReplyError["_tag"]]: true } = {
  MemcacheUnknownCommandError: true,
  MemcacheClientError: true,
  MemcacheServerError: true
}

const allTags: { readonly [Tag in MemcacheError["_tag"]]: true } = {
  ...transportTags,
  ...replyTags,
  MemcacheIllegalInputError: true,
  MemcacheSerializationError: true
}

const hasTagIn = (tags: object, u: unknown): boolean =>
  typeof u === "object" && u !== null && "_tag" in u && typeof u._tag === "string" && Object.hasOwn(tags, u._tag)

/**
 * Whether a failure is a {@link TransportError}: the server could not be reached or did not answer properly (a
 * timeout, a refused, reset or closed connection, an unparseable reply). These are the failures of a cache outage,
 * the only ones the `retry` option retries; a refused input, an error reply and a serialization failure are not.
 * Matches by `_tag`, as `Effect.catchTag` does.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Memcache, MemcacheError } from "@effect-memcache/client"
 * // A write that a cache outage does not fail; a bad key or an unserializable value still does.
 * const remember = (key: string, value: string) =>
 *   Memcache.Memcache.use((m) => m.set(key, value)).pipe(
 *     Effect.catchIf(MemcacheError.isTransportError, () => Effect.void)
 *   )
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isTransportError = (u: unknown): u is TransportError => hasTagIn(transportTags, u)

/**
 * Whether a failure is a {@link ReplyError}: the server answered `ERROR`, `CLIENT_ERROR` or `SERVER_ERROR`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Memcache, MemcacheError } from "@effect-memcache/client"
 * const views = Memcache.Memcache.use((m) => m.incr("views", 1)).pipe(
 *   Effect.catchIf(MemcacheError.isReplyError, (e) => Effect.logWarning(e.text))
 * )
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isReplyError = (u: unknown): u is ReplyError => hasTagIn(replyTags, u)

/**
 * Whether a value is one of the errors of this package ({@link MemcacheError}), for example in a failure
 * channel shared with other errors.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { MemcacheError } from "@effect-memcache/client"
 * const program = (work: Effect.Effect<string, MemcacheError.MemcacheError | Error>) =>
 *   work.pipe(Effect.catchIf(MemcacheError.isMemcacheError, (e) => Effect.succeed(e._tag)))
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isMemcacheError = (u: unknown): u is MemcacheError => hasTagIn(allTags, u)
