/**
 * `getOrCompute`: cache-aside on the meta protocol. One meta get with `vivify` (and `recache`) reads the value
 * and, on a miss, takes a lease; what the reply says decides who computes (see the `GetOrCompute` module for
 * the behaviour). In-process single flight is {@link SingleFlight}'s.
 *
 * @internal
 */
import type * as Meta from "@effect-memcache/protocol/Meta"
import type * as Reply from "@effect-memcache/protocol/Reply"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Result from "effect/Result"
import type * as GetOrCompute from "../GetOrCompute.ts"
import type { MemcacheShape } from "../Memcache.ts"
import {
  isReplyError,
  isTransportError,
  type MemcacheIllegalInputError,
  type MemcacheSerializationError,
  type ReplyError,
  type TransportError
} from "../MemcacheError.ts"
import type * as Serializer from "../Serializer.ts"
import { exptimeOf, isPlaceholder, secondsOf, sendMeta, wireKey } from "./MetaCalls.ts"
import type { Settings } from "./Settings.ts"
import { SingleFlight } from "./SingleFlight.ts"

type CacheAside<A> = Pick<MemcacheShape<A>, "getOrCompute" | "getOrComputeOutcome">

/** The lease of a missing key when the call names none. */
const DEFAULT_LEASE_SECONDS = 10
/** The first pause of a caller waiting for another's lease; it doubles, up to the longest. */
const FIRST_PAUSE_MILLIS = 5
const LONGEST_PAUSE_MILLIS = 250

/** What one read of the key found, and so what the caller does next. */
type Found<A> =
  | { readonly _tag: "Hit"; readonly value: A }
  | { readonly _tag: "Stale"; readonly value: A }
  /** This caller holds the lease (or the recache, or the stale item's win): it computes, and stores under `cas`. */
  | { readonly _tag: "Won"; readonly cas: bigint; readonly reason: "miss" | "recache" | "stale" }
  /** Another caller holds the lease of the placeholder whose CAS unique is `cas`. */
  | { readonly _tag: "Wait"; readonly cas: bigint }
  /** No item, and no lease: the server did not create one. */
  | { readonly _tag: "Miss" }
  | { readonly _tag: "Unreadable"; readonly error: MemcacheSerializationError }

type CacheFailure = TransportError | ReplyError

const isCacheFailure = (e: { readonly _tag: string }): e is CacheFailure => isTransportError(e) || isReplyError(e)

/** A call's settled parameters. */
interface Call<A, E, R> {
  readonly key: string
  readonly compute: Effect.Effect<A, E, R>
  readonly options: GetOrCompute.Options | undefined
  readonly exptime: number
  readonly lease: number
  readonly maxWaitMillis: number
  readonly recache: number | undefined
}

const computed = (reason: Extract<GetOrCompute.Outcome, { _tag: "Computed" }>["reason"]): GetOrCompute.Outcome => ({
  _tag: "Computed",
  reason
})
const HIT: GetOrCompute.Outcome = { _tag: "Hit" }
const STALE: GetOrCompute.Outcome = { _tag: "Stale" }

/** What a reply to the lease read means. */
const foundOf = <A>(serializer: Serializer.Serializer<A>, key: string, reply: Reply.Meta): Found<A> | undefined => {
  if (reply.code === "EN") return { _tag: "Miss" }
  if (reply.code !== "VA") return undefined
  const f = reply.flags
  const cas = f.cas ?? 0n
  const placeholder = isPlaceholder(reply)
  if (f.win === true) return { _tag: "Won", cas, reason: f.stale === true ? "stale" : placeholder ? "miss" : "recache" }
  // Not won, so a placeholder here carries `lost`: another caller holds its lease.
  if (placeholder && f.stale !== true) return { _tag: "Wait", cas }
  const decoded = serializer.deserialize(key, reply.value ?? new Uint8Array(0), f.flags ?? 0)
  if (Result.isFailure(decoded)) return { _tag: "Unreadable", error: decoded.failure }
  return f.stale === true ? { _tag: "Stale", value: decoded.success } : { _tag: "Hit", value: decoded.success }
}

/** What the calls of a view work with. */
interface Ctx<A> {
  readonly settings: Settings
  readonly serializer: Serializer.Serializer<A>
  /** The view's text get and set, for servers without meta commands. */
  readonly text: Pick<MemcacheShape<A>, "get" | "set">
}

