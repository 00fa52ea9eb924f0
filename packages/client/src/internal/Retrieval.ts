/**
 * The retrieval commands of the surface: `get`, `gets`, `gat`, `gats` and their multi-key and partial forms,
 * with values read by the view's serializer.
 *
 * @internal
 */
import type * as Command from "@effect-memcache/protocol/Command"
import * as Key from "@effect-memcache/protocol/Key"
import type * as Reply from "@effect-memcache/protocol/Reply"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import type { CallOptions, Expiry, MemcacheShape, PartialHits, ValueError, WithCas } from "../Memcache.ts"
import type { MemcacheIllegalInputError, MemcacheSerializationError } from "../MemcacheError.ts"
import type * as Serializer from "../Serializer.ts"
import { illegal, send, succeedReply, unexpected } from "./Call.ts"
import { inRequestOrder } from "./GetBatcher.ts"
import { type GetPart, planGets } from "./GetPlan.ts"
import { withoutServer } from "./LogText.ts"
import { partialHits } from "./Partial.ts"
import { check, isRefused, type Settings, targetOf, timeoutOf } from "./Settings.ts"
import * as Ttl from "./Ttl.ts"

/** What a call returns for one hit: the value, or the value with its CAS unique. */
type Build<A, X> = (value: Reply.Value, a: A) => X

const plain = <A>(_value: Reply.Value, a: A): A => a
const withCas = <A>(value: Reply.Value, a: A): WithCas<A> => ({ value: a, cas: value.cas ?? 0n, flags: value.flags })

/** The one value decoder: an item's bytes and flags, read by the serializer. */
export const decode = <A>(
  serializer: Serializer.Serializer<A>,
  key: string,
  value: Reply.Value
): Result.Result<A, MemcacheSerializationError> => serializer.deserialize(key, value.value, value.flags)

type Retrieval<A> = Pick<
  MemcacheShape<A>,
  "get" | "gets" | "gat" | "gats" | "getMany" | "getsMany" | "getManyPartial" | "getsManyPartial"
>

/** What the retrieval commands of a view read values with. */
interface View<A> {
  readonly settings: Settings
  readonly serializer: Serializer.Serializer<A>
}

/** A single key's answer: a miss, or the value read by the serializer. */
const answer =
  <A, X>(view: View<A>, key: string, build: Build<A, X>) =>
  (value: Reply.Value | undefined): Effect.Effect<Option.Option<X>, ValueError> => {
    if (value === undefined) return Effect.succeedNone
    const decoded = decode(view.serializer, key, value)
    return Result.isFailure(decoded)
      ? Effect.fail(decoded.failure)
      : Effect.succeed(Option.some(build(value, decoded.success)))
  }

/** `get`/`gets` of one key: batched with the other keys asked in the same tick, unless batching is off. */
const fetchOne = <A, X>(
  view: View<A>,
  verb: "get" | "gets",
  key: string,
  o: CallOptions | undefined,
  build: Build<A, X>
): Effect.Effect<Option.Option<X>, ValueError> => {
  const { settings } = view
  const { instrument, batcher, single } = settings
  const full = settings.prefix + key
  const invalid = Key.validate(full, settings.keyRules)
  if (invalid !== undefined) return instrument.around(verb, true, Effect.fail(illegal(verb, invalid)))
  if (!settings.batching) return touchOne(view, verb, key, undefined, o, build)
  const hot = settings.hot[verb]
  const timeout = timeoutOf(settings, o)
  const onValue = answer(view, key, build)
  if (hot !== undefined) {
    // The common call (nothing but a span to add) is one Effect.callback whose span is decided when it runs. A
    // cluster routes when the call runs (its ring may change between runs of the same effect).
    const span = hot ?? undefined
    const call =
      single !== undefined
        ? batcher.get(single, verb, full, timeout, onValue, span)
        : Effect.suspend(() => batcher.get(targetOf(settings, key, o), verb, full, timeout, onValue, span))
    return instrument.orMiss(verb, Option.none(), call)
  }
  const run = Effect.suspend(() => {
    const target = targetOf(settings, key, o)
    return instrument.toServer(target.name, batcher.get(target, verb, full, timeout, onValue))
  })
  // The miss comes last: retries must see the failure before ignoreErrors hides it.
  return instrument.orMiss(verb, Option.none(), instrument.around(verb, true, run))
}

