/**
 * The `Memcache` service and its one command surface: input checks, noreply defaults, serializers,
 * `ignoreErrors`, retries and spans, written once and shared by the single-server, cluster and in-memory
 * layers, which differ only in how a request reaches a server.
 *
 * @since 0.1.0
 */
import * as Command from "@effect-memcache/protocol/Command"
import type { InvalidInput } from "@effect-memcache/protocol/Errors"
import * as Exptime from "@effect-memcache/protocol/Exptime"
import * as Key from "@effect-memcache/protocol/Key"
import * as KeyList from "@effect-memcache/protocol/KeyList"
import type * as Reply from "@effect-memcache/protocol/Reply"
import { expect, expectation as expectationOf, retrieval } from "@effect-memcache/protocol/Reply"
import * as Validation from "@effect-memcache/protocol/Validation"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import type * as Schedule from "effect/Schedule"
import * as Tracer from "effect/Tracer"
import type { Backend, Target } from "./internal/Backend.ts"
import { Request } from "./internal/Connection.ts"
import { GetBatcher, type Span } from "./internal/GetBatcher.ts"
import {
  MemcacheClientError,
  MemcacheIllegalInputError,
  MemcacheProtocolError,
  type MemcacheSerializationError,
  MemcacheServerError,
  MemcacheUnknownCommandError,
  type ReplyError,
  type TransportError
} from "./MemcacheError.ts"
import * as Serializer from "./Serializer.ts"

/**
 * What the default serializer ({@link Serializer.pymemcache}) stores: bytes, text and integers, in the format
 * pymemcache and python-memcache read and write.
 *
 * @example
 * ```ts
 * import type { Memcache } from "@effect-memcache/client"
 * const v: Memcache.Value = "hello"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Value = Serializer.PythonValue

/**
 * Options every keyed call takes.
 *
 * @example
 * ```ts
 * import type { Memcache } from "@effect-memcache/client"
 * const o: Memcache.CallOptions = { timeout: "200 millis" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface CallOptions {
  /** Overrides the layer's operation `timeout` for this call. */
  readonly timeout?: Duration.Input | undefined
  /**
   * Routes the call by this key instead of the key itself (pymemcache's tuple keys), so related keys stay on one
   * server of a cluster. Ignored by single-server layers.
   */
  readonly routingKey?: string | undefined
}

/**
 * Options of the calls that can be sent without waiting for a reply.
 *
 * @example
 * ```ts
 * import type { Memcache } from "@effect-memcache/client"
 * const o: Memcache.NoreplyOptions = { noreply: false }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface NoreplyOptions extends CallOptions {
  /**
   * Send with `noreply`: the call completes once the request is written, and reports success without knowing
   * the outcome. Defaults to the layer's `defaultNoreply` for set/add/replace/append/prepend/delete/touch/
   * flushAll/verbosity/setMany/deleteMany (as pymemcache), and to `false` for cas/incr/decr.
   */
  readonly noreply?: boolean | undefined
}

/**
 * Options of the storage calls.
 *
 * @example
 * ```ts
 * import type { Memcache } from "@effect-memcache/client"
 * const o: Memcache.StoreOptions = { ttl: "10 minutes" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface StoreOptions extends NoreplyOptions {
  /**
   * How long the item lives. Rounded up to whole seconds; zero or infinite means it never expires; more than 30
   * days is sent as an absolute unix time (the server's rule), computed from Effect's `Clock`. A bare number is
   * milliseconds, as everywhere in Effect.
   */
  readonly ttl?: Duration.Input | undefined
  /** The raw memcached exptime instead of `ttl` (seconds up to 30 days, else an absolute unix time). */
  readonly exptime?: number | undefined
  /** Overrides the flags the serializer chose (as pymemcache's `flags` argument). */
  readonly flags?: number | undefined
}

/**
 * Options of the admin calls that go to one server (`stats`, `version`, `shutdown`).
 *
 * @example
 * ```ts
 * import type { Memcache } from "@effect-memcache/client"
 * const o: Memcache.ServerOptions = { server: "127.0.0.1:11211" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface ServerOptions {
  readonly timeout?: Duration.Input | undefined
  /** Which server of a cluster (its address as configured); default the first one. */
  readonly server?: string | undefined
}

/**
 * A value with the CAS unique `gets`/`gats` returned.
 *
 * @example
 * ```ts
 * import type { Memcache } from "@effect-memcache/client"
 * const next = (c: Memcache.WithCas<number>) => ({ value: c.value + 1, cas: c.cas })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface WithCas<A> {
  readonly value: A
  readonly cas: bigint
}

/**
 * The outcome of `cas`: stored, the item changed since it was read (`Exists`), or it is gone (`NotFound`).
 *
 * @example
 * ```ts
 * import type { Memcache } from "@effect-memcache/client"
 * const ok = (r: Memcache.CasResult) => r === "Stored"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type CasResult = "Stored" | "Exists" | "NotFound"

/**
 * A parsed `stats` value: integers as `number` (or `bigint` past 2^53), decimals as `number`, everything else
 * as the server's text.
 *
 * @example
 * ```ts
 * import type { Memcache } from "@effect-memcache/client"
 * const uptime = (s: ReadonlyMap<string, Memcache.StatValue>) => s.get("uptime")
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type StatValue = number | bigint | string

/**
 * The failures of calls that take a key: a refused input, a transport failure or an error reply.
 *
 * @example
 * ```ts
 * import type { Memcache } from "@effect-memcache/client"
 * const tag = (e: Memcache.KeyError) => e._tag
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type KeyError = MemcacheIllegalInputError | TransportError | ReplyError

/**
 * The failures of calls that carry values: {@link KeyError} or a serialization failure.
 *
 * @example
 * ```ts
 * import type { Memcache } from "@effect-memcache/client"
 * const tag = (e: Memcache.ValueError) => e._tag
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type ValueError = KeyError | MemcacheSerializationError

/**
 * The failures of admin calls that take no key.
 *
 * @example
 * ```ts
 * import type { Memcache } from "@effect-memcache/client"
 * const tag = (e: Memcache.AdminError) => e._tag
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type AdminError = TransportError | ReplyError

/**
 * What {@link MemcacheShape.getManyPartial} returns: the hits of the servers that answered, and the failures of
 * the others as data. A key in `failedKeys` is neither a hit nor a known miss.
 *
 * @example
 * ```ts
 * import type { Memcache } from "@effect-memcache/client"
 * const complete = (r: Memcache.PartialHits<string>) => r.failures.size === 0
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface PartialHits<A> {
  /** The hits, in the order asked. */
  readonly hits: ReadonlyMap<string, A>
  /**
   * Per server (its name, as in `ServerOptions.server`): why some of its keys could not be read, a transport or
   * reply error of its part of the call (`MemcacheTimeoutError` for a server that did not answer in time), or
   * the serialization error of a value it returned. One failure per server.
   */
  readonly failures: ReadonlyMap<string, TransportError | ReplyError | MemcacheSerializationError>
  /** The keys of the failed parts, and those whose value could not be read, in the order asked. */
  readonly failedKeys: ReadonlyArray<string>
}

/**
 * The outcome of a multi-key write asked for as a partial result: per server, the failure of its part as data,
 * instead of one failure for the whole call.
 *
 * @example
 * ```ts
 * import type { Memcache } from "@effect-memcache/client"
 * const complete = (r: Memcache.PartialWrites) => r.failures.size === 0 && r.failedKeys.length === 0
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface PartialWrites {
  /** Per server (its name): the transport or reply error of a key sent to it. One failure per server. */
  readonly failures: ReadonlyMap<string, TransportError | ReplyError>
  /**
   * The keys not written, in the order given: those of failed servers, and for `setManyPartial` also those the
   * server did not store (`NOT_STORED`).
   */
  readonly failedKeys: ReadonlyArray<string>
}

