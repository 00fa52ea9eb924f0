/**
 * A server of a layer from its options: the address parsed, every connection option resolved to its default,
 * and the server closed with the layer's scope. Shared by the single-server and cluster layers.
 *
 * @internal
 */
import type * as Tls from "node:tls"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Memcache from "../Memcache.ts"
import type { ConnectionOptions } from "../MemcacheClient.ts"
import { MemcacheIllegalInputError } from "../MemcacheError.ts"
import * as Address from "./Address.ts"
import type { Background } from "./Background.ts"
import * as ProxyRules from "./ProxyRules.ts"
import { type ConnectFailure, Server } from "./Server.ts"
import { toMillis } from "./Settings.ts"

/** The connection defaults, in milliseconds where a duration. */
export const defaults = {
  server: "127.0.0.1:11211",
  connectTimeoutMillis: 1000,
  noDelay: true,
  keepAlive: true,
  connections: 1,
  maxInFlight: 1024
} as const

/** The default reconnect schedule: exponential from 50 ms, capped at 5 s, jittered. */
export const defaultReconnect: Schedule.Schedule<unknown, ConnectFailure> = Schedule.min([
  Schedule.exponential("50 millis"),
  Schedule.spaced("5 seconds")
]).pipe(Schedule.jittered)

const refuse = (field: string, reason: string) => new MemcacheIllegalInputError({ command: "layer", field, reason })

/**
 * A server's TLS: the layer's `tls` option, and for a `memcaches://` address TLS whatever that option says (its
 * node:tls options when it gives some); or why not (`tls: false` and `memcaches://` contradict each other).
 */
const tlsOf = (
  tls: ConnectionOptions["tls"],
  address: Address.ServerAddress
): Tls.ConnectionOptions | undefined | MemcacheIllegalInputError => {
  const options = tls === undefined || tls === false ? undefined : tls === true ? {} : tls
  if (address._tag !== "Tcp" || !address.tls || options !== undefined) return options
  if (tls === false) {
    return refuse(
      "tls",
      `memcaches://${address.name} asks for TLS, but the layer's tls option is false: drop tls: false, or write ${address.name}`
    )
  }
  return {}
}

/**
 * Opens (lazily) the connections to one server; the layer's scope closes them. `proxy` says what sits in front
 * of the server (the single-server layer's `proxy` option).
 */
export const make = Effect.fnUntraced(function* (
  server: string,
  options: ConnectionOptions & Pick<Memcache.SurfaceOptions, "itemSizeMax" | "timeout" | "protocol">,
  background: Background,
  proxy: ProxyRules.Rules = ProxyRules.direct
) {
  const address = Address.parse(server)
  if (typeof address === "string") return yield* refuse("server", address)
  if ((options.username === undefined) !== (options.password === undefined)) {
    return yield* refuse("username", "username and password go together")
  }
  const meta = (options.protocol ?? Memcache.defaults.protocol) === "meta"
  if (meta && proxy.name !== undefined) {
    return yield* refuse("protocol", `${proxy.name} forwards no meta command: leave protocol at "text"`)
  }
  const tls = tlsOf(options.tls, address)
  if (tls instanceof MemcacheIllegalInputError) return yield* tls
  const itemSizeMax = options.itemSizeMax ?? Memcache.defaults.itemSizeMax
  const instance = new Server(
    address,
    {
      connectTimeoutMillis:
        options.connectTimeout === undefined ? defaults.connectTimeoutMillis : toMillis(options.connectTimeout),
      noDelay: options.noDelay ?? defaults.noDelay,
      keepAlive: options.keepAlive ?? defaults.keepAlive,
      tls,
      maxInFlight: Math.max(1, options.maxInFlight ?? defaults.maxInFlight),
      // A reply can hold a value up to the server's item size; the decoder refuses anything larger.
      maxValueLength: itemSizeMax + 1024,
      // A connection that gets no reply bytes for the layer's timeout while replies are due is retired.
      stallMillis: options.timeout === undefined ? Memcache.defaults.timeoutMillis : toMillis(options.timeout),
      answerNoreply: proxy.answerNoreply,
      meta,
      auth:
        options.username === undefined || options.password === undefined
          ? undefined
          : { username: options.username, password: options.password },
      connections: options.connections ?? defaults.connections,
      reconnect: options.reconnect ?? defaultReconnect
    },
    background
  )
  yield* Effect.addFinalizer(() => Effect.sync(() => instance.close()))
  return instance
})
