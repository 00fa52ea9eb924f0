/**
 * The keyed meta commands of the surface: `metaGet`, `metaSet`, `metaDelete`, `metaArithmetic` and `metaDebug`,
 * their typed options turned into the protocol's meta commands and their replies into typed results.
 *
 * @internal
 */
import * as Key from "@effect-memcache/protocol/Key"
import type * as Meta from "@effect-memcache/protocol/Meta"
import type * as Reply from "@effect-memcache/protocol/Reply"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import type { CallOptions, Expiry, KeyError, MemcacheShape, ValueError } from "../Memcache.ts"
import { MemcacheIllegalInputError } from "../MemcacheError.ts"
import type * as MemcacheMeta from "../MemcacheMeta.ts"
import type * as Serializer from "../Serializer.ts"
import { sendKnown } from "./Call.ts"
import { check, isRefused, type Settings, targetOf, timeoutOf } from "./Settings.ts"
import * as Ttl from "./Ttl.ts"

type MetaCalls<A> = Pick<MemcacheShape<A>, "metaGet" | "metaSet" | "metaDelete" | "metaArithmetic" | "metaDebug">

const encoder = new TextEncoder()
const utf8 = new TextDecoder("utf-8", { fatal: true })
const latin1 = new TextDecoder("latin1")

/** The key as sent: the key prefix prepended, to the text or to the bytes. */
export const wireKey = (settings: Settings, key: MemcacheMeta.Key): string | Uint8Array => {
  if (typeof key === "string") return settings.prefix + key
  if (settings.prefix === "") return key
  const prefix = encoder.encode(settings.prefix)
  const joined = new Uint8Array(prefix.length + key.length)
  joined.set(prefix)
  joined.set(key, prefix.length)
  return joined
}

/** The key as a text key would route: bytes that are UTF-8 route as that text, so they reach the same server. */
export const routingKeyOf = (key: MemcacheMeta.Key): string => {
  if (typeof key === "string") return key
  try {
    return utf8.decode(key)
  } catch {
    return latin1.decode(key)
  }
}

/** The key's name in errors and in the serializer's messages. */
const nameOf = (key: MemcacheMeta.Key): string => (typeof key === "string" ? key : `base64:${Key.toBase64(key)}`)

/** An optional expiry as an exptime, or why it cannot be sent. */
export const exptimeOf = (
  command: string,
  expiry: Expiry | undefined
): Effect.Effect<number | undefined, MemcacheIllegalInputError> =>
  expiry === undefined ? Effect.undefined : Ttl.resolve(command, Ttl.ofExpiry(command, expiry))

/** A recache threshold (`R`) in whole seconds, rounded up. */
export const secondsOf = (
  command: string,
  field: string,
  input: Duration.Input | undefined
): Effect.Effect<number | undefined, MemcacheIllegalInputError> => {
  if (input === undefined) return Effect.undefined
  const duration = Duration.fromInput(input)
  if (Option.isNone(duration) || !Duration.isFinite(duration.value) || Duration.toMillis(duration.value) < 0) {
    return Effect.fail(
      new MemcacheIllegalInputError({ command, field, reason: `${String(input)} is not a finite, positive duration` })
    )
  }
  return Effect.succeed(Math.ceil(Duration.toMillis(duration.value) / 1000))
}

/** A u64 option given as a bigint or a safe integer (the range is checked with the command). */
const u64 = (
  field: string,
  value: bigint | number | undefined
): Effect.Effect<bigint | undefined, MemcacheIllegalInputError> => {
  if (value === undefined || typeof value === "bigint") return Effect.succeed(value)
  if (Number.isSafeInteger(value)) return Effect.succeed(BigInt(value))
  const reason = `${value} is not a safe integer (pass a bigint for large values)`
  return Effect.fail(new MemcacheIllegalInputError({ command: "metaArithmetic", field, reason }))
}

/** The returned key, without the key prefix. */
const returnedKey = (settings: Settings, flags: Reply.MetaFlags): string | undefined =>
  flags.key === undefined
    ? undefined
    : settings.prefix !== "" && flags.key.startsWith(settings.prefix)
      ? flags.key.slice(settings.prefix.length)
      : flags.key

const ttlOf = (seconds: number | undefined): Duration.Duration | undefined =>
  seconds === undefined ? undefined : seconds < 0 ? Duration.infinity : Duration.seconds(seconds)

/** Sends a meta command, checked, to the key's server; `interpret` answers the replies it knows. */
export const sendMeta = <X, E>(
  settings: Settings,
  name: string,
  key: MemcacheMeta.Key,
  o: { readonly timeout?: Duration.Input | undefined; readonly routingKey?: string | undefined } | undefined,
  command: Meta.MetaCommand,
  interpret: (reply: Reply.Meta) => Effect.Effect<X, E> | undefined
): Effect.Effect<X, E | KeyError> => {
  const checked = check(settings, name, command)
  if (isRefused(checked)) return Effect.fail(checked)
  const target = targetOf(settings, routingKeyOf(key), o)
  return settings.instrument.toServer(
    target.name,
    sendKnown(name, target, checked, timeoutOf(settings, o), (reply) =>
      reply?._tag === "Meta" ? interpret(reply) : undefined
    )
  )
}

