/**
 * The public types, pinned: what each method of the service succeeds with and fails with (for the default
 * values and for a typed view), and what each layer provides and fails with. These are checked by the type
 * checker (`run check`); at run time the assertions do nothing, so a change of a signature fails `check`, not
 * the tests. The errors are spelled out class by class, so that a change of an error alias shows here too.
 */
import {
  type GetOrCompute,
  type Memcache,
  MemcacheClient,
  MemcacheCluster,
  MemcacheError,
  MemcacheMemory,
  type MemcacheMeta,
  Serializer
} from "@effect-memcache/client"
import { type Config, type Duration, Effect, type Layer, type Option, type Stream } from "effect"
import { describe, expectTypeOf, it } from "vitest"

type Shape = Memcache.MemcacheShape<Memcache.Value>

/** The view `withSerializer(Serializer.string)` gives (a function never called: only its type is used). */
const textView = (m: Shape) => m.withSerializer(Serializer.string)
type Text = ReturnType<typeof textView>

/** What a method's Effect succeeds with, fails with, and needs. */
type Outcome<F> = F extends (...args: never) => infer R
  ? { readonly success: Effect.Success<R>; readonly error: Effect.Error<R>; readonly services: Effect.Services<R> }
  : never

/** An outcome that needs nothing, as every method's does. */
type Pinned<A, E> = { readonly success: A; readonly error: E; readonly services: never }

type Input = MemcacheError.MemcacheIllegalInputError
type Serialization = MemcacheError.MemcacheSerializationError
type Transport =
  | MemcacheError.MemcacheTimeoutError
  | MemcacheError.MemcacheConnectionError
  | MemcacheError.MemcacheUnexpectedCloseError
  | MemcacheError.MemcacheProtocolError
type ErrorReply =
  | MemcacheError.MemcacheUnknownCommandError
  | MemcacheError.MemcacheClientError
  | MemcacheError.MemcacheServerError
type KeyFailure = Input | Transport | ErrorReply
type ValueFailure = KeyFailure | Serialization
type AdminFailure = Transport | ErrorReply

