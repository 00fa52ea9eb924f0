/**
 * The keyed commands that carry no value: `delete` and its multi-key forms, `incr`, `decr` and `touch`. They do
 * not depend on the serializer, so every typed view shares them.
 *
 * @internal
 */
import type * as Command from "@effect-memcache/protocol/Command"
import type * as Reply from "@effect-memcache/protocol/Reply"
import type * as Validation from "@effect-memcache/protocol/Validation"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { Expiry, KeyError, MemcacheShape, NoreplyOptions } from "../Memcache.ts"
import { MemcacheIllegalInputError } from "../MemcacheError.ts"
import { send, sendKnown, succeedReply } from "./Call.ts"
import { writeEach } from "./Partial.ts"
import { check, isRefused, type Settings, targetOf, timeoutOf } from "./Settings.ts"
import * as Ttl from "./Ttl.ts"

type Keyed = Pick<MemcacheShape<unknown>, "delete" | "deleteMany" | "deleteManyPartial" | "incr" | "decr" | "touch">

/** Sends one keyed command, checked, to the key's server when the call runs; `interpret` answers what it knows. */
const one = <X, E>(
  settings: Settings,
  name: string,
  key: string,
  o: NoreplyOptions | undefined,
  command: Command.Command,
  interpret: (reply: Reply.Reply | undefined) => Effect.Effect<X, E> | undefined
) =>
  Effect.suspend((): Effect.Effect<X, E | KeyError> => {
    const checked = check(settings, name, command)
    if (isRefused(checked)) return Effect.fail(checked)
    const target = targetOf(settings, key, o)
    return settings.instrument.toServer(
      target.name,
      sendKnown(name, target, checked, timeoutOf(settings, o), interpret)
    )
  })

const TRUE = Effect.succeed(true)
const FALSE = Effect.succeed(false)

/** `true` for `ok`, `false` for NOT_FOUND; nothing when sent with noreply. */
const found =
  (ok: "Deleted" | "Touched") =>
  (reply: Reply.Reply | undefined): Effect.Effect<boolean | void> | undefined =>
    reply === undefined ? Effect.void : reply._tag === ok ? TRUE : reply._tag === "NotFound" ? FALSE : undefined

const deleted = found("Deleted")
const touched = found("Touched")

/**
 * A reply the caller did not ask for (no `noreply: false`): the call answers nothing, as its type says, even
 * when the layer's `defaultNoreply` made it wait; error replies still fail it.
 */
const unasked =
  (ok: "Deleted" | "Touched") =>
  (reply: Reply.Reply | undefined): Effect.Effect<void> | undefined =>
    reply === undefined || reply._tag === ok || reply._tag === "NotFound" ? Effect.void : undefined

const deletedUnasked = unasked("Deleted")
const touchedUnasked = unasked("Touched")

const del = (settings: Settings, key: string, o: NoreplyOptions | undefined) => {
  const command: Command.Delete = {
    _tag: "Delete",
    key: settings.prefix + key,
    noreply: o?.noreply ?? settings.defaultNoreply
  }
  const interpret = o?.noreply === false ? deleted : deletedUnasked
  return settings.instrument.around("delete", true, one(settings, "delete", key, o, command, interpret))
}

/** deleteMany's commands, every key checked before any is sent. */
const deleteCommands = (
  settings: Settings,
  list: ReadonlyArray<string>,
  o: NoreplyOptions | undefined
): Effect.Effect<Array<[string, Validation.Validated]>, MemcacheIllegalInputError> =>
  Effect.suspend(() => {
    const noreply = o?.noreply ?? settings.defaultNoreply
    const commands: Array<[string, Validation.Validated]> = []
    for (const key of list) {
      const checked = check(settings, "deleteMany", { _tag: "Delete", key: settings.prefix + key, noreply })
      if (isRefused(checked)) return Effect.fail(checked)
      commands.push([key, checked])
    }
    return Effect.succeed(commands)
  })

const deleteMany = (settings: Settings, keys: Iterable<string>, o: NoreplyOptions | undefined) => {
  const list = Array.from(new Set(keys))
  const run = Effect.flatMap(deleteCommands(settings, list, o), (commands) => {
    const timeout = timeoutOf(settings, o)
    return Effect.forEach(
      commands,
      ([key, command]) => send("delete", targetOf(settings, key, o), command, timeout, succeedReply),
      { concurrency: "unbounded", discard: true }
    )
  })
  return settings.instrument.around("deleteMany", true, run, list.length)
}