/**
 * Every memcached command, with values of type `A` (the serializer's type). pymemcache's method names in
 * camelCase. Misses and NOT_STORED / EXISTS / NOT_FOUND are values (`Option`, `boolean`, {@link CasResult}).
 *
 * @example
 * ```ts
 * import { Effect, Option } from "effect"
 * import { Memcache } from "@effect-memcache/client"
 * const program = Effect.gen(function* () {
 *   const cache = yield* Memcache.Memcache
 *   yield* cache.set("greeting", "hello", { ttl: "1 minute" })
 *   return Option.getOrElse(yield* cache.get("greeting"), () => "miss")
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface MemcacheShape<A> {
  readonly get: (key: string, options?: CallOptions) => Effect.Effect<Option.Option<A>, ValueError>
  /** The hits among `keys`, in the order asked (a key given twice is sent twice and appears once). */
  readonly getMany: (keys: Iterable<string>, options?: CallOptions) => Effect.Effect<ReadonlyMap<string, A>, ValueError>
  readonly gets: (key: string, options?: CallOptions) => Effect.Effect<Option.Option<WithCas<A>>, ValueError>
  readonly getsMany: (
    keys: Iterable<string>,
    options?: CallOptions
  ) => Effect.Effect<ReadonlyMap<string, WithCas<A>>, ValueError>
  /**
   * `getMany` that a failing server does not fail as a whole: the other servers' hits, and each failed server's
   * error as data (see {@link PartialHits}). Every part runs at once under the call's timeout. Only refused input
   * fails the call; `ignoreErrors` does not apply (the failures are already values).
   */
  readonly getManyPartial: (
    keys: Iterable<string>,
    options?: CallOptions
  ) => Effect.Effect<PartialHits<A>, MemcacheIllegalInputError>
  /** `getsMany` with partial results, as {@link MemcacheShape.getManyPartial}. */
  readonly getsManyPartial: (
    keys: Iterable<string>,
    options?: CallOptions
  ) => Effect.Effect<PartialHits<WithCas<A>>, MemcacheIllegalInputError>
  /** Get and touch: returns the value and sets a new `ttl`. */
  readonly gat: (key: string, ttl: Duration.Input, options?: CallOptions) => Effect.Effect<Option.Option<A>, ValueError>
  readonly gats: (
    key: string,
    ttl: Duration.Input,
    options?: CallOptions
  ) => Effect.Effect<Option.Option<WithCas<A>>, ValueError>
  /** `true` when stored (always `true` with noreply). */
  readonly set: (key: string, value: A, options?: StoreOptions) => Effect.Effect<boolean, ValueError>
  /**
   * Stores every entry; returns the keys the server did not store (`NOT_STORED`, or an error reply such as
   * `SERVER_ERROR object too large`); none with noreply. A transport failure fails the call: `setManyPartial`
   * keeps it as data.
   */
  readonly setMany: (
    entries: Iterable<readonly [string, A]>,
    options?: StoreOptions
  ) => Effect.Effect<ReadonlyArray<string>, ValueError>
  /** `false` when the key already exists. */
  readonly add: (key: string, value: A, options?: StoreOptions) => Effect.Effect<boolean, ValueError>
  /** `false` when the key does not exist. */
  readonly replace: (key: string, value: A, options?: StoreOptions) => Effect.Effect<boolean, ValueError>
  /** Appends the serialized bytes; `false` when the key does not exist. Flags and ttl are left as they are. */
  readonly append: (key: string, value: A, options?: StoreOptions) => Effect.Effect<boolean, ValueError>
  /** Prepends the serialized bytes; `false` when the key does not exist. */
  readonly prepend: (key: string, value: A, options?: StoreOptions) => Effect.Effect<boolean, ValueError>
  /** Stores only if the item's CAS unique is still `cas`. noreply is off by default. */
  readonly cas: (key: string, value: A, cas: bigint, options?: StoreOptions) => Effect.Effect<CasResult, ValueError>
  /** `true` when deleted, `false` when not found (always `true` with noreply). */
  readonly delete: (key: string, options?: NoreplyOptions) => Effect.Effect<boolean, KeyError>
  readonly deleteMany: (keys: Iterable<string>, options?: NoreplyOptions) => Effect.Effect<void, KeyError>
  /** `setMany`, with each server's failure as data (see {@link PartialWrites}); only refused input fails it. */
  readonly setManyPartial: (
    entries: Iterable<readonly [string, A]>,
    options?: StoreOptions
  ) => Effect.Effect<PartialWrites, MemcacheIllegalInputError | MemcacheSerializationError>
  /** `deleteMany`, with each server's failure as data (see {@link PartialWrites}); only refused input fails it. */
  readonly deleteManyPartial: (
    keys: Iterable<string>,
    options?: NoreplyOptions
  ) => Effect.Effect<PartialWrites, MemcacheIllegalInputError>
  /** The new value, or `None` when the key does not exist (and always `None` with noreply). */
  readonly incr: (
    key: string,
    delta: bigint | number,
    options?: NoreplyOptions
  ) => Effect.Effect<Option.Option<bigint>, KeyError>
  /** The new value (floored at 0), or `None` when the key does not exist. */
  readonly decr: (
    key: string,
    delta: bigint | number,
    options?: NoreplyOptions
  ) => Effect.Effect<Option.Option<bigint>, KeyError>
  /** `true` when touched, `false` when not found (always `true` with noreply). */
  readonly touch: (key: string, ttl: Duration.Input, options?: NoreplyOptions) => Effect.Effect<boolean, KeyError>
  /** `stats [args...]`, parsed (see {@link StatValue}); `ITEM`/`PREFIX` lines of sub-commands are kept whole. */
  readonly stats: (
    args?: ReadonlyArray<string>,
    options?: ServerOptions
  ) => Effect.Effect<ReadonlyMap<string, StatValue>, AdminError | MemcacheIllegalInputError>
  readonly version: (options?: ServerOptions) => Effect.Effect<string, AdminError>
  /** Flushes every server (after `delay`, rounded up to seconds). */
  readonly flushAll: (
    options?: { readonly delay?: Duration.Input | undefined; readonly noreply?: boolean | undefined } & ServerOptions
  ) => Effect.Effect<boolean, AdminError | MemcacheIllegalInputError>
  readonly verbosity: (
    level: number,
    options?: { readonly noreply?: boolean | undefined } & ServerOptions
  ) => Effect.Effect<boolean, AdminError | MemcacheIllegalInputError>
  /** Sets the server's memory limit in megabytes; a refusal (such as `MEMLIMIT_TOO_SMALL`) is a client error. */
  readonly cacheMemlimit: (
    megabytes: number,
    options?: ServerOptions
  ) => Effect.Effect<boolean, AdminError | MemcacheIllegalInputError>
  /** Closes every connection politely; the next call reconnects. */
  readonly quit: () => Effect.Effect<void>
  /** Asks the server to shut down (needs `memcached -A`, else a `MemcacheUnknownCommandError`). */
  readonly shutdown: (
    options?: { readonly graceful?: boolean | undefined } & ServerOptions
  ) => Effect.Effect<void, AdminError>
  /** The same client with another serializer: a typed view (like `KeyValueStore.toSchemaStore`). */
  readonly withSerializer: <B>(serializer: Serializer.Serializer<B>) => MemcacheShape<B>
}

/**
 * The memcache service. Provide it with `MemcacheClient.layer` (one server), `MemcacheCluster.layer` or the
 * in-memory layer for tests.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Memcache } from "@effect-memcache/client"
 * const hits = Memcache.Memcache.use((m) => m.getMany(["a", "b"]))
 * ```
 *
 * @since 0.1.0
 * @category services
 */
export class Memcache extends Context.Service<Memcache, MemcacheShape<Value>>()("@effect-memcache/client/Memcache") {}

