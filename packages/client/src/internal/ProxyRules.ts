/**
 * What a proxy between the client and memcached allows: the one place that knows, per proxy, which commands it
 * forwards and how noreply commands must be sent through it. The surface's `check` consults {@link Rules.refuse}
 * before anything is sent; the connection reads {@link Rules.answerNoreply}.
 *
 * @internal
 */
import type * as Command from "@effect-memcache/protocol/Command"
import type { ProxyKind } from "../MemcacheClient.ts"

/** @internal */
export interface Rules {
  /** The proxy's name, for refusals; `undefined` when the client talks to memcached itself. */
  readonly name: ProxyKind | undefined
  /**
   * Whether every command must be sent with its reply asked for: the proxy cannot be sent the `mn` that closes a
   * run of noreply commands (twemproxy closes the connection on it).
   */
  readonly answerNoreply: boolean
  /** Whether the proxy passes memcached's ASCII authentication through to its servers. */
  readonly forwardsAuth: boolean
  /** Why the proxy cannot be sent the command, or `undefined` when it can. */
  readonly refuse: (command: Command.Command) => string | undefined
}

/** No proxy: memcached itself, every command allowed. */
export const direct: Rules = { name: undefined, answerNoreply: false, forwardsAuth: true, refuse: () => undefined }

/**
 * The ASCII commands twemproxy 0.5 forwards (its notes/memcache.md, checked against the Debian nutcracker): the
 * storage commands, get/gets (a multi-key get is split across its servers and the replies merged in key order),
 * delete, incr/decr, touch, version and quit. On anything else (gat/gats, every meta command, stats with or
 * without arguments, flush_all, verbosity, cache_memlimit, shutdown) it closes the client connection without a
 * reply, failing every request pending on it.
 */
const twemproxyForwards: ReadonlySet<Command.Command["_tag"]> = new Set<Command.Command["_tag"]>([
  "Store",
  "Cas",
  "Get",
  "Delete",
  "Arithmetic",
  "Touch",
  "Version",
  "Quit"
])

const twemproxy: Rules = {
  name: "twemproxy",
  answerNoreply: true,
  // Its servers take no authentication: the `set` that carries the credentials would be routed as a key.
  forwardsAuth: false,
  refuse: (command) =>
    twemproxyForwards.has(command._tag)
      ? undefined
      : `twemproxy does not forward ${commandName(command)} (it would close the connection); ask the servers directly`
}

/** The command's name as written on the wire, for refusals. */
const commandName = (command: Command.Command): string => {
  switch (command._tag) {
    case "Gat":
      return command.verb
    case "Stats":
      return command.args.length === 0 ? "stats" : `stats ${command.args.join(" ")}`
    case "FlushAll":
      return "flush_all"
    case "CacheMemlimit":
      return "cache_memlimit"
    case "Verbosity":
    case "Shutdown":
      return command._tag.toLowerCase()
    default:
      return `meta commands (${command._tag})`
  }
}

/** The rules of a proxy, or of none. */
export const rulesOf = (proxy: ProxyKind | undefined): Rules => (proxy === "twemproxy" ? twemproxy : direct)
