/**
 * The storage commands of the surface: `set`, `add`, `replace`, `append`, `prepend`, `cas`, and `setMany` with
 * its partial form, with values written by the view's serializer.
 *
 * @internal
 */
import type * as Command from "@effect-memcache/protocol/Command"
import type * as Reply from "@effect-memcache/protocol/Reply"
import type * as Validation from "@effect-memcache/protocol/Validation"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import type { CasResult, MemcacheShape, QuietByDefault, StoreOptions, ValueError } from "../Memcache.ts"
import {
  isReplyError,
  type MemcacheIllegalInputError,
  type MemcacheProtocolError,
  MemcacheSerializationError
} from "../MemcacheError.ts"
import type * as Serializer from "../Serializer.ts"
import { type Interpret, send, succeedReply, unexpected } from "./Call.ts"
import { writeEach } from "./Partial.ts"
import { check, isRefused, type Settings, targetOf, timeoutOf } from "./Settings.ts"
import * as Ttl from "./Ttl.ts"

type Storage<A> = Pick<
  MemcacheShape<A>,
  "set" | "add" | "replace" | "append" | "prepend" | "cas" | "setMany" | "setManyPartial"
>

const TRUE = Effect.succeed(true)
const FALSE = Effect.succeed(false)

/** A storage reply the caller asked for (`noreply: false`): `true` stored, `false` not stored. */
const interpretStore: Interpret<boolean | void, MemcacheProtocolError> = (reply, target, name) =>
  reply === undefined
    ? Effect.void
    : reply._tag === "Stored"
      ? TRUE
      : reply._tag === "NotStored"
        ? FALSE
        : unexpected(target, name, reply)

/**
 * A storage reply the caller did not ask for: sent with noreply, or waited for only because the layer's
 * `defaultNoreply` is off. The call answers nothing, as its type says; error replies still fail it.
 */
const interpretUnasked: Interpret<void, MemcacheProtocolError> = (reply, target, name) =>
  reply === undefined || reply._tag === "Stored" || reply._tag === "NotStored"
    ? Effect.void
    : unexpected(target, name, reply)

const CAS_STORED = Effect.succeed<CasResult>("Stored")
const CAS_EXISTS = Effect.succeed<CasResult>("Exists")
const CAS_NOT_FOUND = Effect.succeed<CasResult>("NotFound")

const interpretCas: Interpret<CasResult | void, MemcacheProtocolError> = (reply, target, name) =>
  reply === undefined
    ? Effect.void
    : reply._tag === "Stored"
      ? CAS_STORED
      : reply._tag === "Exists"
        ? CAS_EXISTS
        : reply._tag === "NotFound"
          ? CAS_NOT_FOUND
          : unexpected(target, name, reply)

/** Whether a `set` reply means the key was written. */
const stored = (reply: Reply.Reply | undefined): boolean => reply === undefined || reply._tag === "Stored"

type Refusal = MemcacheSerializationError | MemcacheIllegalInputError

/** What the storage commands of a view write values with. */
interface View<A> {
  readonly settings: Settings
  readonly serializer: Serializer.Serializer<A>
}

/** A storage command, serialized and checked: what to send, or why it cannot be sent. */
const commandOf = <A>(
  view: View<A>,
  verb: Command.StorageVerb | "cas",
  key: string,
  value: A,
  o: StoreOptions | undefined,
  cas: bigint,
  exptime: number
): Validation.Validated<Command.Store | Command.Cas> | Refusal => {
  const { settings } = view
  const serialized = view.serializer.serialize(key, value)
  if (Result.isFailure(serialized)) return serialized.failure
  const { bytes, flags } = serialized.success
  const noreply = o?.noreply ?? (verb === "cas" ? false : settings.defaultNoreply)
  const full = settings.prefix + key
  return check(
    settings,
    verb,
    verb === "cas"
      ? { _tag: "Cas", key: full, flags: o?.flags ?? flags, exptime, value: bytes, cas, noreply }
      : { _tag: "Store", verb, key: full, flags: o?.flags ?? flags, exptime, value: bytes, noreply }
  )
}

const isRefusal = (checked: object): checked is Refusal =>
  checked instanceof MemcacheSerializationError || isRefused(checked)

/**
 * A storage call. The common one (one server, an exptime known without the Clock, nothing but a span to add) is
 * built here and sent as one `Effect.callback`, its span decided when it runs; the others go through `around`.
 */
const store = <A, X>(
  view: View<A>,
  verb: Command.StorageVerb | "cas",
  safe: boolean,
  key: string,
  value: A,
  o: StoreOptions | undefined,
  cas: bigint,
  interpret: Interpret<X, MemcacheProtocolError>
): Effect.Effect<X, ValueError> => {
  const { settings } = view
  const { instrument, single } = settings
  const exptime = Ttl.ofStoreOptions(verb, o)
  if (typeof exptime !== "number" || single === undefined) {
    // Beyond 30 days (the Clock is read when the call runs), refused, or a cluster (routed when the call runs).
    const run = Effect.flatMap(Ttl.resolve(verb, exptime), (exptime): Effect.Effect<X, ValueError> => {
      const checked = commandOf(view, verb, key, value, o, cas, exptime)
      if (isRefusal(checked)) return Effect.fail(checked)
      const target = targetOf(settings, key, o)
      return instrument.toServer(target.name, send(verb, target, checked, timeoutOf(settings, o), interpret))
    })
    return instrument.around(verb, safe, run)
  }
  const checked = commandOf(view, verb, key, value, o, cas, exptime)
  if (isRefusal(checked)) return instrument.around(verb, safe, Effect.fail(checked))
  const hot = settings.hot[verb]
  const sent = send(verb, single, checked, timeoutOf(settings, o), interpret, hot ?? undefined)
  return hot === undefined ? instrument.around(verb, safe, sent) : sent
}