/** One key, sent alone: `gat`/`gats`, and `get`/`gets` when batching is off. */
const touchOne = <A, X>(
  view: View<A>,
  verb: "get" | "gets" | "gat" | "gats",
  key: string,
  ttl: Expiry | undefined,
  o: CallOptions | undefined,
  build: Build<A, X>
): Effect.Effect<Option.Option<X>, ValueError> => {
  const { settings } = view
  const full = settings.prefix + key
  const command = (exptime: number): Command.Get | Command.Gat =>
    verb === "get" || verb === "gets"
      ? { _tag: "Get", verb, keys: [full] }
      : { _tag: "Gat", verb, exptime, keys: [full] }
  const run = Effect.flatMap(Ttl.resolve(verb, ttl === undefined ? 0 : Ttl.ofExpiry(verb, ttl)), (exptime) => {
    const checked = check(settings, verb, command(exptime))
    if (isRefused(checked)) return Effect.fail(checked)
    const target = targetOf(settings, key, o)
    const sent = send(verb, target, checked, timeoutOf(settings, o), (reply) =>
      reply?._tag === "Values" ? answer(view, key, build)(reply.values[0]) : unexpected(target, verb, reply)
    )
    return settings.instrument.toServer(target.name, sent)
  })
  return settings.instrument.orMiss(verb, Option.none(), settings.instrument.around(verb, true, run))
}

/** No hit (a value may be `undefined`). */
const MISS: unique symbol = Symbol("MISS")

/** The hits of one reply per part, in the order asked. */
const collect = <A, X>(
  view: View<A>,
  verb: "get" | "gets",
  asked: ReadonlyArray<string>,
  parts: ReadonlyArray<GetPart>,
  replies: ReadonlyArray<Reply.Reply | undefined>,
  build: Build<A, X>
): Effect.Effect<ReadonlyMap<string, X>, ValueError> => {
  const { prefix } = view.settings
  const found = new Map<string, X>()
  const whole = parts[0]!
  if (whole.at === undefined) {
    // One line asked the whole list: memcached answers in the order asked, a proxy's merged reply may not.
    const reply = replies[0]
    if (reply?._tag !== "Values") return unexpected(whole.target, verb, reply)
    const values = inRequestOrder(whole.keys, reply.values) ? reply.values : inOrderAsked(whole.keys, reply.values)
    for (const value of values) {
      const key = prefix === "" ? value.key : value.key.slice(prefix.length)
      const decoded = decode(view.serializer, key, value)
      if (Result.isFailure(decoded)) return Effect.fail(decoded.failure)
      found.set(key, build(value, decoded.success))
    }
    return Effect.succeed(found)
  }
  // Several lines: each answers in the order it asked, and `at` puts its hits back in the order asked.
  const hits = new Array<X | typeof MISS>(asked.length).fill(MISS)
  for (let i = 0; i < replies.length; i++) {
    const reply = replies[i]
    const { target, keys, at } = parts[i]!
    if (reply?._tag !== "Values" || at === undefined) return unexpected(target, verb, reply)
    let k = 0
    for (const value of reply.values) {
      // The decoder took only keys this line asked: the value's key is the same string, usually in its order.
      while (k < keys.length && keys[k] !== value.key) k++
      if (k === keys.length) k = keys.indexOf(value.key) // out of order: a proxy's merged reply
      if (k < 0) return unexpected(target, verb, reply)
      const decoded = decode(view.serializer, asked[at[k]!]!, value)
      if (Result.isFailure(decoded)) return Effect.fail(decoded.failure)
      hits[at[k++]!] = build(value, decoded.success)
    }
  }
  for (let i = 0; i < asked.length; i++) {
    const hit = hits[i]!
    if (hit !== MISS) found.set(asked[i]!, hit)
  }
  return Effect.succeed(found)
}

/** The values of a reply in the order their keys were asked (each key's value once). */
const inOrderAsked = (keys: ReadonlyArray<string>, values: ReadonlyArray<Reply.Value>): Array<Reply.Value> => {
  const byKey = new Map(values.map((value) => [value.key, value]))
  return keys.flatMap((key) => {
    const value = byKey.get(key)
    byKey.delete(key)
    return value === undefined ? [] : [value]
  })
}

/** A multi-get: one request per server and line, all at once; any failure fails the call. */
const fetchAll = <A, X>(
  view: View<A>,
  verb: "get" | "gets",
  asked: ReadonlyArray<string>,
  o: CallOptions | undefined,
  build: Build<A, X>
): Effect.Effect<ReadonlyMap<string, X>, ValueError> =>
  Effect.suspend(() => {
    if (asked.length === 0) return Effect.succeed(new Map<string, X>())
    const parts = planGets(view.settings, verb, asked, o)
    if (!Array.isArray(parts)) return Effect.fail(parts)
    const timeout = timeoutOf(view.settings, o)
    // One part (the common case): the reply is collected in the request's completion.
    if (parts.length === 1) {
      const part = parts[0]!
      return send(verb, part.target, part.command, timeout, (reply) =>
        collect(view, verb, asked, parts, [reply], build)
      )
    }
    const each = (part: GetPart) => send(verb, part.target, part.command, timeout, succeedReply)
    return Effect.flatMap(Effect.forEach(parts, each, { concurrency: "unbounded" }), (replies) =>
      collect(view, verb, asked, parts, replies, build)
    )
  })

