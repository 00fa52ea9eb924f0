/**
 * Key lists cut into lines the server takes: a `gat`/`gats` line over 2048 bytes closes the connection, and a
 * bounded `get`/`gets` line keeps one request from monopolising it.
 *
 * @since 0.1.0
 */
import { decimalLength } from "./internal/lineCodecs.ts"
import * as Key from "./Key.ts"
import { MAX_GET_LINE_LENGTH, MAX_LINE_LENGTH } from "./Validation.ts"

/**
 * Splits a key list into groups whose `get`/`gets`/`gat`/`gats` line (with its CRLF) stays within
 * `maxLineBytes`: default 2048 for `gat`/`gats` (the server's limit for non-get lines) and 16384 for
 * `get`/`gets` (which the server reads at any length, but a bounded line keeps requests interleavable). Order is
 * kept; a key too long to share a line gets a group of its own. Keys are not validated here.
 *
 * @example
 * ```ts
 * import { Command, KeyList } from "@effect-memcache/protocol"
 * const manyKeys = Array.from({ length: 500 }, (_, i) => `user:${i}`)
 * const groups = KeyList.splitKeys("gat", manyKeys, { exptime: 60 })
 * const commands = groups.map((keys) => Command.gat(60, keys))
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const splitKeys = (
  verb: "get" | "gets" | "gat" | "gats",
  keys: ReadonlyArray<string>,
  options?: { readonly exptime?: number; readonly maxLineBytes?: number }
): Array<ReadonlyArray<string>> => {
  const touch = verb === "gat" || verb === "gats"
  const max = options?.maxLineBytes ?? (touch ? MAX_LINE_LENGTH : MAX_GET_LINE_LENGTH)
  const header = verb.length + (touch ? 1 + decimalLength(options?.exptime ?? 0) : 0) + 2
  const groups: Array<ReadonlyArray<string>> = []
  let group: Array<string> = []
  let length = header
  for (let i = 0; i < keys.length; i++) {
    const cost = 1 + Key.byteLength(keys[i])
    if (group.length > 0 && length + cost > max) {
      groups.push(group)
      group = []
      length = header
    }
    group.push(keys[i])
    length += cost
  }
  if (group.length > 0) groups.push(group)
  return groups
}