/**
 * Options of the command surface, common to every layer. Every default is listed.
 *
 * @example
 * ```ts
 * import type { Memcache } from "@effect-memcache/client"
 * const o: Memcache.SurfaceOptions = { keyPrefix: "app:", timeout: "500 millis", ignoreErrors: true }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface SurfaceOptions {
  /** Prepended to every key (counted in the 250-byte limit). Default `""`. */
  readonly keyPrefix?: string | undefined
  /** Accept non-ASCII keys, sent as UTF-8. Default `true` (pymemcache defaults to `false`). */
  readonly allowUnicodeKeys?: boolean | undefined
  /** The noreply default of set/add/replace/append/prepend/delete/touch/flushAll/verbosity. Default `true`. */
  readonly defaultNoreply?: boolean | undefined
  /**
   * pymemcache's `ignore_exc`: get/getMany/gets/getsMany/gat/gats turn failures into misses, logging each at
   * warning level. Refused inputs (a bad key) still fail: they are bugs, not outages. Default `false`.
   */
  readonly ignoreErrors?: boolean | undefined
  /** The serializer of the service's values. Default {@link Serializer.pymemcache}. */
  readonly serializer?: Serializer.Serializer<Value> | undefined
  /** The largest value accepted, in bytes (match the server's `-I`). Default 1048576. */
  readonly itemSizeMax?: number | undefined
  /** How long a call waits for its reply. Default 2 seconds. A timeout retires the connection. */
  readonly timeout?: Duration.Input | undefined
  /**
   * Retries transport failures (timeouts, connection errors, unexpected closes) by this schedule, for the calls
   * that are safe to repeat: reads, touch, delete, cas, stats, version. Default: no retry.
   */
  readonly retry?: Schedule.Schedule<unknown, TransportError> | undefined
  /** Also retry set/add/replace/append/prepend/incr/decr/flushAll (not idempotent). Default `false`. */
  readonly retryUnsafe?: boolean | undefined
  /**
   * Wrap each call in a span (`memcache.<command>`, kind client, `db.system.name` and `db.operation.name`
   * attributes) when a tracing backend is installed; with Effect's built-in tracer, which exports nothing, no
   * span is made. Default `true`.
   */
  readonly spans?: boolean | undefined
  /**
   * Automatic batching: single-key `get`/`gets` calls made by concurrent fibers in the same tick are sent as one
   * multi-key request per server (each key asked once), and every caller gets its own answer, errors and
   * timeout. Default `true`.
   */
  readonly batching?: boolean | undefined
}

/** The defaults of {@link SurfaceOptions}, in milliseconds where a duration. @since 0.1.0 @category constants */
export const defaults = {
  keyPrefix: "",
  allowUnicodeKeys: true,
  defaultNoreply: true,
  ignoreErrors: false,
  itemSizeMax: Validation.DEFAULT_ITEM_SIZE_MAX,
  timeoutMillis: 2000,
  retryUnsafe: false,
  spans: true,
  batching: true
} as const

const THIRTY_DAYS = Exptime.RELATIVE_MAX

/**
 * Builds the command surface over a backend. Used by every layer; the in-memory layer's backend is a fake
 * server, so its calls go through exactly the same checks.
 *
 * @internal
 */
export const make = (backend: Backend, options: SurfaceOptions = {}): MemcacheShape<Value> =>
  makeWith(backend, options, options.serializer ?? Serializer.pymemcache, new GetBatcher(replyError))

