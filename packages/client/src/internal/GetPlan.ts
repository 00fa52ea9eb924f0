/**
 * A multi-key get as requests: keys grouped by server, each group split into lines the server takes, every line
 * checked before any is sent.
 *
 * @internal
 */
import type * as Command from "@effect-memcache/protocol/Command"
import { splitKeys } from "@effect-memcache/protocol/KeyList"
import * as Validation from "@effect-memcache/protocol/Validation"
import type { CallOptions } from "../Memcache.ts"
import type { MemcacheIllegalInputError } from "../MemcacheError.ts"
import type { Part } from "./Call.ts"
import { check, isRefused, type Settings, targetOf } from "./Settings.ts"
import type { Target } from "./Transport.ts"

/** One line of a multi-get: its server, its command, and the (prefixed) keys it asks. */
export interface GetPart extends Part {
  readonly keys: ReadonlyArray<string>
}

const lineOf = (verb: "get" | "gets", keys: ReadonlyArray<string>): Command.Get => ({ _tag: "Get", verb, keys })

/**
 * The requests of a multi-get, or the first refused input. On one server, a list that surely fits one line
 * (UTF-8 takes at most 3 bytes per UTF-16 unit) is one request, with no byte count of each key.
 */
export const planGets = (
  settings: Settings,
  verb: "get" | "gets",
  asked: ReadonlyArray<string>,
  o: CallOptions | undefined
): Array<GetPart> | MemcacheIllegalInputError => {
  const { prefix, single } = settings
  if (single !== undefined) {
    const full = prefix === "" ? asked : asked.map((k) => prefix + k)
    let units = 8
    for (const key of full) units += key.length + 1
    if (units * 3 <= Validation.MAX_GET_LINE_LENGTH) {
      const command = check(settings, verb, lineOf(verb, full))
      return isRefused(command) ? command : [{ target: single, command, keys: full }]
    }
  }
  const groups = new Map<Target, Array<string>>()
  for (const key of asked) {
    const target = targetOf(settings, key, o)
    const group = groups.get(target)
    if (group === undefined) groups.set(target, [prefix + key])
    else group.push(prefix + key)
  }
  const parts: Array<GetPart> = []
  for (const [target, full] of groups) {
    for (const keys of splitKeys(verb, full)) {
      const command = check(settings, verb, lineOf(verb, keys))
      if (isRefused(command)) return command
      parts.push({ target, command, keys })
    }
  }
  return parts
}