describe("the service's types", () => {
  it("the error aliases are these classes", () => {
    expectTypeOf<MemcacheError.TransportError>().toEqualTypeOf<Transport>()
    expectTypeOf<MemcacheError.ReplyError>().toEqualTypeOf<ErrorReply>()
    expectTypeOf<Memcache.KeyError>().toEqualTypeOf<KeyFailure>()
    expectTypeOf<Memcache.ValueError>().toEqualTypeOf<ValueFailure>()
    expectTypeOf<Memcache.AdminError>().toEqualTypeOf<AdminFailure>()
    expectTypeOf<MemcacheError.MemcacheError>().toEqualTypeOf<ValueFailure>()
  })

  it("the service is a MemcacheShape of the default serializer's values, with these methods", () => {
    expectTypeOf<Memcache.Memcache["Service"]>().toEqualTypeOf<Shape>()
    expectTypeOf<Memcache.Value>().toEqualTypeOf<Uint8Array | string | number | bigint>()
    expectTypeOf<keyof Shape>().toEqualTypeOf<
      | "get"
      | "getMany"
      | "gets"
      | "getsMany"
      | "getManyPartial"
      | "getsManyPartial"
      | "gat"
      | "gats"
      | "set"
      | "setMany"
      | "add"
      | "replace"
      | "append"
      | "prepend"
      | "cas"
      | "delete"
      | "deleteMany"
      | "setManyPartial"
      | "deleteManyPartial"
      | "incr"
      | "decr"
      | "touch"
      | "stats"
      | "version"
      | "flushAll"
      | "verbosity"
      | "cacheMemlimit"
      | "quit"
      | "shutdown"
      | "metaGet"
      | "metaSet"
      | "metaDelete"
      | "metaArithmetic"
      | "metaDebug"
      | "metaNoop"
      | "getOrCompute"
      | "getOrComputeOutcome"
      | "noreplyFailures"
      | "withSerializer"
    >()
    expectTypeOf<Text>().toEqualTypeOf<Memcache.MemcacheShape<string>>()
  })

  it("reads: an Option or a map of values (with their CAS unique), or a ValueError", () => {
    type V = Memcache.Value
    type WithCas = Memcache.WithCas<V>
    expectTypeOf<Outcome<Shape["get"]>>().toEqualTypeOf<Pinned<Option.Option<V>, ValueFailure>>()
    expectTypeOf<Outcome<Shape["getMany"]>>().toEqualTypeOf<Pinned<ReadonlyMap<string, V>, ValueFailure>>()
    expectTypeOf<Outcome<Shape["gets"]>>().toEqualTypeOf<Pinned<Option.Option<WithCas>, ValueFailure>>()
    expectTypeOf<Outcome<Shape["getsMany"]>>().toEqualTypeOf<Pinned<ReadonlyMap<string, WithCas>, ValueFailure>>()
    expectTypeOf<Outcome<Shape["gat"]>>().toEqualTypeOf<Pinned<Option.Option<V>, ValueFailure>>()
    expectTypeOf<Outcome<Shape["gats"]>>().toEqualTypeOf<Pinned<Option.Option<WithCas>, ValueFailure>>()
  })

  it("partial reads: the hits and the failures as data; only refused input fails", () => {
    type V = Memcache.Value
    expectTypeOf<Outcome<Shape["getManyPartial"]>>().toEqualTypeOf<Pinned<Memcache.PartialHits<V>, Input>>()
    expectTypeOf<Outcome<Shape["getsManyPartial"]>>().toEqualTypeOf<
      Pinned<Memcache.PartialHits<Memcache.WithCas<V>>, Input>
    >()
  })

  it("writes that are noreply by default answer nothing, and their outcome with noreply: false", () => {
    // Never called: the calls are there for their types.
    const calls = <A>(m: Memcache.MemcacheShape<A>, a: A, flag: boolean) => {
      type Quiet<R, E> = readonly [
        Effect.Effect<void, E>,
        Effect.Effect<R, E>,
        Effect.Effect<void, E>,
        Effect.Effect<R | void, E>
      ]
      expectTypeOf([
        m.set("k", a),
        m.set("k", a, { noreply: false }),
        m.set("k", a, { noreply: true, ttl: 1 }),
        m.set("k", a, { noreply: flag })
      ] as const).toEqualTypeOf<Quiet<boolean, ValueFailure>>()
      for (const write of [m.add, m.replace, m.append, m.prepend]) {
        expectTypeOf([
          write("k", a),
          write("k", a, { noreply: false }),
          write("k", a, { noreply: true }),
          write("k", a, { noreply: flag })
        ] as const).toEqualTypeOf<Quiet<boolean, ValueFailure>>()
      }
      const entries: ReadonlyArray<readonly [string, A]> = [["k", a]]
      expectTypeOf([
        m.setMany(entries),
        m.setMany(entries, { noreply: false }),
        m.setMany(entries, { noreply: true }),
        m.setMany(entries, { noreply: flag })
      ] as const).toEqualTypeOf<Quiet<ReadonlyArray<string>, ValueFailure>>()
      expectTypeOf([
        m.delete("k"),
        m.delete("k", { noreply: false }),
        m.delete("k", { noreply: true }),
        m.delete("k", { noreply: flag })
      ] as const).toEqualTypeOf<Quiet<boolean, KeyFailure>>()
      expectTypeOf([
        m.touch("k", "1 minute"),
        m.touch("k", "1 minute", { noreply: false }),
        m.touch("k", "1 minute", { noreply: true }),
        m.touch("k", "1 minute", { noreply: flag })
      ] as const).toEqualTypeOf<Quiet<boolean, KeyFailure>>()
    }
    expectTypeOf(calls).toBeFunction()
  })

  it("writes that wait by default (cas, incr, decr) answer their outcome, and nothing with noreply: true", () => {
    const calls = <A>(m: Memcache.MemcacheShape<A>, a: A, flag: boolean) => {
      type Waits<R, E> = readonly [
        Effect.Effect<R, E>,
        Effect.Effect<R, E>,
        Effect.Effect<void, E>,
        Effect.Effect<R | void, E>
      ]
      expectTypeOf([
        m.cas("k", a, 1n),
        m.cas("k", a, 1n, { noreply: false }),
        m.cas("k", a, 1n, { noreply: true }),
        m.cas("k", a, 1n, { noreply: flag })
      ] as const).toEqualTypeOf<Waits<Memcache.CasResult, ValueFailure>>()
      for (const count of [m.incr, m.decr]) {
        expectTypeOf([
          count("k", 1),
          count("k", 1n, { noreply: false }),
          count("k", 1, { noreply: true }),
          count("k", 1, { noreply: flag })
        ] as const).toEqualTypeOf<Waits<Option.Option<bigint>, KeyFailure>>()
      }
    }
    expectTypeOf(calls).toBeFunction()
  })

  it("noreplyFailures: the error replies of noreply commands, as a stream of typed errors", () => {
    expectTypeOf<Shape["noreplyFailures"]>().toEqualTypeOf<Stream.Stream<ErrorReply>>()
    expectTypeOf<Text["noreplyFailures"]>().toEqualTypeOf<Stream.Stream<ErrorReply>>()
  })

  it("keyed calls without a value: deleteMany fails with a KeyError", () => {
    expectTypeOf<Outcome<Shape["deleteMany"]>>().toEqualTypeOf<Pinned<void, KeyFailure>>()
  })

  it("expiry: touch, gat and gats take a ttl or { exptime }; store options take ttl and exptime", () => {
    expectTypeOf<Memcache.Expiry>().toEqualTypeOf<Duration.Input | { readonly exptime: number }>()
    expectTypeOf<Parameters<Shape["touch"]>[1]>().toEqualTypeOf<Memcache.Expiry>()
    expectTypeOf<Parameters<Shape["gat"]>[1]>().toEqualTypeOf<Memcache.Expiry>()
    expectTypeOf<Parameters<Shape["gats"]>[1]>().toEqualTypeOf<Memcache.Expiry>()
    expectTypeOf<Memcache.StoreOptions["ttl"]>().toEqualTypeOf<Duration.Input | undefined>()
    expectTypeOf<Memcache.StoreOptions["exptime"]>().toEqualTypeOf<number | undefined>()
  })

  it("partial writes: the failures as data; refused input (and, for setManyPartial, serialization) fails", () => {
    expectTypeOf<Outcome<Shape["setManyPartial"]>>().toEqualTypeOf<
      Pinned<Memcache.PartialWrites, Input | Serialization>
    >()
    expectTypeOf<Outcome<Shape["deleteManyPartial"]>>().toEqualTypeOf<Pinned<Memcache.PartialWrites, Input>>()
  })

  it("meta calls: typed items and statuses, values by the view's serializer, binary keys", () => {
    expectTypeOf<Outcome<Shape["metaGet"]>>().toEqualTypeOf<
      Pinned<Option.Option<MemcacheMeta.Item<Memcache.Value>>, ValueFailure>
    >()
    expectTypeOf<Outcome<Text["metaGet"]>>().toEqualTypeOf<
      Pinned<Option.Option<MemcacheMeta.Item<string>>, ValueFailure>
    >()
    expectTypeOf<Outcome<Text["metaSet"]>>().toEqualTypeOf<Pinned<MemcacheMeta.SetResult, ValueFailure>>()
    expectTypeOf<Parameters<Text["metaSet"]>[1]>().toEqualTypeOf<string>()
    expectTypeOf<Outcome<Shape["metaDelete"]>>().toEqualTypeOf<Pinned<MemcacheMeta.DeleteResult, KeyFailure>>()
    expectTypeOf<Outcome<Shape["metaArithmetic"]>>().toEqualTypeOf<Pinned<MemcacheMeta.ArithmeticResult, KeyFailure>>()
    expectTypeOf<Outcome<Shape["metaDebug"]>>().toEqualTypeOf<
      Pinned<Option.Option<Readonly<Record<string, string>>>, KeyFailure>
    >()
    expectTypeOf<Outcome<Shape["metaNoop"]>>().toEqualTypeOf<Pinned<void, AdminFailure | Input>>()
    expectTypeOf<Parameters<Shape["metaGet"]>[0]>().toEqualTypeOf<string | Uint8Array>()
    expectTypeOf<MemcacheMeta.Item<string>["value"]>().toEqualTypeOf<string | undefined>()
    expectTypeOf<MemcacheMeta.Item<string>["ttl"]>().toEqualTypeOf<Duration.Duration | undefined>()
    expectTypeOf<MemcacheMeta.SetResult["status"]>().toEqualTypeOf<"Stored" | "NotStored" | "Exists" | "NotFound">()
  })

  it("getOrCompute: the view's values; compute's errors and services, refused input and serialization only", () => {
    class Lookup {
      readonly _tag = "Lookup"
    }
    interface Db {
      readonly db: true
    }
    type Compute = Effect.Effect<string, Lookup, Db>
    const call = (m: Text, compute: Compute) => m.getOrCompute("k", compute, { ttl: "1 minute", lease: "5 seconds" })
    const outcome = (m: Text, compute: Compute) => m.getOrComputeOutcome("k", compute)
    expectTypeOf<Effect.Success<ReturnType<typeof call>>>().toEqualTypeOf<string>()
    expectTypeOf<Effect.Error<ReturnType<typeof call>>>().toEqualTypeOf<Lookup | Input | Serialization>()
    expectTypeOf<Effect.Services<ReturnType<typeof call>>>().toEqualTypeOf<Db>()
    expectTypeOf<Effect.Success<ReturnType<typeof outcome>>>().toEqualTypeOf<GetOrCompute.Computed<string>>()
    expectTypeOf<GetOrCompute.Outcome["_tag"]>().toEqualTypeOf<
      "Hit" | "Computed" | "Stale" | "LeaseLost" | "Unavailable"
    >()
  })

  it("admin calls: an AdminError, with refused input where declared; quit never fails", () => {
    expectTypeOf<Outcome<Shape["stats"]>>().toEqualTypeOf<
      Pinned<ReadonlyMap<string, Memcache.StatValue>, AdminFailure | Input>
    >()
    expectTypeOf<Outcome<Shape["version"]>>().toEqualTypeOf<Pinned<string, AdminFailure | Input>>()
    expectTypeOf<Outcome<Shape["flushAll"]>>().toEqualTypeOf<Pinned<void, AdminFailure | Input>>()
    expectTypeOf<Outcome<Shape["verbosity"]>>().toEqualTypeOf<Pinned<void, AdminFailure | Input>>()
    expectTypeOf<Outcome<Shape["cacheMemlimit"]>>().toEqualTypeOf<Pinned<void, AdminFailure | Input>>()
    expectTypeOf<Outcome<Shape["quit"]>>().toEqualTypeOf<Pinned<void, never>>()
    expectTypeOf<Outcome<Shape["shutdown"]>>().toEqualTypeOf<Pinned<void, AdminFailure | Input>>()
  })
})

