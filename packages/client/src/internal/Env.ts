/**
 * What the environment says: the servers of `MEMCACHE_SERVERS` (comma-separated) and every other option the
 * `MEMCACHE_*` variables set. Read by `MemcacheClient.layerEnv` and `MemcacheCluster.layerEnv`.
 *
 * @internal
 */
import * as Config from "effect/Config"
import * as Option from "effect/Option"
import type { Options } from "../MemcacheClient.ts"

/** @internal */
export const settings: Config.Config<{
  readonly servers: ReadonlyArray<string> | undefined
  readonly options: Options
}> = Config.all({
  servers: Config.option(Config.String("MEMCACHE_SERVERS")),
  timeout: Config.option(Config.Duration("MEMCACHE_TIMEOUT")),
  connectTimeout: Config.option(Config.Duration("MEMCACHE_CONNECT_TIMEOUT")),
  keyPrefix: Config.option(Config.String("MEMCACHE_KEY_PREFIX")),
  defaultNoreply: Config.option(Config.Boolean("MEMCACHE_NOREPLY")),
  ignoreErrors: Config.option(Config.Boolean("MEMCACHE_IGNORE_ERRORS")),
  tls: Config.option(Config.Boolean("MEMCACHE_TLS")),
  username: Config.option(Config.String("MEMCACHE_USERNAME")),
  password: Config.option(Config.Redacted("MEMCACHE_PASSWORD")),
  connections: Config.option(Config.Int("MEMCACHE_CONNECTIONS")),
  protocol: Config.option(Config.Literals(["text", "meta"], "MEMCACHE_PROTOCOL"))
}).pipe(
  Config.map((c) => ({
    servers: Option.isSome(c.servers)
      ? c.servers.value
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s !== "")
      : undefined,
    options: {
      ...(Option.isSome(c.timeout) ? { timeout: c.timeout.value } : {}),
      ...(Option.isSome(c.connectTimeout) ? { connectTimeout: c.connectTimeout.value } : {}),
      ...(Option.isSome(c.keyPrefix) ? { keyPrefix: c.keyPrefix.value } : {}),
      ...(Option.isSome(c.defaultNoreply) ? { defaultNoreply: c.defaultNoreply.value } : {}),
      ...(Option.isSome(c.ignoreErrors) ? { ignoreErrors: c.ignoreErrors.value } : {}),
      ...(Option.isSome(c.tls) ? { tls: c.tls.value } : {}),
      ...(Option.isSome(c.username) ? { username: c.username.value } : {}),
      ...(Option.isSome(c.password) ? { password: c.password.value } : {}),
      ...(Option.isSome(c.connections) ? { connections: c.connections.value } : {}),
      ...(Option.isSome(c.protocol) ? { protocol: c.protocol.value } : {})
    }
  }))
)