const deleteManyPartial = (settings: Settings, keys: Iterable<string>, o: NoreplyOptions | undefined) => {
  const list = Array.from(new Set(keys))
  // DELETED and NOT_FOUND both leave the key gone.
  const run = Effect.flatMap(deleteCommands(settings, list, o), (commands) =>
    writeEach(settings, "delete", true, commands, o, () => true)
  )
  return settings.instrument.around("deleteManyPartial", true, run, list.length)
}

const counted = (reply: Reply.Reply | undefined): Effect.Effect<Option.Option<bigint> | void> | undefined =>
  reply === undefined
    ? Effect.void
    : reply._tag === "NotFound"
      ? Effect.succeedNone
      : reply._tag === "Numeric"
        ? Effect.succeed(Option.some(reply.value))
        : undefined

const arithmetic = (
  settings: Settings,
  verb: "incr" | "decr",
  key: string,
  delta: bigint | number,
  o: NoreplyOptions | undefined
) => {
  if (typeof delta === "number" && !Number.isSafeInteger(delta)) {
    const reason = `${delta} is not a safe integer (pass a bigint for large deltas)`
    const refused = new MemcacheIllegalInputError({ command: verb, field: "delta", reason })
    return settings.instrument.around(verb, false, Effect.fail(refused))
  }
  const command: Command.Arithmetic = {
    _tag: "Arithmetic",
    verb,
    key: settings.prefix + key,
    delta: BigInt(delta),
    noreply: o?.noreply ?? false
  }
  return settings.instrument.around(verb, false, one(settings, verb, key, o, command, counted))
}

const touch = (settings: Settings, key: string, ttl: Expiry, o: NoreplyOptions | undefined) => {
  const run = Effect.flatMap(Ttl.resolve("touch", Ttl.ofExpiry("touch", ttl)), (exptime) => {
    const noreply = o?.noreply ?? settings.defaultNoreply
    const command: Command.Touch = { _tag: "Touch", key: settings.prefix + key, exptime, noreply }
    return one(settings, "touch", key, o, command, o?.noreply === false ? touched : touchedUnasked)
  })
  return settings.instrument.around("touch", true, run)
}

type Options<Noreply> = NoreplyOptions & { readonly noreply: Noreply }
type Quiet = NoreplyOptions & { readonly noreply?: true | undefined }
type Waiting = NoreplyOptions & { readonly noreply?: false | undefined }

const deleteOf = (settings: Settings): Keyed["delete"] => {
  function remove(key: string, o: Options<false>): Effect.Effect<boolean, KeyError>
  function remove(key: string, o?: Quiet): Effect.Effect<void, KeyError>
  function remove(key: string, o?: NoreplyOptions): Effect.Effect<boolean | void, KeyError>
  function remove(key: string, o?: NoreplyOptions): Effect.Effect<boolean | void, KeyError> {
    return del(settings, key, o)
  }
  return remove
}

const touchOf = (settings: Settings): Keyed["touch"] => {
  function touchKey(key: string, ttl: Expiry, o: Options<false>): Effect.Effect<boolean, KeyError>
  function touchKey(key: string, ttl: Expiry, o?: Quiet): Effect.Effect<void, KeyError>
  function touchKey(key: string, ttl: Expiry, o?: NoreplyOptions): Effect.Effect<boolean | void, KeyError>
  function touchKey(key: string, ttl: Expiry, o?: NoreplyOptions): Effect.Effect<boolean | void, KeyError> {
    return touch(settings, key, ttl, o)
  }
  return touchKey
}

const arithmeticOf = (settings: Settings, verb: "incr" | "decr"): Keyed["incr"] => {
  type Count = Option.Option<bigint>
  function count(key: string, delta: bigint | number, o: Options<true>): Effect.Effect<void, KeyError>
  function count(key: string, delta: bigint | number, o?: Waiting): Effect.Effect<Count, KeyError>
  function count(key: string, delta: bigint | number, o?: NoreplyOptions): Effect.Effect<Count | void, KeyError>
  function count(key: string, delta: bigint | number, o?: NoreplyOptions): Effect.Effect<Count | void, KeyError> {
    return arithmetic(settings, verb, key, delta, o)
  }
  return count
}

/** The keyed commands without values. */
export const make = (settings: Settings): Keyed => ({
  delete: deleteOf(settings),
  deleteMany: (keys, o) => deleteMany(settings, keys, o),
  deleteManyPartial: (keys, o) => deleteManyPartial(settings, keys, o),
  incr: arithmeticOf(settings, "incr"),
  decr: arithmeticOf(settings, "decr"),
  touch: touchOf(settings)
})