const makeWith = <A>(
  backend: Backend,
  options: SurfaceOptions,
  serializer: Serializer.Serializer<A>,
  batcher: GetBatcher
): MemcacheShape<A> => {
  const batching = options.batching ?? defaults.batching
  const prefix = options.keyPrefix ?? defaults.keyPrefix
  const defaultNoreply = options.defaultNoreply ?? defaults.defaultNoreply
  const ignoreErrors = options.ignoreErrors ?? defaults.ignoreErrors
  const limits: Validation.Limits = {
    itemSizeMax: options.itemSizeMax ?? defaults.itemSizeMax,
    allowUnicodeKeys: options.allowUnicodeKeys ?? defaults.allowUnicodeKeys
  }
  const keyRules = { allowUnicode: limits.allowUnicodeKeys ?? true }
  const defaultTimeout = options.timeout === undefined ? defaults.timeoutMillis : toMillis(options.timeout)
  const spans = options.spans ?? defaults.spans
  const retrySchedule = options.retry
  const retryUnsafe = options.retryUnsafe ?? defaults.retryUnsafe
  const single = backend.targets.length === 1 ? backend.targets[0]! : undefined

  const timeoutOf = (o: { readonly timeout?: Duration.Input | undefined } | undefined) =>
    o?.timeout === undefined ? defaultTimeout : toMillis(o.timeout)
  const targetOf = (key: string, o: CallOptions | undefined) => single ?? backend.route(o?.routingKey ?? key)

  /** Validates, then sends; error replies become typed failures. */
  const send = (
    name: string,
    target: Target,
    command: Command.Command,
    timeoutMillis: number
  ): Effect.Effect<Reply.Reply | undefined, KeyError> => sendWith(name, target, command, timeoutMillis, succeedReply)

  /**
   * {@link send}, with the interpretation of the reply in the same step (one continuation per call, not two):
   * the hot path of every keyed command.
   */
  const sendWith = <X, E>(
    name: string,
    target: Target,
    command: Command.Command,
    timeoutMillis: number,
    interpret: (reply: Reply.Reply | undefined, target: Target, name: string) => Effect.Effect<X, E>
  ): Effect.Effect<X, E | KeyError> => {
    const checked = Validation.validate(command, limits)
    if (Validation.isInvalid(checked)) {
      return Effect.fail(illegal(name, checked))
    }
    return dispatch(name, target, checked, timeoutMillis, interpret)
  }

  /**
   * {@link sendWith} without the input check, for a command that passed it. With `span` (a
   * call that only `instrument`'s span would wrap: see {@link hotPath}) the span is decided when the request is
   * made, so an untraced call is one `Effect.callback` and one request object.
   */
  const dispatch = <X, E>(
    name: string,
    target: Target,
    command: Validation.Validated,
    timeoutMillis: number,
    interpret: (reply: Reply.Reply | undefined, target: Target, name: string) => Effect.Effect<X, E>,
    span?: Span
  ): Effect.Effect<X, E | KeyError> => {
    const expectation = expectationOf(command)
    const submit = target.submit
    if (submit === undefined) {
      const effect = Effect.flatMap(target.request(command, expectation, timeoutMillis), (reply) =>
        interpretReply(name, target, reply, interpret)
      )
      return span === undefined ? effect : Effect.suspend(() => (span.active() ? span.around(effect) : effect))
    }
    // Straight onto the connection, the reply interpreted in the request's completion: no continuation per call.
    return Effect.callback<X, E | KeyError>((resume) => {
      if (span?.active()) {
        resume(span.around(dispatch(name, target, command, timeoutMillis, interpret)))
        return
      }
      const request = new Call(command, expectation, timeoutMillis, name, target, interpret, resume)
      // No canceler (it measured about a tenth of a small set's CPU time): an interrupted caller's fiber has
      // ended by the write, which then drops the request; once written, its reply is read and dropped.
      request.owner = Fiber.getCurrent()
      submit(request)
    })
  }

  /** Every command checked before any is sent: the validated commands, in order, or the first refused input. */
  const checkedAll = <C extends Command.Command>(
    name: string,
    commands: ReadonlyArray<C>
  ): Array<Validation.Validated<C>> | MemcacheIllegalInputError => {
    const checked: Array<Validation.Validated<C>> = []
    for (const command of commands) {
      const result = Validation.validate(command, limits)
      if (Validation.isInvalid(result)) {
        return illegal(name, result)
      }
      checked.push(result)
    }
    return checked
  }

  /** A multi-get as requests: keys grouped by server, each group split into lines the server takes. */
  interface GetPart {
    readonly target: Target
    readonly command: Validation.Validated<Command.Get>
    readonly keys: ReadonlyArray<string>
  }

  /** One request of a multi-get, checked; or its refused input. */
  const getPart = (
    name: "get" | "gets",
    target: Target,
    keys: ReadonlyArray<string>
  ): GetPart | MemcacheIllegalInputError => {
    const command = Validation.validate<Command.Get>({ _tag: "Get", verb: name, keys }, limits)
    return Validation.isInvalid(command) ? illegal(name, command) : { target, command, keys }
  }

  /** A multi-get's requests, every line checked before any is sent; or the first refused input. */
  const checkedGets = (
    name: "get" | "gets",
    asked: ReadonlyArray<string>,
    o: CallOptions | undefined
  ): Array<GetPart> | MemcacheIllegalInputError => {
    if (single !== undefined) {
      const full = prefix === "" ? asked : asked.map((k) => prefix + k)
      // A line that surely fits (UTF-8 takes at most 3 bytes per UTF-16 unit) needs no byte count of each key.
      let units = 8
      for (const key of full) units += key.length + 1
      if (units * 3 <= Validation.MAX_GET_LINE_LENGTH) {
        const part = getPart(name, single, full)
        return part instanceof MemcacheIllegalInputError ? part : [part]
      }
    }
    const groups = new Map<Target, Array<string>>()
    for (const key of asked) {
      const target = targetOf(key, o)
      const group = groups.get(target)
      if (group === undefined) groups.set(target, [prefix + key])
      else group.push(prefix + key)
    }
    const parts: Array<GetPart> = []
    for (const [target, full] of groups) {
      for (const keys of KeyList.splitKeys(name, full)) {
        const part = getPart(name, target, keys)
        if (part instanceof MemcacheIllegalInputError) return part
        parts.push(part)
      }
    }
    return parts
  }

  const unexpected = (target: Target, name: string, reply: Reply.Reply | undefined) =>
    Effect.fail(
      new MemcacheProtocolError({
        server: target.name,
        reason: `unexpected reply to ${name}: ${reply?._tag ?? "none"}`
      })
    )

  /** Retries transport failures by the `retry` schedule (safe calls only, unless `retryUnsafe`). */
  const retrying = <X, E>(safe: boolean, effect: Effect.Effect<X, E>): Effect.Effect<X, E> =>
    retrySchedule === undefined || !(safe || retryUnsafe)
      ? effect
      : // Only transport failures reach the schedule: with `retry({ while })` the user's schedule would still be
        // stepped (its taps and logs run) for a reply error that is never retried.
        Effect.flatten(
          Effect.retry(
            Effect.matchEffect(effect, {
              onSuccess: (x) => Effect.succeed(Effect.succeed(x)),
              onFailure: (e) => (isTransport(e) ? Effect.fail(e) : Effect.succeed(Effect.fail(e)))
            }),
            retrySchedule as Schedule.Schedule<unknown, E>
          )
        )

  // Span options are built once per command name. No stack trace is captured: it cost a third of a small
  // set's CPU time, and a span named after the command says where it came from.
  const spanOptions = new Map<string, Tracer.SpanOptions>()
  const spanOf = (name: string): Tracer.SpanOptions => {
    let options = spanOptions.get(name)
    if (options === undefined) {
      options = {
        kind: "client",
        captureStackTrace: false,
        attributes: { "db.system.name": "memcached", "db.operation.name": name }
      }
      spanOptions.set(name, options)
    }
    return options
  }

  /**
   * Whether the running fiber has a tracer that records spans. With Effect's built-in tracer (no tracing backend
   * installed) nothing can observe a span, and making one cost as much as the rest of a small call, so it is
   * skipped, as Tracer.nativeTracer's documentation suggests. The fiber's cache holds the tracer resolved from
   * its context (undefined: the default, nativeTracer).
   */
  const tracing = (): boolean => {
    const cache = Fiber.getCurrent()?.cache
    return cache?.tracerEnabled === true && cache.tracer !== undefined && cache.tracer !== Tracer.nativeTracer
  }

  /**
   * How a hot call may skip `instrument`: with a Span (spans on, no retry for it; the span is decided when the
   * call runs), with `null` (nothing to add), or not at all (`undefined`: a retry applies, so `instrument` wraps
   * it). Worked out once per command, not per call.
   */
  const hotPath = (name: string, safe: boolean): Span | null | undefined => {
    if (retrySchedule !== undefined && (safe || retryUnsafe)) return undefined
    if (!spans) return null
    const options = spanOf(name)
    const spanName = `memcache.${name}`
    return { active: tracing, around: (effect) => Effect.withSpan(effect, spanName, options) }
  }

  const instrument = <X, E>(name: string, safe: boolean, effect: Effect.Effect<X, E>, keys?: number) => {
    const out: Effect.Effect<X, E> = retrying(safe, effect)
    if (!spans) return out
    const options = spanOf(name)
    const spanName = `memcache.${name}`
    return Effect.suspend(() =>
      tracing()
        ? Effect.withSpan(
            out,
            spanName,
            keys === undefined
              ? options
              : { ...options, attributes: { ...options.attributes, "db.memcached.key_count": keys } }
          )
        : out
    )
  }

  /** ignoreErrors: a failed read is a miss (logged), except a refused input. */
  const orMiss = <X, E extends { readonly _tag: string }>(
    name: string,
    miss: X,
    effect: Effect.Effect<X, E>
  ): Effect.Effect<X, E> =>
    ignoreErrors
      ? Effect.catch(effect, (e) =>
          e._tag === "MemcacheIllegalInputError"
            ? Effect.fail(e)
            : Effect.as(Effect.logWarning(`memcache ${name} failed, treated as a miss (ignoreErrors)`, e), miss)
        )
      : effect

  const decode = (key: string, value: Reply.Value): Result.Result<A, MemcacheSerializationError> =>
    serializer.deserialize(key, value.value, value.flags)

  /** Serializer.bytes: values are the stored bytes, which the hot paths use without asking the serializer. */
  const rawBytes = serializer === (Serializer.bytes as Serializer.Serializer<unknown>)

  // ---- retrieval ------------------------------------------------------------------------------------------

  const hotGet = hotPath("get", true)
  const hotGets = hotPath("gets", true)

  const fetchOne = <X>(
    name: "get" | "gets" | "gat" | "gats",
    key: string,
    ttl: Duration.Input | undefined,
    o: CallOptions | undefined,
    build: (key: string, value: Reply.Value, a: A) => X
  ): Effect.Effect<Option.Option<X>, ValueError> => {
    /** A single key's answer: a miss, or the value read by the serializer. */
    const hit = (value: Reply.Value | undefined): Effect.Effect<Option.Option<X>, ValueError> => {
      if (value === undefined) return Effect.succeedNone
      if (rawBytes && value.flags === Serializer.Flags.bytes) {
        return Effect.succeed(Option.some(build(key, value, value.value as A)))
      }
      const decoded = decode(key, value)
      return Result.isFailure(decoded)
        ? Effect.fail(decoded.failure)
        : Effect.succeed(Option.some(build(key, value, decoded.success)))
    }
    // The common call (batched, a valid key, one server taking requests straight onto its connection, nothing
    // but a span to add) is one Effect.callback whose span is decided when it runs. A refused key takes the
    // general path below, which reports it.
    if (batching && (name === "get" || name === "gets") && single?.submit !== undefined) {
      const hot = name === "get" ? hotGet : hotGets
      const full = prefix + key
      if (hot !== undefined && Key.validate(full, keyRules) === undefined) {
        return orMiss(name, Option.none(), batcher.get(single, name, full, timeoutOf(o), hit, hot ?? undefined))
      }
    }
    const run = Effect.suspend(() => {
      const full = prefix + key
      if (batching && (name === "get" || name === "gets")) {
        const invalid = Key.validate(full, keyRules)
        if (invalid !== undefined) {
          return Effect.fail(illegal(name, invalid))
        }
        return batcher.get(targetOf(key, o), name, full, timeoutOf(o), hit)
      }
      const command: Command.Command =
        name === "get" || name === "gets"
          ? { _tag: "Get", verb: name, keys: [full] }
          : { _tag: "Gat", verb: name, exptime: 0, keys: [full] }
      const withTtl =
        ttl === undefined
          ? Effect.succeed(command)
          : Effect.map(exptimeOf(ttl), (exptime) => ({ ...(command as Command.Gat), exptime }))
      return Effect.flatMap(withTtl, (c) =>
        Effect.flatMap(
          send(name, targetOf(key, o), c, timeoutOf(o)),
          (reply): Effect.Effect<Option.Option<X>, ValueError> => {
            if (reply?._tag !== "Values") return unexpected(targetOf(key, o), name, reply)
            return hit(reply.values[0])
          }
        )
      )
    })
    // The miss comes last: retries (inside `instrument`) must see the failure before ignoreErrors hides it.
    return orMiss(name, Option.none(), instrument(name, true, run))
  }

  const fetchMany = <X>(
    name: "get" | "gets",
    keys: Iterable<string>,
    o: CallOptions | undefined,
    build: (key: string, value: Reply.Value, a: A) => X
  ): Effect.Effect<ReadonlyMap<string, X>, ValueError> => {
    // Not deduplicated: a key given twice is answered twice and lands once in the map, which costs less than a
    // Set over every call's keys.
    const asked = Array.from(keys)
    const run = Effect.suspend(() => {
      if (asked.length === 0) return Effect.succeed(new Map<string, X>())
      const parts = checkedGets(name, asked, o)
      if (!Array.isArray(parts)) return Effect.fail(parts)
      const timeout = timeoutOf(o)
      const collect = (
        replies: ReadonlyArray<Reply.Reply | undefined>
      ): Effect.Effect<ReadonlyMap<string, X>, ValueError> => {
        const found = new Map<string, X>()
        for (const reply of replies) {
          if (reply?._tag !== "Values") return unexpected(backend.targets[0]!, name, reply)
          for (const value of reply.values) {
            const key = prefix === "" ? value.key : value.key.slice(prefix.length)
            if (rawBytes && value.flags === Serializer.Flags.bytes) {
              found.set(key, build(key, value, value.value as A))
              continue
            }
            const decoded = decode(key, value)
            if (Result.isFailure(decoded)) return Effect.fail(decoded.failure)
            found.set(key, build(key, value, decoded.success))
          }
        }
        // A server answers in the order asked, so one server's answers are already in order; answers of
        // several servers are put back in the order asked for.
        if (parts.length === 1 || parts.every((p) => p.target === parts[0]!.target)) return Effect.succeed(found)
        const ordered = new Map<string, X>()
        for (const key of asked) {
          const x = found.get(key)
          if (x !== undefined) ordered.set(key, x)
        }
        return Effect.succeed(ordered as ReadonlyMap<string, X>)
      }
      // One part (the common case): the reply is collected in the request's completion.
      if (parts.length === 1)
        return dispatch(name, parts[0]!.target, parts[0]!.command, timeout, (reply) => collect([reply]))
      return Effect.flatMap(
        Effect.forEach(parts, (p) => dispatch(name, p.target, p.command, timeout, succeedReply), {
          concurrency: "unbounded"
        }),
        collect
      )
    })
    if (ignoreErrors) {
      // A failed server's keys are misses, and the other servers' hits are kept (pymemcache's HashClient),
      // rather than the whole call becoming a miss.
      const partial = Effect.tap(partialOf(name, asked, o, build), (r) =>
        Effect.forEach(r.failures, ([server, e]) =>
          Effect.logWarning(`memcache ${name} failed on ${server}, its keys treated as misses (ignoreErrors)`, e)
        )
      )
      return instrument(
        name === "get" ? "getMany" : "getsMany",
        true,
        Effect.map(partial, (r) => r.hits),
        asked.length
      )
    }
    return orMiss(name, new Map(), instrument(name === "get" ? "getMany" : "getsMany", true, run, asked.length))
  }

  /** fetchMany, with each server's failure kept as data instead of failing the call. */
  const fetchManyPartial = <X>(
    name: "get" | "gets",
    keys: Iterable<string>,
    o: CallOptions | undefined,
    build: (key: string, value: Reply.Value, a: A) => X
  ): Effect.Effect<PartialHits<X>, MemcacheIllegalInputError> => {
    const asked = Array.from(keys)
    return instrument(
      name === "get" ? "getManyPartial" : "getsManyPartial",
      true,
      partialOf(name, asked, o, build),
      asked.length
    )
  }

  const partialOf = <X>(
    name: "get" | "gets",
    asked: ReadonlyArray<string>,
    o: CallOptions | undefined,
    build: (key: string, value: Reply.Value, a: A) => X
  ): Effect.Effect<PartialHits<X>, MemcacheIllegalInputError> =>
    Effect.suspend(() => {
      const requests = checkedGets(name, asked, o)
      if (!Array.isArray(requests)) return Effect.fail(requests)
      const timeout = timeoutOf(o)
      return Effect.map(
        Effect.forEach(
          requests,
          ({ target, command }) =>
            Effect.result(
              // Each server's request is retried on its own (its failure never reaches the caller's retry).
              retrying(
                true,
                Effect.suspend(() =>
                  Effect.flatMap(
                    target.request(command, expectationOf(command), timeout),
                    (reply): Effect.Effect<Reply.Reply, TransportError | ReplyError> =>
                      reply === undefined ? unexpected(target, name, reply) : checkReply(name, target.name, reply)
                  )
                )
              )
            ),
          { concurrency: "unbounded" }
        ),
        (results): PartialHits<X> => {
          const found = new Map<string, X>()
          const failures = new Map<string, TransportError | ReplyError | MemcacheSerializationError>()
          const failed = new Set<string>()
          const fail = (server: string, error: TransportError | ReplyError | MemcacheSerializationError) =>
            keepFailure(failures, server, error)
          results.forEach((result, i) => {
            const { target, keys: part } = requests[i]!
            const reply = Result.isSuccess(result) ? result.success : undefined
            if (reply?._tag !== "Values") {
              fail(
                target.name,
                Result.isFailure(result)
                  ? result.failure
                  : new MemcacheProtocolError({
                      server: target.name,
                      reason: `unexpected reply to ${name}: ${reply?._tag ?? "none"}`
                    })
              )
              for (const full of part) failed.add(full.slice(prefix.length))
              return
            }
            for (const value of reply.values) {
              const key = value.key.slice(prefix.length)
              const decoded = decode(key, value)
              if (Result.isFailure(decoded)) {
                fail(target.name, decoded.failure)
                failed.add(key)
              } else found.set(key, build(key, value, decoded.success))
            }
          })
          const hits = new Map<string, X>()
          const failedKeys: Array<string> = []
          for (const key of asked) {
            const x = found.get(key)
            if (x !== undefined) hits.set(key, x)
            else if (failed.delete(key)) failedKeys.push(key) // once, even for a key asked twice
          }
          return { hits, failures, failedKeys }
        }
      )
    })

  const plain = (_key: string, _value: Reply.Value, a: A) => a
  const withCas = (_key: string, value: Reply.Value, a: A): WithCas<A> => ({ value: a, cas: value.cas ?? 0n })

  // ---- storage --------------------------------------------------------------------------------------------

  /** The exptime of a store call, or `undefined` when it needs the Clock (a ttl beyond 30 days). */
  const exptimeNow = (o: StoreOptions | undefined): number | undefined =>
    o?.exptime !== undefined ? o.exptime : o?.ttl === undefined ? 0 : relativeExptime(o.ttl)

  const storeCommand = (
    verb: Command.StorageVerb | "cas",
    key: string,
    value: A,
    o: StoreOptions | undefined,
    cas: bigint,
    exptime: number
  ): Command.Command | MemcacheSerializationError => {
    let bytes: Uint8Array
    let flags: number
    if (rawBytes) {
      // Serializer.bytes stores the value as it is: no Result and no pair to make per call.
      bytes = value as Uint8Array
      flags = Serializer.Flags.bytes
    } else {
      const serialized = serializer.serialize(key, value)
      if (Result.isFailure(serialized)) return serialized.failure
      bytes = serialized.success.bytes
      flags = serialized.success.flags
    }
    const noreply = o?.noreply ?? (verb === "cas" ? false : defaultNoreply)
    return verb === "cas"
      ? { _tag: "Cas", key: prefix + key, flags: o?.flags ?? flags, exptime, value: bytes, cas, noreply }
      : { _tag: "Store", verb, key: prefix + key, flags: o?.flags ?? flags, exptime, value: bytes, noreply }
  }

  /** A storage command, serialized and checked: what to send, or why it cannot be sent. */
  const checkedStore = (
    verb: Command.StorageVerb | "cas",
    key: string,
    value: A,
    o: StoreOptions | undefined,
    cas: bigint,
    exptime: number
  ): Validation.Validated | MemcacheSerializationError | MemcacheIllegalInputError => {
    const command = storeCommand(verb, key, value, o, cas, exptime)
    if (command._tag === "MemcacheSerializationError") return command
    const checked = Validation.validate(command, limits)
    return Validation.isInvalid(checked) ? illegal(verb, checked) : checked
  }

  /**
   * A storage call. The common one (an exptime known without the Clock, nothing but a span to add) is built
   * here and sent as one `Effect.callback`, its span decided when it runs; the others go through `instrument`.
   */
  const storeCall = <X>(
    verb: Command.StorageVerb | "cas",
    safe: boolean,
    hot: Span | null | undefined,
    key: string,
    value: A,
    o: StoreOptions | undefined,
    cas: bigint,
    interpret: (reply: Reply.Reply | undefined, target: Target, name: string) => Effect.Effect<X, KeyError>
  ): Effect.Effect<X, ValueError> => {
    const exptime = exptimeNow(o)
    if (exptime === undefined) {
      return instrument(
        verb,
        safe,
        Effect.flatMap(exptimeOf(o!.ttl!), (exptime): Effect.Effect<X, ValueError> => {
          const command = checkedStore(verb, key, value, o, cas, exptime)
          return isRefused(command)
            ? Effect.fail(command)
            : dispatch(verb, targetOf(key, o), command, timeoutOf(o), interpret)
        })
      )
    }
    const command = checkedStore(verb, key, value, o, cas, exptime)
    if (isRefused(command)) return instrument(verb, safe, Effect.fail(command))
    if (hot === undefined) {
      return instrument(verb, safe, dispatch(verb, targetOf(key, o), command, timeoutOf(o), interpret))
    }
    return dispatch(verb, targetOf(key, o), command, timeoutOf(o), interpret, hot ?? undefined)
  }

  const store = (verb: Command.StorageVerb) => {
    const hot = hotPath(verb, false)
    return (key: string, value: A, o?: StoreOptions) => storeCall(verb, false, hot, key, value, o, 0n, interpretStore)
  }

  const set = store("set")

  const hotCas = hotPath("cas", true)
  const cas = (key: string, value: A, unique: bigint, o?: StoreOptions) =>
    storeCall("cas", true, hotCas, key, value, o, unique, interpretCas)

  /** setMany's commands: every value serialized and every command checked before any of it is sent. */
  const setCommands = (
    list: ReadonlyArray<readonly [string, A]>,
    o: StoreOptions | undefined
  ): Effect.Effect<Array<[string, Validation.Validated]>, MemcacheIllegalInputError | MemcacheSerializationError> =>
    Effect.flatMap(
      Effect.suspend(() => {
        const exptime = exptimeNow(o)
        return exptime === undefined ? exptimeOf(o!.ttl!) : Effect.succeed(exptime)
      }),
      (
        exptime
      ): Effect.Effect<
        Array<[string, Validation.Validated]>,
        MemcacheIllegalInputError | MemcacheSerializationError
      > => {
        const commands: Array<Command.Command> = []
        for (const [key, value] of list) {
          const command = storeCommand("set", key, value, o, 0n, exptime)
          if (command._tag === "MemcacheSerializationError") return Effect.fail(command)
          commands.push(command)
        }
        const checked = checkedAll("setMany", commands)
        return Array.isArray(checked)
          ? Effect.succeed(checked.map((command, i): [string, Validation.Validated] => [list[i]![0], command]))
          : Effect.fail(checked)
      }
    )

  const setMany = (entries: Iterable<readonly [string, A]>, o?: StoreOptions) => {
    const list = Array.from(entries)
    return instrument(
      "setMany",
      false,
      Effect.flatMap(setCommands(list, o), (commands) => {
        const timeout = timeoutOf(o)
        return Effect.map(
          Effect.forEach(
            commands,
            ([key, command]) =>
              // A key the server refused (NOT_STORED, or an error reply such as SERVER_ERROR object too large)
              // is a failed key; a transport failure fails the call (setManyPartial keeps it as data).
              Effect.catchIf(
                Effect.map(dispatch("set", targetOf(key, o), command, timeout, succeedReply), (reply) =>
                  reply === undefined || reply._tag === "Stored" ? undefined : key
                ),
                isReplyError,
                () => Effect.succeed(key)
              ),
            { concurrency: "unbounded" }
          ),
          (failed) => failed.filter((k): k is string => k !== undefined)
        )
      }),
      list.length
    )
  }

  /**
   * Sends every command at once, each retried on its own; a failure is kept, per server, as data. `written`
   * says whether a reply means the key was written.
   */
  const writeEach = (
    name: string,
    commands: ReadonlyArray<readonly [string, Validation.Validated]>,
    o: NoreplyOptions | undefined,
    written: (reply: Reply.Reply | undefined) => boolean
  ): Effect.Effect<PartialWrites> => {
    const timeout = timeoutOf(o)
    return Effect.map(
      Effect.forEach(
        commands,
        ([key, command]) => {
          const target = targetOf(key, o)
          return Effect.result(
            retrying(
              name === "delete",
              dispatch(name, target, command, timeout, (reply) => Effect.succeed(written(reply)))
            )
          )
        },
        { concurrency: "unbounded" }
      ),
      (results): PartialWrites => {
        const failures = new Map<string, TransportError | ReplyError>()
        const failedKeys: Array<string> = []
        results.forEach((result, i) => {
          const key = commands[i]![0]
          if (Result.isSuccess(result)) {
            if (!result.success) failedKeys.push(key)
            return
          }
          // Validated before sending, so only transport and reply errors are left here.
          const error = result.failure as TransportError | ReplyError
          const server = targetOf(key, o).name
          keepFailure(failures, server, error)
          failedKeys.push(key)
        })
        return { failures, failedKeys }
      }
    )
  }

  const setManyPartial = (entries: Iterable<readonly [string, A]>, o?: StoreOptions) => {
    const list = Array.from(entries)
    return instrument(
      "setManyPartial",
      false,
      Effect.flatMap(setCommands(list, o), (commands) =>
        writeEach("set", commands, o, (reply) => reply === undefined || reply._tag === "Stored")
      ),
      list.length
    )
  }

  // ---- other keyed commands -------------------------------------------------------------------------------

  const del = (key: string, o?: NoreplyOptions) =>
    instrument(
      "delete",
      true,
      Effect.suspend(() => {
        const target = targetOf(key, o)
        const command: Command.Command = { _tag: "Delete", key: prefix + key, noreply: o?.noreply ?? defaultNoreply }
        return Effect.flatMap(send("delete", target, command, timeoutOf(o)), (reply) => {
          if (reply === undefined || reply._tag === "Deleted") return Effect.succeed(true)
          if (reply._tag === "NotFound") return Effect.succeed(false)
          return unexpected(target, "delete", reply)
        })
      })
    )

  /** deleteMany's commands, every key checked before any is sent. */
  const deleteCommands = (
    list: ReadonlyArray<string>,
    o: NoreplyOptions | undefined
  ): Effect.Effect<Array<[string, Validation.Validated]>, MemcacheIllegalInputError> =>
    Effect.suspend(() => {
      const noreply = o?.noreply ?? defaultNoreply
      const checked = checkedAll(
        "deleteMany",
        list.map((key): Command.Delete => ({ _tag: "Delete", key: prefix + key, noreply }))
      )
      return Array.isArray(checked)
        ? Effect.succeed(checked.map((command, i): [string, Validation.Validated] => [list[i]!, command]))
        : Effect.fail(checked)
    })

  const deleteMany = (keys: Iterable<string>, o?: NoreplyOptions) => {
    const list = Array.from(new Set(keys))
    return instrument(
      "deleteMany",
      true,
      Effect.flatMap(deleteCommands(list, o), (commands) => {
        const timeout = timeoutOf(o)
        return Effect.forEach(
          commands,
          ([key, command]) => dispatch("delete", targetOf(key, o), command, timeout, succeedReply),
          {
            concurrency: "unbounded",
            discard: true
          }
        )
      }),
      list.length
    )
  }

  const deleteManyPartial = (keys: Iterable<string>, o?: NoreplyOptions) => {
    const list = Array.from(new Set(keys))
    return instrument(
      "deleteManyPartial",
      true,
      // DELETED and NOT_FOUND both leave the key gone.
      Effect.flatMap(deleteCommands(list, o), (commands) => writeEach("delete", commands, o, () => true)),
      list.length
    )
  }

  const arithmetic = (verb: "incr" | "decr") => (key: string, delta: bigint | number, o?: NoreplyOptions) =>
    instrument(
      verb,
      false,
      Effect.suspend((): Effect.Effect<Option.Option<bigint>, KeyError> => {
        if (typeof delta === "number" && !Number.isSafeInteger(delta)) {
          return Effect.fail(
            new MemcacheIllegalInputError({
              command: verb,
              field: "delta",
              reason: `${delta} is not a safe integer (pass a bigint for large deltas)`
            })
          )
        }
        const target = targetOf(key, o)
        const command: Command.Command = {
          _tag: "Arithmetic",
          verb,
          key: prefix + key,
          delta: BigInt(delta),
          noreply: o?.noreply ?? false
        }
        return Effect.flatMap(send(verb, target, command, timeoutOf(o)), (reply) => {
          if (reply === undefined || reply._tag === "NotFound") return Effect.succeedNone
          if (reply._tag === "Numeric") return Effect.succeedSome(reply.value)
          return unexpected(target, verb, reply)
        })
      })
    )

  const touch = (key: string, ttl: Duration.Input, o?: NoreplyOptions) =>
    instrument(
      "touch",
      true,
      Effect.flatMap(exptimeOf(ttl), (exptime) => {
        const target = targetOf(key, o)
        const command: Command.Command = {
          _tag: "Touch",
          key: prefix + key,
          exptime,
          noreply: o?.noreply ?? defaultNoreply
        }
        return Effect.flatMap(send("touch", target, command, timeoutOf(o)), (reply) => {
          if (reply === undefined || reply._tag === "Touched") return Effect.succeed(true)
          if (reply._tag === "NotFound") return Effect.succeed(false)
          return unexpected(target, "touch", reply)
        })
      })
    )

  // ---- admin ----------------------------------------------------------------------------------------------

  const serverOf = (o: ServerOptions | undefined): Effect.Effect<Target, MemcacheIllegalInputError> => {
    if (o?.server === undefined) return Effect.succeed(backend.targets[0]!)
    const target = backend.targets.find((t) => t.name === o.server)
    return target === undefined
      ? Effect.fail(
          new MemcacheIllegalInputError({
            command: "server",
            field: "server",
            reason: `${o.server} is not one of ${backend.targets.map((t) => t.name).join(", ")}`
          })
        )
      : Effect.succeed(target)
  }
  const targetsOf = (o: ServerOptions | undefined) =>
    o?.server === undefined ? Effect.succeed(backend.targets) : Effect.map(serverOf(o), (t) => [t])

  /** Sends an admin command to every target (or the one named) and expects OK from each. */
  const toAll = (
    name: string,
    command: Command.Command,
    o: ServerOptions | undefined
  ): Effect.Effect<boolean, AdminError | MemcacheIllegalInputError> =>
    Effect.flatMap(targetsOf(o), (targets) =>
      Effect.map(
        Effect.forEach(
          targets,
          (target) =>
            Effect.flatMap(send(name, target, command, timeoutOf(o)), (reply): Effect.Effect<boolean, KeyError> => {
              if (reply === undefined || reply._tag === "Ok") return Effect.succeed(true)
              if (reply._tag === "Status") {
                return Effect.fail(
                  new MemcacheClientError({ command: name, server: target.name, text: `${reply.word} ${reply.text}` })
                )
              }
              return unexpected(target, name, reply)
            }),
          { concurrency: "unbounded" }
        ),
        () => true
      )
    )

  const stats = (args: ReadonlyArray<string> = [], o?: ServerOptions) =>
    instrument(
      "stats",
      true,
      Effect.flatMap(serverOf(o), (target) =>
        Effect.flatMap(send("stats", target, { _tag: "Stats", args }, timeoutOf(o)), (reply) => {
          if (reply?._tag === "Stats") return Effect.succeed(parseStats(reply))
          if (reply?._tag === "Ok" || reply?._tag === "Reset") return Effect.succeed(new Map<string, StatValue>())
          return unexpected(target, "stats", reply)
        })
      )
    )

  const version = (o?: ServerOptions) =>
    instrument(
      "version",
      true,
      Effect.flatMap(serverOf(o), (target) =>
        Effect.flatMap(send("version", target, Command.version, timeoutOf(o)), (reply) =>
          reply?._tag === "Version" ? Effect.succeed(reply.version) : unexpected(target, "version", reply)
        )
      )
    ) as Effect.Effect<string, AdminError>

  const flushAll = (
    o?: { readonly delay?: Duration.Input | undefined; readonly noreply?: boolean | undefined } & ServerOptions
  ) =>
    instrument(
      "flushAll",
      false,
      Effect.suspend(() => {
        const delay = o?.delay === undefined ? undefined : Math.ceil(toMillis(o.delay) / 1000)
        return toAll("flush_all", { _tag: "FlushAll", delay, noreply: o?.noreply ?? defaultNoreply }, o)
      })
    )

  const verbosity = (level: number, o?: { readonly noreply?: boolean | undefined } & ServerOptions) =>
    instrument(
      "verbosity",
      true,
      toAll("verbosity", { _tag: "Verbosity", level, noreply: o?.noreply ?? defaultNoreply }, o)
    )

  const cacheMemlimit = (megabytes: number, o?: ServerOptions) =>
    instrument("cacheMemlimit", true, toAll("cache_memlimit", { _tag: "CacheMemlimit", megabytes, noreply: false }, o))

  const quit = () => Effect.forEach(backend.targets, (t) => t.quit, { concurrency: "unbounded", discard: true })

  const shutdown = (o?: { readonly graceful?: boolean | undefined } & ServerOptions) =>
    instrument(
      "shutdown",
      false,
      Effect.flatMap(serverOf(o), (target) =>
        send("shutdown", target, { _tag: "Shutdown", graceful: o?.graceful ?? false }, timeoutOf(o)).pipe(
          // An enabled shutdown answers by closing the connection.
          Effect.catchTag("MemcacheUnexpectedCloseError", () => Effect.void),
          Effect.flatMap((reply) => (reply === undefined ? Effect.void : unexpected(target, "shutdown", reply)))
        )
      )
    ) as Effect.Effect<void, AdminError>

  return {
    get: (key, o) => fetchOne("get", key, undefined, o, plain),
    getMany: (keys, o) => fetchMany("get", keys, o, plain),
    gets: (key, o) => fetchOne("gets", key, undefined, o, withCas),
    getsMany: (keys, o) => fetchMany("gets", keys, o, withCas),
    getManyPartial: (keys, o) => fetchManyPartial("get", keys, o, plain),
    getsManyPartial: (keys, o) => fetchManyPartial("gets", keys, o, withCas),
    gat: (key, ttl, o) => fetchOne("gat", key, ttl, o, plain),
    gats: (key, ttl, o) => fetchOne("gats", key, ttl, o, withCas),
    set,
    setMany,
    add: store("add"),
    replace: store("replace"),
    append: store("append"),
    prepend: store("prepend"),
    cas,
    delete: del,
    deleteMany,
    setManyPartial,
    deleteManyPartial,
    incr: arithmetic("incr"),
    decr: arithmetic("decr"),
    touch,
    stats,
    version,
    flushAll,
    verbosity,
    cacheMemlimit,
    quit,
    shutdown,
    withSerializer: (s) => makeWith(backend, options, s, batcher)
  }
}