/** One read of the key: the value, or the lease, in one meta get. */
const read = <A, E, R>(ctx: Ctx<A>, call: Call<A, E, R>) => {
  const command: Meta.MetaGet = {
    _tag: "MetaGet",
    key: wireKey(ctx.settings, call.key),
    value: true,
    clientFlags: true,
    cas: true,
    vivify: call.lease,
    recache: call.recache
  }
  return sendMeta(ctx.settings, "getOrCompute", call.key, call.options, command, (reply) => {
    const found = foundOf(ctx.serializer, call.key, reply)
    return found === undefined ? undefined : Effect.succeed(found)
  })
}

/** Stores the computed value (compare-and-swap when the call holds a lease); the cache's failures are logged. */
const store = <A, E, R>(
  ctx: Ctx<A>,
  call: Call<A, E, R>,
  value: A,
  cas: bigint | undefined,
  mode: Meta.SetMode | undefined
) =>
  Effect.suspend((): Effect.Effect<void, MemcacheSerializationError> => {
    const serialized = ctx.serializer.serialize(call.key, value)
    if (Result.isFailure(serialized)) return Effect.fail(serialized.failure)
    const command: Meta.MetaSet = {
      _tag: "MetaSet",
      key: wireKey(ctx.settings, call.key),
      value: serialized.success.bytes,
      clientFlags: serialized.success.flags,
      ttl: call.exptime,
      compareCas: cas,
      mode
    }
    return sendMeta(ctx.settings, "getOrCompute", call.key, call.options, command, () => Effect.void).pipe(
      Effect.catch((e) =>
        e._tag === "MemcacheIllegalInputError"
          ? Effect.logWarning(`memcache getOrCompute: the computed value of ${call.key} was not cached: ${e.message}`)
          : Effect.logWarning(`memcache getOrCompute: storing ${call.key} failed: ${e._tag}: ${e.message}`)
      )
    )
  })

/** Gives a lease back (deletes the placeholder) after a failed computation, so the next caller wins at once. */
const release = <A, E, R>(ctx: Ctx<A>, call: Call<A, E, R>, cas: bigint) =>
  Effect.ignore(
    sendMeta(
      ctx.settings,
      "getOrCompute",
      call.key,
      call.options,
      { _tag: "MetaDelete", key: wireKey(ctx.settings, call.key), compareCas: cas },
      () => Effect.void
    )
  )

const computeAndStore = <A, E, R>(
  ctx: Ctx<A>,
  call: Call<A, E, R>,
  outcome: GetOrCompute.Outcome,
  cas: bigint | undefined,
  mode: Meta.SetMode | undefined,
  lease: bigint | undefined
): Effect.Effect<GetOrCompute.Computed<A>, E | MemcacheSerializationError, R> =>
  call.compute.pipe(
    // A failure gives the lease back; an interruption (its process may be gone) leaves it to expire.
    Effect.onError((cause) =>
      lease === undefined || Cause.hasInterruptsOnly(cause) ? Effect.void : release(ctx, call, lease)
    ),
    Effect.flatMap((value) => Effect.as(store(ctx, call, value, cas, mode), { value, outcome }))
  )

const unavailable = <A, E, R>(call: Call<A, E, R>, error: CacheFailure) =>
  Effect.flatMap(
    Effect.logWarning(
      `memcache getOrCompute: the cache failed (${error._tag}: ${error.message}); ${call.key} computed without it`
    ),
    () => Effect.map(call.compute, (value) => ({ value, outcome: { _tag: "Unavailable", error } as const }))
  )

/** Acts on what a read found; `waitedSince` is when this caller started waiting for another's lease. */
const act = <A, E, R>(
  ctx: Ctx<A>,
  call: Call<A, E, R>,
  found: Found<A>,
  waitedSince: number | undefined
): Effect.Effect<GetOrCompute.Computed<A>, E | GetOrCompute.Error, R> => {
  switch (found._tag) {
    case "Hit":
      return Effect.map(Clock.currentTimeMillis, (now) => ({
        value: found.value,
        outcome: waitedSince === undefined ? HIT : { _tag: "LeaseLost", waited: Duration.millis(now - waitedSince) }
      }))
    case "Stale":
      return Effect.succeed({ value: found.value, outcome: STALE })
    case "Won":
      return computeAndStore(ctx, call, computed(found.reason), found.cas, undefined, found.cas)
    case "Miss":
      return computeAndStore(ctx, call, computed("miss"), undefined, "add", undefined)
    case "Unreadable":
      return Effect.flatMap(
        Effect.logWarning(
          `memcache getOrCompute: the cached ${call.key} is unreadable, recomputed: ${found.error.message}`
        ),
        () => computeAndStore(ctx, call, computed("unreadable"), undefined, undefined, undefined)
      )
    case "Wait":
      return Effect.flatMap(Clock.currentTimeMillis, (now) =>
        wait(ctx, call, waitedSince ?? now, FIRST_PAUSE_MILLIS, found.cas)
      )
  }
}