/**
 * Whether a meta get's reply is a lease's placeholder: the empty item (0 bytes, flags 0) that `vivify` made, with a
 * win or lost marker. An empty value stored with flags 0 looks the same while a recache lease runs on it.
 */
export const isPlaceholder = (reply: Reply.Meta): boolean =>
  (reply.flags.win === true || reply.flags.winSent === true) &&
  reply.value !== undefined &&
  reply.value.length === 0 &&
  (reply.flags.flags ?? 0) === 0

/** The `metaGet` item of a hit, its value read by the serializer. */
export const itemOf = <A>(
  settings: Settings,
  serializer: Serializer.Serializer<A>,
  key: MemcacheMeta.Key,
  reply: Reply.Meta
): Result.Result<MemcacheMeta.Item<A>, ValueError> => {
  const f = reply.flags
  const placeholder = isPlaceholder(reply)
  let value: A | undefined
  if (reply.value !== undefined && !placeholder) {
    const decoded = serializer.deserialize(nameOf(key), reply.value, f.flags ?? 0)
    if (Result.isFailure(decoded)) return Result.fail(decoded.failure)
    value = decoded.success
  }
  return Result.succeed({
    value,
    placeholder,
    size: f.size,
    flags: f.flags,
    ttl: ttlOf(f.ttl),
    cas: f.cas,
    key: returnedKey(settings, f),
    hitBefore: f.hit,
    lastAccess: f.lastAccess === undefined ? undefined : Duration.seconds(f.lastAccess),
    opaque: f.opaque,
    win: f.win === true,
    lost: f.winSent === true,
    stale: f.stale === true
  })
}

const metaGet = <A>(
  settings: Settings,
  serializer: Serializer.Serializer<A>,
  key: MemcacheMeta.Key,
  o: MemcacheMeta.GetOptions | undefined
) =>
  Effect.gen(function* () {
    const touch = yield* exptimeOf("metaGet", o?.touch)
    const vivify = yield* exptimeOf("metaGet", o?.vivify)
    const recache = yield* secondsOf("metaGet", "recache", o?.recache)
    const command: Meta.MetaGet = {
      _tag: "MetaGet",
      key: wireKey(settings, key),
      value: o?.value,
      size: o?.size,
      // The serializer reads a value by its flags.
      clientFlags: o?.flags === true || o?.value === true ? true : o?.flags,
      ttl: o?.ttl,
      cas: o?.cas,
      returnKey: o?.key,
      hit: o?.hitBefore,
      lastAccess: o?.lastAccess,
      opaque: o?.opaque,
      noBump: o?.noBump,
      touch,
      vivify,
      recache
    }
    return yield* sendMeta(settings, "metaGet", key, o, command, (reply) => {
      if (reply.code === "EN") return Effect.succeedNone
      if (reply.code !== "VA" && reply.code !== "HD") return undefined
      const item = itemOf(settings, serializer, key, reply)
      return Result.isFailure(item) ? Effect.fail(item.failure) : Effect.succeed(Option.some(item.success))
    })
  })

/** What each reply code means, per command; a code missing from a table is unexpected for that command. */
type Statuses<S> = Partial<Record<Reply.Meta["code"], S>>

const setStatus: Statuses<MemcacheMeta.SetResult["status"]> = {
  HD: "Stored",
  NS: "NotStored",
  EX: "Exists",
  NF: "NotFound"
}

const metaSet = <A>(
  settings: Settings,
  serializer: Serializer.Serializer<A>,
  key: MemcacheMeta.Key,
  value: A,
  o: MemcacheMeta.SetOptions | undefined
) =>
  Effect.gen(function* () {
    const ttl = yield* Ttl.resolve("metaSet", Ttl.ofStoreOptions("metaSet", o))
    const serialized = serializer.serialize(nameOf(key), value)
    if (Result.isFailure(serialized)) return yield* Effect.fail(serialized.failure)
    const command: Meta.MetaSet = {
      _tag: "MetaSet",
      key: wireKey(settings, key),
      value: serialized.success.bytes,
      clientFlags: o?.flags ?? serialized.success.flags,
      ttl,
      mode: o?.mode,
      compareCas: o?.compareCas,
      invalidate: o?.invalidate,
      returnCas: o?.returnCas,
      returnKey: o?.key,
      opaque: o?.opaque
    }
    return yield* sendMeta(settings, "metaSet", key, o, command, (reply) => {
      const status = setStatus[reply.code]
      return status === undefined
        ? undefined
        : Effect.succeed<MemcacheMeta.SetResult>({
            status,
            cas: reply.flags.cas,
            key: returnedKey(settings, reply.flags),
            opaque: reply.flags.opaque
          })
    })
  })