const toMillis = (input: Duration.Input): number => Duration.toMillis(Duration.fromInputUnsafe(input))

/** A ttl as the server's exptime: whole seconds, 0 for never, absolute unix time beyond 30 days. */
const exptimeOf = (ttl: Duration.Input): Effect.Effect<number> => {
  const millis = toMillis(ttl)
  if (millis === 0 || !Number.isFinite(millis)) return Effect.succeed(0)
  const seconds = Math.ceil(millis / 1000)
  if (seconds <= THIRTY_DAYS) return Effect.succeed(seconds)
  return Effect.map(Clock.currentTimeMillis, (now) => Exptime.fromSeconds(seconds, Math.floor(now / 1000)))
}

const succeedReply = (reply: Reply.Reply | undefined): Effect.Effect<Reply.Reply | undefined> => Effect.succeed(reply)

const unexpectedReply = (target: Target, name: string, reply: Reply.Reply | undefined) =>
  Effect.fail(
    new MemcacheProtocolError({ server: target.name, reason: `unexpected reply to ${name}: ${reply?._tag ?? "none"}` })
  )

const TRUE = Effect.succeed(true)
const FALSE = Effect.succeed(false)

/** A storage reply: `true` stored (or sent with noreply), `false` not stored. */
const interpretStore = (reply: Reply.Reply | undefined, target: Target, name: string) =>
  reply === undefined || reply._tag === "Stored"
    ? TRUE
    : reply._tag === "NotStored"
      ? FALSE
      : unexpectedReply(target, name, reply)