/** Waits for another caller's lease: polls with a growing, jittered pause, at most `maxWait` in all. */
const wait = <A, E, R>(
  ctx: Ctx<A>,
  call: Call<A, E, R>,
  since: number,
  pause: number,
  cas: bigint
): Effect.Effect<GetOrCompute.Computed<A>, E | GetOrCompute.Error, R> =>
  Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    if (now - since >= call.maxWaitMillis) {
      return yield* computeAndStore(ctx, call, computed("waitExpired"), cas, undefined, undefined)
    }
    const jitter = 0.5 + (yield* Random.next)
    yield* Effect.sleep(Math.min(pause * jitter, call.maxWaitMillis - (now - since)))
    const found = yield* Effect.result(read(ctx, call))
    if (Result.isFailure(found)) return yield* failed(ctx, call, found.failure)
    if (found.success._tag === "Wait") {
      return yield* wait(ctx, call, since, Math.min(pause * 2, LONGEST_PAUSE_MILLIS), found.success.cas)
    }
    return yield* act(ctx, call, found.success, since)
  })

/** The read failed: refused input fails the call; a server without meta commands gets the plain path. */
const failed = <A, E, R>(ctx: Ctx<A>, call: Call<A, E, R>, error: MemcacheIllegalInputError | CacheFailure) => {
  if (error._tag === "MemcacheIllegalInputError") return Effect.fail(error)
  if (error._tag === "MemcacheUnknownCommandError") return plain(ctx, call)
  return unavailable(call, error)
}

/** Without meta commands: a plain get, and on a miss `compute` and a plain set. */
const plain = <A, E, R>(
  ctx: Ctx<A>,
  call: Call<A, E, R>
): Effect.Effect<GetOrCompute.Computed<A>, E | GetOrCompute.Error, R> =>
  Effect.gen(function* () {
    const view = yield* Effect.result(ctx.text.get(call.key, call.options))
    if (Result.isSuccess(view) && Option.isSome(view.success)) return { value: view.success.value, outcome: HIT }
    if (Result.isFailure(view) && view.failure._tag === "MemcacheIllegalInputError") return yield* view.failure
    if (Result.isFailure(view) && isCacheFailure(view.failure)) {
      return yield* unavailable(call, view.failure)
    }
    const value = yield* call.compute
    yield* ctx.text
      .set(call.key, value, { exptime: call.exptime, noreply: false, timeout: call.options?.timeout })
      .pipe(
        Effect.catchIf(isCacheFailure, (e) =>
          Effect.logWarning(`memcache getOrCompute: storing ${call.key} failed: ${e._tag}: ${e.message}`)
        )
      )
    return { value, outcome: computed("noLease") }
  })

const run = <A, E, R>(ctx: Ctx<A>, key: string, compute: Effect.Effect<A, E, R>, o: GetOrCompute.Options | undefined) =>
  Effect.gen(function* () {
    const exptime = (yield* exptimeOf("getOrCompute", o?.ttl)) ?? 0
    const lease = (yield* secondsOf("getOrCompute", "lease", o?.lease)) ?? DEFAULT_LEASE_SECONDS
    const maxWait = yield* secondsOf("getOrCompute", "maxWait", o?.maxWait)
    const recache = yield* secondsOf("getOrCompute", "recache", o?.recache)
    const call: Call<A, E, R> = {
      key,
      compute,
      options: o,
      exptime,
      lease: Math.max(lease, 1),
      maxWaitMillis: (maxWait ?? Math.max(lease, 1)) * 1000,
      recache
    }
    if (ctx.settings.proxy.name !== undefined) return yield* plain(ctx, call)
    const found = yield* Effect.result(read(ctx, call))
    return yield* Result.isFailure(found) ? failed(ctx, call, found.failure) : act(ctx, call, found.success, undefined)
  })

/** The cache-aside calls of a view. */
export const make = <A>(
  settings: Settings,
  serializer: Serializer.Serializer<A>,
  text: Pick<MemcacheShape<A>, "get" | "set">
): CacheAside<A> => {
  const flights = new SingleFlight()
  const ctx: Ctx<A> = { settings, serializer, text }
  // One span (and metrics) per call, around the lease and the computation; the cache's own failures never
  // reach it, so the retry schedule has nothing to retry.
  const outcome: CacheAside<A>["getOrComputeOutcome"] = (key, compute, o) =>
    settings.instrument.around("getOrCompute", true, flights.run(key, run(ctx, key, compute, o)))
  return {
    getOrComputeOutcome: outcome,
    getOrCompute: (key, compute, o) => Effect.map(outcome(key, compute, o), (r) => r.value)
  }
}
