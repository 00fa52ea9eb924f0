/**
 * A multi-key get as requests: keys grouped by server, each group split into lines the server takes, every line
 * checked before any is sent.
 *
 * @internal
 */
import type * as Command from "@effect-memcache/protocol/Command"
import { splitKeys } from "@effect-memcache/protocol/KeyList"
import type { CallOptions } from "../Memcache.ts"
import type { MemcacheIllegalInputError } from "../MemcacheError.ts"
import type { Part } from "./Call.ts"
import { check, isRefused, type Settings, targetOf } from "./Settings.ts"
import type { Target } from "./Transport.ts"

/**
 * One line of a multi-get: its server, its command, the (prefixed) keys it asks, and where in the asked list
 * each of them is (`undefined` when the line asks the whole list, in order).
 */
export interface GetPart extends Part {
  readonly keys: ReadonlyArray<string>
  readonly at: ReadonlyArray<number> | undefined
}

/** The keys of one server, and where each is in the asked list. */
interface Group {
  readonly keys: Array<string>
  readonly at: Array<number>
}

/** Whether a key list surely fits one get line: UTF-8 takes at most 3 bytes per UTF-16 unit. */
const fitsOneLine = (keys: ReadonlyArray<string>, maxLineBytes: number): boolean => {
  let units = 8
  for (const key of keys) units += key.length + 1
  return units * 3 <= maxLineBytes
}

const lineOf = (verb: "get" | "gets", keys: ReadonlyArray<string>): Command.Get => ({ _tag: "Get", verb, keys })

/**
 * The requests of a multi-get, or the first refused input. A server's list that surely fits one line is one
 * request, with no byte count of each key.
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
    if (fitsOneLine(full, settings.maxGetLineBytes)) {
      const command = check(settings, verb, lineOf(verb, full))
      return isRefused(command) ? command : [{ target: single, command, keys: full, at: undefined }]
    }
  }
  const groups = new Map<Target, Group>()
  for (let i = 0; i < asked.length; i++) {
    const key = asked[i]!
    const target = targetOf(settings, key, o)
    const group = groups.get(target)
    if (group === undefined) groups.set(target, { keys: [prefix + key], at: [i] })
    else {
      group.keys.push(prefix + key)
      group.at.push(i)
    }
  }
  const parts: Array<GetPart> = []
  for (const [target, group] of groups) {
    const max = settings.maxGetLineBytes
    const lines = fitsOneLine(group.keys, max) ? [group.keys] : splitKeys(verb, group.keys, { maxLineBytes: max })
    let first = 0
    for (const keys of lines) {
      const command = check(settings, verb, lineOf(verb, keys))
      if (isRefused(command)) return command
      const at = lines.length === 1 ? group.at : group.at.slice(first, first + keys.length)
      parts.push({ target, command, keys, at: groups.size === 1 && lines.length === 1 ? undefined : at })
      first += keys.length
    }
  }
  return parts
}
