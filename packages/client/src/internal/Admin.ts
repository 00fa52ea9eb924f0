/**
 * The admin commands of the surface, which take no key: `stats`, `version`, `flushAll`, `verbosity`,
 * `cacheMemlimit`, `quit` and `shutdown`. They go to one server (named, or the first) or to every server.
 *
 * @internal
 */
import * as Command from "@effect-memcache/protocol/Command"
import type * as Reply from "@effect-memcache/protocol/Reply"
import * as Effect from "effect/Effect"
import type { AdminError, MemcacheShape, ServerOptions, StatValue } from "../Memcache.ts"
import { MemcacheClientError, MemcacheIllegalInputError } from "../MemcacheError.ts"
import { sendKnown } from "./Call.ts"
import { check, isRefused, type Settings, timeoutOf } from "./Settings.ts"
import type { Target } from "./Transport.ts"
import * as Ttl from "./Ttl.ts"

type Admin = Pick<
  MemcacheShape<unknown>,
  "stats" | "version" | "flushAll" | "verbosity" | "cacheMemlimit" | "quit" | "shutdown" | "metaNoop"
>

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

/** The server named by `server`, or the first. */
const serverOf = (
  settings: Settings,
  o: ServerOptions | undefined
): Effect.Effect<Target, MemcacheIllegalInputError> => {
  const { targets } = settings.backend
  if (o?.server === undefined) return Effect.succeed(targets[0]!)
  const target = targets.find((t) => t.name === o.server)
  if (target !== undefined) return Effect.succeed(target)
  const reason = `${o.server} is not one of ${targets.map((t) => t.name).join(", ")}`
  return Effect.fail(new MemcacheIllegalInputError({ command: "server", field: "server", reason }))
}

/** Sends a command to one server, checked; `interpret` answers the replies it knows. */
const toServer = <X, E>(
  settings: Settings,
  name: string,
  target: Target,
  command: Command.Command,
  o: ServerOptions | undefined,
  interpret: (reply: Reply.Reply | undefined) => Effect.Effect<X, E> | undefined
): Effect.Effect<X, E | AdminError | MemcacheIllegalInputError> => {
  const checked = check(settings, name, command)
  if (isRefused(checked)) return Effect.fail(checked)
  return sendKnown(name, target, checked, timeoutOf(settings, o), interpret)
}

/** Sends an admin command to every server (or the one named) and expects OK from each. */
const toAll = (
  settings: Settings,
  name: string,
  command: Command.Command,
  o: ServerOptions | undefined
): Effect.Effect<void, AdminError | MemcacheIllegalInputError> => {
  const targets =
    o?.server === undefined ? Effect.succeed(settings.backend.targets) : Effect.map(serverOf(settings, o), (t) => [t])
  const ok = (target: Target) =>
    toServer(settings, name, target, command, o, (reply) => {
      if (reply === undefined || reply._tag === "Ok") return Effect.void
      if (reply._tag !== "Status") return undefined
      const text = `${reply.word} ${reply.text}`
      return Effect.fail(new MemcacheClientError({ command: name, server: target.name, text }))
    })
  return Effect.flatMap(targets, (to) => Effect.forEach(to, ok, { concurrency: "unbounded", discard: true }))
}

const stats = (settings: Settings, args: ReadonlyArray<string>, o: ServerOptions | undefined) =>
  Effect.flatMap(serverOf(settings, o), (target) =>
    toServer(settings, "stats", target, { _tag: "Stats", args }, o, (reply) =>
      reply?._tag === "Stats"
        ? Effect.succeed(parseStats(reply))
        : reply?._tag === "Ok" || reply?._tag === "Reset"
          ? Effect.succeed(new Map<string, StatValue>())
          : undefined
    )
  )

const version = (settings: Settings, o: ServerOptions | undefined) =>
  Effect.flatMap(serverOf(settings, o), (target) =>
    toServer(settings, "version", target, { _tag: "Version" }, o, (reply) =>
      reply?._tag === "Version" ? Effect.succeed(reply.version) : undefined
    )
  )

const shutdown = (settings: Settings, o: ({ readonly graceful?: boolean | undefined } & ServerOptions) | undefined) =>
  Effect.flatMap(serverOf(settings, o), (target) =>
    toServer(settings, "shutdown", target, { _tag: "Shutdown", graceful: o?.graceful ?? false }, o, (reply) =>
      reply === undefined ? Effect.void : undefined
    ).pipe(
      // An enabled shutdown answers by closing the connection.
      Effect.catchTag("MemcacheUnexpectedCloseError", () => Effect.void)
    )
  )

/** The admin commands. */
export const make = (settings: Settings): Admin => {
  const { instrument, defaultNoreply } = settings
  return {
    stats: (args = [], o) => instrument.around("stats", true, stats(settings, args, o)),
    version: (o) => instrument.around("version", true, version(settings, o)),
    flushAll: (o) =>
      instrument.around(
        "flushAll",
        false,
        Effect.flatMap(o?.delay === undefined ? Effect.undefined : Ttl.delayOf(o.delay), (delay) => {
          const command: Command.FlushAll = { _tag: "FlushAll", delay, noreply: o?.noreply ?? defaultNoreply }
          return toAll(settings, "flush_all", command, o)
        })
      ),
    verbosity: (level, o) => {
      const command: Command.Verbosity = { _tag: "Verbosity", level, noreply: o?.noreply ?? defaultNoreply }
      return instrument.around("verbosity", true, toAll(settings, "verbosity", command, o))
    },
    cacheMemlimit: (megabytes, o) => {
      const command: Command.CacheMemlimit = { _tag: "CacheMemlimit", megabytes, noreply: false }
      return instrument.around("cacheMemlimit", true, toAll(settings, "cache_memlimit", command, o))
    },
    quit: () => Effect.forEach(settings.backend.targets, (t) => t.quit, { concurrency: "unbounded", discard: true }),
    shutdown: (o) => instrument.around("shutdown", false, shutdown(settings, o)),
    metaNoop: (o) =>
      instrument.around(
        "metaNoop",
        true,
        Effect.flatMap(serverOf(settings, o), (target) =>
          toServer(settings, "metaNoop", target, Command.sync, o, (reply) =>
            reply?._tag === "Meta" && reply.code === "MN" ? Effect.void : undefined
          )
        )
      )
  }
}
