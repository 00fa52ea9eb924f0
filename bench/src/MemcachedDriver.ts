/**
 * memcached (the `memcached` npm package, text protocol, callbacks) as a {@link PromiseDriver}.
 *
 * @since 0.1.0
 */

import Memcached from "memcached"
import type { PromiseDriver } from "./PromiseRunner.ts"

/**
 * A memcached client on the servers (its hash ring when several), with one connection (`poolSize: 1`, as every other client here; its other
 * defaults kept: they also make it wait for the connection) and values up to 2 MB (the server's `-I`).
 *
 * @example
 * ```ts
 * import { make } from "./MemcachedDriver.ts"
 * const driver = make([11211])
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (ports: ReadonlyArray<number>): PromiseDriver => {
  const client = new Memcached(
    ports.map((port) => `127.0.0.1:${port}`),
    {
      poolSize: 1,
      maxValue: 2 * 1024 * 1024
    }
  )
  return {
    get: (key) =>
      new Promise((resolve, reject) => client.get(key, (error, value) => (error ? reject(error) : resolve(value)))),
    set: (key, value) =>
      new Promise((resolve, reject) =>
        client.set(key, value, 0, (error, stored) => (error ? reject(error) : resolve(stored)))
      ),
    getMany: (keys) =>
      new Promise((resolve, reject) =>
        client.getMulti([...keys], (error, hits: Record<string, unknown>) =>
          error ? reject(error) : resolve((key: string) => hits[key])
        )
      ),
    close: () => client.end()
  }
}