describe("a typed view's types (withSerializer(Serializer.string))", () => {
  it("reads: values of the view's type, the same errors", () => {
    type WithCas = Memcache.WithCas<string>
    expectTypeOf<Outcome<Text["get"]>>().toEqualTypeOf<Pinned<Option.Option<string>, ValueFailure>>()
    expectTypeOf<Outcome<Text["getMany"]>>().toEqualTypeOf<Pinned<ReadonlyMap<string, string>, ValueFailure>>()
    expectTypeOf<Outcome<Text["gets"]>>().toEqualTypeOf<Pinned<Option.Option<WithCas>, ValueFailure>>()
    expectTypeOf<Outcome<Text["getsMany"]>>().toEqualTypeOf<Pinned<ReadonlyMap<string, WithCas>, ValueFailure>>()
    expectTypeOf<Outcome<Text["gat"]>>().toEqualTypeOf<Pinned<Option.Option<string>, ValueFailure>>()
    expectTypeOf<Outcome<Text["gats"]>>().toEqualTypeOf<Pinned<Option.Option<WithCas>, ValueFailure>>()
    expectTypeOf<Outcome<Text["getManyPartial"]>>().toEqualTypeOf<Pinned<Memcache.PartialHits<string>, Input>>()
    expectTypeOf<Outcome<Text["getsManyPartial"]>>().toEqualTypeOf<Pinned<Memcache.PartialHits<WithCas>, Input>>()
  })

  it("writes take the view's type", () => {
    expectTypeOf<Text["set"]>().parameter(1).toEqualTypeOf<string>()
    expectTypeOf<Text["cas"]>().parameter(1).toEqualTypeOf<string>()
    expectTypeOf<Text["setMany"]>().parameter(0).toEqualTypeOf<Iterable<readonly [string, string]>>()
    expectTypeOf<Outcome<Text["setManyPartial"]>>().toEqualTypeOf<
      Pinned<Memcache.PartialWrites, Input | Serialization>
    >()
  })

  it("calls that carry no value are the service's own", () => {
    expectTypeOf<Text["delete"]>().toEqualTypeOf<Shape["delete"]>()
    expectTypeOf<Text["touch"]>().toEqualTypeOf<Shape["touch"]>()
    expectTypeOf<Text["incr"]>().toEqualTypeOf<Shape["incr"]>()
    expectTypeOf<Text["decr"]>().toEqualTypeOf<Shape["decr"]>()
    expectTypeOf<Outcome<Text["deleteMany"]>>().toEqualTypeOf<Pinned<void, KeyFailure>>()
    expectTypeOf<Outcome<Text["deleteManyPartial"]>>().toEqualTypeOf<Pinned<Memcache.PartialWrites, Input>>()
    expectTypeOf<Outcome<Text["stats"]>>().toEqualTypeOf<
      Pinned<ReadonlyMap<string, Memcache.StatValue>, AdminFailure | Input>
    >()
    expectTypeOf<Outcome<Text["version"]>>().toEqualTypeOf<Pinned<string, AdminFailure | Input>>()
    expectTypeOf<Outcome<Text["flushAll"]>>().toEqualTypeOf<Pinned<void, AdminFailure | Input>>()
    expectTypeOf<Outcome<Text["verbosity"]>>().toEqualTypeOf<Pinned<void, AdminFailure | Input>>()
    expectTypeOf<Outcome<Text["cacheMemlimit"]>>().toEqualTypeOf<Pinned<void, AdminFailure | Input>>()
    expectTypeOf<Outcome<Text["quit"]>>().toEqualTypeOf<Pinned<void, never>>()
    expectTypeOf<Outcome<Text["shutdown"]>>().toEqualTypeOf<Pinned<void, AdminFailure | Input>>()
  })
})

