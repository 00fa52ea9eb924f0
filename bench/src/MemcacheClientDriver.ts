/**
 * memcache-client (text protocol, pipelined) as a {@link PromiseDriver}.
 *
 * @since 0.1.0
 */

import memcacheClient from "memcache-client"
import type { PromiseDriver } from "./PromiseRunner.ts"

interface Retrieved {
  readonly value: unknown
}

/**
 * A memcache-client on one server with its defaults (one connection). Several servers are not a cluster to it
 * (they are failover), so it takes only the first.
 *
 * @example
 * ```ts
 * import { make } from "./MemcacheClientDriver.ts"
 * const driver = make([11211])
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (ports: ReadonlyArray<number>): PromiseDriver => {
  const client = new memcacheClient.MemcacheClient({
    server: `127.0.0.1:${ports[0]}`,
    logger: memcacheClient.NullLogger
  })
  return {
    get: (key) => client.get<unknown>(key).then((r) => (r as Retrieved | undefined)?.value),
    set: (key, value, noreply) => client.set(key, value, { noreply }),
    getMany: (keys) =>
      client.get<Record<string, Retrieved>>([...keys]).then((hits) => {
        const byKey = hits as unknown as Record<string, Retrieved | undefined>
        return (key: string) => byKey[key]?.value
      }),
    close: () => client.shutdown()
  }
}
