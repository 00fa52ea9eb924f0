/**
 * The `memcache` command: `get`, `set`, `delete`, `incr`, `stats`, `flush` and `top`, against the server of
 * `--server host:port`, else of `MEMCACHE_SERVERS` (with the other `MEMCACHE_*` variables of
 * `MemcacheClient.envConfig`), else `127.0.0.1:11211`.
 *
 * @since 0.1.0
 */
import { Memcache, MemcacheClient, Serializer } from "@effect-memcache/client"
import * as Console from "effect/Console"
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Format from "./Format.ts"
import * as Top from "./Top.ts"

/**
 * A command that ran and did not do what was asked (a miss, a refused argument): its one-line message is printed
 * and the process exits non-zero.
 *
 * @since 0.1.0
 * @category errors
 */
export class CommandFailed extends Data.TaggedError("CommandFailed")<{ readonly message: string }> {}

const utf8 = new TextEncoder()
const text = new TextDecoder()

/**
 * The `Memcache` layer of a run: `--server` when given (the other settings still from the environment), else
 * `MemcacheClient.layerEnv`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (server: Option.Option<string>) =>
  Option.match(server, {
    onNone: () => MemcacheClient.layerEnv(),
    onSome: (server) =>
      Layer.unwrap(Effect.map(MemcacheClient.envConfig, (options) => MemcacheClient.layer({ ...options, server })))
  })

const root = Command.make("memcache").pipe(
  Command.withDescription("A memcached command-line client."),
  Command.withSharedFlags({
    server: Flag.String("server").pipe(
      Flag.withDescription("host:port of the server (default: MEMCACHE_SERVERS, else 127.0.0.1:11211)"),
      Flag.optional
    )
  })
)

/** Runs `use` with the run's client, reading and writing values as raw bytes (flags 0 on writes). */
const withCache = <A, E>(use: (cache: Memcache.MemcacheShape<Serializer.Serialized>) => Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    const { server } = yield* root
    return yield* Memcache.Memcache.use((cache) => use(cache.withSerializer(Serializer.raw))).pipe(
      Effect.provide(layer(server))
    )
  })

const key = Argument.String("key").pipe(Argument.withDescription("the item's key"))

const notFound = (key: string) => new CommandFailed({ message: `${key}: not found` })

const get = Command.make("get", { key }, ({ key }) =>
  withCache((cache) =>
    Effect.flatMap(cache.get(key), (hit) =>
      Option.match(hit, {
        onNone: () => Effect.fail(notFound(key)),
        onSome: (item) => Console.log(text.decode(item.bytes))
      })
    )
  )
).pipe(Command.withDescription("Prints the value of a key (exits 1 when it is not found)."))

const set = Command.make(
  "set",
  {
    key,
    value: Argument.String("value").pipe(Argument.withDescription("the value, stored as UTF-8 bytes")),
    ttl: Flag.Int("ttl").pipe(Flag.withDescription("seconds until it expires (default: never)"), Flag.optional)
  },
  ({ key, value, ttl }) =>
    withCache((cache) =>
      Effect.flatMap(
        cache.set(
          key,
          { bytes: utf8.encode(value), flags: Serializer.Flags.bytes },
          { noreply: false, ttl: Option.match(ttl, { onNone: () => undefined, onSome: Duration.seconds }) }
        ),
        (stored) => (stored ? Console.log("stored") : Effect.fail(new CommandFailed({ message: `${key}: not stored` })))
      )
    )
).pipe(Command.withDescription("Stores a value (as UTF-8 bytes, flags 0)."))

const del = Command.make("delete", { key }, ({ key }) =>
  withCache((cache) =>
    Effect.flatMap(cache.delete(key, { noreply: false }), (deleted) =>
      deleted ? Console.log("deleted") : Effect.fail(notFound(key))
    )
  )
).pipe(Command.withDescription("Deletes a key (exits 1 when it is not found)."))

const parseDelta = (delta: string) =>
  /^[0-9]+$/.test(delta) && BigInt(delta) < 2n ** 64n
    ? Effect.succeed(BigInt(delta))
    : Effect.fail(new CommandFailed({ message: `delta must be an integer from 0 to 2^64-1, not ${delta}` }))

const incr = Command.make(
  "incr",
  {
    key,
    delta: Argument.String("delta").pipe(Argument.withDescription("what to add (default 1)"), Argument.withDefault("1"))
  },
  ({ key, delta }) =>
    Effect.flatMap(parseDelta(delta), (delta) =>
      withCache((cache) =>
        Effect.flatMap(cache.incr(key, delta), (value) =>
          Option.match(value, {
            onNone: () => Effect.fail(notFound(key)),
            onSome: (value) => Console.log(String(value))
          })
        )
      )
    )
).pipe(Command.withDescription("Adds delta (default 1) to a numeric value and prints the result."))

const stats = Command.make(
  "stats",
  {
    group: Argument.String("group").pipe(
      Argument.withDescription("a stats group: settings, slabs, items, sizes, conns"),
      Argument.optional
    )
  },
  ({ group }) =>
    withCache((cache) =>
      Effect.flatMap(cache.stats(Option.toArray(group)), (stats) => Console.log(Format.statsTable(stats)))
    )
).pipe(Command.withDescription("Prints the server's stats (or `stats <group>`: settings, slabs, items...) as a table."))

const flush = Command.make("flush", {}, () =>
  withCache((cache) => Effect.andThen(cache.flushAll({ noreply: false }), Console.log("flushed")))
).pipe(Command.withDescription("Invalidates every item of the server (flush_all)."))

const top = Command.make(
  "top",
  {
    iterations: Flag.Int("iterations").pipe(
      Flag.withDescription("print this many plain lines, one a second, then exit"),
      Flag.optional
    ),
    once: Flag.Boolean("once").pipe(Flag.withDescription("the same as --iterations 1"), Flag.withDefault(false))
  },
  ({ iterations, once }) =>
    withCache((cache) =>
      Top.run(
        cache.stats(),
        once ? Option.some(1) : iterations,
        process.stdout.isTTY === true && !once && Option.isNone(iterations)
      )
    )
).pipe(
  Command.withDescription(
    "Hit ratio, ops/s, connections and evictions, every second (a live screen on a terminal, else plain lines)."
  )
)

/**
 * The whole command tree.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = root.pipe(Command.withSubcommands([get, set, del, incr, stats, flush, top]))

/**
 * Runs the command on `process.argv` (through Effect's `Stdio`).
 *
 * @since 0.1.0
 * @category running
 */
export const run = Command.run(command, { version: "0.1.0" })