/** setMany's commands: every value serialized and every command checked before any of it is sent. */
const setCommands = <A>(
  view: View<A>,
  list: ReadonlyArray<readonly [string, A]>,
  o: StoreOptions | undefined
): Effect.Effect<Array<[string, Validation.Validated]>, Refusal> =>
  Effect.flatMap(
    Effect.suspend(() => Ttl.resolve("setMany", Ttl.ofStoreOptions("setMany", o))),
    (exptime): Effect.Effect<Array<[string, Validation.Validated]>, Refusal> => {
      const commands: Array<[string, Validation.Validated]> = []
      for (const [key, value] of list) {
        const checked = commandOf(view, "set", key, value, o, 0n, exptime)
        if (isRefusal(checked)) return Effect.fail(checked)
        commands.push([key, checked])
      }
      return Effect.succeed(commands)
    }
  )

/**
 * Every entry at once. A key the server refused (NOT_STORED, or an error reply such as SERVER_ERROR object too
 * large) is a failed key; a transport failure fails the call (setManyPartial keeps it as data).
 */
const setMany = <A>(
  view: View<A>,
  entries: Iterable<readonly [string, A]>,
  o: StoreOptions | undefined
): Effect.Effect<ReadonlyArray<string> | void, ValueError> => {
  const { settings } = view
  const list = Array.from(entries)
  const run = Effect.flatMap(setCommands(view, list, o), (commands) => {
    const timeout = timeoutOf(settings, o)
    const one = ([key, command]: readonly [string, Validation.Validated]) =>
      Effect.catchIf(
        Effect.map(send("set", targetOf(settings, key, o), command, timeout, succeedReply), (reply) =>
          stored(reply) ? undefined : key
        ),
        isReplyError,
        () => Effect.succeed(key)
      )
    const asked = o?.noreply === false
    return Effect.map(Effect.forEach(commands, one, { concurrency: "unbounded" }), (failed) =>
      asked ? failed.filter((key): key is string => key !== undefined) : undefined
    )
  })
  return settings.instrument.around("setMany", false, run, list.length)
}

const setManyOf = <A>(view: View<A>): MemcacheShape<A>["setMany"] => {
  type Entries = Iterable<readonly [string, A]>
  function many(
    entries: Entries,
    o: StoreOptions & { readonly noreply: false }
  ): Effect.Effect<ReadonlyArray<string>, ValueError>
  function many(
    entries: Entries,
    o?: StoreOptions & { readonly noreply?: true | undefined }
  ): Effect.Effect<void, ValueError>
  function many(entries: Entries, o?: StoreOptions): Effect.Effect<ReadonlyArray<string> | void, ValueError>
  function many(entries: Entries, o?: StoreOptions): Effect.Effect<ReadonlyArray<string> | void, ValueError> {
    return setMany(view, entries, o)
  }
  return many
}

const setManyPartial = <A>(view: View<A>, entries: Iterable<readonly [string, A]>, o: StoreOptions | undefined) => {
  const list = Array.from(entries)
  const run = Effect.flatMap(setCommands(view, list, o), (commands) =>
    writeEach(view.settings, "set", false, commands, o, stored)
  )
  return view.settings.instrument.around("setManyPartial", false, run, list.length)
}

type Store<A> = QuietByDefault<[key: string, value: A], StoreOptions, boolean, ValueError>

/** A storage verb that is noreply by default: its result type follows the call's `noreply`. */
const quietStore = <A>(view: View<A>, verb: Command.StorageVerb): Store<A> => {
  function write(
    key: string,
    value: A,
    o: StoreOptions & { readonly noreply: false }
  ): Effect.Effect<boolean, ValueError>
  function write(
    key: string,
    value: A,
    o?: StoreOptions & { readonly noreply?: true | undefined }
  ): Effect.Effect<void, ValueError>
  function write(key: string, value: A, o?: StoreOptions): Effect.Effect<boolean | void, ValueError>
  function write(key: string, value: A, o?: StoreOptions): Effect.Effect<boolean | void, ValueError> {
    return store(view, verb, false, key, value, o, 0n, o?.noreply === false ? interpretStore : interpretUnasked)
  }
  return write
}

const casOf = <A>(view: View<A>): MemcacheShape<A>["cas"] => {
  function cas(
    key: string,
    value: A,
    unique: bigint,
    o: StoreOptions & { readonly noreply: true }
  ): Effect.Effect<void, ValueError>
  function cas(
    key: string,
    value: A,
    unique: bigint,
    o?: StoreOptions & { readonly noreply?: false | undefined }
  ): Effect.Effect<CasResult, ValueError>
  function cas(key: string, value: A, unique: bigint, o?: StoreOptions): Effect.Effect<CasResult | void, ValueError>
  function cas(key: string, value: A, unique: bigint, o?: StoreOptions): Effect.Effect<CasResult | void, ValueError> {
    return store(view, "cas", true, key, value, o, unique, interpretCas)
  }
  return cas
}

/** The storage commands of a view with values of type `A`. */
export const make = <A>(settings: Settings, serializer: Serializer.Serializer<A>): Storage<A> => {
  const view: View<A> = { settings, serializer }
  return {
    set: quietStore(view, "set"),
    add: quietStore(view, "add"),
    replace: quietStore(view, "replace"),
    append: quietStore(view, "append"),
    prepend: quietStore(view, "prepend"),
    cas: casOf(view),
    setMany: setManyOf(view),
    setManyPartial: (entries, o) => setManyPartial(view, entries, o)
  }
}