const fetchMany = <A, X>(
  view: View<A>,
  verb: "get" | "gets",
  keys: Iterable<string>,
  o: CallOptions | undefined,
  build: Build<A, X>
): Effect.Effect<ReadonlyMap<string, X>, ValueError> => {
  const { instrument } = view.settings
  const name = verb === "get" ? "getMany" : "getsMany"
  // Not deduplicated: a key given twice is answered twice and lands once in the map, which costs less than a
  // Set over every call's keys.
  const asked = Array.from(keys)
  if (!view.settings.ignoreErrors)
    return instrument.around(name, true, fetchAll(view, verb, asked, o, build), asked.length)
  // ignoreErrors: a failed server's keys are misses, and the other servers' hits are kept (pymemcache's
  // HashClient), rather than the whole call becoming a miss.
  const partial = Effect.tap(partialOf(view, verb, asked, o, build), (r) =>
    Effect.forEach(r.failures, ([server, e]) =>
      Effect.logWarning(
        `memcache ${verb} failed on ${server}, its keys treated as misses (ignoreErrors): ${e._tag}: ${withoutServer(e, server)}`
      )
    )
  )
  return instrument.around(
    name,
    true,
    Effect.map(partial, (r) => r.hits),
    asked.length
  )
}

/** A multi-get with each server's failure kept as data instead of failing the call. */
const partialOf = <A, X>(
  view: View<A>,
  verb: "get" | "gets",
  asked: ReadonlyArray<string>,
  o: CallOptions | undefined,
  build: Build<A, X>
): Effect.Effect<PartialHits<X>, MemcacheIllegalInputError> =>
  Effect.suspend(() => {
    const { settings } = view
    const parts = planGets(settings, verb, asked, o)
    if (!Array.isArray(parts)) return Effect.fail(parts)
    const timeout = timeoutOf(settings, o)
    // Each server's request is retried on its own (its failure never reaches the caller's retry).
    const each = (part: GetPart) =>
      Effect.result(
        settings.instrument.retrying(
          true,
          send(verb, part.target, part.command, timeout, (reply, target) =>
            reply?._tag === "Values" ? Effect.succeed(reply) : unexpected(target, verb, reply)
          )
        )
      )
    return Effect.map(Effect.forEach(parts, each, { concurrency: "unbounded" }), (results) =>
      partialHits(
        asked,
        parts,
        results,
        settings.prefix,
        (key, value): Result.Result<X, MemcacheSerializationError> => {
          const decoded = decode(view.serializer, key, value)
          return Result.isFailure(decoded)
            ? Result.fail(decoded.failure)
            : Result.succeed(build(value, decoded.success))
        }
      )
    )
  })

const fetchManyPartial = <A, X>(
  view: View<A>,
  verb: "get" | "gets",
  keys: Iterable<string>,
  o: CallOptions | undefined,
  build: Build<A, X>
): Effect.Effect<PartialHits<X>, MemcacheIllegalInputError> => {
  const asked = Array.from(keys)
  const name = verb === "get" ? "getManyPartial" : "getsManyPartial"
  return view.settings.instrument.around(name, true, partialOf(view, verb, asked, o, build), asked.length)
}

/** The retrieval commands of a view with values of type `A`. */
export const make = <A>(settings: Settings, serializer: Serializer.Serializer<A>): Retrieval<A> => {
  const view: View<A> = { settings, serializer }
  return {
    get: (key, o) => fetchOne(view, "get", key, o, plain),
    gets: (key, o) => fetchOne(view, "gets", key, o, withCas),
    gat: (key, ttl, o) => touchOne(view, "gat", key, ttl, o, plain),
    gats: (key, ttl, o) => touchOne(view, "gats", key, ttl, o, withCas),
    getMany: (keys, o) => fetchMany(view, "get", keys, o, plain),
    getsMany: (keys, o) => fetchMany(view, "gets", keys, o, withCas),
    getManyPartial: (keys, o) => fetchManyPartial(view, "get", keys, o, plain),
    getsManyPartial: (keys, o) => fetchManyPartial(view, "gets", keys, o, withCas)
  }
}