const CAS_STORED = Effect.succeed<CasResult>("Stored")
const CAS_EXISTS = Effect.succeed<CasResult>("Exists")
const CAS_NOT_FOUND = Effect.succeed<CasResult>("NotFound")

/** A cas reply. */
const interpretCas = (reply: Reply.Reply | undefined, target: Target, name: string) =>
  reply === undefined || reply._tag === "Stored"
    ? CAS_STORED
    : reply._tag === "Exists"
      ? CAS_EXISTS
      : reply._tag === "NotFound"
        ? CAS_NOT_FOUND
        : unexpectedReply(target, name, reply)

/** A ttl as a relative exptime, or `undefined` when it is beyond 30 days (an absolute time needs the Clock). */
const relativeExptime = (ttl: Duration.Input): number | undefined => {
  const millis = toMillis(ttl)
  if (millis === 0 || !Number.isFinite(millis)) return 0
  const seconds = Math.ceil(millis / 1000)
  return seconds <= THIRTY_DAYS ? seconds : undefined
}

/**
 * A keyed command on its way to a connection: the request, and what its caller makes of the reply, in one
 * object (no closure per call). Error replies become typed failures; the rest goes through `interpret`.
 */
class Call<X, E> extends Request {
  private readonly name: string
  private readonly target: Target
  private readonly interpret: (reply: Reply.Reply | undefined, target: Target, name: string) => Effect.Effect<X, E>
  private readonly resume: (effect: Effect.Effect<X, E | KeyError>) => void
  constructor(
    command: Validation.Validated,
    expectation: Reply.Expectation | undefined,
    timeoutMillis: number,
    name: string,
    target: Target,
    interpret: (reply: Reply.Reply | undefined, target: Target, name: string) => Effect.Effect<X, E>,
    resume: (effect: Effect.Effect<X, E | KeyError>) => void
  ) {
    super(command, expectation, timeoutMillis)
    this.name = name
    this.target = target
    this.interpret = interpret
    this.resume = resume
  }
  override complete(exit: Exit.Exit<Reply.Reply | undefined, TransportError>): void {
    if (exit._tag === "Failure") {
      this.resume(exit as Exit.Exit<never, TransportError>)
      return
    }
    this.resume(interpretReply(this.name, this.target, exit.value, this.interpret))
  }
}