describe("the MemcacheError predicates' types", () => {
  it("each narrows a MemcacheError to its group, and its else branch to the rest", () => {
    const narrow = (e: MemcacheError.MemcacheError) => {
      if (MemcacheError.isTransportError(e)) expectTypeOf(e).toEqualTypeOf<Transport>()
      else expectTypeOf(e).toEqualTypeOf<Input | ErrorReply | Serialization>()
      if (MemcacheError.isReplyError(e)) expectTypeOf(e).toEqualTypeOf<ErrorReply>()
      else expectTypeOf(e).toEqualTypeOf<Input | Transport | Serialization>()
    }
    const fromUnknown = (u: unknown) => {
      if (MemcacheError.isMemcacheError(u)) expectTypeOf(u).toEqualTypeOf<ValueFailure>()
    }
    expectTypeOf(narrow).toBeFunction()
    expectTypeOf(fromUnknown).toBeFunction()
  })

  it("Effect.catchIf with a predicate removes its group from the failure channel", () => {
    const ignoreOutage = (m: Shape) =>
      m.set("k", "v").pipe(Effect.catchIf(MemcacheError.isTransportError, () => Effect.void))
    const readOrNone = (m: Text) =>
      m.get("k").pipe(Effect.catchIf(MemcacheError.isTransportError, () => Effect.succeedNone))
    const ignoreReply = (m: Shape) => m.incr("k", 1).pipe(Effect.catchIf(MemcacheError.isReplyError, () => Effect.void))
    const mixed = (work: Effect.Effect<string, MemcacheError.MemcacheError | Error>) =>
      work.pipe(Effect.catchIf(MemcacheError.isMemcacheError, (e) => Effect.succeed(e._tag)))
    expectTypeOf<Effect.Error<ReturnType<typeof ignoreOutage>>>().toEqualTypeOf<Input | ErrorReply | Serialization>()
    expectTypeOf<Effect.Error<ReturnType<typeof readOrNone>>>().toEqualTypeOf<Input | ErrorReply | Serialization>()
    expectTypeOf<Effect.Error<ReturnType<typeof ignoreReply>>>().toEqualTypeOf<Input | Transport>()
    expectTypeOf<Outcome<typeof mixed>>().toEqualTypeOf<Pinned<string, Error>>()
  })
})