const deleteStatus: Statuses<MemcacheMeta.DeleteResult["status"]> = { HD: "Deleted", NF: "NotFound", EX: "Exists" }

const metaDelete = (settings: Settings, key: MemcacheMeta.Key, o: MemcacheMeta.DeleteOptions | undefined) =>
  Effect.gen(function* () {
    const ttl = yield* exptimeOf("metaDelete", o?.ttl)
    const command: Meta.MetaDelete = {
      _tag: "MetaDelete",
      key: wireKey(settings, key),
      compareCas: o?.compareCas,
      invalidate: o?.invalidate,
      ttl,
      returnKey: o?.key,
      opaque: o?.opaque
    }
    return yield* sendMeta(settings, "metaDelete", key, o, command, (reply) => {
      const status = deleteStatus[reply.code]
      return status === undefined
        ? undefined
        : Effect.succeed<MemcacheMeta.DeleteResult>({
            status,
            key: returnedKey(settings, reply.flags),
            opaque: reply.flags.opaque
          })
    })
  })

const arithmeticStatus: Statuses<MemcacheMeta.ArithmeticResult["status"]> = {
  VA: "Applied",
  HD: "Applied",
  NF: "NotFound",
  NS: "NotStored",
  EX: "Exists"
}

const counterOf = (value: Uint8Array | undefined): bigint | undefined => {
  if (value === undefined) return undefined
  const text = latin1.decode(value).trim()
  return /^\d+$/.test(text) ? BigInt(text) : undefined
}

const metaArithmetic = (settings: Settings, key: MemcacheMeta.Key, o: MemcacheMeta.ArithmeticOptions | undefined) =>
  Effect.gen(function* () {
    const vivify = yield* exptimeOf("metaArithmetic", o?.vivify)
    const touch = yield* exptimeOf("metaArithmetic", o?.touch)
    const initial = yield* u64("initial", o?.initial)
    const delta = yield* u64("delta", o?.delta)
    const command: Meta.MetaArithmetic = {
      _tag: "MetaArithmetic",
      key: wireKey(settings, key),
      compareCas: o?.compareCas,
      vivify,
      initial,
      delta,
      ttl: touch,
      mode: o?.mode,
      returnTtl: o?.ttl,
      returnCas: o?.cas,
      returnValue: true,
      returnKey: o?.key,
      opaque: o?.opaque
    }
    return yield* sendMeta(settings, "metaArithmetic", key, o, command, (reply) => {
      const status = arithmeticStatus[reply.code]
      return status === undefined
        ? undefined
        : Effect.succeed<MemcacheMeta.ArithmeticResult>({
            status,
            value: counterOf(reply.value),
            ttl: ttlOf(reply.flags.ttl),
            cas: reply.flags.cas,
            key: returnedKey(settings, reply.flags),
            opaque: reply.flags.opaque
          })
    })
  })

const metaDebug = (
  settings: Settings,
  key: MemcacheMeta.Key,
  o: CallOptions | undefined
): Effect.Effect<Option.Option<Readonly<Record<string, string>>>, KeyError> =>
  Effect.suspend((): Effect.Effect<Option.Option<Readonly<Record<string, string>>>, KeyError> => {
    const checked = check(settings, "metaDebug", { _tag: "MetaDebug", key: wireKey(settings, key) })
    if (isRefused(checked)) return Effect.fail(checked)
    const target = targetOf(settings, routingKeyOf(key), o)
    return sendKnown(
      "metaDebug",
      target,
      checked,
      timeoutOf(settings, o),
      (reply): Effect.Effect<Option.Option<Readonly<Record<string, string>>>> | undefined =>
        reply?._tag === "MetaDebug"
          ? Effect.succeed(Option.some(reply.fields))
          : reply?._tag === "Meta" && reply.code === "EN"
            ? Effect.succeedNone
            : undefined
    )
  })

/** The meta calls of a view. */
export const make = <A>(settings: Settings, serializer: Serializer.Serializer<A>): MetaCalls<A> => {
  const around = settings.instrument
  return {
    metaGet: (key, o) => around.around("metaGet", true, metaGet(settings, serializer, key, o)),
    metaSet: (key, value, o) => around.around("metaSet", false, metaSet(settings, serializer, key, value, o)),
    metaDelete: (key, o) => around.around("metaDelete", true, metaDelete(settings, key, o)),
    metaArithmetic: (key, o) => around.around("metaArithmetic", false, metaArithmetic(settings, key, o)),
    metaDebug: (key, o) => around.around("metaDebug", true, metaDebug(settings, key, o))
  }
}