const isRefused = (
  command: Validation.Validated | MemcacheSerializationError | MemcacheIllegalInputError
): command is MemcacheSerializationError | MemcacheIllegalInputError =>
  command._tag === "MemcacheSerializationError" || command._tag === "MemcacheIllegalInputError"

/** A refused input as the surface reports it. */
const illegal = (command: string, invalid: InvalidInput): MemcacheIllegalInputError =>
  new MemcacheIllegalInputError({ command, field: invalid.field, reason: invalid.reason })

/** The typed failure of an error reply (`ERROR`, `CLIENT_ERROR`, `SERVER_ERROR`), or `undefined`. */
const replyError = (command: string, server: string, reply: Reply.Reply): ReplyError | undefined => {
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

/** What a keyed call makes of its reply: the typed failure of an error reply, else `interpret`'s answer. */
const interpretReply = <X, E>(
  name: string,
  target: Target,
  reply: Reply.Reply | undefined,
  interpret: (reply: Reply.Reply | undefined, target: Target, name: string) => Effect.Effect<X, E>
): Effect.Effect<X, E | ReplyError> => {
  const error = reply === undefined ? undefined : replyError(name, target.name, reply)
  return error === undefined ? interpret(reply, target, name) : Effect.fail(error)
}

/** The reply, or the typed failure of an error reply: the one mapping every path uses. */
const checkReply = (command: string, server: string, reply: Reply.Reply): Effect.Effect<Reply.Reply, ReplyError> => {
  const error = replyError(command, server, reply)
  return error === undefined ? Effect.succeed(reply) : Effect.fail(error)
}

/**
 * A partial result keeps one failure per server: the first, unless it was only a connection aborted because
 * another request on it failed, which says less than the failure that caused it.
 */
const keepFailure = <E extends { readonly _tag: string }>(failures: Map<string, E>, server: string, error: E): void => {
  const known = failures.get(server) as { readonly _tag: string; readonly reason?: string } | undefined
  if (known === undefined || (known._tag === "MemcacheConnectionError" && known.reason === "aborted"))
    failures.set(server, error)
}

const REPLY_ERROR_TAGS = new Set(["MemcacheUnknownCommandError", "MemcacheClientError", "MemcacheServerError"])
const isReplyError = (e: { readonly _tag: string }): boolean => REPLY_ERROR_TAGS.has(e._tag)

const TRANSPORT_TAGS = new Set([
  "MemcacheTimeoutError",
  "MemcacheConnectionError",
  "MemcacheUnexpectedCloseError",
  "MemcacheProtocolError"
])
const isTransport = (e: unknown): boolean =>
  typeof e === "object" && e !== null && TRANSPORT_TAGS.has((e as { _tag?: string })._tag ?? "")

const INTEGER = /^-?\d+$/
const DECIMAL = /^-?\d+\.\d+$/

const parseStatValue = (text: string): StatValue => {
  if (INTEGER.test(text)) {
    const n = Number(text)
    return Number.isSafeInteger(n) ? n : BigInt(text)
  }
  if (DECIMAL.test(text)) return Number(text)
  return text
}

const parseStats = (reply: Reply.Stats): ReadonlyMap<string, StatValue> => {
  const out = new Map<string, StatValue>()
  for (const [name, value] of reply.stats) out.set(name, parseStatValue(value))
  reply.lines.forEach((line, i) => {
    if (!line.startsWith("STAT ")) out.set(`line:${i}`, line)
  })
  return out
}

/** @internal */
export const retrievalExpectation = retrieval
/** @internal */
export const expectations = expect