describe("the raw view's types (withSerializer(Serializer.raw))", () => {
  const rawView = (m: Shape) => m.withSerializer(Serializer.raw)
  type Raw = ReturnType<typeof rawView>
  type Item = { readonly bytes: Uint8Array; readonly flags: number }

  it("values are items as stored: their bytes and flags", () => {
    expectTypeOf(Serializer.raw).toEqualTypeOf<Serializer.Serializer<Serializer.Serialized>>()
    expectTypeOf<Serializer.Serialized>().toEqualTypeOf<Item>()
    expectTypeOf<Raw>().toEqualTypeOf<Memcache.MemcacheShape<Item>>()
    expectTypeOf<Raw["set"]>().parameter(1).toEqualTypeOf<Item>()
    expectTypeOf<Outcome<Raw["get"]>>().toEqualTypeOf<Pinned<Option.Option<Item>, ValueFailure>>()
  })

  it("gets-style results carry the value, its CAS unique and the item's flags", () => {
    expectTypeOf<Memcache.WithCas<Item>>().toEqualTypeOf<{
      readonly value: Item
      readonly cas: bigint
      readonly flags: number
    }>()
    expectTypeOf<Outcome<Raw["gets"]>>().toEqualTypeOf<Pinned<Option.Option<Memcache.WithCas<Item>>, ValueFailure>>()
  })
})

describe("the layers' types", () => {
  it("each provides Memcache, needs nothing, and fails only as declared", () => {
    type Provides<E> = Layer.Layer<Memcache.Memcache, E>
    expectTypeOf(MemcacheClient.layer).returns.toEqualTypeOf<Provides<Input>>()
    expectTypeOf(MemcacheClient.layerConfig).returns.toEqualTypeOf<Provides<Input | Config.ConfigError>>()
    expectTypeOf(MemcacheClient.layerEnv).returns.toEqualTypeOf<Provides<Input | Config.ConfigError>>()
    expectTypeOf(MemcacheCluster.layer).returns.toEqualTypeOf<Provides<Input>>()
    expectTypeOf(MemcacheCluster.layerConfig).returns.toEqualTypeOf<Provides<Input | Config.ConfigError>>()
    expectTypeOf(MemcacheCluster.layerEnv).returns.toEqualTypeOf<Provides<Input | Config.ConfigError>>()
    expectTypeOf(MemcacheMemory.layer).returns.toEqualTypeOf<Provides<never>>()
  })
})
