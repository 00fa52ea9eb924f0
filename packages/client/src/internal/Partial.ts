/**
 * Partial results of multi-key calls: per server, the failure of its part as data, and the keys it leaves
 * unanswered or unwritten, instead of one failure for the whole call.
 *
 * @internal
 */
import type * as Reply from "@effect-memcache/protocol/Reply"
import type * as Validation from "@effect-memcache/protocol/Validation"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import type { CallOptions, PartialHits, PartialWrites } from "../Memcache.ts"
import type { MemcacheSerializationError, ReplyError, TransportError } from "../MemcacheError.ts"
import { send } from "./Call.ts"
import { type Settings, targetOf, timeoutOf } from "./Settings.ts"
import type { Target } from "./Transport.ts"

/**
 * A partial result keeps one failure per server: the first, unless it was only a connection aborted because
 * another request on it failed, which says less than the failure that caused it.
 */
export const keepFailure = <E extends { readonly _tag: string }>(
  failures: Map<string, E>,
  server: string,
  error: E
): void => {
  const known = failures.get(server)
  if (
    known === undefined ||
    (known._tag === "MemcacheConnectionError" && "reason" in known && known.reason === "aborted")
  )
    failures.set(server, error)
}

/**
 * The hits of a multi-get whose parts answered or failed on their own: `read` reads a value (or fails to), and
 * a failed part's keys are failed keys, each once, in the order asked.
 */
export const partialHits = <X>(
  asked: ReadonlyArray<string>,
  parts: ReadonlyArray<{ readonly target: Target; readonly keys: ReadonlyArray<string> }>,
  results: ReadonlyArray<Result.Result<Reply.Values, TransportError | ReplyError>>,
  prefix: string,
  read: (key: string, value: Reply.Value) => Result.Result<X, MemcacheSerializationError>
): PartialHits<X> => {
  const found = new Map<string, X>()
  const failures = new Map<string, TransportError | ReplyError | MemcacheSerializationError>()
  const failed = new Set<string>()
  results.forEach((result, i) => {
    const { target, keys } = parts[i]!
    if (Result.isFailure(result)) {
      keepFailure(failures, target.name, result.failure)
      for (const full of keys) failed.add(full.slice(prefix.length))
      return
    }
    for (const value of result.success.values) {
      const key = value.key.slice(prefix.length)
      const x = read(key, value)
      if (Result.isFailure(x)) {
        keepFailure(failures, target.name, x.failure)
        failed.add(key)
      } else found.set(key, x.success)
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

/**
 * Sends every command at once, each retried on its own when `safe` (as the `retry` option allows); a failure is
 * kept, per server, as data. `written` says whether a reply means the key was written.
 */
export const writeEach = (
  settings: Settings,
  name: string,
  safe: boolean,
  commands: ReadonlyArray<readonly [string, Validation.Validated]>,
  o: CallOptions | undefined,
  written: (reply: Reply.Reply | undefined) => boolean
): Effect.Effect<PartialWrites> => {
  const timeout = timeoutOf(settings, o)
  const targets = commands.map(([key]) => targetOf(settings, key, o))
  return Effect.map(
    Effect.forEach(
      commands,
      ([, command], i) =>
        Effect.result(
          settings.instrument.retrying(
            safe,
            send(name, targets[i]!, command, timeout, (reply) => Effect.succeed(written(reply)))
          )
        ),
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
        keepFailure(failures, targets[i]!.name, result.failure)
        failedKeys.push(key)
      })
      return { failures, failedKeys }
    }
  )
}
